package retention

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// What DynamoDB's TTL removes by itself is observed on the platform table's stream
// (functions/retention-stream, filtered in template.yaml to the TTL's removals): each removal has its
// S3 files deleted and is journaled into the day's retention act (one ledger request per day, the
// same journal parts and act the sweep draws up), so a destruction the service did not make itself
// still has its Order 179 evidence. A removal of an item an active legal hold covers is undone: the
// item is put back from its old image, without TTL, and nothing is destroyed or journaled.

// TTLPrincipal is the principal DynamoDB's stream records name for the removals its TTL makes
// (userIdentity {type Service, principalId dynamodb.amazonaws.com}).
const (
	TTLIdentityType = "Service"
	TTLPrincipal    = "dynamodb.amazonaws.com"
)

// ttlDaysPK is the partition of the per-day counts of TTL removals; ttlDayPrefix starts each day's
// sort key. Items there name no category: the sweep passes them, their own TTL removes them.
const (
	ttlDaysPK    = "RETENTION#TTL"
	ttlDayPrefix = "DAY#"
)

// Removal is one item DynamoDB's TTL removed, as its stream record tells it.
type Removal struct {
	// ID identifies the stream record (its eventID): a record delivered twice is journaled once.
	ID string
	// At is when the record was written (the day whose act it joins).
	At time.Time
	// Old is the item as it was before the removal (the stream's OldImage).
	Old map[string]types.AttributeValue
}

// IsTTLRemoval reports whether a stream record is a removal made by DynamoDB's TTL.
func IsTTLRemoval(rec events.DynamoDBEventRecord) bool {
	return rec.EventName == "REMOVE" && rec.UserIdentity != nil &&
		rec.UserIdentity.Type == TTLIdentityType && rec.UserIdentity.PrincipalID == TTLPrincipal
}

// HandleStream is the Lambda handler of the platform table's stream. Each TTL removal is settled in
// order; the first that fails is reported (with every later one) as a batch item failure, so Lambda
// delivers it again (the ones before it are done, and a second delivery of one is journaled once).
func (s *Sweep) HandleStream(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var resp events.DynamoDBEventResponse
	ctx, _ = capmeter.WithCounter(ctx)
	settled := 0
	defer func() {
		// One line per batch: counts and the capacity DynamoDB reported, never an item.
		rcu, wcu := consumed(ctx)
		s.log().Info("retention stream", "records", len(ev.Records), "settled", settled,
			"failed", len(resp.BatchItemFailures), "consumedRCU", rcu, "consumedWCU", wcu)
		obs.Emit(map[string]string{"Function": "RetentionStream"},
			obs.Metric{Name: "ConsumedReadCapacity", Unit: obs.Count, Value: rcu},
			obs.Metric{Name: "ConsumedWriteCapacity", Unit: obs.Count, Value: wcu})
	}()
	// One view of the holds for the batch: its records share few accounts.
	holds := &holdView{s: s}
	for i, rec := range ev.Records {
		if !IsTTLRemoval(rec) {
			continue // the event source mapping filters them out; a record that slips through is not ours
		}
		old, err := FromStreamImage(rec.Change.OldImage)
		if err == nil {
			err = s.observe(ctx, holds, Removal{ID: rec.EventID, At: rec.Change.ApproximateCreationDateTime.UTC(), Old: old})
		}
		if err != nil {
			s.log().Error("retention stream: a TTL removal could not be settled; delivered again", "err", err)
			for _, r := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
			}
			return resp, nil
		}
		settled++
	}
	return resp, nil
}

// Observe settles one TTL removal: a held item is put back; otherwise its files are deleted and the
// removal journaled in the act of its day.
func (s *Sweep) Observe(ctx context.Context, r Removal) error {
	return s.observe(ctx, &holdView{s: s}, r)
}

// observe is Observe judging holds by a view that the records of one batch share. The holds epoch is
// read for each record, so a hold placed during the batch is seen by the records after it.
func (s *Sweep) observe(ctx context.Context, holds *holdView, r Removal) error {
	if r.ID == "" || len(r.Old) == 0 {
		return errors.New("retention stream: a removal without its id or old image")
	}
	if r.At.IsZero() {
		r.At = s.now()
	}
	cat, _ := r.Old[platform.AttrCategory].(*types.AttributeValueMemberS)
	var c datamap.Category
	if cat != nil {
		c, _ = datamap.Lookup(cat.Value)
	}
	epoch, err := holds.refresh(ctx)
	if err != nil {
		return err
	}
	held, err := holds.coversItem(ctx, epoch, r.Old)
	if err != nil {
		return fmt.Errorf("retention: read the holds of an account: %w", err)
	}
	if held {
		if err := s.restore(ctx, r.Old); err != nil {
			return fmt.Errorf("retention stream: %w", err)
		}
		s.log().Info("retention stream: a TTL removal of held data was undone")
		return nil
	}
	var objects int64
	if keys := ObjectKeys(r.Old); len(keys) > 0 {
		if objects, err = s.deleteObjects(ctx, c, keys); err != nil {
			return fmt.Errorf("retention stream: delete the files of a removed %s: %w", c.Name, err)
		}
	}
	if !c.Personal {
		return nil // nothing personal went: no destruction to journal
	}
	return s.journalRemoval(ctx, r, c.Name, objects)
}

// restore puts a held item of the platform table back as it was, without its TTL (the hold keeps
// it), unless something was written under its key since: a removal DynamoDB's TTL made (stream) or
// a sweep's deletion judged before the hold (fast.go).
func (s *Sweep) restore(ctx context.Context, old map[string]types.AttributeValue) error {
	item := maps.Clone(old)
	delete(item, platform.AttrExpiresAt)
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Tables[datamap.PlatformTable]), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK}})
	var cf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cf) {
		return fmt.Errorf("put back a held item: %w", err)
	}
	return nil
}

// transactor is the optional part of the DB the stream consumer's journal needs; *dynamodb.Client
// has it.
type transactor interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// codeConditionFailed is a cancellation reason's code for a condition that did not hold.
const codeConditionFailed = "ConditionalCheckFailed"

// TTLRunID is the id of the ledger request that records the TTL removals of one day.
func TTLRunID(day time.Time) string { return evidence.TTLDayID(day) }

// journalRemoval records one removal under its day, once: its journal part (the subject, keyed by
// the stream record) and the day's counts go in one transaction conditional on the part being new.
func (s *Sweep) journalRemoval(ctx context.Context, r Removal, category string, objects int64) error {
	tx, ok := s.DB.(transactor)
	if !ok {
		return errors.New("retention stream: the DynamoDB client cannot write transactions")
	}
	day := r.At.UTC().Truncate(24 * time.Hour)
	subjects := []evidence.Subject{}
	if sub, ok := subjectOf(r.Old); ok {
		subjects = append(subjects, sub)
	}
	part, err := platform.Encode(evidence.RemovalPart(r.ID, category, objects, subjects, r.At), s.Policy)
	if err != nil {
		return err
	}
	ledgerTable := aws.String(s.Tables[datamap.LedgerTable])
	counts := s.countRemoval(day, category, objects, platform.AttrString(r.Old[AttrReleasedHold]))
	_, err = tx.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: ledgerTable, Item: part, ConditionExpression: aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK}}},
		{Update: counts},
	}})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) && len(tc.CancellationReasons) > 0 && aws.ToString(tc.CancellationReasons[0].Code) == codeConditionFailed {
		return nil // delivered before: journaled once
	}
	if err != nil {
		return fmt.Errorf("retention stream: journal a removal: %w", err)
	}
	return nil
}

// countRemoval is the update that counts one removal of a category in its day's counts, with the
// files deleted with it and the released legal hold that had kept it ("" for none).
func (s *Sweep) countRemoval(day time.Time, category string, objects int64, releasedHold string) *types.Update {
	// The day's counts expire with the evidence they count.
	expires, _ := datamap.Limit(evidenceRule.Kind, day)
	counts := &types.Update{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: ttlDayKey(day),
		UpdateExpression:         aws.String("ADD #v :one, #d :one, #o :objects SET #exp = if_not_exists(#exp, :exp)"),
		ExpressionAttributeNames: map[string]string{"#v": "version", "#d": "deleted_" + category, "#o": "objects_" + category, "#exp": platform.AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"},
			":objects": &types.AttributeValueMemberN{Value: strconv.FormatInt(objects, 10)},
			":exp":     &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}}}
	if releasedHold != "" {
		// Kept under a legal hold until its release: the day's act names the hold.
		counts.UpdateExpression = aws.String("ADD #v :one, #d :one, #o :objects, #h :h SET #exp = if_not_exists(#exp, :exp)")
		counts.ExpressionAttributeNames["#h"] = "holds"
		counts.ExpressionAttributeValues[":h"] = &types.AttributeValueMemberSS{Value: []string{releasedHold}}
	}
	return counts
}

// evidenceRule is how long an act is kept (the data map's evidence rule).
var evidenceRule = func() datamap.Retention {
	c, _ := datamap.Lookup(datamap.Evidence)
	return c.Retention
}()

func ttlDayKey(day time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: ttlDaysPK},
		platform.AttrSK: &types.AttributeValueMemberS{Value: ttlDayPrefix + day.UTC().Format(time.DateOnly)},
	}
}

// ttlDay is one day's counts of TTL removals, and the version its act was last drawn at.
type ttlDay struct {
	day        time.Time
	version    int64
	drawn      int64
	categories map[string]*CategoryReport
	holds      []string // released legal holds whose data the day's removals destroyed
}

// DrawTTLActs draws up (again) the act of every day whose TTL removals changed since its act was
// drawn: the act names every subject journaled that day and counts each category destroyed, and a
// completed ledger request of the day refers to it. The sweep calls it on every invocation.
func (s *Sweep) DrawTTLActs(ctx context.Context) error {
	days, err := s.ttlDays(ctx)
	if err != nil {
		return err
	}
	for _, d := range days {
		if d.drawn >= d.version {
			continue
		}
		if err := s.drawTTLAct(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sweep) ttlDays(ctx context.Context) ([]ttlDay, error) {
	var out []ttlDay
	in := &dynamodb.QueryInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": platform.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: ttlDaysPK}}}
	for {
		page, err := s.DB.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("retention: read the days of TTL removals: %w", err)
		}
		for _, it := range page.Items {
			d, err := ttlDayOf(it)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// ttlDayOf reads one day's counts of TTL removals from its item.
func ttlDayOf(it map[string]types.AttributeValue) (ttlDay, error) {
	d := ttlDay{categories: map[string]*CategoryReport{}}
	date, _ := strings.CutPrefix(platform.AttrString(it[platform.AttrSK]), ttlDayPrefix)
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return ttlDay{}, fmt.Errorf("retention: a day of TTL removals: %w", err)
	}
	d.day = day
	d.version, _ = numAttr(it, "version")
	if hs, ok := it["holds"].(*types.AttributeValueMemberSS); ok {
		d.holds = slices.Sorted(slices.Values(hs.Value))
	}
	d.drawn, _ = numAttr(it, "drawn")
	for name := range it {
		n, _ := numAttr(it, name)
		if cat, ok := strings.CutPrefix(name, "deleted_"); ok {
			d.report(cat).Deleted += n
		} else if cat, ok := strings.CutPrefix(name, "objects_"); ok {
			d.report(cat).Objects += n
		}
	}
	return d, nil
}

func (d *ttlDay) report(cat string) *CategoryReport {
	c := d.categories[cat]
	if c == nil {
		c = &CategoryReport{}
		d.categories[cat] = c
	}
	return c
}

// drawTTLAct writes a day's act and its ledger request, then notes the version drawn.
func (s *Sweep) drawTTLAct(ctx context.Context, d ttlDay) error {
	runID := TTLRunID(d.day)
	// The day began before the act is drawn, unless a record's clock ran ahead of ours.
	cp := &Checkpoint{RunID: runID, StartedAt: minTime(d.day, s.now()), Categories: d.categories, ReleasedHolds: d.holds}
	stored, err := s.drawUpAct(ctx, cp, "DynamoDB TTL (expiresAt of the data map's retention rules), observed by the Lethe retention stream, request "+runID)
	if err != nil {
		return err
	}
	if err := s.recordTTLDay(ctx, runID, d.day, progressOf(d.categories), stored); err != nil {
		return err
	}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: ttlDayKey(d.day),
		UpdateExpression:          aws.String("SET #drawn = :v"),
		ConditionExpression:       aws.String("attribute_not_exists(#drawn) OR #drawn < :v"),
		ExpressionAttributeNames:  map[string]string{"#drawn": "drawn"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(d.version, 10)}}})
	var cf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cf) {
		return fmt.Errorf("retention: note the act of %s drawn: %w", runID, err)
	}
	return nil
}

// recordTTLDay writes (or brings up to date) the completed ledger request of a day of TTL removals.
func (s *Sweep) recordTTLDay(ctx context.Context, runID string, day time.Time, progress map[string]int64, withAct bool) error {
	note := "DynamoDB TTL removed personal data past its retention rule (13 months); observed on the platform table's stream"
	var acts []string
	if withAct {
		acts = []string{runID}
	}
	now := s.now()
	_, err := s.Ledger.Create(ctx, request.Request{ID: runID, AccountID: "-", Kind: KindRetentionExpiry, Source: Source,
		Status: request.StatusCompleted, Progress: progress, ClosedAt: &now, Evidence: acts,
		History: []request.Event{{At: day, Status: request.StatusHardDeleting, Actor: Source, Note: note},
			{At: now, Status: request.StatusCompleted, Actor: "system", Note: note}}})
	if errors.Is(err, ledger.ErrExists) {
		_, err = s.Ledger.Update(ctx, runID, func(r *request.Request) error {
			r.Progress = progress
			if withAct {
				r.Evidence = acts
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("retention: record the TTL removals of %s: %w", runID, err)
	}
	return nil
}

// FromStreamImage converts an item image of a Lambda stream event into the SDK's attribute values.
func FromStreamImage(img map[string]events.DynamoDBAttributeValue) (map[string]types.AttributeValue, error) {
	out := make(map[string]types.AttributeValue, len(img))
	for k, v := range img {
		av, err := fromStreamValue(v)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

func fromStreamValue(v events.DynamoDBAttributeValue) (types.AttributeValue, error) {
	switch v.DataType() {
	case events.DataTypeString:
		return &types.AttributeValueMemberS{Value: v.String()}, nil
	case events.DataTypeNumber:
		return &types.AttributeValueMemberN{Value: v.Number()}, nil
	case events.DataTypeBinary:
		return &types.AttributeValueMemberB{Value: v.Binary()}, nil
	case events.DataTypeBoolean:
		return &types.AttributeValueMemberBOOL{Value: v.Boolean()}, nil
	case events.DataTypeNull:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case events.DataTypeStringSet:
		return &types.AttributeValueMemberSS{Value: v.StringSet()}, nil
	case events.DataTypeNumberSet:
		return &types.AttributeValueMemberNS{Value: v.NumberSet()}, nil
	case events.DataTypeBinarySet:
		return &types.AttributeValueMemberBS{Value: v.BinarySet()}, nil
	case events.DataTypeList:
		var l []types.AttributeValue
		for _, e := range v.List() {
			av, err := fromStreamValue(e)
			if err != nil {
				return nil, err
			}
			l = append(l, av)
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case events.DataTypeMap:
		m, err := FromStreamImage(v.Map())
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, fmt.Errorf("unknown attribute type %d", v.DataType())
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
