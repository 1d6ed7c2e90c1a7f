// Package capmeter counts DynamoDB capacity on the client side, the way DynamoDB documents it, because
// DynamoDB Local's own ConsumedCapacity is wrong for Query, Scan, DeleteItem and BatchWriteItem.
//
// It has two parts:
//
//   - Ask, an SDK option that sets ReturnConsumedCapacity=TOTAL on every call that lacks it and adds
//     what the service reports to a Counter carried by the call's context (WithCounter). It is cheap
//     enough for production: the functions use it so each run's log line carries the capacity AWS
//     charged.
//   - Meter, an SDK option that computes the capacity each call should consume from the sizes of the
//     items it reads and writes. The bench uses it; nothing in functions/ links it.
//
// Rules, from https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
// (item sizes) and https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
// (capacity units per operation).
package capmeter

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// KB is DynamoDB's kilobyte (1,024 bytes).
const KB = 1024

// ItemSize is the size of an item as DynamoDB counts it for capacity: for every attribute, the UTF-8
// length of its name plus the size of its value (ValueSize).
func ItemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + ValueSize(v)
	}
	return n
}

// ValueSize is the size of one attribute value without its name:
//   - a string: its UTF-8 bytes; a binary: its raw bytes;
//   - a number: 1 byte per two significant digits (leading and trailing zeroes trimmed) plus 1 byte;
//   - a Boolean or null: 1 byte;
//   - a list or map: 3 bytes plus, for each element, its size plus 1 byte (a map's element also counts
//     its key's UTF-8 bytes);
//   - a set: the sum of its elements' sizes, each as the scalar it holds.
func ValueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return NumberSize(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += ValueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + ValueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberSS:
		n := 0
		for _, s := range v.Value {
			n += len(s)
		}
		return n
	case *types.AttributeValueMemberNS:
		n := 0
		for _, s := range v.Value {
			n += NumberSize(s)
		}
		return n
	case *types.AttributeValueMemberBS:
		n := 0
		for _, b := range v.Value {
			n += len(b)
		}
		return n
	}
	return 0
}

// NumberSize is the documented size of a number: ceil(significant digits / 2) + 1 bytes, with leading
// and trailing zeroes trimmed (so 0 is 1 byte, 100 and 1 are 2, 123456 is 4).
func NumberSize(s string) int {
	s = strings.TrimLeft(s, "+-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	digits := strings.Replace(s, ".", "", 1)
	digits = strings.Trim(digits, "0")
	d := utf8.RuneCountInString(digits)
	return (d+1)/2 + 1
}

// WriteUnits is the write capacity of writing (or deleting) an item of size bytes: one unit per started
// KB, and at least one.
func WriteUnits(size int) float64 {
	return float64(max(1, ceilDiv(size, KB)))
}

// ReadUnits is the read capacity of reading size bytes in one item (GetItem, each BatchGetItem item) or
// in the sum of the items one Query or Scan page read: one unit per started 4 KB, at least one, halved
// for an eventually consistent read.
func ReadUnits(size int, strong bool) float64 {
	u := float64(max(1, ceilDiv(size, 4*KB)))
	if !strong {
		u /= 2
	}
	return u
}

func ceilDiv(a, b int) int {
	return int(math.Ceil(float64(a) / float64(b)))
}
