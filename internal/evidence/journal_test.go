package evidence

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func journalOf(t *testing.T) Journal {
	env := testenv.New(t)
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	return Journal{Store: platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, func() time.Time { return completed })}
}

// A request's journal is read back in order, each person once by what names them best (a
// connection names the owner by id, the profile by name), round by round or whole.
func TestJournalReadsEachSubjectOnceByItsBestName(t *testing.T) {
	j := journalOf(t)
	ctx := context.Background()
	owner := Subject{Kind: SubjectAccountOwner, ID: "acc-1"}
	named := Subject{Kind: SubjectAccountOwner, ID: "acc-1", Name: "Анна"}
	eu := Subject{Kind: SubjectEndUser, ID: "eu-1", Channel: "telegram"}
	later := Subject{Kind: SubjectEndUser, ID: "eu-2"}
	for _, s := range []struct {
		round, slice int
		subjects     []Subject
	}{{1, 1, []Subject{owner}}, {1, 2, []Subject{named, eu}}, {2, 1, []Subject{later, eu}}} {
		if err := j.RecordSlice(ctx, "req-1", s.round, s.slice, s.subjects, started); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		round int
		want  []Subject
	}{{1, []Subject{named, eu}}, {2, []Subject{later, eu}}} {
		got, err := j.Round(ctx, "req-1", c.round)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("round %d: %+v, want %+v", c.round, got, c.want)
		}
	}
	all, err := j.Subjects(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Subject{named, eu, later}; !reflect.DeepEqual(all, want) {
		t.Errorf("whole journal %+v, want %+v", all, want)
	}
}

// A sweep journals each group of deletions before it makes them (Announce, packed) and takes back
// the subjects of the ones it did not make (Withdraw): the journal reads back the subjects of
// the deletions made, each once, a subject withdrawn from one part but announced and kept in
// another included; the act drawn up under the same request reads back without its journal,
// naming every subject.
func TestJournalOfARunAndItsAct(t *testing.T) {
	j := journalOf(t)
	ctx := context.Background()
	var subjects []Subject
	for i := range 2500 {
		subjects = append(subjects, Subject{Kind: SubjectEndUser, ID: fmt.Sprintf("eu-%04d", i)})
	}
	parts := []Item{runIntent("run-1", subjects[:1000], started), runIntent("run-1", subjects[1000:2000], started),
		runIntent("run-1", append(subjects[2000:], subjects[10]), started)}
	raw := len(mustMarshal(subjects[:1000]))
	if n := len(parts[0].Packed); n == 0 || n*3 > raw || parts[0].Body != "" {
		t.Errorf("a packed part of 1000 subjects holds %d bytes (Body %d), want under a third of their %d bytes of JSON", n, len(parts[0].Body), raw)
	}
	// Of the first part, eu-0005 and eu-0010 were not deleted; eu-0010 was in the third part too.
	// Of the second, eu-1500 was not.
	parts = append(parts, withdrawal(parts[0], []Subject{subjects[5], subjects[10]}, started), withdrawal(parts[1], []Subject{subjects[1500]}, started))
	for _, p := range parts {
		if err := j.Store.Put(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	all, err := j.Subjects(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range all {
		ids[s.ID] = true
	}
	if len(all) != 2498 || len(ids) != 2498 || ids["eu-0005"] || ids["eu-1500"] || !ids["eu-0010"] || !ids["eu-0000"] || !ids["eu-2499"] {
		t.Fatalf("%d subjects read back (%d distinct; eu-0005 %v, eu-1500 %v, eu-0010 %v), want the 2498 not withdrawn",
			len(all), len(ids), ids["eu-0005"], ids["eu-1500"], ids["eu-0010"])
	}

	// The run's act counts the journal's subjects and does not copy them: its record is its only
	// part beside the journal, and reading it back names them from the journal.
	rec := sample()
	rec.RequestID = "run-1"
	if err := j.DrawUpFromJournal(ctx, rec, all); err != nil {
		t.Fatal(err)
	}
	var own []string
	if err := platform.EachOf(ctx, j.Store, datamap.Evidence, Item{RequestID: "run-1"}.KeyVars(), "", func(it Item) error {
		if !strings.HasPrefix(it.Part, journalPrefix) {
			own = append(own, it.Part)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(own) != 1 || own[0] != PartRecord {
		t.Errorf("the run's act is stored in parts %v, want its record alone", own)
	}
	got, err := j.Act(ctx, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	if got.SubjectCount != 2498 || len(got.Subjects) != MaxInlineSubjects || got.Subjects[0] != all[0] || !got.SubjectsInJournal {
		t.Errorf("act names %d of %d subjects", len(got.Subjects), got.SubjectCount)
	}
	if got.RequestID != "run-1" || got.Reason != rec.Reason || !reflect.DeepEqual(got.Destroyed, rec.Destroyed) {
		t.Errorf("act %+v, want the drawn-up record's facts", got)
	}

	// An act missing an element Order 179 requires is never stored.
	bad := sample()
	bad.RequestID, bad.Operator.Name = "run-2", ""
	if err := j.DrawUpFromJournal(ctx, bad, all); err == nil {
		t.Fatal("an act without its operator was drawn up")
	}
	if _, err := j.Act(ctx, "run-2"); err == nil {
		t.Fatal("an invalid act was stored")
	}
}

// A TTL removal is listed at the time it was made, found by its day's journal: a removal late in a
// UTC day falls in the next Moscow day's extract and not in its own UTC day's; a removal that named
// nobody is listed without a subject; the act of a day of removals, named among the acts, is not
// listed again.
func TestExtractListsTTLRemovalsByTheirTime(t *testing.T) {
	j := journalOf(t)
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*60*60)
	late := time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC) // 21 November, 01:30 in Moscow
	noon := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for _, p := range []Item{
		RemovalPart("rec-late", "message", 0, []Subject{{Kind: SubjectEndUser, ID: "eu-1"}}, late),
		RemovalPart("rec-noon", "end_user_file", 2, nil, noon),
	} {
		if err := j.Store.Put(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, msk) }
	rows, err := j.Extract(ctx, []string{TTLDayID(late)}, day(21), day(22))
	if err != nil {
		t.Fatal(err)
	}
	want := []ExtractRow{
		{Date: late, Source: SourceTTL, ActID: TTLDayID(late), RequestKind: "retention_expiry", Subjects: SubjectEndUser + " ×1",
			SubjectKind: SubjectEndUser, SubjectID: "eu-1", Category: "message", Count: 1, Method: MethodLogicalErasure},
		{Date: noon, Source: SourceTTL, ActID: TTLDayID(noon), RequestKind: "retention_expiry", Category: "end_user_file", Count: 1,
			Objects: 2, Method: MethodLogicalErasure},
	}
	for i := range rows {
		rows[i].Date = rows[i].Date.UTC()
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("21 November (Moscow):\n%+v\nwant\n%+v", rows, want)
	}
	if rows, err := j.Extract(ctx, nil, day(20), day(21)); err != nil || len(rows) != 0 {
		t.Errorf("20 November (Moscow): %+v %v, want nothing", rows, err)
	}
}
