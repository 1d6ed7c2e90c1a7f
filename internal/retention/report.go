package retention

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The monthly report (issue 8): every finished run adds its counts to its month's tally
// (datamap.RetentionTally) and leaves there the oldest personal item per category it saw; the
// first run that finishes in a month mails the privacy officer the month before's tally, once.

// Mailer sends the monthly report; *mailer.Mailer satisfies it.
type Mailer interface {
	Send(ctx context.Context, m mailer.Mail) (string, error)
}

// monthLayout names a month in the tally's key and in Result.Reported.
const monthLayout = "2006-01"

// reportLease is how long a claim to send a month's report holds; an invocation that dies after
// claiming leaves the report to a run after it.
const reportLease = 15 * time.Minute

// ReportID is the reference a month's report states ("retention-2026-11").
func ReportID(month string) string { return "retention-" + month }

// monthOf is the calendar month of t in Moscow time, the time every mail states.
func monthOf(t time.Time) string { return t.In(mailer.Moscow).Format(monthLayout) }

// previousMonth is the month before m ("2006-01").
func previousMonth(m string) string {
	t, err := time.ParseInLocation(monthLayout, m, mailer.Moscow)
	if err != nil {
		return ""
	}
	return t.AddDate(0, -1, 0).Format(monthLayout)
}

// tallyItem is one month's tally.
type tallyItem struct {
	Sweep string `dynamodbav:"sweep"`
	Month string `dynamodbav:"month"`
	// Runs are the ids of the runs counted: a run recorded twice (its first recording failed
	// after the tally) is counted once.
	Runs []string `dynamodbav:"runs"`
	// State is the month's CategoryReports as JSON: counts summed over the runs, Oldest as the
	// last run saw it.
	State     string    `dynamodbav:"state"`
	LastRunAt time.Time `dynamodbav:"lastRunAt"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
	Version   int64     `dynamodbav:"version"`
	// ReportClaim (Unix seconds, wall clock) is when an invocation claimed sending the report;
	// ReportedAt is when it was sent.
	ReportClaim int64      `dynamodbav:"reportClaim,omitempty"`
	ReportedAt  *time.Time `dynamodbav:"reportedAt,omitempty"`
}

func (tallyItem) Category() string { return datamap.RetentionTally }
func (t tallyItem) KeyVars() map[string]string {
	return map[string]string{"sweep": checkpointName, "month": t.Month}
}
func (t tallyItem) RetentionAnchor() time.Time { return t.UpdatedAt }

func tallyKey(month string) map[string]types.AttributeValue {
	return mustKey(tallyItem{Month: month}).Attributes()
}

func (s *Sweep) loadTally(ctx context.Context, month string) (*tallyItem, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]),
		Key: tallyKey(month), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("retention sweep: read the tally of %s: %w", month, err)
	}
	if out.Item == nil {
		return nil, nil
	}
	t, err := platform.Decode[tallyItem](out.Item)
	if err != nil {
		return nil, fmt.Errorf("retention sweep: read the tally of %s: %w", month, err)
	}
	return &t, nil
}

// tally adds a finished run to the tally of the month it finished in (optimistically: a
// conditional put on the version read).
func (s *Sweep) tally(ctx context.Context, cp *Checkpoint, now time.Time) error {
	month := monthOf(now)
	for range 10 {
		cur, err := s.loadTally(ctx, month)
		if err != nil {
			return err
		}
		next := tallyItem{Sweep: checkpointName, Month: month}
		cats := map[string]*CategoryReport{}
		cond := "attribute_not_exists(#pk)"
		vals := map[string]types.AttributeValue{}
		if cur != nil {
			for _, id := range cur.Runs {
				if id == cp.RunID {
					return nil
				}
			}
			next = *cur
			if err := json.Unmarshal([]byte(cur.State), &cats); err != nil {
				return fmt.Errorf("retention sweep: the tally of %s: %w", month, err)
			}
			cond = "#version = :v"
			vals[":v"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(cur.Version, 10)}
		}
		for _, c := range cats {
			c.Oldest = nil // the oldest items are as the latest run saw them
		}
		for name, c := range cp.Categories {
			m := cats[name]
			if m == nil {
				m = &CategoryReport{}
				cats[name] = m
			}
			m.add(c)
		}
		state, err := json.Marshal(cats)
		if err != nil {
			return err
		}
		next.Runs = append(next.Runs, cp.RunID)
		next.State, next.LastRunAt, next.UpdatedAt, next.Version = string(state), now, now, next.Version+1
		item, err := platform.Encode(next, s.Policy)
		if err != nil {
			return err
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: item,
			ConditionExpression:      aws.String(cond),
			ExpressionAttributeNames: map[string]string{"#pk": platform.AttrPK},
		}
		if cur != nil {
			in.ExpressionAttributeNames = map[string]string{"#version": "version"}
			in.ExpressionAttributeValues = vals
		}
		_, err = s.DB.PutItem(ctx, in)
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			continue // another writer in between: read again
		}
		if err != nil {
			return fmt.Errorf("retention sweep: store the tally of %s: %w", month, err)
		}
		return nil
	}
	return fmt.Errorf("retention sweep: the tally of %s kept changing", month)
}

// monthlyReport mails the privacy officer the tally of the month before the current one, if it
// exists and has not been sent; it returns the month it sent. A claim (conditional, with a lease)
// keeps two invocations from both sending; a send that fails gives the claim back, and the next
// finished run tries again.
func (s *Sweep) monthlyReport(ctx context.Context) (string, error) {
	month := previousMonth(monthOf(s.now()))
	t, err := s.loadTally(ctx, month)
	if err != nil || t == nil || t.ReportedAt != nil {
		return "", err
	}
	if s.Mail == nil || s.PrivacyOfficer == "" {
		s.log().Warn("retention sweep: no mailer or privacy officer address; the monthly report is not sent", "month", month)
		return "", nil
	}
	wall := time.Now()
	names := map[string]string{"#pk": platform.AttrPK, "#claim": "reportClaim", "#sent": "reportedAt"}
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: tallyKey(month),
		UpdateExpression:         aws.String("SET #claim = :claim"),
		ConditionExpression:      aws.String("attribute_exists(#pk) AND attribute_not_exists(#sent) AND (attribute_not_exists(#claim) OR #claim < :stale)"),
		ExpressionAttributeNames: names,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":claim": &types.AttributeValueMemberN{Value: strconv.FormatInt(wall.Unix(), 10)},
			":stale": &types.AttributeValueMemberN{Value: strconv.FormatInt(wall.Add(-reportLease).Unix(), 10)},
		}})
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		return "", nil // sent, or being sent
	}
	if err != nil {
		return "", fmt.Errorf("retention sweep: claim the report of %s: %w", month, err)
	}
	summary, err := t.summary()
	if err == nil {
		_, err = s.Mail.Send(ctx, mailer.Mail{Template: mailer.RetentionReport, Locale: "ru", To: []string{s.PrivacyOfficer},
			Data: mailer.Data{RequestID: ReportID(month), Retention: summary}})
	}
	if err != nil {
		_, uerr := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: tallyKey(month),
			UpdateExpression: aws.String("REMOVE #claim"), ExpressionAttributeNames: map[string]string{"#claim": "reportClaim"}})
		return "", errors.Join(fmt.Errorf("retention sweep: the report of %s: %w", month, err), uerr)
	}
	sent := s.now()
	_, err = s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Key: tallyKey(month),
		UpdateExpression:         aws.String("SET #sent = :sent REMOVE #claim"),
		ExpressionAttributeNames: map[string]string{"#sent": "reportedAt", "#claim": "reportClaim"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":sent": &types.AttributeValueMemberS{Value: sent.Format(time.RFC3339Nano)}}})
	if err != nil {
		// Sent but not marked: the claim holds for reportLease, then a later run sends it again.
		return month, fmt.Errorf("retention sweep: mark the report of %s sent: %w", month, err)
	}
	s.log().Info("retention sweep: monthly report sent to the privacy officer", "month", month, "runs", len(t.Runs))
	return month, nil
}

// summary is the tally as the mailer states it.
func (t *tallyItem) summary() (*mailer.RetentionSummary, error) {
	var cats map[string]*CategoryReport
	if err := json.Unmarshal([]byte(t.State), &cats); err != nil {
		return nil, fmt.Errorf("the tally of %s: %w", t.Month, err)
	}
	month, err := time.ParseInLocation(monthLayout, t.Month, mailer.Moscow)
	if err != nil {
		return nil, fmt.Errorf("the tally's month %q: %w", t.Month, err)
	}
	out := &mailer.RetentionSummary{Month: month, Runs: len(t.Runs), AsOf: t.LastRunAt, Categories: map[string]mailer.RetentionCounts{}}
	for name, c := range cats {
		out.Categories[name] = mailer.RetentionCounts{Deleted: c.Deleted, Objects: c.Objects, Repaired: c.Repaired,
			Unrepairable: c.Unrepairable, Oldest: c.Oldest}
	}
	return out, nil
}

// MonthlyReport reads the tally of month ("2006-01", Moscow time) as the monthly report states it:
// nil when no run of the sweep finished in that month.
func MonthlyReport(ctx context.Context, store *platform.Store, month string) (*mailer.RetentionSummary, error) {
	t, err := platform.Get(ctx, store, tallyItem{Month: month})
	if errors.Is(err, platform.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the retention tally of %s: %w", month, err)
	}
	return t.summary()
}
