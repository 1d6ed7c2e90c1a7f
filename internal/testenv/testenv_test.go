package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// The contract tests below run against the real emulators: DynamoDB Local, gofakes3 through the
// real S3 client, and aws-ses-v2-local.

func TestEveryTemplateTableWorksThroughItsIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := New(t)
	specs := tableSpecs(t, env)
	if len(specs) != len(env.Tables) || len(specs) == 0 {
		t.Fatalf("env has tables %v, template %d", env.Tables, len(specs))
	}
	for _, spec := range specs {
		t.Run(spec.LogicalID, func(t *testing.T) {
			name := env.Tables[spec.LogicalID]
			if name != aws.ToString(spec.Input.TableName) || !strings.HasPrefix(name, env.StackName+"-") {
				t.Fatalf("table name %q, want %q under stack %s", name, aws.ToString(spec.Input.TableName), env.StackName)
			}
			types := map[string]ddbtypes.ScalarAttributeType{}
			for _, d := range spec.Input.AttributeDefinitions {
				types[aws.ToString(d.AttributeName)] = d.AttributeType
			}
			// One item carrying every key attribute of the table and of each index.
			item := map[string]ddbtypes.AttributeValue{"payload": &ddbtypes.AttributeValueMemberS{Value: "hello"}}
			for attr, typ := range types {
				item[attr] = value(typ, attr+"-1")
			}
			if spec.TTLAttribute != "" {
				item[spec.TTLAttribute] = &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(time.Now().Add(time.Hour).Unix())}
			}
			if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &name, Item: item}); err != nil {
				t.Fatal(err)
			}

			key := map[string]ddbtypes.AttributeValue{}
			for _, k := range spec.Input.KeySchema {
				key[aws.ToString(k.AttributeName)] = item[aws.ToString(k.AttributeName)]
			}
			got, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, Key: key, ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if p, ok := got.Item["payload"].(*ddbtypes.AttributeValueMemberS); !ok || p.Value != "hello" {
				t.Fatalf("GetItem = %v, want the item put", got.Item)
			}

			query(t, env, name, "", spec.Input.KeySchema, item)
			for _, gsi := range spec.Input.GlobalSecondaryIndexes {
				query(t, env, name, aws.ToString(gsi.IndexName), gsi.KeySchema, item)
			}
			for _, lsi := range spec.Input.LocalSecondaryIndexes {
				query(t, env, name, aws.ToString(lsi.IndexName), lsi.KeySchema, item)
			}

			ttl, err := env.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
			if err != nil {
				t.Fatal(err)
			}
			d := ttl.TimeToLiveDescription
			enabled := d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled
			if spec.TTLAttribute == "" && enabled {
				t.Errorf("TTL enabled on %s, the template declares none", aws.ToString(d.AttributeName))
			}
			if spec.TTLAttribute != "" && (!enabled || aws.ToString(d.AttributeName) != spec.TTLAttribute) {
				t.Errorf("TTL = %+v, want enabled on %s", d, spec.TTLAttribute)
			}
		})
	}
}

// query finds item through the table or index whose key schema is ks, by hash key and range key.
func query(t *testing.T, env *Env, table, index string, ks []ddbtypes.KeySchemaElement, item map[string]ddbtypes.AttributeValue) {
	t.Helper()
	in := &dynamodb.QueryInput{TableName: &table, ExpressionAttributeNames: map[string]string{}, ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{}}
	if index != "" {
		in.IndexName = &index
	}
	var conds []string
	for i, k := range ks {
		n, v := fmt.Sprintf("#k%d", i), fmt.Sprintf(":k%d", i)
		in.ExpressionAttributeNames[n] = aws.ToString(k.AttributeName)
		in.ExpressionAttributeValues[v] = item[aws.ToString(k.AttributeName)]
		conds = append(conds, n+" = "+v)
	}
	in.KeyConditionExpression = aws.String(strings.Join(conds, " AND "))
	out, err := env.DynamoDB.Query(context.Background(), in)
	if err != nil {
		t.Fatalf("query %s %s: %v", table, index, err)
	}
	if len(out.Items) != 1 {
		t.Errorf("query %s %s found %d items, want 1", table, index, len(out.Items))
	}
}

func value(typ ddbtypes.ScalarAttributeType, s string) ddbtypes.AttributeValue {
	switch typ {
	case ddbtypes.ScalarAttributeTypeN:
		return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(len(s))}
	case ddbtypes.ScalarAttributeTypeB:
		return &ddbtypes.AttributeValueMemberB{Value: []byte(s)}
	}
	return &ddbtypes.AttributeValueMemberS{Value: s}
}

func tableSpecs(t *testing.T, env *Env) []samtemplate.TableSpec {
	t.Helper()
	tmpl, err := loadTemplate()
	if err != nil {
		t.Fatal(err)
	}
	specs, err := tmpl.Tables(env.TemplateEnv)
	if err != nil {
		t.Fatal(err)
	}
	return specs
}

func TestEnvsAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := New(t), New(t)
	if a.StackName == b.StackName || a.StackName != strings.ToLower(a.StackName) {
		t.Fatalf("stack names %q and %q, want distinct and lowercase", a.StackName, b.StackName)
	}
	for id := range a.Tables {
		if a.Tables[id] == b.Tables[id] {
			t.Errorf("both envs use table %s", a.Tables[id])
		}
	}
	bucket := a.Buckets["FilesBucket"]
	if bucket == "" {
		t.Fatalf("no FilesBucket in %v", a.Buckets)
	}
	if _, err := a.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("x"), Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	out, err := b.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Buckets["FilesBucket"])})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("env b sees %d objects of env a", len(out.Contents))
	}
}

func TestCleanupDeletesTablesAndBuckets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var inner *Env
	t.Run("inner", func(t *testing.T) {
		inner = New(t)
		// A versioned bucket with an old version and a delete marker cannot go until they do.
		for _, bucket := range inner.Buckets {
			for _, body := range []string{"v1", "v2"} {
				if _, err := inner.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := inner.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("k")}); err != nil {
				t.Fatal(err)
			}
		}
	})
	st := Stack(t)
	for _, name := range inner.Tables {
		_, err := st.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("table %s after cleanup: err = %v, want ResourceNotFound", name, err)
		}
	}
	for _, name := range inner.Buckets {
		if _, err := st.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name}); err == nil {
			t.Errorf("bucket %s survived cleanup", name)
		}
	}
}

func TestS3PutListDeleteObjects(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := New(t)
	bucket := env.Buckets["FilesBucket"]
	var keys []string
	for i := range 5 {
		key := fmt.Sprintf("accounts/a1/file-%d", i)
		keys = append(keys, key)
		if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader("data " + key)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := env.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("accounts/a2/other"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}

	got, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &keys[0]})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(body) != "data "+keys[0] {
		t.Errorf("GetObject = %q", body)
	}

	listed := list(t, env, bucket, "accounts/a1/")
	if !slices.Equal(listed, keys) {
		t.Fatalf("listed %v, want %v", listed, keys)
	}
	var ids []s3types.ObjectIdentifier
	for _, k := range keys {
		ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(k)})
	}
	del, err := env.S3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Deleted) != len(keys) || len(del.Errors) != 0 {
		t.Errorf("DeleteObjects: %d deleted, %d errors; want %d, 0", len(del.Deleted), len(del.Errors), len(keys))
	}
	if left := list(t, env, bucket, "accounts/a1/"); len(left) != 0 {
		t.Errorf("left after DeleteObjects: %v", left)
	}
	if left := list(t, env, bucket, "accounts/"); !slices.Equal(left, []string{"accounts/a2/other"}) {
		t.Errorf("other prefix: %v", left)
	}
}

func list(t *testing.T, env *Env, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(env.S3, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, MaxKeys: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return keys
}

func TestSentMailShowsWhatSESv2Sent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, other := New(t), New(t)
	out, err := env.SES.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String("Lethe <" + env.Address("noreply") + ">"),
		ReplyToAddresses: []string{env.Address("privacy")},
		Destination:      &sestypes.Destination{ToAddresses: []string{env.Address("alice")}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{
			Subject: &sestypes.Content{Data: aws.String("Your data was deleted")},
			Body: &sestypes.Body{
				Text: &sestypes.Content{Data: aws.String("plain")},
				Html: &sestypes.Content{Data: aws.String("<p>html</p>")},
			},
			Headers: []sestypes.MessageHeader{{Name: aws.String("X-Lethe-Request"), Value: aws.String("r1")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mails := env.SentMail(t)
	if len(mails) != 1 {
		t.Fatalf("SentMail = %d mails, want 1: %+v", len(mails), mails)
	}
	m := mails[0]
	want := Mail{
		MessageID: aws.ToString(out.MessageId),
		From:      "Lethe <" + env.Address("noreply") + ">",
		ReplyTo:   []string{env.Address("privacy")},
		To:        []string{env.Address("alice")},
		Subject:   "Your data was deleted",
		Text:      "plain",
		HTML:      "<p>html</p>",
		Headers:   []Header{{"X-Lethe-Request", "r1"}},
	}
	if m.MessageID != want.MessageID || m.From != want.From || m.Subject != want.Subject || m.Text != want.Text ||
		m.HTML != want.HTML || !slices.Equal(m.To, want.To) || !slices.Equal(m.ReplyTo, want.ReplyTo) ||
		!slices.Equal(m.Headers, want.Headers) || len(m.Cc)+len(m.Bcc) != 0 {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	if time.Since(m.At) > time.Minute {
		t.Errorf("At = %v", m.At)
	}
	if n := len(other.SentMail(t)); n != 0 {
		t.Errorf("another env sees %d of this env's mails", n)
	}
}

// TestSetupTime reports what New costs, the price every DynamoDB test pays.
func TestSetupTime(t *testing.T) {
	Stack(t) // the stack start is paid once per run, not per test
	const n = 5
	var total time.Duration
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			began := time.Now()
			New(t)
			total += time.Since(began)
		})
	}
	t.Logf("New: %v per test on average over %d (create; cleanup not included)", total/n, n)
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New(b)
	}
}
