package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Inbound states.
const (
	// InboundProcessing: an attempt is under way, or one failed and the mail will be tried again.
	InboundProcessing = "processing"
	// InboundDone: the mail was handled (acted on, answered or ignored); a redelivery does nothing.
	InboundDone = "done"
	// InboundFailed: every attempt failed; the raw mail is kept (until the bucket's expiry) and the
	// privacy officer was told.
	InboundFailed = "failed"
)

// Inbound is the journal entry of one mail received at info@: what became of it. It names the mail
// only by the SHA-256 of its SES message id and holds no address and no content.
type Inbound struct {
	Mail  string `dynamodbav:"mail"` // hex SHA-256 of the SES message id
	State string `dynamodbav:"state"`
	// Kind is what the mail asked for (inmail.Kind, or "reply"); Outcome what was done, as a stable
	// name ("request_created", "verification_sent", "ignored_automatic", …).
	Kind    string `dynamodbav:"kind,omitempty"`
	Outcome string `dynamodbav:"outcome,omitempty"`
	// Requests are the requests the mail made or acted on.
	Requests []string `dynamodbav:"requests,omitempty"`
	// Replied is the SES message id of the answer sent to a mail that made no request (a request's
	// own mails are recorded on it), so a retry does not answer twice.
	Replied  string `dynamodbav:"replied,omitempty"`
	Attempts int    `dynamodbav:"attempts"`
	// LeaseUntil: an attempt is under way until then; a duplicate delivery arriving meanwhile waits
	// rather than acting twice. A crashed attempt's lease simply runs out.
	LeaseUntil time.Time `dynamodbav:"leaseUntil,omitempty"`
	// Error is the name of the last failure, never its message (which could quote the mail).
	Error      string    `dynamodbav:"error,omitempty"`
	ReceivedAt time.Time `dynamodbav:"receivedAt"`
	UpdatedAt  time.Time `dynamodbav:"updatedAt"`
	Version    int64     `dynamodbav:"version"`
}

func (Inbound) Category() string             { return datamap.InboundMail }
func (i Inbound) KeyVars() map[string]string { return map[string]string{"mail": i.Mail} }
func (i Inbound) RetentionAnchor() time.Time { return i.ReceivedAt }

// InboundKey is the journal's name for an SES message id.
func InboundKey(messageID string) string {
	return hashHex(messageID)
}

func inboundKey(mail string) (map[string]types.AttributeValue, bool) {
	return recordKey(datamap.InboundMail, map[string]string{"mail": mail})
}

// Inbound reads the journal entry of an SES message id; ErrNotFound if the mail was never seen.
func (l *Ledger) Inbound(ctx context.Context, messageID string) (Inbound, error) {
	k, ok := inboundKey(InboundKey(messageID))
	if !ok {
		return Inbound{}, ErrNotFound
	}
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &l.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Inbound{}, fmt.Errorf("get inbound mail: %w", err)
	}
	if out.Item == nil {
		return Inbound{}, ErrNotFound
	}
	return platform.Decode[Inbound](out.Item)
}

// UpdateInbound applies change to the journal entry of an SES message id (a new entry, received at
// receivedAt, if there is none) and writes it only if nobody else wrote it in between; a lost race
// re-reads and asks change again. change returns an error to write nothing.
func (l *Ledger) UpdateInbound(ctx context.Context, messageID string, receivedAt time.Time, change func(*Inbound) error) (Inbound, error) {
	for attempt := 0; ; attempt++ {
		cur, err := l.Inbound(ctx, messageID)
		fresh := errors.Is(err, ErrNotFound)
		if err != nil && !fresh {
			return Inbound{}, err
		}
		if fresh {
			cur = Inbound{Mail: InboundKey(messageID), State: InboundProcessing, ReceivedAt: receivedAt.UTC()}
			if cur.ReceivedAt.IsZero() {
				cur.ReceivedAt = l.now().UTC()
			}
		}
		prev := cur.Version
		if err := change(&cur); err != nil {
			return Inbound{}, err
		}
		cur.Version, cur.UpdatedAt = prev+1, l.now().UTC()
		item, err := platform.Encode(cur, l.policy)
		if err != nil {
			return Inbound{}, err
		}
		in := &dynamodb.PutItemInput{TableName: &l.table, Item: item}
		if fresh {
			in.ConditionExpression = aws.String("attribute_not_exists(pk)")
		} else {
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(prev, 10)}}
		}
		_, err = l.db.PutItem(ctx, in)
		var cf *types.ConditionalCheckFailedException
		if errors.As(err, &cf) {
			if attempt >= 20 {
				return Inbound{}, fmt.Errorf("update inbound mail: %w", ErrConflict)
			}
			continue
		}
		if err != nil {
			return Inbound{}, fmt.Errorf("update inbound mail: %w", err)
		}
		return cur, nil
	}
}
