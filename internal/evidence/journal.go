package evidence

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The journal records, as data goes, whose it was: parts stored beside the act, under the request
// that destroyed the data, named journalPrefix and then
//
//   - <round>#<slice> for a slice of a request's deletion (RecordSlice),
//   - a new id for a group of a sweep's deletions (Announce), and that id followed by
//     withdrawalSuffix for the subjects of the group whose deletions were not made (Withdraw),
//   - ttl#<stream record> for one removal DynamoDB's TTL made (RemovalPart), under the request of
//     its day (TTLDayID), naming the category removed.
//
// The act of a round is drawn up from its journal (DrawUp); readers of the act skip the journal.
// The removals of a day are found by its date, so the extract for a date range lists each of them
// at the time it was made, whether or not the day's act is drawn up yet.
const journalPrefix = "journal#"

// Journal stores and reads the evidence of destructions in the ledger table through the platform
// store: the journal parts and the acts drawn up from them. No other package reads or writes them.
type Journal struct {
	Store *platform.Store
}

// journalPart is one part of a request's journal naming subjects.
func journalPart(requestID, name string, subjects []Subject, at time.Time) Item {
	if subjects == nil {
		subjects = []Subject{}
	}
	return Item{RequestID: requestID, Part: journalPrefix + name, Body: string(mustMarshal(subjects)), CompletedAt: at}
}

// RecordSlice stores whose data one slice of round of a request's deletion destroyed.
func (j Journal) RecordSlice(ctx context.Context, requestID string, round, slice int, subjects []Subject, at time.Time) error {
	return j.Store.Put(ctx, journalPart(requestID, fmt.Sprintf("%03d#%05d", round, slice), subjects, at))
}

// Announce stores, under a sweep's run, the journal part of a group of deletions it is about to
// make: whose data they destroy (the subjects not journaled in the run before), gzipped. It
// returns the part's name. If some of them are not made after all (the item changed since the
// scan, or a legal hold placed meanwhile kept it), Withdraw takes their subjects back. Subjects
// reads the two together, so a journal never lacks a deletion made and names none that was not.
// The part's name comes back with an error too: a write whose answer was lost may have been made,
// and withdrawing from a part never stored takes nothing back.
func (j Journal) Announce(ctx context.Context, runID string, subjects []Subject, at time.Time) (string, error) {
	p := runIntent(runID, subjects, at)
	return p.Part, j.Store.Put(ctx, p)
}

// Withdraw stores the part taking back, from the announced part of a sweep's run, the subjects
// none of whose announced deletions was made.
func (j Journal) Withdraw(ctx context.Context, runID, part string, subjects []Subject, at time.Time) error {
	return j.Store.Put(ctx, withdrawal(Item{RequestID: runID, Part: part}, subjects, at))
}

// runIntent is the part Announce stores, its subjects in order.
func runIntent(runID string, subjects []Subject, at time.Time) Item {
	subjects = slices.SortedFunc(slices.Values(subjects), func(a, b Subject) int {
		return strings.Compare(a.Kind+"/"+a.ID, b.Kind+"/"+b.ID)
	})
	return packedPart(runID, platform.NewID(at), subjects, at)
}

// withdrawal is the part Withdraw stores.
func withdrawal(intent Item, subjects []Subject, at time.Time) Item {
	p := packedPart(intent.RequestID, strings.TrimPrefix(intent.Part, journalPrefix)+withdrawalSuffix, subjects, at)
	p.Withdraws = intent.Part
	return p
}

// withdrawalSuffix ends a withdrawal part's name: it sorts right after its part.
const withdrawalSuffix = "~withdrawn"

func packedPart(requestID, name string, subjects []Subject, at time.Time) Item {
	if subjects == nil {
		subjects = []Subject{}
	}
	return Item{RequestID: requestID, Part: journalPrefix + name, Packed: pack(mustMarshal(subjects)), CompletedAt: at}
}

// partSubjects decodes the subjects a journal part names, packed or not.
func partSubjects(item Item) ([]Subject, error) {
	body, err := item.body()
	if err != nil {
		return nil, fmt.Errorf("journal part %s: %w", item.Part, err)
	}
	var subs []Subject
	if err := json.Unmarshal(body, &subs); err != nil {
		return nil, fmt.Errorf("journal part %s: %w", item.Part, err)
	}
	return subs, nil
}

// maxPackedBytes bounds a packed part's JSON when it is read (a part holds a sweep group's subjects).
const maxPackedBytes = 16 << 20

// putAll stores parts with batch writes.
func (j Journal) putAll(ctx context.Context, parts []Item) error {
	recs := make([]platform.Record, len(parts))
	for i, p := range parts {
		recs[i] = p
	}
	return j.Store.PutAll(ctx, recs)
}

// removalPrefix starts the names of the journal parts of TTL removals.
const removalPrefix = "ttl#"

// RemovalPart is the journal part of one removal DynamoDB's TTL made, under the request of its day
// (TTLDayID(at)), keyed by its stream record so that a record delivered twice is journaled once:
// the category of the item removed, the files deleted with it, and whose it was (subjects may be
// empty: the item named nobody).
func RemovalPart(recordID, category string, objects int64, subjects []Subject, at time.Time) Item {
	p := journalPart(TTLDayID(at), removalPrefix+recordID, subjects, at)
	p.Removed, p.Objects = category, objects
	return p
}

// ttlDayPrefix starts the ids of the requests of days of TTL removals.
const ttlDayPrefix = "retention-ttl-"

// TTLDayID is the id of the ledger request whose journal records the TTL removals of one day (UTC),
// and of the day's act.
func TTLDayID(day time.Time) string { return ttlDayPrefix + day.UTC().Format("20060102") }

// isTTLDay reports whether an act is the act of a day of TTL removals.
func isTTLDay(actID string) bool { return strings.HasPrefix(actID, ttlDayPrefix) }

// Round reads back, in order and each once, the subjects the slices of one round of a request's
// deletion recorded.
func (j Journal) Round(ctx context.Context, requestID string, round int) ([]Subject, error) {
	return j.subjects(ctx, requestID, fmt.Sprintf("%03d#", round))
}

// Subjects reads back, in order and each once, every subject journaled under a request (a sweep's
// run, a day of TTL removals).
func (j Journal) Subjects(ctx context.Context, requestID string) ([]Subject, error) {
	return j.subjects(ctx, requestID, "")
}

// subjects reads the journal parts whose names start with journalPrefix+prefix, a sweep's
// withdrawals taken off the parts they correct. One person recorded twice (a connection names the
// owner by id, the profile by name) is listed once, by what names them best. Parts past their TTL
// are read too: a fact of destruction is never dropped.
func (j Journal) subjects(ctx context.Context, requestID, prefix string) ([]Subject, error) {
	type part struct {
		name string
		subs []Subject
	}
	var parts []part
	withdrawn := map[string]map[string]bool{}
	err := platform.EachStoredOf(ctx, j.Store, datamap.Evidence, Item{RequestID: requestID}.KeyVars(), journalPrefix+prefix, func(item Item) error {
		subs, err := partSubjects(item)
		if err != nil {
			return err
		}
		if item.Withdraws != "" {
			w := withdrawn[item.Withdraws]
			if w == nil {
				w = map[string]bool{}
				withdrawn[item.Withdraws] = w
			}
			for _, x := range subs {
				w[x.Kind+"/"+x.ID] = true
			}
			return nil
		}
		parts = append(parts, part{item.Part, subs})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Subject
	seen := map[string]int{}
	for _, p := range parts {
		for _, x := range p.subs {
			k := x.Kind + "/" + x.ID
			if withdrawn[p.name][k] {
				continue
			}
			if i, ok := seen[k]; ok {
				if out[i].Name == "" {
					out[i].Name = x.Name
				}
				if out[i].Channel == "" {
					out[i].Channel = x.Channel
				}
				continue
			}
			seen[k] = len(out)
			out = append(out, x)
		}
	}
	return out, nil
}

// DrawUp stores the act of destruction and journal extract of rec naming subjects (every one of
// them; the act names the first MaxInlineSubjects inline and counts them all). The record must
// validate: an act lacking an element Order 179 requires is never stored.
func (j Journal) DrawUp(ctx context.Context, rec Record, subjects []Subject) error {
	rec.Subjects = subjects[:min(len(subjects), MaxInlineSubjects)]
	rec.SubjectCount = int64(len(subjects))
	if err := rec.Validate(); err != nil {
		return err
	}
	if err := j.putAll(ctx, Items(rec, subjects)); err != nil {
		return fmt.Errorf("store the act: %w", err)
	}
	return nil
}

// DrawUpFromJournal stores the act of destruction of rec, whose subjects are those its request's
// journal names (a retention sweep's run: Subjects, given as subjects), without copying them: the
// act's record counts them and says where they are, and Act reads them from the journal. A sweep
// names about one subject per item it destroys; stored twice, they would cost the run's writes a
// second time (issue 19 §3). Each journal part is kept for the evidence period from its own
// time, the act from its completion: in the last hours of an act's three years, the parts of the
// run's first destructions may already have gone, at the end of their own three years.
func (j Journal) DrawUpFromJournal(ctx context.Context, rec Record, subjects []Subject) error {
	rec.Subjects = subjects[:min(len(subjects), MaxInlineSubjects)]
	rec.SubjectCount = int64(len(subjects))
	rec.SubjectsInJournal = true
	if err := rec.Validate(); err != nil {
		return err
	}
	if err := j.putAll(ctx, Items(rec, []Subject{})); err != nil {
		return fmt.Errorf("store the act: %w", err)
	}
	return nil
}

// ErrNoAct: no act of destruction has that number.
var ErrNoAct = lerr.New(lerr.ENOTFOUND, "no such act of destruction")

// Act reads back an act of destruction by its number (ActID), its journal left aside; ErrNoAct
// when there is none.
func (j Journal) Act(ctx context.Context, actID string) (Record, error) {
	var items []Item
	err := platform.EachOf(ctx, j.Store, datamap.Evidence, Item{RequestID: actID}.KeyVars(), "", func(item Item) error {
		if !strings.HasPrefix(item.Part, journalPrefix) {
			items = append(items, item)
		}
		return nil
	})
	if err != nil {
		return Record{}, err
	}
	if len(items) == 0 {
		return Record{}, ErrNoAct
	}
	rec, _, err := FromItems(items)
	if err != nil {
		return Record{}, fmt.Errorf("evidence %s: %w", actID, err)
	}
	if rec.SubjectsInJournal {
		subjects, err := j.Subjects(ctx, actID)
		if err != nil {
			return Record{}, fmt.Errorf("evidence %s: its journal: %w", actID, err)
		}
		if len(subjects) > 0 {
			k := min(len(subjects), MaxInlineSubjects)
			rec.Subjects = subjects[:k:k]
		}
	}
	return rec, nil
}

// The sources of the destructions an extract lists.
const (
	SourceRequest        = "request"         // a deletion request's act
	SourceRetentionSweep = "retention sweep" // a run of the daily retention sweep
	SourceTTL            = "TTL"             // a removal DynamoDB's TTL made
)

// ExtractRow is one line of the journal of destruction as an inspector asks for it under Order 179:
// one category of data one act destroyed, or one item DynamoDB's TTL removed. It names the subjects
// by kind and number, and by identifier where the journal records one subject to the line (a TTL
// removal), never by name or contact.
type ExtractRow struct {
	Date        time.Time
	Source      string // SourceRequest, SourceRetentionSweep, SourceTTL
	ActID       string // the act, or for a TTL removal the request of its day (its act, once drawn up)
	RequestKind string
	Subjects    string // "end_user ×12"
	SubjectKind string // a TTL removal's subject, when the item named one
	SubjectID   string
	Category    string
	Count       int64
	Objects     int64 // files deleted with a TTL removal
	Method      string
}

// ttlRequestKind is the request kind the acts of TTL removals are drawn up under (the retention
// package's KindRetentionExpiry).
const ttlRequestKind = "retention_expiry"

// Extract returns the rows of the journal of destruction in [from, to), in order of their date:
// those of the acts actIDs names that were drawn up in the range (a request's deletion, a retention
// sweep's run), and every removal DynamoDB's TTL made in the range, read from the journals of its
// days; the acts of days of TTL removals among actIDs are left to those rows, so nothing is listed
// twice. A listed act that cannot be read fails the extract: an extract never leaves out an act
// silently.
func (j Journal) Extract(ctx context.Context, actIDs []string, from, to time.Time) ([]ExtractRow, error) {
	out, err := j.removals(ctx, from, to)
	if err != nil {
		return nil, err
	}
	for _, id := range actIDs {
		if isTTLDay(id) {
			continue
		}
		rec, err := j.Act(ctx, id)
		if err != nil {
			return nil, err
		}
		if rec.CompletedAt.Before(from) || !rec.CompletedAt.Before(to) {
			continue
		}
		kinds := map[string]bool{}
		for _, s := range rec.Subjects {
			kinds[s.Kind] = true
		}
		subjects := fmt.Sprintf("%s ×%d", strings.Join(slices.Sorted(maps.Keys(kinds)), ", "), rec.SubjectCount)
		source := SourceRequest
		if rec.Reason == ReasonRetentionExpired {
			source = SourceRetentionSweep
		}
		for _, d := range rec.Destroyed {
			out = append(out, ExtractRow{Date: rec.CompletedAt, Source: source, ActID: rec.RequestID, RequestKind: rec.RequestKind,
				Subjects: subjects, Category: d.Category, Count: d.Count, Method: rec.Method})
		}
	}
	slices.SortStableFunc(out, func(a, b ExtractRow) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ActID, b.ActID))
	})
	return out, nil
}

// removals reads the journals of the days of TTL removals that meet [from, to) and returns a row
// for each removal made in the range that destroyed personal data.
func (j Journal) removals(ctx context.Context, from, to time.Time) ([]ExtractRow, error) {
	var out []ExtractRow
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		id := TTLDayID(day)
		err := platform.EachStoredOf(ctx, j.Store, datamap.Evidence, Item{RequestID: id}.KeyVars(), journalPrefix+removalPrefix, func(item Item) error {
			if item.CompletedAt.Before(from) || !item.CompletedAt.Before(to) {
				return nil
			}
			subs, err := partSubjects(item)
			if err != nil {
				return fmt.Errorf("%s: %w", id, err)
			}
			row := ExtractRow{Date: item.CompletedAt, Source: SourceTTL, ActID: id, RequestKind: ttlRequestKind,
				Category: item.Removed, Count: 1, Objects: item.Objects, Method: MethodLogicalErasure}
			if len(subs) > 0 {
				row.Subjects = subs[0].Kind + " ×1"
				row.SubjectKind, row.SubjectID = subs[0].Kind, subs[0].ID
			}
			out = append(out, row)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read the TTL removals of %s: %w", id, err)
		}
	}
	return out, nil
}
