package evidence

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// bigRecord has n subjects: the first MaxInlineSubjects inline, all of them in the returned list.
func bigRecord(n int) (Record, []Subject) {
	all := make([]Subject, n)
	for i := range all {
		all[i] = Subject{Kind: SubjectEndUser, ID: fmt.Sprintf("eu-%06d", i), Name: fmt.Sprintf("Пользователь %d", i), Channel: "telegram"}
	}
	r := sample()
	r.RequestKind, r.Reason = "end_user_filter", ReasonSubjectRequest
	r.Subjects, r.SubjectCount = all[:min(n, MaxInlineSubjects):min(n, MaxInlineSubjects)], int64(n)
	return r, all
}

func TestItemsRoundTrip(t *testing.T) {
	tests := []struct {
		subjects  int
		wantParts []string
	}{
		{4500, []string{"record", "subjects#0001", "subjects#0002", "subjects#0003"}},
		{4, []string{"record", "subjects#0001"}},
		{2000, []string{"record", "subjects#0001"}},
		{2001, []string{"record", "subjects#0001", "subjects#0002"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.subjects), func(t *testing.T) {
			r, all := bigRecord(tt.subjects)
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			items := Items(r, all)
			var parts []string
			for _, it := range items {
				parts = append(parts, it.Part)
				if it.RequestID != r.RequestID || !it.CompletedAt.Equal(r.CompletedAt) {
					t.Errorf("%s: request %q completed %v", it.Part, it.RequestID, it.CompletedAt)
				}
			}
			if !reflect.DeepEqual(parts, tt.wantParts) {
				t.Fatalf("parts %v, want %v", parts, tt.wantParts)
			}
			if strings.Contains(items[0].Body, "eu-000000") || strings.Contains(items[0].Body, `"subjects"`) {
				t.Error("record part holds subjects")
			}

			rand.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
			gotR, gotAll, err := FromItems(items)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotR, r) {
				t.Errorf("record differs:\n got %+v\nwant %+v", gotR, r)
			}
			if !reflect.DeepEqual(gotAll, all) {
				t.Errorf("subjects differ: got %d, want %d", len(gotAll), len(all))
			}
		})
	}
}

func TestItemsWithoutASeparateList(t *testing.T) {
	r := sample()
	got, all, err := FromItems(Items(r, nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) || !reflect.DeepEqual(all, r.Subjects) {
		t.Errorf("round trip from inline subjects: %+v %+v", got, all)
	}
}

// Long names split parts by size too, so no item nears DynamoDB's 400 KB limit.
func TestItemsStayFarUnder400KB(t *testing.T) {
	r, all := bigRecord(4500)
	for i := range all {
		all[i].Name = strings.Repeat("Щ", maxSubjectField/2) // 1 KB of Cyrillic
		all[i].ID = strings.Repeat("9", maxSubjectField)
	}
	r.Subjects = all[:MaxInlineSubjects]
	items := Items(r, all)
	for _, it := range items {
		if size := len(it.Body) + len(it.Packed); size > maxPartBytes+1024 {
			t.Errorf("%s: %d bytes", it.Part, size)
		}
	}
	if len(items) < 1+4500*2048/maxPartBytes {
		t.Errorf("only %d parts for %d KB of subjects", len(items), 4500*2)
	}
	_, got, err := FromItems(items)
	if err != nil || !reflect.DeepEqual(got, all) {
		t.Errorf("round trip: %v, %d subjects", err, len(got))
	}
}

func TestFromItemsRefusesIncompleteOrMixedParts(t *testing.T) {
	r, all := bigRecord(4500)
	tests := []struct {
		name   string
		change func([]Item) []Item
	}{
		{"no items", func([]Item) []Item { return nil }},
		{"no record part", func(it []Item) []Item { return it[1:] }},
		{"a missing subject part", func(it []Item) []Item { return append(it[:2], it[3:]...) }},
		{"the last subject part missing", func(it []Item) []Item { return it[:3] }},
		{"every subject part missing", func(it []Item) []Item { return it[:1] }},
		{"a part twice", func(it []Item) []Item { return append(it, it[2]) }},
		{"another request's part", func(it []Item) []Item { it[2].RequestID = "req-other"; return it }},
		{"another completion time", func(it []Item) []Item { it[1].CompletedAt = it[1].CompletedAt.Add(1); return it }},
		{"an unknown part", func(it []Item) []Item { it[3].Part = "subjects#3"; return it }},
		{"a broken body", func(it []Item) []Item { it[1].Packed = pack([]byte("{")); return it }},
		{"a broken gzip stream", func(it []Item) []Item { it[1].Packed = it[1].Packed[:len(it[1].Packed)/2]; return it }},
		{"not gzip at all", func(it []Item) []Item { it[1].Packed = []byte("{}"); return it }},
		{"a part claiming another number", func(it []Item) []Item {
			body, err := it[1].body()
			if err != nil {
				t.Fatal(err)
			}
			it[1].Packed = pack([]byte(strings.Replace(string(body), `"part":1`, `"part":2`, 1)))
			return it
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := FromItems(tt.change(Items(r, all)))
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("FromItems = %v, want ErrCorrupt", err)
			}
		})
	}
}
