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
//   - a new id for a sweep's writes (RunParts),
//   - ttl#<stream record> for one removal DynamoDB's TTL made (RemovalPart).
//
// The act of a round is drawn up from its journal (DrawUp); readers of the act skip the journal.
const journalPrefix = "journal#"

// journalChunk bounds the subjects of one part a sweep journals (far under DynamoDB's 400 KB item
// limit).
const journalChunk = 1000

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

// RunParts are the journal parts naming the subjects of a sweep's deletions under its request, in
// order, journalChunk to a part: for a writer that stores them in one transaction with the
// deletions they record (RecordRun stores them otherwise).
func RunParts(runID string, subjects map[Subject]bool, at time.Time) []Item {
	if len(subjects) == 0 {
		return nil
	}
	list := slices.SortedFunc(maps.Keys(subjects), func(a, b Subject) int {
		return strings.Compare(a.Kind+"/"+a.ID, b.Kind+"/"+b.ID)
	})
	var parts []Item
	for i := 0; i < len(list); i += journalChunk {
		parts = append(parts, journalPart(runID, platform.NewID(at), list[i:min(i+journalChunk, len(list))], at))
	}
	return parts
}

// RecordRun stores the RunParts of deletions made one request each, in one batch write.
func (j Journal) RecordRun(ctx context.Context, runID string, subjects map[Subject]bool, at time.Time) error {
	parts := RunParts(runID, subjects, at)
	if len(parts) == 0 {
		return nil
	}
	return j.putAll(ctx, parts)
}

// putAll stores parts with batch writes.
func (j Journal) putAll(ctx context.Context, parts []Item) error {
	recs := make([]platform.Record, len(parts))
	for i, p := range parts {
		recs[i] = p
	}
	return j.Store.PutAll(ctx, recs)
}

// RemovalPart is the journal part of one removal DynamoDB's TTL made, keyed by its stream record so
// that a record delivered twice is journaled once; subjects may be empty (the item named nobody).
func RemovalPart(runID, recordID string, subjects []Subject, at time.Time) Item {
	return journalPart(runID, "ttl#"+recordID, subjects, at)
}

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

// subjects reads the journal parts whose names start with journalPrefix+prefix. One person
// recorded twice (a connection names the owner by id, the profile by name) is listed once, by what
// names them best. Parts past their TTL are read too: a fact of destruction is never dropped.
func (j Journal) subjects(ctx context.Context, requestID, prefix string) ([]Subject, error) {
	var out []Subject
	seen := map[string]int{}
	err := platform.EachStoredOf(ctx, j.Store, datamap.Evidence, Item{RequestID: requestID}.KeyVars(), journalPrefix+prefix, func(item Item) error {
		var subs []Subject
		if err := json.Unmarshal([]byte(item.Body), &subs); err != nil {
			return fmt.Errorf("journal part %s: %w", item.Part, err)
		}
		for _, x := range subs {
			k := x.Kind + "/" + x.ID
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
		return nil
	})
	return out, err
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
	return rec, nil
}

// ExtractRow is one line of the journal of destruction as an inspector asks for it under Order 179:
// one category of data one act destroyed. It names the subjects by kind and number only, never by
// name or contact.
type ExtractRow struct {
	Date        time.Time
	ActID       string
	RequestKind string
	Subjects    string // "end_user ×12"
	Category    string
	Count       int64
	Method      string
}

// Extract reads the acts actIDs names and returns the rows of those drawn up in [from, to), in
// order of their date. A listed act that cannot be read fails the extract: an extract never leaves
// out an act silently.
func (j Journal) Extract(ctx context.Context, actIDs []string, from, to time.Time) ([]ExtractRow, error) {
	var out []ExtractRow
	for _, id := range actIDs {
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
		for _, d := range rec.Destroyed {
			out = append(out, ExtractRow{Date: rec.CompletedAt, ActID: rec.RequestID, RequestKind: rec.RequestKind,
				Subjects: subjects, Category: d.Category, Count: d.Count, Method: rec.Method})
		}
	}
	slices.SortStableFunc(out, func(a, b ExtractRow) int {
		return cmp.Or(a.Date.Compare(b.Date), strings.Compare(a.ActID, b.ActID))
	})
	return out, nil
}
