package localttl_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localttl"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// The TTL removals reach the stream function through the platform table's stream.
func TestMain(m *testing.M) {
	testenv.Streams = true
	os.Exit(testenv.Main(m))
}

// The emulator removes what is past its TTL on the virtual clock and nothing else; the poller hands
// the function only those removals (the template's filter: the platform's own deletions and writes
// do not pass), marked as DynamoDB marks its TTL's; a record the function reports failed is handed
// over again by the next poll, as Lambda retries it, and one it settled is not.
func TestEmulatedTTLReachesTheStreamFunction(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	table := env.Tables[datamap.PlatformTable]
	put := func(pk string, expires time.Time) {
		_, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: "X"},
			"expiresAt": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("expired-1", now.Add(-time.Hour))
	put("expired-2", now.Add(-time.Minute))
	put("live", now.Add(time.Hour))
	put("deleted-by-the-platform", now.Add(-time.Hour))
	if _, err := env.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "deleted-by-the-platform"}, "sk": &types.AttributeValueMemberS{Value: "X"}}}); err != nil {
		t.Fatal(err)
	}

	var got []string
	failOnce := map[string]bool{"expired-2": true}
	handler := func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		for _, r := range ev.Records {
			pk := r.Change.OldImage["pk"].String()
			if r.UserIdentity == nil || r.UserIdentity.PrincipalID != "dynamodb.amazonaws.com" || !r.Change.ApproximateCreationDateTime.Equal(now) {
				t.Errorf("record of %s: identity %+v, at %v", pk, r.UserIdentity, r.Change.ApproximateCreationDateTime)
			}
			if failOnce[pk] {
				failOnce[pk] = false
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.DynamoDBBatchItemFailure{ItemIdentifier: r.Change.SequenceNumber})
				continue
			}
			got = append(got, pk)
		}
		return resp, nil
	}
	l, err := localttl.New(env.DynamoDB, tmpl, env.Tables, "RetentionStreamFunction", handler, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	removed, err := l.Run(ctx)
	if removed != 2 || err == nil {
		t.Fatalf("first run: %d removed, err %v (want 2 and the reported failure)", removed, err)
	}
	if _, err := l.Poller.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Poller.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "expired-1" || got[1] != "expired-2" {
		t.Errorf("the function settled %v, want expired-1 then expired-2, once each", got)
	}
	out, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "live"}, "sk": &types.AttributeValueMemberS{Value: "X"}}})
	if err != nil || out.Item == nil {
		t.Errorf("the item not yet expired went (%v)", err)
	}
}
