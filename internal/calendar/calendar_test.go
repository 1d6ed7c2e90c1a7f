package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ru"
)

// msk is a wall-clock time in Moscow.
func msk(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Moscow)
}

// endMSK is the end of a Moscow day, the shape of every deadline.
func endMSK(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 23, 59, 59, 999999999, Moscow).UTC()
}

func mustNew(t *testing.T, a Adjustments) *Calendar {
	t.Helper()
	c, err := New(a)
	if err != nil {
		t.Fatalf("New(%+v): %v", a, err)
	}
	return c
}

type span struct{ from, to Date } // inclusive

// published is each year's production calendar as the Government announced it with the decree
// (non-working periods, weekends included, and working weekend days) and the number of working
// days in the year, written independently of officialTable.
var published = []struct {
	year     int
	off      []span
	working  []Date
	workdays int
}{
	{2023, []span{
		{ymd(2023, 1, 1), ymd(2023, 1, 8)}, {ymd(2023, 2, 23), ymd(2023, 2, 26)},
		{ymd(2023, 3, 8), ymd(2023, 3, 8)}, {ymd(2023, 4, 29), ymd(2023, 5, 1)},
		{ymd(2023, 5, 6), ymd(2023, 5, 9)}, {ymd(2023, 6, 10), ymd(2023, 6, 12)},
		{ymd(2023, 11, 4), ymd(2023, 11, 6)},
	}, nil, 247},
	{2024, []span{
		{ymd(2024, 1, 1), ymd(2024, 1, 8)}, {ymd(2024, 2, 23), ymd(2024, 2, 25)},
		{ymd(2024, 3, 8), ymd(2024, 3, 10)}, {ymd(2024, 4, 28), ymd(2024, 5, 1)},
		{ymd(2024, 5, 9), ymd(2024, 5, 12)}, {ymd(2024, 6, 12), ymd(2024, 6, 12)},
		{ymd(2024, 11, 3), ymd(2024, 11, 4)}, {ymd(2024, 12, 29), ymd(2024, 12, 31)},
	}, []Date{ymd(2024, 4, 27), ymd(2024, 11, 2), ymd(2024, 12, 28)}, 248},
	{2025, []span{
		{ymd(2025, 1, 1), ymd(2025, 1, 8)}, {ymd(2025, 2, 22), ymd(2025, 2, 23)},
		{ymd(2025, 3, 8), ymd(2025, 3, 9)}, {ymd(2025, 5, 1), ymd(2025, 5, 4)},
		{ymd(2025, 5, 8), ymd(2025, 5, 11)}, {ymd(2025, 6, 12), ymd(2025, 6, 15)},
		{ymd(2025, 11, 2), ymd(2025, 11, 4)}, {ymd(2025, 12, 31), ymd(2025, 12, 31)},
	}, []Date{ymd(2025, 11, 1)}, 247},
	{2026, []span{
		{ymd(2026, 1, 1), ymd(2026, 1, 11)}, {ymd(2026, 2, 21), ymd(2026, 2, 23)},
		{ymd(2026, 3, 7), ymd(2026, 3, 9)}, {ymd(2026, 5, 1), ymd(2026, 5, 3)},
		{ymd(2026, 5, 9), ymd(2026, 5, 11)}, {ymd(2026, 6, 12), ymd(2026, 6, 14)},
		{ymd(2026, 11, 4), ymd(2026, 11, 4)}, {ymd(2026, 12, 31), ymd(2026, 12, 31)},
	}, nil, 247},
}

// TestPublishedYears checks every day of each tabled year against the published calendar.
func TestPublishedYears(t *testing.T) {
	c := mustNew(t, Adjustments{})
	for _, y := range published {
		if !HasOfficialTable(y.year) {
			t.Errorf("HasOfficialTable(%d) = false", y.year)
		}
		count := 0
		for d := ymd(y.year, 1, 1); d.Year == y.year; d = d.addDays(1) {
			wd := d.noon().Weekday()
			want := wd != time.Saturday && wd != time.Sunday
			for _, s := range y.off {
				if !d.before(s.from) && !s.to.before(d) {
					want = false
				}
			}
			for _, w := range y.working {
				if d == w {
					want = true
				}
			}
			got := c.IsWorkdate(d)
			if got != want {
				t.Errorf("IsWorkdate(%s, %s) = %v, want %v", d, wd, got, want)
			}
			if got {
				count++
			}
		}
		if count != y.workdays {
			t.Errorf("%d: got %d working days, want %d", y.year, count, y.workdays)
		}
	}
}

func TestWorkdaysPerMonth2026(t *testing.T) {
	// Published 2026 production calendar, five-day week.
	want := [12]int{15, 19, 21, 22, 19, 21, 23, 21, 22, 22, 20, 22}
	c := mustNew(t, Adjustments{})
	for m := time.January; m <= time.December; m++ {
		got := 0
		for d := ymd(2026, m, 1); d.Month == m; d = d.addDays(1) {
			if c.IsWorkdate(d) {
				got++
			}
		}
		if got != want[m-1] {
			t.Errorf("2026 %s: got %d working days, want %d", m, got, want[m-1])
		}
	}
}

// TestTableOnlyCorrectsRickar checks that every decree entry changes what the rickar layer
// says (nothing rickar already counts is counted again, nothing is a no-op), and no date is
// listed twice.
func TestTableOnlyCorrectsRickar(t *testing.T) {
	base := baseCalendar()
	seen := map[Date]bool{}
	for _, y := range officialTable {
		if y.decree == "" {
			t.Errorf("%d: no decree named", y.year)
		}
		check := func(list []Date, baseWant bool, kind string) {
			for _, d := range list {
				if d.Year != y.year || !d.valid() {
					t.Errorf("%d: %s %s is not a real date of that year", y.year, kind, d)
				}
				if seen[d] {
					t.Errorf("%d: %s listed twice", y.year, d)
				}
				seen[d] = true
				if got := base.IsWorkday(d.noon()); got != baseWant {
					t.Errorf("%d: %s %s: rickar layer IsWorkday = %v, so the entry changes nothing", y.year, kind, d, got)
				}
			}
		}
		check(y.holidays, true, "holiday")
		check(y.workdays, false, "workday")
	}
}

// TestRickarRules pins down what plain rickar ru says, which the corrections rely on.
func TestRickarRules(t *testing.T) {
	plain := cal.NewBusinessCalendar()
	plain.AddHoliday(ru.Holidays...)
	base := baseCalendar()
	cases := []struct {
		d                Date
		plainWork, fixed bool
		why              string
	}{
		{ymd(2026, 3, 9), false, false, "8 Mar on Sunday carried to Monday: rickar does it, the table must not"},
		{ymd(2026, 5, 11), false, false, "9 May on Saturday carried to Monday: rickar does it"},
		{ymd(2025, 2, 24), false, false, "23 Feb 2025 on Sunday: rickar carries it; the 2025 decree moves it (table workday)"},
		{ymd(2026, 1, 5), true, false, "New Year holiday: rickar knows only 1 and 7 January"},
		{ymd(2026, 1, 8), true, false, "New Year holiday 8 January"},
		{ymd(2023, 1, 9), false, true, "7 Jan 2023 on Saturday: rickar carries it to Monday, art. 112 does not"},
		{ymd(2034, 1, 9), false, true, "same rule, a year without a table"},
		{ymd(2027, 5, 3), false, false, "1 May 2027 on Saturday carried to Monday without a table"},
		{ymd(2027, 7, 1), true, true, "an ordinary Thursday"},
	}
	for _, tc := range cases {
		if got := plain.IsWorkday(tc.d.noon()); got != tc.plainWork {
			t.Errorf("plain rickar IsWorkday(%s) = %v, want %v (%s)", tc.d, got, tc.plainWork, tc.why)
		}
		if got := base.IsWorkday(tc.d.noon()); got != tc.fixed {
			t.Errorf("base IsWorkday(%s) = %v, want %v (%s)", tc.d, got, tc.fixed, tc.why)
		}
	}
}

func TestAddBusinessDays(t *testing.T) {
	cases := []struct {
		name  string
		extra Adjustments
		from  time.Time
		n     int
		want  time.Time
	}{
		{"5 days across New Year 2026 from Mon 29 Dec", Adjustments{}, msk(2025, 12, 29, 10, 0), 5, endMSK(2026, 1, 15)},
		{"15 days across New Year 2026 from Mon 29 Dec", Adjustments{}, msk(2025, 12, 29, 10, 0), 15, endMSK(2026, 1, 29)},
		{"5 days across New Year 2026 from Tue 30 Dec", Adjustments{}, msk(2025, 12, 30, 18, 0), 5, endMSK(2026, 1, 16)},
		{"15 days across New Year 2026 from Tue 30 Dec", Adjustments{}, msk(2025, 12, 30, 18, 0), 15, endMSK(2026, 1, 30)},
		{"deadline instant in UTC", Adjustments{}, msk(2025, 12, 29, 10, 0), 5, time.Date(2026, 1, 15, 20, 59, 59, 999999999, time.UTC)},
		{"9 Jan 2026 off by decree", Adjustments{}, msk(2026, 1, 8, 9, 0), 1, endMSK(2026, 1, 12)},
		{"May 2025: 1-4 and 8-11 off", Adjustments{}, msk(2025, 4, 30, 12, 0), 5, endMSK(2025, 5, 13)},
		{"May 2026: 1-3 and 9-11 off", Adjustments{}, msk(2026, 4, 30, 12, 0), 10, endMSK(2026, 5, 18)},
		{"working Saturday 1 Nov 2025", Adjustments{}, msk(2025, 10, 31, 12, 0), 1, endMSK(2025, 11, 1)},
		{"after the working Saturday, 2-4 Nov off", Adjustments{}, msk(2025, 10, 31, 12, 0), 2, endMSK(2025, 11, 5)},
		{"24 Feb 2025 is a working day (carry-over moved by decree)", Adjustments{}, msk(2025, 2, 21, 12, 0), 1, endMSK(2025, 2, 24)},
		{"plain week", Adjustments{}, msk(2026, 7, 6, 12, 0), 5, endMSK(2026, 7, 13)},
		{"extra holiday pushes by a day", Adjustments{Holidays: []Date{ymd(2026, 7, 8)}}, msk(2026, 7, 6, 12, 0), 5, endMSK(2026, 7, 14)},
		{"extra workday on a Sunday pulls in", Adjustments{Workdays: []Date{ymd(2026, 7, 12)}}, msk(2026, 7, 6, 12, 0), 5, endMSK(2026, 7, 12)},
		{"extra workday overrides a decree holiday", Adjustments{Workdays: []Date{ymd(2026, 1, 9)}}, msk(2025, 12, 30, 12, 0), 5, endMSK(2026, 1, 15)},
		{"extra holiday overrides a decree working Saturday", Adjustments{Holidays: []Date{ymd(2025, 11, 1)}}, msk(2025, 10, 31, 12, 0), 1, endMSK(2025, 11, 5)},
		{"late UTC Thursday is Friday in Moscow", Adjustments{}, time.Date(2026, 7, 9, 21, 30, 0, 0, time.UTC), 1, endMSK(2026, 7, 13)},
		{"Thursday 23:30 MSK is still Thursday", Adjustments{}, time.Date(2026, 7, 9, 20, 30, 0, 0, time.UTC), 1, endMSK(2026, 7, 10)},
		{"request on a holiday gets full days", Adjustments{}, msk(2026, 1, 3, 12, 0), 1, endMSK(2026, 1, 12)},
		{"n=0 on a workday is today", Adjustments{}, msk(2026, 7, 10, 8, 0), 0, endMSK(2026, 7, 10)},
		{"n=0 on Saturday is Monday", Adjustments{}, msk(2026, 7, 11, 8, 0), 0, endMSK(2026, 7, 13)},
		{"n=0 on 31 Dec 2025 is 12 Jan", Adjustments{}, msk(2025, 12, 31, 8, 0), 0, endMSK(2026, 1, 12)},
		{"negative n is treated as 0", Adjustments{}, msk(2026, 7, 11, 8, 0), -3, endMSK(2026, 7, 13)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustNew(t, tc.extra)
			got := c.AddBusinessDays(tc.from, tc.n)
			if !got.Equal(tc.want) {
				t.Errorf("AddBusinessDays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("AddBusinessDays returned location %s, want UTC", got.Location())
			}
		})
	}
}

func TestAddCalendarDays(t *testing.T) {
	c := mustNew(t, Adjustments{})
	cases := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{msk(2026, 1, 31, 10, 0), 30, endMSK(2026, 3, 2)},
		{time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC), 30, endMSK(2026, 3, 2)}, // 31 Jan 01:00 MSK
		{time.Date(2026, 1, 30, 20, 0, 0, 0, time.UTC), 30, endMSK(2026, 3, 1)}, // 30 Jan 23:00 MSK
		{msk(2028, 1, 31, 10, 0), 30, endMSK(2028, 3, 1)},                       // leap year
		{msk(2026, 12, 15, 10, 0), 30, endMSK(2027, 1, 14)},
		{msk(2026, 4, 1, 0, 0), 30, endMSK(2026, 5, 1)}, // not moved off the holiday
		{msk(2026, 6, 1, 10, 0), 0, endMSK(2026, 6, 1)},
	}
	for _, tc := range cases {
		if got := c.AddCalendarDays(tc.from, tc.n); !got.Equal(tc.want) {
			t.Errorf("AddCalendarDays(%s, %d) = %s, want %s", tc.from, tc.n, got, tc.want)
		}
	}
}

func TestIsWorkdayMoscowDate(t *testing.T) {
	c := mustNew(t, Adjustments{})
	cases := []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2026, 7, 10, 20, 59, 0, 0, time.UTC), true},   // Fri 23:59 MSK
		{time.Date(2026, 7, 10, 21, 0, 0, 0, time.UTC), false},   // Sat 00:00 MSK
		{time.Date(2025, 12, 30, 21, 30, 0, 0, time.UTC), false}, // 31 Dec 2025 00:30 MSK
		{time.Date(2025, 11, 1, 10, 0, 0, 0, time.UTC), true},    // working Saturday
		{time.Date(2026, 1, 11, 21, 0, 0, 0, time.UTC), true},    // 12 Jan 2026 00:00 MSK
	}
	for _, tc := range cases {
		if got := c.IsWorkday(tc.t); got != tc.want {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.t, got, tc.want)
		}
	}
}

func TestBusinessDaysBetween(t *testing.T) {
	c := mustNew(t, Adjustments{})
	cases := []struct {
		a, b time.Time
		want int
	}{
		{msk(2025, 12, 29, 10, 0), msk(2026, 1, 15, 10, 0), 5},
		{msk(2026, 1, 15, 10, 0), msk(2025, 12, 29, 10, 0), -5},
		{msk(2026, 7, 10, 1, 0), msk(2026, 7, 10, 23, 0), 0},
		{msk(2025, 12, 31, 12, 0), msk(2026, 12, 31, 12, 0), 247},
		{msk(2025, 10, 31, 12, 0), msk(2025, 11, 5, 0, 0), 2},
	}
	for _, tc := range cases {
		if got := c.BusinessDaysBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("BusinessDaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestRoundTrip: for every start day of 2024–2026, the deadline is a working day, n business
// days away, and the day before it does not already satisfy n.
func TestRoundTrip(t *testing.T) {
	c := mustNew(t, Adjustments{})
	for d := ymd(2024, 1, 1); d.Year <= 2026; d = d.addDays(1) {
		from := time.Date(d.Year, d.Month, d.Day, 15, 0, 0, 0, Moscow)
		for _, n := range []int{1, 5, 10, 15} {
			dl := c.AddBusinessDays(from, n)
			if !c.IsWorkday(dl) {
				t.Fatalf("AddBusinessDays(%s, %d) = %s, not a working day", d, n, dl)
			}
			if got := c.BusinessDaysBetween(from, dl); got != n {
				t.Fatalf("BusinessDaysBetween(%s, AddBusinessDays(.., %d)) = %d", d, n, got)
			}
			if got := c.BusinessDaysBetween(from, dl.Add(-24*time.Hour)); got != n-1 {
				t.Fatalf("day before deadline of %s+%d counts %d, want %d", d, n, got, n-1)
			}
		}
	}
}

func TestParseAdjustments(t *testing.T) {
	cases := []struct {
		name, hol, work string
		want            Adjustments
		wantErr         string // substring; "" = no error
	}{
		{"empty", "", "", Adjustments{}, ""},
		{"lists with spaces and trailing comma", " 2026-07-08, 2026-07-09 ,", "2026-07-12",
			Adjustments{Holidays: []Date{ymd(2026, 7, 8), ymd(2026, 7, 9)}, Workdays: []Date{ymd(2026, 7, 12)}}, ""},
		{"bad format", "2026-07-08,2026/07/09", "", Adjustments{}, `extra holidays: entry 2: "2026/07/09"`},
		{"no zero padding", "", "2026-7-12", Adjustments{}, `extra workdays: entry 1: "2026-7-12"`},
		{"impossible day", "2026-02-30", "", Adjustments{}, `"2026-02-30"`},
		{"month 13", "", "2026-13-01", Adjustments{}, `"2026-13-01"`},
		{"junk", "tomorrow", "", Adjustments{}, `"tomorrow"`},
		{"conflict", "2026-01-09", "2026-07-12,2026-01-09", Adjustments{}, "2026-01-09 is listed both"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAdjustments(tc.hol, tc.work)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseAdjustments(%q, %q) error = %v, want one containing %q", tc.hol, tc.work, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAdjustments(%q, %q): %v", tc.hol, tc.work, err)
			}
			if !sameDates(got.Holidays, tc.want.Holidays) || !sameDates(got.Workdays, tc.want.Workdays) {
				t.Errorf("ParseAdjustments(%q, %q) = %+v, want %+v", tc.hol, tc.work, got, tc.want)
			}
		})
	}
}

func sameDates(a, b []Date) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNewRejects(t *testing.T) {
	cases := []struct {
		name    string
		a       Adjustments
		wantErr string
	}{
		{"conflict", Adjustments{Holidays: []Date{ymd(2026, 7, 8)}, Workdays: []Date{ymd(2026, 7, 8)}}, "both"},
		{"impossible holiday", Adjustments{Holidays: []Date{ymd(2026, 2, 29)}}, "2026-02-29 is not a real date"},
		{"zero workday", Adjustments{Workdays: []Date{{}}}, "0000-00-00 is not a real date"},
	}
	for _, tc := range cases {
		if _, err := New(tc.a); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: New error = %v, want one containing %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{EnvExtraHolidays: "2026-07-08", EnvExtraWorkdays: "2026-07-12"}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkdate(ymd(2026, 7, 8)) || !c.IsWorkdate(ymd(2026, 7, 12)) {
		t.Errorf("FromEnv adjustments not applied")
	}
	env[EnvExtraWorkdays] = "2026-07-32"
	if _, err := FromEnv(func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), EnvExtraWorkdays) || !strings.Contains(err.Error(), "2026-07-32") {
		t.Errorf("FromEnv error = %v, want it to name %s and the bad entry", err, EnvExtraWorkdays)
	}
}

func TestHasOfficialTable(t *testing.T) {
	for year, want := range map[int]bool{2022: false, 2024: true, 2025: true, 2026: true, 2027: false} {
		if got := HasOfficialTable(year); got != want {
			t.Errorf("HasOfficialTable(%d) = %v, want %v", year, got, want)
		}
	}
}
