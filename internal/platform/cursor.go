package platform

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// ErrBadCursor is a cursor this service did not give out for the listing it is used with:
// garbled, tampered with, or read from another partition (another account's data, another
// listing). The API answers it with a 400 naming the cursor.
var ErrBadCursor = lerr.New(lerr.EINVALID, "not a cursor this API gave out")

// maxCursor bounds what a client may send as a cursor.
const maxCursor = 2048

// Cursor is where a paginated listing stands, the one cursor codec of every listing (ledger and
// platform): the partition the listing reads, the sort key of the last entry shown, and whatever
// else the listing needs to carry on (its filters). Clients see it only as the opaque string
// Encode returns; DecodeCursor takes it back only for the same partition, and the partition is
// always built from the caller's own account, so one account cannot page another's data.
type Cursor struct {
	Partition string            `json:"p"`
	After     string            `json:"a"`
	State     map[string]string `json:"s,omitempty"`
}

// Encode is the cursor as clients see it.
func (c Cursor) Encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor given out by Encode for the listing of partition; "" is the first
// page (the zero Cursor). Anything else — garbled, too long, of another partition, with no
// position — is ErrBadCursor.
func DecodeCursor(s, partition string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	if len(s) > maxCursor {
		return Cursor{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, ErrBadCursor
	}
	var c Cursor
	if json.Unmarshal(b, &c) != nil || c.After == "" || partition == "" || c.Partition != partition {
		return Cursor{}, ErrBadCursor
	}
	return c, nil
}

// StartAfter is the position (QuerySpec.Start) from which a listing of a category — of its table
// partition when index is "", else of that index — carries on after the item vars name: the
// item's table keys and, for an index, the index's keys, all filled from the data map's patterns.
func StartAfter(category, index string, vars map[string]string) (map[string]types.AttributeValue, error) {
	c, ok := datamap.Lookup(category)
	if !ok {
		return nil, fmt.Errorf("unknown category %q", category)
	}
	patterns := map[string]string{AttrPK: c.Location.PK, AttrSK: c.Location.SK}
	if index != "" {
		pkAttr, skAttr, err := indexAttrs(index)
		if err != nil {
			return nil, err
		}
		found := false
		for _, ix := range c.Location.Indexes {
			if ix.Name == index {
				patterns[pkAttr], patterns[skAttr], found = ix.PK, ix.SK, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s has no index %s", category, index)
		}
	}
	start := make(map[string]types.AttributeValue, len(patterns))
	for attr, pattern := range patterns {
		v, err := datamap.Fill(pattern, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", category, err)
		}
		start[attr] = &types.AttributeValueMemberS{Value: v}
	}
	return start, nil
}

// AccountPartition is the partition of an account's own records: what the cursor of a listing
// that walks several partitions of one account (the Privacy module's bots) is bound to.
func AccountPartition(accountID string) (string, error) {
	return datamap.Fill(loc(datamap.AccountProfile).PK, map[string]string{"account": accountID})
}

// PositionStrings is a listing's position (a LastEvaluatedKey) as strings, for a checkpoint that
// is stored as JSON (the erasure engine's); nil for the end of the listing. Every key attribute of
// the tables and indexes is a string.
func PositionStrings(k map[string]types.AttributeValue) map[string]string {
	if k == nil {
		return nil
	}
	out := make(map[string]string, len(k))
	for name, v := range k {
		out[name] = AttrString(v)
	}
	return out
}

// PositionFrom is the listing position (QuerySpec.Start) that PositionStrings stored.
func PositionFrom(c map[string]string) map[string]types.AttributeValue {
	if c == nil {
		return nil
	}
	out := make(map[string]types.AttributeValue, len(c))
	for name, v := range c {
		out[name] = &types.AttributeValueMemberS{Value: v}
	}
	return out
}
