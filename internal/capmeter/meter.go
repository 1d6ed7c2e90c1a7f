package capmeter

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Totals is what a Meter counted.
type Totals struct {
	// Metered is the capacity the calls consume by DynamoDB's documented rules.
	Metered Units `json:"metered"`
	// Reported is what the service said it consumed, where it said anything.
	Reported Units `json:"reported"`
	Calls    int   `json:"calls"`
	// Where the size of each item a write or delete charged for came from, when the call itself did
	// not carry it: Learned from an earlier read on the same meter, Registered by the caller, or
	// Unknown (charged the minimum, 1 WCU).
	SizesLearned    int `json:"sizesLearned"`
	SizesRegistered int `json:"sizesRegistered"`
	SizesUnknown    int `json:"sizesUnknown"`
	// FilteredEstimated counts items a Query or Scan read but a filter (or Select COUNT) kept out of
	// the answer; each was charged at a known size where the meter had one and else at the page's mean.
	FilteredEstimated int `json:"filteredEstimated"`
	// Deleted counts the items the calls deleted (DeleteItem without a failed condition, the processed
	// deletes of BatchWriteItem and TransactWriteItems), and DeleteMinimum is their documented
	// minimum: one WCU per started KB of each, where its size was known (else 1).
	Deleted       int     `json:"deleted"`
	DeleteMinimum float64 `json:"deleteMinimum"`
	// ProjectedUnknown counts items a projected Query or Scan returned whose full size the meter did
	// not know: each was charged only the size of what it returned, which under-counts.
	ProjectedUnknown int `json:"projectedUnknown"`
	// PageItems and PageBytes are the items Query and Scan pages read and their sizes (estimated for
	// the filtered ones), for a mean item size.
	PageItems int   `json:"pageItems"`
	PageBytes int64 `json:"pageBytes"`
	// WriteByOp is Metered.Write per operation ("UpdateItem", "BatchWriteItem", …).
	WriteByOp map[string]float64 `json:"writeByOp,omitempty"`
}

type sized struct {
	size       int
	registered bool
}

// Meter computes the capacity of the DynamoDB calls made through a client with its Option. Safe for
// concurrent use.
type Meter struct {
	mu       sync.Mutex
	keyAttrs map[string][]string
	sizes    map[string]sized
	t        Totals
}

// New returns an empty meter; tables' keys are "pk" and "sk" unless KeySchema says otherwise.
func New() *Meter {
	return &Meter{keyAttrs: map[string][]string{}, sizes: map[string]sized{}}
}

// KeySchema names a table's (or index's, as "table/index") key attributes.
func (m *Meter) KeySchema(table string, attrs ...string) {
	m.mu.Lock()
	m.keyAttrs[table] = attrs
	m.mu.Unlock()
}

// Register tells the meter the full item stored under its key, so that a later delete that does not
// return it is charged its size.
func (m *Meter) Register(table string, item map[string]types.AttributeValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.key(table, item); ok {
		m.sizes[k] = sized{size: ItemSize(item), registered: true}
	}
}

// Totals is what has been counted so far.
func (m *Meter) Totals() Totals {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.t
	t.WriteByOp = maps.Clone(m.t.WriteByOp)
	return t
}

// Reset zeroes the totals and keeps the sizes it knows.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.t = Totals{}
	m.mu.Unlock()
}

// Option is a dynamodb client option that meters every call made through the client.
func (m *Meter) Option(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("capmeter.Meter",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				m.observe(in.Parameters, out.Result, err)
				return out, md, err
			}), middleware.After)
	})
}

func (m *Meter) key(table string, item map[string]types.AttributeValue) (string, bool) {
	attrs := m.keyAttrs[table]
	if attrs == nil {
		attrs = []string{"pk", "sk"}
	}
	var b strings.Builder
	b.WriteString(table)
	for _, a := range attrs {
		v, ok := item[a]
		if !ok {
			if a == "sk" && len(attrs) == 2 && m.keyAttrs[table] == nil {
				continue // a table with a partition key only
			}
			return "", false
		}
		b.WriteByte(0)
		b.WriteString(a)
		b.WriteByte(0)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			b.WriteString("S" + v.Value)
		case *types.AttributeValueMemberN:
			b.WriteString("N" + v.Value)
		case *types.AttributeValueMemberB:
			b.WriteString("B" + string(v.Value))
		default:
			return "", false
		}
	}
	return b.String(), true
}

// stored is the known size of the item under key and counts where it came from; ok is false when the
// meter does not know it.
func (m *Meter) stored(table string, key map[string]types.AttributeValue) (int, bool) {
	k, ok := m.key(table, key)
	if !ok {
		return 0, false
	}
	s, ok := m.sizes[k]
	return s.size, ok
}

// chargeStored is the size a write is charged for the item it replaces or deletes, counting the source.
func (m *Meter) chargeStored(table string, key map[string]types.AttributeValue) int {
	k, ok := m.key(table, key)
	if ok {
		if s, ok := m.sizes[k]; ok {
			if s.registered {
				m.t.SizesRegistered++
			} else {
				m.t.SizesLearned++
			}
			return s.size
		}
	}
	m.t.SizesUnknown++
	return 0
}

func (m *Meter) learn(table string, item map[string]types.AttributeValue) {
	if k, ok := m.key(table, item); ok {
		m.sizes[k] = sized{size: ItemSize(item)}
	}
}

func (m *Meter) forget(table string, key map[string]types.AttributeValue) {
	if k, ok := m.key(table, key); ok {
		delete(m.sizes, k)
	}
}

func (m *Meter) observe(params, result any, err error) {
	var ccf *types.ConditionalCheckFailedException
	failedCondition := errors.As(err, &ccf)
	if err != nil && !failedCondition {
		// Throttled, invalid or unreachable: nothing was consumed (a retry is metered on its own).
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t.Calls++
	before := m.t.Metered.Write
	defer func() {
		if d := m.t.Metered.Write - before; d > 0 {
			if m.t.WriteByOp == nil {
				m.t.WriteByOp = map[string]float64{}
			}
			m.t.WriteByOp[strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", params), "*dynamodb."), "Input")] += d
		}
	}()
	if u, ok := Reported(result); ok {
		m.t.Reported = m.t.Reported.Add(u)
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		out, _ := result.(*dynamodb.GetItemOutput)
		size := 0
		if out != nil && out.Item != nil {
			size = ItemSize(out.Item)
			if in.ProjectionExpression == nil && in.AttributesToGet == nil {
				m.learn(deref2(in.TableName), out.Item)
			} else if s, ok := m.stored(deref2(in.TableName), in.Key); ok {
				size = max(size, s)
			}
		}
		m.t.Metered.Read += ReadUnits(size, in.ConsistentRead != nil && *in.ConsistentRead)
	case *dynamodb.BatchGetItemInput:
		out, _ := result.(*dynamodb.BatchGetItemOutput)
		if out == nil {
			return
		}
		for table, items := range out.Responses {
			strong := false
			if ka, ok := in.RequestItems[table]; ok && ka.ConsistentRead != nil {
				strong = *ka.ConsistentRead
			}
			for _, it := range items {
				m.t.Metered.Read += ReadUnits(ItemSize(it), strong)
				m.learn(table, it)
			}
		}
	case *dynamodb.QueryInput:
		out, _ := result.(*dynamodb.QueryOutput)
		if out != nil {
			m.page(deref2(in.TableName), in.IndexName, in.ProjectionExpression != nil || in.AttributesToGet != nil || in.Select != "",
				out.Items, int(out.ScannedCount), in.ConsistentRead != nil && *in.ConsistentRead)
		}
	case *dynamodb.ScanInput:
		out, _ := result.(*dynamodb.ScanOutput)
		if out != nil {
			m.page(deref2(in.TableName), in.IndexName, in.ProjectionExpression != nil || in.AttributesToGet != nil || in.Select != "",
				out.Items, int(out.ScannedCount), in.ConsistentRead != nil && *in.ConsistentRead)
		}
	case *dynamodb.PutItemInput:
		table := deref2(in.TableName)
		old := m.chargeStoredQuiet(table, in.Item)
		if out, _ := result.(*dynamodb.PutItemOutput); out != nil && out.Attributes != nil {
			old = max(old, ItemSize(out.Attributes))
		}
		m.t.Metered.Write += WriteUnits(max(old, ItemSize(in.Item)))
		if !failedCondition {
			m.learn(table, in.Item)
		}
	case *dynamodb.UpdateItemInput:
		table := deref2(in.TableName)
		size := m.chargeStored(table, in.Key)
		if out, _ := result.(*dynamodb.UpdateItemOutput); out != nil && out.Attributes != nil {
			size = max(size, ItemSize(out.Attributes))
			if in.ReturnValues == types.ReturnValueAllNew {
				m.learn(table, out.Attributes)
			}
		}
		m.t.Metered.Write += WriteUnits(size)
	case *dynamodb.DeleteItemInput:
		table := deref2(in.TableName)
		var size int
		if out, _ := result.(*dynamodb.DeleteItemOutput); out != nil && out.Attributes != nil && in.ReturnValues == types.ReturnValueAllOld {
			size = ItemSize(out.Attributes)
		} else {
			size = m.chargeStored(table, in.Key)
		}
		m.t.Metered.Write += WriteUnits(size)
		if !failedCondition {
			m.forget(table, in.Key)
			m.t.Deleted++
			m.t.DeleteMinimum += WriteUnits(size)
		}
	case *dynamodb.BatchWriteItemInput:
		out, _ := result.(*dynamodb.BatchWriteItemOutput)
		unprocessed := map[string]bool{}
		if out != nil {
			for table, reqs := range out.UnprocessedItems {
				for _, r := range reqs {
					if k, ok := m.key(table, writeKey(r)); ok {
						unprocessed[k] = true
					}
				}
			}
		}
		for table, reqs := range in.RequestItems {
			for _, r := range reqs {
				if k, ok := m.key(table, writeKey(r)); ok && unprocessed[k] {
					continue
				}
				if r.PutRequest != nil {
					m.t.Metered.Write += WriteUnits(max(m.chargeStoredQuiet(table, r.PutRequest.Item), ItemSize(r.PutRequest.Item)))
					m.learn(table, r.PutRequest.Item)
				} else if r.DeleteRequest != nil {
					u := WriteUnits(m.chargeStored(table, r.DeleteRequest.Key))
					m.t.Metered.Write += u
					m.forget(table, r.DeleteRequest.Key)
					m.t.Deleted++
					m.t.DeleteMinimum += u
				}
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, ti := range in.TransactItems {
			switch {
			case ti.Put != nil:
				t := deref2(ti.Put.TableName)
				m.t.Metered.Write += 2 * WriteUnits(max(m.chargeStoredQuiet(t, ti.Put.Item), ItemSize(ti.Put.Item)))
				if err == nil {
					m.learn(t, ti.Put.Item)
				}
			case ti.Delete != nil:
				t := deref2(ti.Delete.TableName)
				u := WriteUnits(m.chargeStored(t, ti.Delete.Key))
				m.t.Metered.Write += 2 * u
				if err == nil {
					m.forget(t, ti.Delete.Key)
					m.t.Deleted++
					m.t.DeleteMinimum += u
				}
			case ti.Update != nil:
				m.t.Metered.Write += 2 * WriteUnits(m.chargeStored(deref2(ti.Update.TableName), ti.Update.Key))
			case ti.ConditionCheck != nil:
				m.t.Metered.Write += 2 * WriteUnits(m.chargeStored(deref2(ti.ConditionCheck.TableName), ti.ConditionCheck.Key))
			}
		}
	}
}

// chargeStoredQuiet is the known size under the item's key without counting a source: a Put carries
// its own size, and the old item only matters when it is larger.
func (m *Meter) chargeStoredQuiet(table string, item map[string]types.AttributeValue) int {
	s, _ := m.stored(table, item)
	return s
}

// page meters one Query or Scan page: the sum of the sizes of every item read (before any filter),
// rounded up to 4 KB once for the page.
func (m *Meter) page(table string, index *string, projected bool, items []map[string]types.AttributeValue, scanned int, strong bool) {
	sum := 0
	for _, it := range items {
		s := ItemSize(it)
		switch {
		case projected:
			// DynamoDB charges a read by the size of what it reads, whatever the projection returns:
			// the table's whole item, or the index's entry — the whole item too for an index that
			// projects ALL, as every index of Lethe's tables does. The item's full size is charged
			// where the meter knows it (registered, or learned from an earlier whole read).
			if full, ok := m.stored(table, it); ok {
				s = max(s, full)
			} else {
				m.t.ProjectedUnknown++
			}
		case index == nil:
			m.learn(table, it)
		}
		sum += s
	}
	if unseen := scanned - len(items); unseen > 0 {
		mean := 0
		if len(items) > 0 {
			mean = sum / len(items)
		}
		sum += unseen * mean
		m.t.FilteredEstimated += unseen
	}
	m.t.Metered.Read += ReadUnits(sum, strong)
	m.t.PageItems += max(scanned, len(items))
	m.t.PageBytes += int64(sum)
}

func writeKey(r types.WriteRequest) map[string]types.AttributeValue {
	if r.PutRequest != nil {
		return r.PutRequest.Item
	}
	if r.DeleteRequest != nil {
		return r.DeleteRequest.Key
	}
	return nil
}

func deref2(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
