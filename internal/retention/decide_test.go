package retention

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The verdict on one item, by the data map alone, at the edges of every rule.
func TestDecide(t *testing.T) {
	p := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	a := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	item := func(cat, anchorAttr string, anchor time.Time, ttl *time.Time) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{platform.AttrCategory: &types.AttributeValueMemberS{Value: cat}}
		if anchorAttr != "" && !anchor.IsZero() {
			it[anchorAttr] = &types.AttributeValueMemberS{Value: anchor.Format(time.RFC3339Nano)}
		}
		if ttl != nil {
			it[platform.AttrExpiresAt] = &types.AttributeValueMemberN{Value: strconv.FormatInt(ttl.Unix(), 10)}
		}
		return it
	}
	ttl := func(c string, anchor time.Time) *time.Time {
		e, ok := p.ExpiresAt(datamap.MustLookup(c), anchor)
		if !ok {
			t.Fatalf("%s has no TTL", c)
		}
		return &e
	}
	early := a.Add(time.Hour)
	cases := []struct {
		name string
		item map[string]types.AttributeValue
		now  time.Time
		want action
	}{
		{"message within 13 months", item(datamap.Message, "sentAt", a, ttl(datamap.Message, a)), a.AddDate(0, 12, 0), keep},
		{"message at its TTL", item(datamap.Message, "sentAt", a, ttl(datamap.Message, a)), *ttl(datamap.Message, a), remove},
		{"message 13 months and a day later", item(datamap.Message, "sentAt", a, ttl(datamap.Message, a)), a.AddDate(0, 13, 1), remove},
		{"message without TTL, past its rule", item(datamap.Message, "sentAt", a, nil), a.AddDate(0, 13, 0), remove},
		{"message without TTL", item(datamap.Message, "sentAt", a, nil), a.AddDate(0, 1, 0), repair},
		{"message without TTL or anchor", item(datamap.Message, "", time.Time{}, nil), a, unrepairable},
		{"activity log without TTL", item(datamap.ActivityLog, "at", a, nil), a, repair},
		{"payment 13 months and a day later", item(datamap.Payment, "paidAt", a, ttl(datamap.Payment, a)), a.AddDate(0, 13, 1), keep},
		{"payment just before 5 years", item(datamap.Payment, "paidAt", a, ttl(datamap.Payment, a)), a.AddDate(5, 0, 0).Add(-time.Second), keep},
		{"payment at 5 years", item(datamap.Payment, "paidAt", a, ttl(datamap.Payment, a)), a.AddDate(5, 0, 0), remove},
		{"payment with a TTL too early", item(datamap.Payment, "paidAt", a, &early), a.AddDate(1, 0, 0), repair},
		{"payment without a date", item(datamap.Payment, "", time.Time{}, &early), a.AddDate(1, 0, 0), unrepairable},
		{"consent withdrawn, just before 5 years", item(datamap.Consent, "withdrawnAt", a, ttl(datamap.Consent, a)), a.AddDate(5, 0, 0).Add(-time.Second), keep},
		{"consent withdrawn, 5 years", item(datamap.Consent, "withdrawnAt", a, ttl(datamap.Consent, a)), a.AddDate(5, 0, 0), remove},
		{"consent standing", item(datamap.Consent, "", time.Time{}, nil), a.AddDate(50, 0, 0), skip},
		{"evidence just before 3 years", item(datamap.Evidence, "completedAt", a, ttl(datamap.Evidence, a)), a.AddDate(3, 0, 0).Add(-time.Second), keep},
		{"evidence at 3 years", item(datamap.Evidence, "completedAt", a, ttl(datamap.Evidence, a)), a.AddDate(3, 0, 0), remove},
		{"open request", item(datamap.DeletionRequest, "", time.Time{}, nil), a.AddDate(10, 0, 0), skip},
		{"account profile", item(datamap.AccountProfile, "", time.Time{}, nil), a.AddDate(10, 0, 0), skip},
		{"bot", item(datamap.Bot, "", time.Time{}, nil), a.AddDate(10, 0, 0), skip},
		{"analytics", item(datamap.AnalyticsCounter, "", time.Time{}, nil), a.AddDate(10, 0, 0), skip},
		{"service record past its TTL", item(datamap.ReauthAttempts, "updatedAt", a, ttl(datamap.ReauthAttempts, a)), a.AddDate(1, 0, 0), skip},
		{"sweep checkpoint", item(datamap.SweepCheckpoint, "updatedAt", a, ttl(datamap.SweepCheckpoint, a)), a.AddDate(1, 0, 0), skip},
		{"unknown category", item("mystery", "", time.Time{}, &early), a.AddDate(1, 0, 0), skip},
	}
	for _, c := range cases {
		if got := decide(p, c.item, c.now).action; got != c.want {
			t.Errorf("%s: action %d, want %d", c.name, got, c.want)
		}
	}
}
