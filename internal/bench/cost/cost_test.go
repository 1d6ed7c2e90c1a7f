package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/bench"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestPriceAtListPrices(t *testing.T) {
	b := USEast1.Price(Usage{WRU: 1e6, RRU: 2e6, Transitions: 1000, LambdaGBSeconds: 1, LambdaRequests: 1e6, Emails: 1000, S3Requests: 1000})
	if !near(b.DynamoDB, 0.625+0.25) || !near(b.StepFunctions, 0.025) || !near(b.Lambda, 0.0000133334+0.20) ||
		!near(b.SES, 0.10) || !near(b.S3, 0.005) {
		t.Fatalf("bill = %+v", b)
	}
	if !near(b.Total(), 0.875+0.025+0.2000133334+0.10+0.005) {
		t.Fatalf("total = %v", b.Total())
	}
}

func TestDeletionIsLinearInItems(t *testing.T) {
	d := Deletion{Fixed: Usage{Transitions: 20, Emails: 3}, PerItem: Usage{WRU: 2, RRU: 0.25}}
	u := d.At(1000)
	if u.Transitions != 20 || u.Emails != 3 || u.WRU != 2000 || u.RRU != 250 {
		t.Fatalf("At(1000) = %+v", u)
	}
}

func TestMinimumPerItem(t *testing.T) {
	// 1,500 B: 2 WCU (started KB); reads 1500/4096/2 RCU (sizes summed over a Query page).
	m := MinimumPerItem(1500)
	if m.WRU != 2 || !near(m.RRU, 1500.0/8192) {
		t.Fatalf("minimum of 1,500 B = %+v", m)
	}
	if MinimumPerItem(1024).WRU != 1 || MinimumPerItem(100).WRU != 1 {
		t.Fatal("an item up to 1 KB is one WCU")
	}
}

func TestSectionPricesTheFiguresAndSaysWhatIsExtrapolated(t *testing.T) {
	r := bench.NewResults()
	r.Set(FigLifecycleItems, 1000)
	r.Set(FigLifecycleTransitions, 20)
	r.Set(FigLifecycleInvocations, 12)
	r.Set(FigLifecycleEmails, 3)
	r.Set(FigLifecycleGBSeconds, 1.0)
	r.Set(FigSweepMeanItemBytes, 1500)
	r.Set(FigSweepWCUPerDeleted, 2.1)
	r.Set(FigSweepRCUPerScanned, 0.2)
	r.Set(FigSweepMinWCUPerDelete, 2)
	s := Section(r)
	if len(s.Tables) != 2 {
		t.Fatalf("%d tables", len(s.Tables))
	}
	rows := s.Tables[0].Rows
	if rows[0][6] != "measured" || rows[1][6] != "extrapolated" || rows[2][0] != "1M" {
		t.Fatalf("rows %v", rows)
	}
	// 1M items: 2 WRU and 1500/8192 RRU each, 20 transitions, 1/1000 GB-s each, 12 requests, 3 mails.
	want := USEast1.Price(Usage{WRU: 2e6, RRU: 1e6 * 1500 / 8192, Transitions: 20, LambdaGBSeconds: 1000, LambdaRequests: 12, Emails: 3}).Total()
	if got, _ := r.Number(FigDeletion1MUSD); math.Abs(got-want) > 1e-3*want {
		t.Fatalf("1M deletion = %v, want %v", got, want)
	}
	if got, _ := r.Number(FigSweep1MUSD); math.Abs(got-2.1*0.625) > 1e-3 { // Results keeps four digits
		t.Fatalf("sweep per million = %v", got)
	}
	if !strings.Contains(s.Reading, "NOT measured on the engine") {
		t.Fatalf("the reading must say the engine's capacity is the minimum: %s", s.Reading)
	}
	if !strings.Contains(s.Tables[1].Rows[2][0], "TTL") || s.Tables[1].Rows[2][2] != "0" {
		t.Fatalf("TTL row %v", s.Tables[1].Rows[2])
	}
}

func TestSectionPricesTheEnginesMeasuredCapacityOverTheMinimum(t *testing.T) {
	r := bench.NewResults()
	r.Set(FigSweepMeanItemBytes, 1500) // the minimum would be 2 WRU per item
	r.Set(FigHardDeleteWCUPerItem, 1.25)
	r.Set(FigHardDeleteRCUPerItem, 0.5)
	r.Set(FigHardDeleteVsMin, 1.07)
	s := Section(r)
	if strings.Contains(s.Reading, "NOT measured") || !strings.Contains(s.Reading, "measured by the capacity meter on the erase engine") ||
		!strings.Contains(s.Reading, "1.070× the documented minimum") {
		t.Fatalf("the reading must say the engine's capacity was measured: %s", s.Reading)
	}
	want := USEast1.Price(Usage{WRU: 1.25e6, RRU: 0.5e6}).Total()
	if got, _ := r.Number(FigDeletion1MUSD); math.Abs(got-want) > 1e-3*want {
		t.Fatalf("1M deletion = %v, want %v (the measured capacity, not the minimum)", got, want)
	}
}
