// Package calendar computes Lethe's deadlines on the Russian production calendar
// (производственный календарь): which days are working days, and when "n business days" or
// "n calendar days" after a request ends.
//
// The SPEC (§3) counts business days by the Russian production calendar: public holidays and
// the official transfers of days off. The calendar is built in three layers:
//
//  1. github.com/rickar/cal/v2 with its ru holidays: Saturdays and Sundays off, the public
//     holidays of Labour Code art. 112, and the automatic rule that a holiday falling on a
//     weekend gives the next working day off. Two corrections are made to rickar's rules: the
//     New Year holidays 2–6 and 8 January, which rickar lacks, are added, and 1 and 7 January
//     are not carried over to a later day (art. 112 part 2 excludes them: those days off are
//     moved only by Government decree).
//  2. A built-in table of the Government decrees on transfers of days off (постановление
//     «О переносе выходных дней в … году»), see HasOfficialTable. Each entry is a correction
//     the first layer does not know: an extra day off, or a day that is a working day although
//     the first layer says otherwise (a working Saturday, or an automatic carry-over that the
//     decree moved elsewhere).
//  3. Adjustments configured by the operator (BUSINESS_CALENDAR_EXTRA_HOLIDAYS and
//     BUSINESS_CALENDAR_EXTRA_WORKDAYS), which win over both: they cover a year whose decree is
//     not yet in the table, or a regional holiday.
//
// Days are civil days in Moscow time (UTC+3; Russia has had no DST since 2014, so a fixed zone
// is used and the machine's tzdata does not matter). Every deadline is the end of a Moscow
// day, 23:59:59.999999999 MSK, returned in UTC, so business-day and calendar-day deadlines have
// the same shape.
//
// A Calendar is read-only after New and safe for concurrent use.
package calendar

import (
	"fmt"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/ru"
)

// Moscow is Moscow time, UTC+3 all year round.
var Moscow = time.FixedZone("MSK", 3*60*60)

// Names of the environment variables FromEnv reads: comma-separated YYYY-MM-DD lists.
const (
	EnvExtraHolidays = "BUSINESS_CALENDAR_EXTRA_HOLIDAYS"
	EnvExtraWorkdays = "BUSINESS_CALENDAR_EXTRA_WORKDAYS"
)

// Date is a civil date (no time, no zone).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is t's civil date in Moscow.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Moscow).Date()
	return Date{y, m, d}
}

// ParseDate parses a strict YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// noon is d at noon UTC: a time whose .Date() is d, for day arithmetic and rickar's lookups.
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

func (d Date) addDays(n int) Date {
	y, m, dd := d.noon().AddDate(0, 0, n).Date()
	return Date{y, m, dd}
}

func (d Date) before(e Date) bool { return d.noon().Before(e.noon()) }

// valid reports whether d names a real day (not 2025-02-30 or month 13).
func (d Date) valid() bool {
	y, m, dd := d.noon().Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// end is the last instant of d in Moscow, in UTC.
func (d Date) end() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 999999999, Moscow).UTC()
}

// Adjustments are operator-configured corrections to the calendar: Holidays are extra
// non-working days, Workdays are extra working days (a Saturday or Sunday made a working day
// by decree). A date may not be in both.
type Adjustments struct {
	Holidays []Date
	Workdays []Date
}

// ParseAdjustments parses comma-separated YYYY-MM-DD lists of extra holidays and extra working
// days (the values of BUSINESS_CALENDAR_EXTRA_HOLIDAYS and BUSINESS_CALENDAR_EXTRA_WORKDAYS).
// Spaces around entries and empty entries (an empty value, a trailing comma) are ignored. A
// malformed entry, or a date in both lists, is an error naming it.
func ParseAdjustments(holidays, workdays string) (Adjustments, error) {
	var a Adjustments
	var err error
	if a.Holidays, err = parseList("extra holidays", holidays); err != nil {
		return Adjustments{}, err
	}
	if a.Workdays, err = parseList("extra workdays", workdays); err != nil {
		return Adjustments{}, err
	}
	if err := a.validate(); err != nil {
		return Adjustments{}, err
	}
	return a, nil
}

func parseList(what, s string) ([]Date, error) {
	var out []Date
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		d, err := ParseDate(item)
		if err != nil {
			return nil, fmt.Errorf("calendar: %s: entry %d: %w", what, i+1, err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (a Adjustments) validate() error {
	hol := make(map[Date]bool, len(a.Holidays))
	for _, d := range a.Holidays {
		if !d.valid() {
			return fmt.Errorf("calendar: extra holiday %s is not a real date", d)
		}
		hol[d] = true
	}
	for _, d := range a.Workdays {
		if !d.valid() {
			return fmt.Errorf("calendar: extra workday %s is not a real date", d)
		}
		if hol[d] {
			return fmt.Errorf("calendar: %s is listed both as an extra holiday and as an extra workday", d)
		}
	}
	return nil
}

// Calendar answers working-day questions and computes deadlines. Build it with New.
type Calendar struct {
	base      *cal.BusinessCalendar // layer 1: rickar's ru rules, corrected
	overrides map[Date]bool         // layers 2 and 3: true = working day, false = day off
}

// New builds the calendar: rickar's Russian holidays, then the built-in decree table, then
// extra (which overrides the table: an extra workday un-does a default holiday and vice versa).
// A date in both extra lists, or an impossible date, is an error.
func New(extra Adjustments) (*Calendar, error) {
	if err := extra.validate(); err != nil {
		return nil, err
	}
	c := &Calendar{base: baseCalendar(), overrides: make(map[Date]bool)}
	for _, y := range officialTable {
		for _, d := range y.holidays {
			c.overrides[d] = false
		}
		for _, d := range y.workdays {
			c.overrides[d] = true
		}
	}
	for _, d := range extra.Holidays {
		c.overrides[d] = false
	}
	for _, d := range extra.Workdays {
		c.overrides[d] = true
	}
	return c, nil
}

// FromEnv builds the calendar with the adjustments in EnvExtraHolidays and EnvExtraWorkdays,
// read through getenv (os.Getenv in production). Both may be empty.
func FromEnv(getenv func(string) string) (*Calendar, error) {
	a, err := ParseAdjustments(getenv(EnvExtraHolidays), getenv(EnvExtraWorkdays))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: %w", EnvExtraHolidays, EnvExtraWorkdays, err)
	}
	return New(a)
}

// baseCalendar is layer 1: a Monday–Friday rickar calendar with ru.Holidays, plus the New
// Year holidays 2–6 and 8 January, with 1 and 7 January not carried over when they fall on a
// weekend (Labour Code art. 112: those days off are moved only by decree).
func baseCalendar() *cal.BusinessCalendar {
	b := cal.NewBusinessCalendar()
	for _, h := range ru.Holidays {
		if h == ru.NewYear || h == ru.OrthodoxChristmas {
			hc := *h
			hc.Observed = nil
			h = &hc
		}
		b.AddHoliday(h)
	}
	for _, day := range []int{2, 3, 4, 5, 6, 8} {
		b.AddHoliday(&cal.Holiday{
			Name:  "Новогодние каникулы",
			Type:  cal.ObservancePublic,
			Month: time.January,
			Day:   day,
			Func:  cal.CalcDayOfMonth,
		})
	}
	return b
}

// IsWorkday reports whether t's Moscow date is a working day.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.IsWorkdate(DateOf(t)) }

// IsWorkdate reports whether d is a working day.
func (c *Calendar) IsWorkdate(d Date) bool {
	if w, ok := c.overrides[d]; ok {
		return w
	}
	return c.base.IsWorkday(d.noon())
}

// AddBusinessDays is the deadline n business days after from: counting working days from the
// day after from's Moscow date, the end (23:59:59.999999999 MSK, in UTC) of the n-th one. A
// request received on a holiday or late on a Friday therefore gets n full working days.
//
// n = 0 (and, defensively, n < 0) is "today": the end of from's date if it is a working day,
// otherwise the end of the next working day.
func (c *Calendar) AddBusinessDays(from time.Time, n int) time.Time {
	d := DateOf(from)
	if n <= 0 {
		for !c.IsWorkdate(d) {
			d = d.addDays(1)
		}
		return d.end()
	}
	for n > 0 {
		d = d.addDays(1)
		if c.IsWorkdate(d) {
			n--
		}
	}
	return d.end()
}

// AddCalendarDays is the deadline n calendar days after from: the end (23:59:59.999999999 MSK,
// in UTC) of the Moscow date n days after from's. It is not moved off weekends or holidays: an
// earlier deadline is the safe side for the operator. Negative n counts back.
func (c *Calendar) AddCalendarDays(from time.Time, n int) time.Time {
	return DateOf(from).addDays(n).end()
}

// BusinessDaysBetween counts the working days after a's Moscow date up to and including b's
// (so BusinessDaysBetween(a, c.AddBusinessDays(a, n)) == n for n > 0). It is 0 on the same
// date and negative when b's date is before a's.
func (c *Calendar) BusinessDaysBetween(a, b time.Time) int {
	da, db := DateOf(a), DateOf(b)
	sign := 1
	if db.before(da) {
		da, db, sign = db, da, -1
	}
	n := 0
	for d := da.addDays(1); !db.before(d); d = d.addDays(1) {
		if c.IsWorkdate(d) {
			n++
		}
	}
	return sign * n
}

// HasOfficialTable reports whether the built-in table holds the Government decree on transfers
// of days off for year. For a year without it, only the Labour Code rules apply and the
// decree's transfers must be configured through Adjustments until the table is updated.
func HasOfficialTable(year int) bool {
	for _, y := range officialTable {
		if y.year == year {
			return true
		}
	}
	return false
}
