package capmeter

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }

// Sizes per https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
func TestItemSizeFollowsTheDocumentedRules(t *testing.T) {
	cases := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"string: name + UTF-8 bytes", map[string]types.AttributeValue{"pk": s("abc")}, 2 + 3},
		{"multibyte string and name", map[string]types.AttributeValue{"имя": s("ёж")}, 6 + 4},
		{"number: 1 byte per two significant digits + 1", map[string]types.AttributeValue{"n": n("123456")}, 1 + 3 + 1},
		{"number: odd digits round up", map[string]types.AttributeValue{"n": n("12345")}, 1 + 3 + 1},
		{"number: leading and trailing zeroes trimmed", map[string]types.AttributeValue{"n": n("-000120.5000")}, 1 + 2 + 1},
		{"binary: raw bytes", map[string]types.AttributeValue{"b": &types.AttributeValueMemberB{Value: make([]byte, 10)}}, 1 + 10},
		{"bool and null: 1 byte", map[string]types.AttributeValue{"t": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 2 + 2},
		{"empty list: 3 bytes", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{}}, 1 + 3},
		{"list: 3 + each element + 1", map[string]types.AttributeValue{"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{s("ab"), n("1")}}}, 1 + 3 + (2 + 1) + (2 + 1)},
		{"map: 3 + each key, value + 1", map[string]types.AttributeValue{"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": s("vv")}}}, 1 + 3 + (1 + 2 + 1)},
		{"string set", map[string]types.AttributeValue{"ss": &types.AttributeValueMemberSS{Value: []string{"a", "bc"}}}, 2 + 3},
	}
	for _, c := range cases {
		if got := ItemSize(c.item); got != c.want {
			t.Errorf("%s: ItemSize = %d, want %d", c.name, got, c.want)
		}
	}
}

// Worked examples of https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
func TestUnitsFollowTheDocumentedExamples(t *testing.T) {
	// "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
	if got := ReadUnits(3500, true); got != 1 {
		t.Errorf("3,500 B strongly consistent = %v RCU, want 1", got)
	}
	// "if your item size is 8 KB, you require 2 read units ... 1 for eventually consistent"
	if got := ReadUnits(8*KB, true); got != 2 {
		t.Errorf("8 KB strong = %v", got)
	}
	if got := ReadUnits(8*KB, false); got != 1 {
		t.Errorf("8 KB eventual = %v", got)
	}
	// "If you read a 10 KB item, DynamoDB rounds the item size to 12 KB."
	if got := ReadUnits(10*KB, true); got != 3 {
		t.Errorf("10 KB strong = %v", got)
	}
	// Query: "10 items whose combined size is 40.8 KB ... rounds ... to 44 KB"
	if got := ReadUnits(41780, true); got != 11 {
		t.Errorf("40.8 KiB Query strong = %v, want 11", got)
	}
	// "a standard write request of a 3 KB item would require three WCUs" (pricing page)
	if got := WriteUnits(3 * KB); got != 3 {
		t.Errorf("3 KB write = %v", got)
	}
	// A write of a 2.5 KB item rounds up to 3.
	if got := WriteUnits(2560); got != 3 {
		t.Errorf("2.5 KB write = %v", got)
	}
	// Minimums: an empty read is half a unit, a delete of nothing is one.
	if ReadUnits(0, false) != 0.5 || WriteUnits(0) != 1 {
		t.Error("minimums")
	}
}

func TestBatchGetRoundsEachItem(t *testing.T) {
	// "if BatchGetItem reads a 1.5 KB item and a 6.5 KB item, DynamoDB calculates the size as 12 KB
	// (4 KB + 8 KB), not 8 KB (1.5 KB + 6.5 KB)"
	m := New()
	item := func(id string, size int) map[string]types.AttributeValue {
		it := map[string]types.AttributeValue{"pk": s(id), "sk": s("x")}
		it["d"] = s(strings.Repeat("x", size-ItemSize(it)-1))
		return it
	}
	out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{
		"T": {item("a", 1536), item("b", 6656)}}}
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{"T": {ConsistentRead: aws.Bool(true)}}}
	m.observe(in, out, nil)
	if got := m.Totals().Metered.Read; got != 3 {
		t.Fatalf("BatchGet of 1.5 KB + 6.5 KB = %v RCU, want 3 (12 KB strongly consistent)", got)
	}
}

func TestQueryChargesTheSumOfThePageAndFilteredItems(t *testing.T) {
	m := New()
	var items []map[string]types.AttributeValue
	for i := 0; i < 10; i++ {
		it := map[string]types.AttributeValue{"pk": s("p"), "sk": s(string(rune('a' + i)))}
		it["d"] = s(strings.Repeat("x", 3*KB-ItemSize(it)-1))
		items = append(items, it)
	}
	// 10 items of 3 KB returned = 30 KB -> 8 units of 4 KB -> 4 RCU eventually consistent.
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T")}, &dynamodb.QueryOutput{Items: items, ScannedCount: 10, Count: 10}, nil)
	if got := m.Totals().Metered.Read; got != 4 {
		t.Fatalf("Query of 10×3 KB = %v RCU, want 4", got)
	}
	// The same page with 20 more items read but filtered out: 30 × 3 KB = 90 KB -> 23 -> 11.5.
	m.Reset()
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T"), FilterExpression: aws.String("x")}, &dynamodb.QueryOutput{Items: items, ScannedCount: 30, Count: 10}, nil)
	if got := m.Totals(); got.Metered.Read != 11.5 || got.FilteredEstimated != 20 {
		t.Fatalf("filtered Query = %+v, want 11.5 RCU with 20 estimated", got)
	}
}

func TestDeletesAreChargedTheSizeOfWhatTheyDelete(t *testing.T) {
	m := New()
	big := map[string]types.AttributeValue{"pk": s("a"), "sk": s("1"), "d": s(strings.Repeat("x", 2500))}
	small := map[string]types.AttributeValue{"pk": s("a"), "sk": s("2")}
	// Learned from a read:
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T")}, &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{big, small}, ScannedCount: 2}, nil)
	m.Reset()
	m.observe(&dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"T": {
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("2")}}},
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("3")}}},
	}}}, &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{"T": {
		{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("3")}}},
	}}}, nil)
	got := m.Totals()
	if got.Metered.Write != 3+1 || got.SizesLearned != 2 || got.SizesUnknown != 0 || got.Deleted != 2 || got.DeleteMinimum != 4 {
		t.Fatalf("BatchWrite deletes = %+v, want 4 WCU (3 + 1), both sizes learned, the unprocessed one not charged", got)
	}
	// Registered by the caller; a conditional delete that fails still costs.
	m.Reset()
	m.Register("T", big)
	m.observe(&dynamodb.DeleteItemInput{TableName: aws.String("T"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}},
		nil, &types.ConditionalCheckFailedException{})
	m.observe(&dynamodb.DeleteItemInput{TableName: aws.String("T"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}},
		&dynamodb.DeleteItemOutput{}, nil)
	m.observe(&dynamodb.DeleteItemInput{TableName: aws.String("T"), Key: map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}},
		&dynamodb.DeleteItemOutput{}, nil)
	got = m.Totals()
	if got.Metered.Write != 3+3+1 || got.SizesRegistered != 2 || got.SizesUnknown != 1 || got.Deleted != 2 || got.DeleteMinimum != 3+1 {
		t.Fatalf("DeleteItem = %+v, want 3 (failed condition) + 3 + 1 (already gone)", got)
	}
	// Transactional writes cost twice.
	m.Reset()
	m.observe(&dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String("T"), Item: big}}}},
		&dynamodb.TransactWriteItemsOutput{}, nil)
	if got := m.Totals(); got.Metered.Write != 6 || got.WriteByOp["TransactWriteItems"] != 6 {
		t.Fatalf("transactional put of 2.5 KB = %+v, want 6 WCU", got)
	}
}

// A projection does not make a read cheaper: DynamoDB charges the whole item read, from the table or
// from an index that projects ALL.
func TestProjectedQueryIsChargedTheWholeItem(t *testing.T) {
	m := New()
	big := map[string]types.AttributeValue{"pk": s("a"), "sk": s("1"), "gsi1pk": s("g"), "d": s(strings.Repeat("x", 5000))}
	keys := map[string]types.AttributeValue{"pk": s("a"), "sk": s("1")}
	m.Register("T", big)
	m.Reset()
	// 5 KB+ strongly consistent: 2 RCU, where the keys alone would be 1.
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T"), ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk, sk")},
		&dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{keys}, ScannedCount: 1, Count: 1}, nil)
	if got := m.Totals(); got.Metered.Read != 2 || got.ProjectedUnknown != 0 {
		t.Fatalf("projected table Query of a 5 KB item = %+v, want 2 RCU", got)
	}
	// From an index, eventually consistent: 1 RCU.
	m.Reset()
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T"), IndexName: aws.String("GSI1"), ProjectionExpression: aws.String("pk, sk")},
		&dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{keys}, ScannedCount: 1, Count: 1}, nil)
	if got := m.Totals(); got.Metered.Read != 1 || got.ProjectedUnknown != 0 {
		t.Fatalf("projected index Query of a 5 KB item = %+v, want 1 RCU", got)
	}
	// An item the meter never saw is charged what came back, and counted as such.
	m.Reset()
	other := map[string]types.AttributeValue{"pk": s("b"), "sk": s("1")}
	m.observe(&dynamodb.QueryInput{TableName: aws.String("T"), ProjectionExpression: aws.String("pk, sk")},
		&dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{other}, ScannedCount: 1, Count: 1}, nil)
	if got := m.Totals(); got.Metered.Read != 0.5 || got.ProjectedUnknown != 1 {
		t.Fatalf("projected Query of an unknown item = %+v, want 0.5 RCU and 1 unknown", got)
	}
}
