package capmeter

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Units is read and write capacity.
type Units struct {
	Read  float64 `json:"read"`
	Write float64 `json:"write"`
}

// Add returns u plus v.
func (u Units) Add(v Units) Units { return Units{Read: u.Read + v.Read, Write: u.Write + v.Write} }

// Counter adds up the capacity DynamoDB reported for the calls made with a context from WithCounter.
// Safe for concurrent use.
type Counter struct {
	mu    sync.Mutex
	units Units
	calls int
}

// Units is what has been reported so far, and over how many calls.
func (c *Counter) Units() (Units, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.units, c.calls
}

func (c *Counter) add(u Units) {
	c.mu.Lock()
	c.units = c.units.Add(u)
	c.calls++
	c.mu.Unlock()
}

type counterKey struct{}

// WithCounter returns a context whose DynamoDB calls (through a client with Ask) add what DynamoDB
// reports to the returned Counter. A context that already carries one keeps it.
func WithCounter(ctx context.Context) (context.Context, *Counter) {
	if c := CounterFrom(ctx); c != nil {
		return ctx, c
	}
	c := &Counter{}
	return context.WithValue(ctx, counterKey{}, c), c
}

// CounterFrom is the context's Counter, or nil.
func CounterFrom(ctx context.Context) *Counter {
	c, _ := ctx.Value(counterKey{}).(*Counter)
	return c
}

// Ask is a dynamodb client option: every call that has a ReturnConsumedCapacity field and leaves it
// empty asks for TOTAL, and the ConsumedCapacity DynamoDB answers is added to the call context's
// Counter (if any). Use it as dynamodb.NewFromConfig(cfg, capmeter.Ask).
func Ask(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("capmeter.Ask",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				askTotal(in.Parameters)
				out, md, err := next.HandleInitialize(ctx, in)
				if c := CounterFrom(ctx); c != nil && err == nil {
					if u, ok := Reported(out.Result); ok {
						c.add(u)
					}
				}
				return out, md, err
			}), middleware.After)
	})
}

const total = types.ReturnConsumedCapacityTotal

func askTotal(p any) {
	set := func(f *types.ReturnConsumedCapacity) {
		if *f == "" {
			*f = total
		}
	}
	switch in := p.(type) {
	case *dynamodb.GetItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.PutItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.UpdateItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.DeleteItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.QueryInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.ScanInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.BatchGetItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.BatchWriteItemInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.TransactWriteItemsInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.TransactGetItemsInput:
		set(&in.ReturnConsumedCapacity)
	case *dynamodb.ExecuteStatementInput:
		set(&in.ReturnConsumedCapacity)
	}
}

// AsksConsumedCapacity reports whether a call's input has a ReturnConsumedCapacity field and whether
// it asks for TOTAL (or INDEXES, which includes it). Tests use it to fail a call that does not ask.
func AsksConsumedCapacity(p any) (has, asks bool) {
	var f types.ReturnConsumedCapacity
	switch in := p.(type) {
	case *dynamodb.GetItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.PutItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.UpdateItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.DeleteItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.QueryInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.ScanInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.BatchGetItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.BatchWriteItemInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.TransactWriteItemsInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.TransactGetItemsInput:
		f = in.ReturnConsumedCapacity
	case *dynamodb.ExecuteStatementInput:
		f = in.ReturnConsumedCapacity
	default:
		return false, false
	}
	return true, f == types.ReturnConsumedCapacityTotal || f == types.ReturnConsumedCapacityIndexes
}

// Reported is the ConsumedCapacity an output carries, summed over its tables; ok is false when the
// output has none (DynamoDB Local omits it for some calls).
func Reported(result any) (u Units, ok bool) {
	one := func(c *types.ConsumedCapacity) {
		if c == nil {
			return
		}
		ok = true
		r, w := deref(c.ReadCapacityUnits), deref(c.WriteCapacityUnits)
		if r == 0 && w == 0 && c.CapacityUnits != nil {
			// Only the total: reads and writes are told apart by the operation.
			r = *c.CapacityUnits
		}
		u = u.Add(Units{Read: r, Write: w})
	}
	many := func(cs []types.ConsumedCapacity) {
		for i := range cs {
			one(&cs[i])
		}
	}
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		one(out.ConsumedCapacity)
	case *dynamodb.QueryOutput:
		one(out.ConsumedCapacity)
	case *dynamodb.ScanOutput:
		one(out.ConsumedCapacity)
	case *dynamodb.PutItemOutput:
		u0 := u
		one(out.ConsumedCapacity)
		u = asWrite(u0, u)
	case *dynamodb.UpdateItemOutput:
		u0 := u
		one(out.ConsumedCapacity)
		u = asWrite(u0, u)
	case *dynamodb.DeleteItemOutput:
		u0 := u
		one(out.ConsumedCapacity)
		u = asWrite(u0, u)
	case *dynamodb.BatchGetItemOutput:
		many(out.ConsumedCapacity)
	case *dynamodb.BatchWriteItemOutput:
		many(out.ConsumedCapacity)
		u = Units{Write: u.Read + u.Write}
	case *dynamodb.TransactWriteItemsOutput:
		many(out.ConsumedCapacity)
		u = Units{Write: u.Read + u.Write}
	case *dynamodb.TransactGetItemsOutput:
		many(out.ConsumedCapacity)
	case *dynamodb.ExecuteStatementOutput:
		one(out.ConsumedCapacity)
	}
	return u, ok
}

// asWrite moves a total that one() took for reads to writes, for a write operation that reported only
// CapacityUnits.
func asWrite(before, after Units) Units {
	d := after.Read - before.Read
	return Units{Read: before.Read, Write: after.Write + d}
}

func deref(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// CheckAsk is an API option for tests: it calls seen with each call's operation name and whether the
// call, as it is about to be serialized (after every Initialize middleware, Ask's included), asks for
// ReturnConsumedCapacity=TOTAL. Calls that cannot ask (DescribeTable) are not reported. Put it in an
// aws.Config's APIOptions to check every client made from that configuration.
func CheckAsk(seen func(op string, asks bool)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Serialize.Add(middleware.SerializeMiddlewareFunc("capmeter.CheckAsk",
			func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
				if has, asks := AsksConsumedCapacity(in.Parameters); has {
					seen(middleware.GetOperationName(ctx), asks)
				}
				return next.HandleSerialize(ctx, in)
			}), middleware.Before)
	}
}
