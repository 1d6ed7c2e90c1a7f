package evidence

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// Parts of a stored record: PartRecord holds the Record without its subjects; "subjects#0001", …
// hold every subject in order, in chunks of at most SubjectsPerPart subjects and maxPartBytes of
// JSON, so no item comes near DynamoDB's 400 KB limit however long the names are.
const (
	PartRecord      = "record"
	SubjectsPerPart = 2000
	subjectsPrefix  = "subjects#"
	maxPartBytes    = 256 << 10
)

// Item is one stored part of a record in the ledger table, at R#{request} / EVIDENCE#{part}, with
// a TTL 3 years after CompletedAt (datamap.Evidence).
type Item struct {
	RequestID   string    `dynamodbav:"requestId"`
	Part        string    `dynamodbav:"part"`
	Body        string    `dynamodbav:"body"` // JSON
	CompletedAt time.Time `dynamodbav:"completedAt"`
	// Removed is, on the journal part of a removal DynamoDB's TTL made (RemovalPart), the data-map
	// category of the item removed; Objects the files deleted with it.
	Removed string `dynamodbav:"removed,omitempty"`
	Objects int64  `dynamodbav:"objects,omitempty"`
	// Packed is, on a subjects part of a record and a sweep's journal part (Announce,
	// Withdraw), its JSON gzipped, in place of Body: DynamoDB bills a part by its size, and a
	// sweep names one subject per few items it destroys (issue 19 §3: the sweep's writes against
	// the minimum for what it deletes).
	Packed []byte `dynamodbav:"packed,omitempty"`
	// Withdraws names, on a withdrawal part, the sweep's part whose subjects it takes back: none of
	// their deletions announced in that part was made.
	Withdraws string `dynamodbav:"withdraws,omitempty"`
}

func (Item) Category() string { return datamap.Evidence }
func (i Item) KeyVars() map[string]string {
	return map[string]string{"request": i.RequestID, "part": i.Part}
}
func (i Item) RetentionAnchor() time.Time { return i.CompletedAt }

func subjectsPartName(n int) string { return fmt.Sprintf("%s%04d", subjectsPrefix, n) }

// pack gzips a part's JSON.
func pack(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
	_, _ = zw.Write(body)                                    // into memory: cannot fail
	_ = zw.Close()
	return buf.Bytes()
}

// body is a part's JSON: Body, or Packed unzipped (at most maxPackedBytes of it).
func (i Item) body() ([]byte, error) {
	if len(i.Packed) == 0 {
		return []byte(i.Body), nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(i.Packed))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, maxPackedBytes))
}

// mustMarshal marshals records and subjects: strings, integers and fixed-form times, which cannot fail.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("evidence: " + err.Error())
	}
	return b
}

// subjectsBody is the JSON of one subject part; Of lets a reader tell a missing part.
type subjectsBody struct {
	Part     int               `json:"part"`
	Of       int               `json:"of"`
	Subjects []json.RawMessage `json:"subjects"`
}

// Items splits a record into the items that store it: the record without subjects, then every
// subject of allSubjects in chunks. allSubjects nil means r.Subjects is the full list. Call
// r.Validate first; Items stores what it is given.
func Items(r Record, allSubjects []Subject) []Item {
	if allSubjects == nil {
		allSubjects = r.Subjects
	}
	completed := r.CompletedAt.UTC()
	head := r
	head.Subjects = nil
	items := []Item{{RequestID: r.RequestID, Part: PartRecord, Body: string(mustMarshal(head)), CompletedAt: completed}}

	var chunks [][]json.RawMessage
	var cur []json.RawMessage
	size := 0
	for _, s := range allSubjects {
		b := mustMarshal(s)
		if len(cur) == SubjectsPerPart || len(cur) > 0 && size+len(b)+1 > maxPartBytes {
			chunks, cur, size = append(chunks, cur), nil, 0
		}
		cur = append(cur, b)
		size += len(b) + 1
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	for i, c := range chunks {
		// Stored gzipped: a run of the retention sweep names one subject per few items it destroys,
		// and DynamoDB bills a part by its size (issue 19 §3).
		body := mustMarshal(subjectsBody{Part: i + 1, Of: len(chunks), Subjects: c})
		items = append(items, Item{RequestID: r.RequestID, Part: subjectsPartName(i + 1), Packed: pack(body), CompletedAt: completed})
	}
	return items
}

// ErrCorrupt: the stored parts of a record are missing, duplicated or disagree.
var ErrCorrupt = lerr.New(lerr.EINTERNAL, "evidence: stored parts incomplete or inconsistent")

// FromItems rebuilds a record and its full list of subjects from its items, in any order. The
// record's inline Subjects are the first MaxInlineSubjects of the list.
func FromItems(items []Item) (Record, []Subject, error) {
	corrupt := func(format string, args ...any) (Record, []Subject, error) {
		return Record{}, nil, fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
	}
	if len(items) == 0 {
		return corrupt("no items")
	}
	var head *Item
	parts := map[int]subjectsBody{}
	of := 0
	for i := range items {
		it := &items[i]
		if it.RequestID != items[0].RequestID {
			return corrupt("items of requests %q and %q", items[0].RequestID, it.RequestID)
		}
		if !it.CompletedAt.Equal(items[0].CompletedAt) {
			return corrupt("part %s has another completion time", it.Part)
		}
		if it.Part == PartRecord {
			if head != nil {
				return corrupt("two record parts")
			}
			head = it
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(it.Part, subjectsPrefix))
		if err != nil || n < 1 || it.Part != subjectsPartName(n) {
			return corrupt("unknown part %q", it.Part)
		}
		if _, dup := parts[n]; dup {
			return corrupt("part %s twice", it.Part)
		}
		raw, err := it.body()
		if err != nil {
			return corrupt("part %s: %v", it.Part, err)
		}
		var b subjectsBody
		if err := json.Unmarshal(raw, &b); err != nil {
			return corrupt("part %s: %v", it.Part, err)
		}
		if b.Part != n || b.Of < 1 || of != 0 && b.Of != of {
			return corrupt("part %s says it is %d of %d", it.Part, b.Part, b.Of)
		}
		of = b.Of
		parts[n] = b
	}
	if head == nil {
		return corrupt("no record part")
	}
	var r Record
	if err := json.Unmarshal([]byte(head.Body), &r); err != nil {
		return corrupt("record part: %v", err)
	}
	if r.RequestID != head.RequestID || !r.CompletedAt.Equal(head.CompletedAt) {
		return corrupt("record part does not match its item")
	}
	if len(parts) != of {
		return corrupt("%d of %d subject parts", len(parts), of)
	}
	if of == 0 && r.SubjectCount > 0 && !r.SubjectsInJournal {
		return corrupt("no subject parts for %d subjects", r.SubjectCount)
	}
	var all []Subject
	for _, n := range slices.Sorted(maps.Keys(parts)) {
		for _, raw := range parts[n].Subjects {
			var s Subject
			if err := json.Unmarshal(raw, &s); err != nil {
				return corrupt("part %s: %v", subjectsPartName(n), err)
			}
			all = append(all, s)
		}
	}
	if len(all) > 0 {
		k := min(len(all), MaxInlineSubjects)
		r.Subjects = all[:k:k]
	}
	return r, all, nil
}
