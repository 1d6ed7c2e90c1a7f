package calendar

import "time"

// yearTable is one Government decree on transfers of days off, as corrections to layer 1
// (rickar's ru rules with the New Year fixes, see baseCalendar). Every entry must change what
// layer 1 says; the tests check that, and check each year against the published calendar.
type yearTable struct {
	year     int
	decree   string
	holidays []Date // non-working days that layer 1 counts as working
	workdays []Date // working days that layer 1 counts as non-working
}

func ymd(y int, m time.Month, day int) Date { return Date{y, m, day} }

// officialTable holds the decrees verified for this release. Add the next year's decree when
// it is published (usually August–October); until then, configure its transfers through
// BUSINESS_CALENDAR_EXTRA_HOLIDAYS / BUSINESS_CALENDAR_EXTRA_WORKDAYS.
var officialTable = []yearTable{
	{
		year:   2023,
		decree: "Постановление Правительства РФ от 29.08.2022 № 1505",
		// Sun 1 Jan → Fri 24 Feb; Sun 8 Jan → Mon 8 May. (Sat 4 Nov → Mon 6 Nov is the
		// automatic carry-over, which layer 1 already applies.)
		holidays: []Date{ymd(2023, time.February, 24), ymd(2023, time.May, 8)},
	},
	{
		year:   2024,
		decree: "Постановление Правительства РФ от 10.08.2023 № 1314",
		// Sat 6 Jan → Fri 10 May; Sun 7 Jan → Tue 31 Dec; Sat 27 Apr → Mon 29 Apr;
		// Sat 2 Nov → Tue 30 Apr; Sat 28 Dec → Mon 30 Dec.
		holidays: []Date{
			ymd(2024, time.April, 29), ymd(2024, time.April, 30), ymd(2024, time.May, 10),
			ymd(2024, time.December, 30), ymd(2024, time.December, 31),
		},
		workdays: []Date{ymd(2024, time.April, 27), ymd(2024, time.November, 2), ymd(2024, time.December, 28)},
	},
	{
		year:   2025,
		decree: "Постановление Правительства РФ от 04.10.2024 № 1335",
		// Sat 4 Jan → Fri 2 May; Sun 5 Jan → Wed 31 Dec; Sun 23 Feb → Thu 8 May;
		// Sat 8 Mar → Fri 13 Jun; Sat 1 Nov → Mon 3 Nov.
		holidays: []Date{
			ymd(2025, time.May, 2), ymd(2025, time.May, 8), ymd(2025, time.June, 13),
			ymd(2025, time.November, 3), ymd(2025, time.December, 31),
		},
		// Mon 24 Feb and Mon 10 Mar would be the automatic carry-overs of 23 Feb and 8 Mar
		// (layer 1 makes them days off); the decree moved those days off to 8 May and 13 Jun,
		// so they are working days. Sat 1 Nov is a working day.
		workdays: []Date{ymd(2025, time.February, 24), ymd(2025, time.March, 10), ymd(2025, time.November, 1)},
	},
	{
		year:   2026,
		decree: "Постановление Правительства РФ от 24.09.2025 № 1466",
		// Sat 3 Jan → Fri 9 Jan; Sun 4 Jan → Thu 31 Dec. (Sun 8 Mar → Mon 9 Mar and
		// Sat 9 May → Mon 11 May are automatic carry-overs, already in layer 1.)
		holidays: []Date{ymd(2026, time.January, 9), ymd(2026, time.December, 31)},
	},
}
