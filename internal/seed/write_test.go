package seed

import (
	"bytes"
	"context"
	"io"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/password"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Write stores the demo set in DynamoDB Local and S3, and the platform's readers find all of it.
func TestWriteDemoIntoLocalStack(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, func() time.Time { return testNow })
	var progress bytes.Buffer
	m, st, err := Write(ctx, store, env.S3, env.Buckets, demo(1), &progress)
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != m.Records() || st.Objects != m.Objects || st.Records == 0 || st.Objects == 0 {
		t.Fatalf("stats %+v, manifest counts %d records and %d objects", st, m.Records(), m.Objects)
	}
	if progress.Len() == 0 {
		t.Error("no progress shown")
	}
	if want := generateAll(t, demo(1)).manifest; !reflect.DeepEqual(m, want) {
		t.Error("Write's manifest differs from Generate's")
	}

	got := map[string]int64{}
	for _, a := range m.Accounts {
		acc, err := store.Account(ctx, a.ID)
		if err != nil || acc.Email != a.Email {
			t.Fatalf("Account %s = %+v, %v", a.ID, acc, err)
		}
		if ok, err := password.Verify(acc.PasswordHash, a.Password); !ok || err != nil {
			t.Errorf("stored password hash does not verify: %v", err)
		}
		got[datamap.AccountProfile]++
		members, err := store.TeamMembers(ctx, a.ID)
		check(t, err)
		got[datamap.TeamMember] += int64(len(members))
		consents, err := store.Consents(ctx, a.ID)
		check(t, err)
		got[datamap.Consent] += int64(len(consents))
		payments, err := store.Payments(ctx, a.ID)
		check(t, err)
		got[datamap.Payment] += int64(len(payments))
		conns, err := store.Connections(ctx, a.ID, "")
		check(t, err)
		got[datamap.ChannelConnection] += int64(len(conns))
		for _, c := range conns {
			check(t, platform.EachOf(ctx, store, datamap.ConnectionKey, map[string]string{"connection": c.ID}, "",
				func(k platform.ConnectionKey) error {
					if c.Keys[k.Kind] != k.Value {
						t.Errorf("connection %s: a key item %s the connection does not have", c.ID, k.Kind)
					}
					got[datamap.ConnectionKey]++
					return nil
				}))
		}
		var q platform.QuerySpec
		for {
			page, err := store.ActivityLogs(ctx, a.ID, time.Time{}, time.Time{}, q)
			check(t, err)
			got[datamap.ActivityLog] += int64(len(page.Items))
			if q.Start = page.Next; q.Start == nil {
				break
			}
		}
		bots, err := store.Bots(ctx, a.ID)
		check(t, err)
		got[datamap.Bot] += int64(len(bots))
		for _, b := range bots {
			countEndUsers(ctx, t, store, b.ID, got)
		}
	}
	for _, c := range []string{datamap.AccountProfile, datamap.TeamMember, datamap.Consent, datamap.Payment,
		datamap.ChannelConnection, datamap.ConnectionKey, datamap.ActivityLog, datamap.Bot, datamap.EndUserProfile, datamap.Conversation,
		datamap.Message, datamap.InboxMessage, datamap.EndUserFile} {
		if got[c] != m.Counts[c] || got[c] == 0 {
			t.Errorf("%s: read back %d, generated %d", c, got[c], m.Counts[c])
		}
	}

	// Analytics counters are in their own table; nothing reads them back but the dashboard.
	out, err := env.DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(env.Tables[datamap.AnalyticsTable]), Select: types.SelectCount})
	check(t, err)
	if int64(out.Count) != m.Counts[datamap.AnalyticsCounter] || out.LastEvaluatedKey != nil {
		t.Errorf("analytics table holds %d counters (more: %v), generated %d", out.Count, out.LastEvaluatedKey != nil, m.Counts[datamap.AnalyticsCounter])
	}

	var objects int64
	p := s3.NewListObjectsV2Paginator(env.S3, &s3.ListObjectsV2Input{Bucket: aws.String(env.Buckets[datamap.FilesBucket])})
	var firstKey string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		check(t, err)
		objects += int64(len(page.Contents))
		if firstKey == "" && len(page.Contents) > 0 {
			firstKey = aws.ToString(page.Contents[0].Key)
		}
	}
	if objects != st.Objects {
		t.Errorf("files bucket holds %d objects, wrote %d", objects, st.Objects)
	}
	obj, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(env.Buckets[datamap.FilesBucket]), Key: aws.String(firstKey)})
	check(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	check(t, err)
	if len(body) == 0 || aws.ToString(obj.ContentType) == "" {
		t.Errorf("object %s: %d bytes, type %q", firstKey, len(body), aws.ToString(obj.ContentType))
	}
}

// countEndUsers reads every end user of a bot back (Privacy index over the last 13 months) with
// their conversations, messages, inbox messages and files.
func countEndUsers(ctx context.Context, t *testing.T, store *platform.Store, botID string, got map[string]int64) {
	t.Helper()
	q := platform.QuerySpec{Limit: 7}
	for {
		page, err := store.EndUsersByFirstConversation(ctx, botID, testNow.AddDate(0, -13, 0), testNow, q)
		check(t, err)
		for _, u := range page.Items {
			got[datamap.EndUserProfile]++
			convs, err := store.Conversations(ctx, u.ID)
			check(t, err)
			got[datamap.Conversation] += int64(len(convs))
			for _, c := range convs {
				msgs, err := store.Messages(ctx, c.ID, platform.QuerySpec{})
				check(t, err)
				if msgs.Next != nil || len(msgs.Items) != c.MessageCount {
					t.Errorf("conversation %s: read %d messages, header says %d", c.ID, len(msgs.Items), c.MessageCount)
				}
				got[datamap.Message] += int64(len(msgs.Items))
			}
			inbox, err := store.InboxMessages(ctx, u.ID)
			check(t, err)
			got[datamap.InboxMessage] += int64(len(inbox))
			files, err := store.EndUserFiles(ctx, u.ID)
			check(t, err)
			got[datamap.EndUserFile] += int64(len(files))
		}
		if q.Start = page.Next; q.Start == nil {
			return
		}
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
