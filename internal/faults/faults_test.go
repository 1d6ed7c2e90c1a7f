package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// checked is the base transport of the tests: it fails the test when a request reaches the emulator
// with a length or a payload checksum that does not match its body, which the emulators themselves
// would not notice (neither checks them).
func checked(t *testing.T) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		if req.Body != nil && req.Body != http.NoBody {
			body, err := io.ReadAll(req.Body)
			req.Body.Close()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = io.NopCloser(bytes.NewReader(body))
			if req.ContentLength != int64(len(body)) {
				t.Errorf("%s %s: Content-Length %d, body %d bytes", req.Method, req.URL, req.ContentLength, len(body))
			}
			want := req.Header.Clone()
			if err := fixChecksums(want, body); err != nil {
				t.Error(err)
			}
			if !reflect.DeepEqual(req.Header, want) {
				t.Errorf("%s %s: checksum headers do not match the body:\n got %v\nwant %v", req.Method, req.URL, req.Header, want)
			}
		}
		return http.DefaultTransport.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// sdkWarnings collects what the SDK logs; it warns, rather than fails, when DynamoDB's X-Amz-Crc32
// does not match the body.
type sdkWarnings struct {
	mu    sync.Mutex
	lines []string
}

func (w *sdkWarnings) Logf(_ logging.Classification, format string, v ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, fmt.Sprintf(format, v...))
}

func (w *sdkWarnings) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		t.Errorf("SDK logged: %s", l)
	}
}

func dynamoDBClient(t *testing.T, env *testenv.Env, p Plan, optFns ...func(*dynamodb.Options)) (*dynamodb.Client, *Transport) {
	tr := NewTransport(checked(t), p)
	warn := &sdkWarnings{}
	t.Cleanup(func() { warn.check(t) })
	optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.Logger = warn }}, optFns...)
	return DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr, optFns...), tr
}

func s3Client(t *testing.T, env *testenv.Env, p Plan) (*s3.Client, *Transport) {
	tr := NewTransport(checked(t), p)
	return S3(env.AWSConfig(), env.S3Endpoint, tr), tr
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: sk},
	}
}

// richItem has an attribute of every type, so that UnprocessedItems must carry each exactly.
func richItem(pk, sk string) map[string]types.AttributeValue {
	it := key(pk, sk)
	it["n"] = &types.AttributeValueMemberN{Value: "-12.500"}
	it["b"] = &types.AttributeValueMemberB{Value: []byte{0, 1, 0xfe, 0xff}}
	it["ok"] = &types.AttributeValueMemberBOOL{Value: true}
	it["none"] = &types.AttributeValueMemberNULL{Value: true}
	it["ss"] = &types.AttributeValueMemberSS{Value: []string{"a<b", "c&d"}}
	it["ns"] = &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}}
	it["bs"] = &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}}
	it["l"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{
		&types.AttributeValueMemberS{Value: "ünïcödé \"quoted\" \u2028"},
		&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"x": &types.AttributeValueMemberN{Value: "1e3"}}},
	}}
	return it
}

func itemID(table string, it map[string]types.AttributeValue) string {
	return table + "/" + it["pk"].(*types.AttributeValueMemberS).Value + "/" + it["sk"].(*types.AttributeValueMemberS).Value
}

func requestID(table string, r types.WriteRequest) string {
	if r.PutRequest != nil {
		return "put " + itemID(table, r.PutRequest.Item)
	}
	return "delete " + itemID(table, r.DeleteRequest.Key)
}

func getItem(t *testing.T, db *dynamodb.Client, table string, k map[string]types.AttributeValue) map[string]types.AttributeValue {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func scanIDs(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	var ids []string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			ids = append(ids, itemID(table, it))
		}
	}
	slices.Sort(ids)
	return ids
}

func statusCode(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestThrottlingDynamoDB(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	// Each seed picks one of DynamoDB's throttling errors; try seeds until each has been seen.
	want := map[string]any{
		"ProvisionedThroughputExceededException": new(*types.ProvisionedThroughputExceededException),
		"ThrottlingException":                    new(*types.ThrottlingException),
		"RequestLimitExceeded":                   new(*types.RequestLimitExceeded),
	}
	seen := map[string]bool{}
	for seed := uint64(1); len(seen) < len(want) && seed < 100; seed++ {
		db, tr := dynamoDBClient(t, env, Plan{Seed: seed, Throttle: 1})
		_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: key("throttled", fmt.Sprint(seed))})
		st := tr.Stats()
		code := st.Log[0].Code
		seen[code] = true
		if err == nil {
			t.Fatalf("seed %d: PutItem succeeded through a throttle", seed)
		}
		target, ok := want[code]
		if !ok {
			t.Fatalf("seed %d: throttled with %q", seed, code)
		}
		if !errors.As(err, target) {
			t.Errorf("seed %d: error %T (%v) is not a %T", seed, err, err, target)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("seed %d: error code of %v, want %s", seed, err, code)
		}
		if got := statusCode(err); got != 400 {
			t.Errorf("seed %d: status %d, want 400", seed, got)
		}
		if got := retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err); got != aws.TrueTernary {
			t.Errorf("seed %d: the SDK does not take %s for throttling", seed, code)
		}
		wantCounts := Counts{Calls: 1, Throttled: 1}
		if st.Counts != wantCounts {
			t.Errorf("seed %d: counts %+v, want %+v (the SDK must not retry)", seed, st.Counts, wantCounts)
		}
	}
	if len(seen) < len(want) {
		t.Errorf("saw only %v", seen)
	}
	if ids := scanIDs(t, env.DynamoDB, table); len(ids) != 0 {
		t.Errorf("throttled writes reached the table: %v", ids)
	}
}

func TestServerErrorDynamoDB(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 7, ServerError: 1})
	_, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		table: {{PutRequest: &types.PutRequest{Item: key("a", "1")}}, {PutRequest: &types.PutRequest{Item: key("a", "2")}}},
	}})
	var ise *types.InternalServerError
	if !errors.As(err, &ise) {
		t.Fatalf("error %T (%v), want *types.InternalServerError", err, err)
	}
	if got := statusCode(err); got != 500 {
		t.Errorf("status %d, want 500", got)
	}
	if got := retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err); got != aws.TrueTernary {
		t.Errorf("the SDK does not take InternalServerError for retryable")
	}
	if got, want := tr.Stats().Counts, (Counts{Calls: 1, ServerErrors: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	if ids := scanIDs(t, env.DynamoDB, table); len(ids) != 0 {
		t.Errorf("failed writes reached the table: %v", ids)
	}
}

func TestUnprocessedItems(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	platform, ledger := env.Tables["PlatformTable"], env.Tables["LedgerTable"]

	// 20 puts and 5 deletes of items that exist, over two tables.
	in := map[string][]types.WriteRequest{}
	for i := range 20 {
		table := []string{platform, ledger}[i%2]
		in[table] = append(in[table], types.WriteRequest{PutRequest: &types.PutRequest{Item: richItem("put", fmt.Sprint(i))}})
	}
	for i := range 5 {
		k := key("del", fmt.Sprint(i))
		if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &ledger, Item: k}); err != nil {
			t.Fatal(err)
		}
		in[ledger] = append(in[ledger], types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
	}
	sent := map[string]types.WriteRequest{}
	tables := map[string]string{}
	for table, reqs := range in {
		for _, r := range reqs {
			sent[requestID(table, r)] = r
			tables[requestID(table, r)] = table
		}
	}

	db, tr := dynamoDBClient(t, env, Plan{Seed: 3, Unprocessed: 1})
	out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: in})
	if err != nil {
		t.Fatal(err)
	}
	withheld := map[string]bool{}
	for table, reqs := range out.UnprocessedItems {
		for _, r := range reqs {
			id := requestID(table, r)
			if withheld[id] {
				t.Errorf("%s unprocessed twice", id)
			}
			withheld[id] = true
			if !reflect.DeepEqual(r, sent[id]) {
				t.Errorf("unprocessed %s differs from the request sent:\n got %#v\nwant %#v", id, r, sent[id])
			}
		}
	}
	st := tr.Stats()
	if len(withheld) == 0 || len(withheld) == len(sent) || st.Withheld != len(withheld) {
		t.Errorf("%d of %d requests unprocessed, stats say %d", len(withheld), len(sent), st.Withheld)
	}
	if want := (Counts{Calls: 1, Forwarded: 1, Unprocessed: 1, Withheld: len(withheld)}); st.Counts != want {
		t.Errorf("counts %+v, want %+v", st.Counts, want)
	}

	// The table holds exactly what was forwarded. DynamoDB normalises numbers ("-12.500" is stored as
	// "-12.5"), so a put is compared with the same item written without faults.
	if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &platform, Item: richItem("ref", "ref")}); err != nil {
		t.Fatal(err)
	}
	ref := getItem(t, env.DynamoDB, platform, key("ref", "ref"))
	for id, r := range sent {
		table := tables[id]
		if r.PutRequest != nil {
			k := key(r.PutRequest.Item["pk"].(*types.AttributeValueMemberS).Value, r.PutRequest.Item["sk"].(*types.AttributeValueMemberS).Value)
			got := getItem(t, env.DynamoDB, table, k)
			want := maps.Clone(ref)
			maps.Copy(want, k)
			switch {
			case withheld[id] && got != nil:
				t.Errorf("%s was unprocessed but is in the table", id)
			case !withheld[id] && !reflect.DeepEqual(got, want):
				t.Errorf("%s was processed but the table holds %#v", id, got)
			}
		} else {
			got := getItem(t, env.DynamoDB, table, r.DeleteRequest.Key)
			if withheld[id] != (got != nil) {
				t.Errorf("%s: unprocessed %v, item still there %v", id, withheld[id], got != nil)
			}
		}
	}

	// Sending the unprocessed items again, without faults, finishes the work.
	tr.Reset(Plan{})
	out, err = db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: out.UnprocessedItems})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("retry: %v, %d tables unprocessed", err, len(out.UnprocessedItems))
	}
	if got := len(scanIDs(t, env.DynamoDB, platform)) + len(scanIDs(t, env.DynamoDB, ledger)); got != 21 {
		t.Errorf("%d items after the retry, want the 20 put and the reference", got)
	}
}

func TestUnprocessedLeavesSingleRequests(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 1, Unprocessed: 1})
	out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		table: {{PutRequest: &types.PutRequest{Item: key("one", "1")}}},
	}})
	if err != nil || len(out.UnprocessedItems) != 0 {
		t.Fatalf("BatchWriteItem of one: %v, unprocessed %v", err, out.UnprocessedItems)
	}
	if got, want := tr.Stats().Counts, (Counts{Calls: 1, Forwarded: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

func putObjects(t *testing.T, env *testenv.Env, bucket string, keys []string) {
	t.Helper()
	for _, k := range keys {
		if _, err := env.S3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &k, Body: strings.NewReader("data of " + k)}); err != nil {
			t.Fatal(err)
		}
	}
}

func exists(t *testing.T, env *testenv.Env, bucket, k string) bool {
	t.Helper()
	_, err := env.S3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &k})
	var nf *s3types.NotFound
	switch {
	case err == nil:
		return true
	case errors.As(err, &nf):
		return false
	}
	t.Fatal(err)
	return false
}

func objectIDs(keys []string) []s3types.ObjectIdentifier {
	ids := make([]s3types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
	}
	return ids
}

func TestPartialDelete(t *testing.T) {
	env := testenv.New(t)
	bucket := env.Buckets["FilesBucket"]
	var keys []string
	for i := range 12 {
		keys = append(keys, fmt.Sprintf("user/%d/fïle & <%d>.txt", i, i))
	}
	putObjects(t, env, bucket, keys)

	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprintf("quiet=%v", quiet), func(t *testing.T) {
			keys := keys[:6]
			if quiet {
				keys = keys[6:12]
			}
			client, tr := s3Client(t, env, Plan{Seed: 11, PartialDelete: 1})
			out, err := client.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
				Bucket: &bucket,
				Delete: &s3types.Delete{Objects: objectIDs(keys), Quiet: aws.Bool(quiet)},
			})
			if err != nil {
				t.Fatal(err)
			}
			failed := map[string]bool{}
			for _, e := range out.Errors {
				failed[aws.ToString(e.Key)] = true
				if aws.ToString(e.Code) != "InternalError" {
					t.Errorf("error entry %s has code %s", aws.ToString(e.Key), aws.ToString(e.Code))
				}
			}
			deleted := map[string]bool{}
			for _, d := range out.Deleted {
				deleted[aws.ToString(d.Key)] = true
			}
			st := tr.Stats()
			if len(failed) == 0 || st.Withheld != len(failed) {
				t.Errorf("%d keys reported failed, stats say %d withheld", len(failed), st.Withheld)
			}
			for _, k := range keys {
				if failed[k] && deleted[k] {
					t.Errorf("%s reported both deleted and failed", k)
				}
				if !quiet && !failed[k] && !deleted[k] {
					t.Errorf("%s reported neither deleted nor failed", k)
				}
				if got := exists(t, env, bucket, k); got != failed[k] {
					t.Errorf("%s: reported failed %v, still exists %v", k, failed[k], got)
				}
			}
			if quiet && len(deleted) != 0 {
				t.Errorf("quiet delete reported %d deleted", len(deleted))
			}
			want := Counts{Calls: 1, Forwarded: 1, PartialDeletes: 1, Withheld: len(failed)}
			if len(failed) == len(keys) {
				want.Forwarded = 0
			}
			if st.Counts != want {
				t.Errorf("counts %+v, want %+v", st.Counts, want)
			}
		})
	}
}

func TestPartialDeleteOfOneKey(t *testing.T) {
	env := testenv.New(t)
	bucket := env.Buckets["InboundMailBucket"]
	putObjects(t, env, bucket, []string{"mail/1"})
	client, tr := s3Client(t, env, Plan{Seed: 5, PartialDelete: 1})
	out, err := client.DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: &bucket, Delete: &s3types.Delete{Objects: objectIDs([]string{"mail/1"})},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "mail/1" || len(out.Deleted) != 0 {
		t.Errorf("errors %+v, deleted %+v; want mail/1 failed", out.Errors, out.Deleted)
	}
	if !exists(t, env, bucket, "mail/1") {
		t.Error("mail/1 was deleted")
	}
	if got, want := tr.Stats().Counts, (Counts{Calls: 1, PartialDeletes: 1, Withheld: 1}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

func TestS3Errors(t *testing.T) {
	env := testenv.New(t)
	bucket := env.Buckets["FilesBucket"]
	putObjects(t, env, bucket, []string{"a", "b"})
	tests := []struct {
		plan   Plan
		code   string
		status int
	}{
		{Plan{Seed: 1, Throttle: 1}, "SlowDown", 503},
		{Plan{Seed: 1, ServerError: 1}, "InternalError", 500},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			client, tr := s3Client(t, env, tt.plan)
			ctx := context.Background()
			_, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: objectIDs([]string{"a", "b"})}})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tt.code {
				t.Errorf("DeleteObjects: %v, want %s", err, tt.code)
			}
			if got := statusCode(err); got != tt.status {
				t.Errorf("status %d, want %d", got, tt.status)
			}
			_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("a")})
			if got := statusCode(err); got != tt.status {
				t.Errorf("HeadObject: %v, want status %d", err, tt.status)
			}
			if !exists(t, env, bucket, "a") || !exists(t, env, bucket, "b") {
				t.Error("a failed DeleteObjects deleted objects")
			}
			if st := tr.Stats(); st.Forwarded != 0 || st.Calls != 2 {
				t.Errorf("counts %+v", st.Counts)
			}
		})
	}
}

// The checksums recomputed for a rewritten body are those the SDK computes, for every algorithm it
// may send (DeleteObjects requires one: CRC32 unless the input names another), and Content-MD5.
func TestChecksumsMatchSDK(t *testing.T) {
	env := testenv.New(t)
	bucket := env.Buckets["FilesBucket"]
	var mu sync.Mutex
	var seen []string
	base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		body, _ := io.ReadAll(req.Body)
		h := req.Header.Clone()
		if err := fixChecksums(h, body); err != nil {
			t.Error(err)
		}
		for name, v := range req.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") || name == "Content-Md5" || name == "X-Amz-Content-Sha256" {
				mu.Lock()
				seen = append(seen, name)
				mu.Unlock()
				if h.Get(name) != v[0] {
					t.Errorf("%s: SDK sent %s, recomputed %s", name, v[0], h.Get(name))
				}
			}
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		return http.DefaultTransport.RoundTrip(req)
	})
	client := S3(env.AWSConfig(), env.S3Endpoint, NewTransport(base, Plan{}))
	ctx := context.Background()
	for _, alg := range []s3types.ChecksumAlgorithm{"", "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"} {
		_, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &bucket, ChecksumAlgorithm: alg,
			Delete: &s3types.Delete{Objects: objectIDs([]string{"x", "y & z"})},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("md5"), Body: strings.NewReader("hello"),
		ContentMD5: aws.String("XUFAKrxLKna5cZ2REBfFkg=="),
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(seen)
	seen = slices.Compact(seen)

	// Asking for checksums only when required changes nothing: DeleteObjects requires one.
	var last http.Header
	spy := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		last = req.Header.Clone()
		return http.DefaultTransport.RoundTrip(req)
	})
	whenRequired := S3(env.AWSConfig(), env.S3Endpoint, NewTransport(spy, Plan{}), func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	if _, err := whenRequired.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: &bucket, Delete: &s3types.Delete{Objects: objectIDs([]string{"x"})},
	}); err != nil {
		t.Fatal(err)
	}
	if last.Get("X-Amz-Checksum-Crc32") == "" || last.Get("Content-Md5") != "" {
		t.Errorf("DeleteObjects with RequestChecksumCalculationWhenRequired sent %v", last)
	}

	want := []string{"Content-Md5", "X-Amz-Checksum-Crc32", "X-Amz-Checksum-Crc32c", "X-Amz-Checksum-Crc64nvme",
		"X-Amz-Checksum-Sha1", "X-Amz-Checksum-Sha256", "X-Amz-Content-Sha256"}
	if !slices.Equal(seen, want) {
		t.Errorf("checksum headers seen %v, want %v", seen, want)
	}
}

func TestDeterminism(t *testing.T) {
	env := testenv.New(t)
	plan := Plan{Seed: 42, Throttle: 0.2, ServerError: 0.2, Unprocessed: 0.5}
	// The same calls through two transports with the same plan, into two tables.
	run := func(table string, p Plan) ([]Call, []string) {
		db, tr := dynamoDBClient(t, env, p)
		for b := range 12 {
			var reqs []types.WriteRequest
			for i := range 25 {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: key("p", fmt.Sprintf("%02d-%02d", b, i))}})
			}
			db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		}
		var sks []string
		for _, id := range scanIDs(t, env.DynamoDB, table) {
			sks = append(sks, id[strings.Index(id, "/"):])
		}
		return tr.Stats().Log, sks
	}
	log1, items1 := run(env.Tables["PlatformTable"], plan)
	log2, items2 := run(env.Tables["LedgerTable"], plan)
	if !reflect.DeepEqual(log1, log2) {
		t.Errorf("same seed, different schedules:\n%v\n%v", log1, log2)
	}
	if !slices.Equal(items1, items2) {
		t.Errorf("same seed, different items written: %d and %d", len(items1), len(items2))
	}
	kinds := map[Kind]bool{}
	for _, c := range log1 {
		kinds[c.Fault] = true
	}
	if len(kinds) < 3 {
		t.Errorf("12 calls met only %v", kinds)
	}
	plan.Seed++
	log3, _ := run(env.Tables["AnalyticsTable"], plan)
	if reflect.DeepEqual(log1, log3) {
		t.Errorf("seeds 42 and 43 gave the same schedule %v", log1)
	}
}

func TestCrashAfter(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 1, CrashAfter: 3})
	for i := 1; i <= 5; i++ {
		// Reads do not count towards the crash.
		if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("c", "0")}); err != nil && i <= 3 {
			t.Errorf("GetItem before the crash: %v", err)
		}
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("c", fmt.Sprint(i))})
		if crashed := errors.Is(err, ErrCrashed); crashed != (i >= 3) {
			t.Errorf("PutItem %d: %v", i, err)
		}
	}
	// The third put took effect though its caller heard only of the crash.
	want := []string{table + "/c/1", table + "/c/2", table + "/c/3"}
	if got := scanIDs(t, env.DynamoDB, table); !slices.Equal(got, want) {
		t.Errorf("table holds %v, want %v", got, want)
	}
	st := tr.Stats()
	if want := (Counts{Calls: 10, Forwarded: 6, Crashed: 5}); st.Counts != want {
		t.Errorf("counts %+v, want %+v", st.Counts, want)
	}
	if got, want := st.ByOperation["PutItem"], (Counts{Calls: 5, Forwarded: 3, Crashed: 3}); got != want {
		t.Errorf("PutItem counts %+v, want %+v", got, want)
	}

	// Throttled calls do not count; a manual Crash stops everything; Reset recovers.
	tr.Reset(Plan{Seed: 9, Throttle: 0.5, CrashAfter: 4})
	landed := 0
	for i := 0; ; i++ {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("d", fmt.Sprint(i))})
		if errors.Is(err, ErrCrashed) {
			break
		}
		if err == nil {
			landed++
		}
	}
	if landed != 3 || tr.Stats().Throttled == 0 {
		t.Errorf("%d puts acknowledged before the crash, %d throttled; want 3 and some", landed, tr.Stats().Throttled)
	}
	tr.Reset(Plan{})
	tr.Crash()
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("c", "1")}); !errors.Is(err, ErrCrashed) {
		t.Errorf("GetItem after Crash: %v", err)
	}
	tr.Reset(Plan{})
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key("c", "1")}); err != nil {
		t.Errorf("GetItem after Reset: %v", err)
	}
}

// A response that reached the caller before the crash but was still being read when it happened is
// lost with the process: its reader hears of the crash, not of a connection the crash tore down. So
// is a call the crash cut short inside the transport below.
func TestCrashLosesResponsesInFlight(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables["PlatformTable"]
	// Not dynamoDBClient: the SDK rightly warns that it could not drain a body the crash took away.
	tr := NewTransport(checked(t), Plan{})
	db := DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr)
	for i := range 3 {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("f", fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	// Crash between the transport's answer and the decoding of its body: the innermost step of
	// deserialization runs right after the transport returns.
	crashBeforeDecoding := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("crash", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleDeserialize(ctx, in)
				tr.Crash()
				return out, md, err
			}), middleware.After)
		})
	}
	_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "f"}}}, crashBeforeDecoding)
	if !errors.Is(err, ErrCrashed) {
		t.Errorf("Query whose response was being read at the crash: %v, want ErrCrashed", err)
	}
	// After Reset, responses are read as ever.
	tr.Reset(Plan{})
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "f"}}})
	if err != nil || len(out.Items) != 3 {
		t.Fatalf("Query after Reset: %v, %v", out, err)
	}

	// A call whose connection fails once the process has crashed reports the crash.
	broken := NewTransport(roundTripFunc(func(req *http.Request) (*http.Response, error) {
		return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")
	}), Plan{})
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.Query")
	if _, err := broken.RoundTrip(req); err == nil || errors.Is(err, ErrCrashed) {
		t.Errorf("a failed call before any crash: %v, want its own error", err)
	}
	crashing := NewTransport(nil, Plan{})
	crashing.base = roundTripFunc(func(req *http.Request) (*http.Response, error) {
		crashing.Crash() // another call crashed the process while this one waited for its answer
		return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")
	})
	req, _ = http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.Query")
	if _, err := crashing.RoundTrip(req); !errors.Is(err, ErrCrashed) {
		t.Errorf("a call cut short by the crash: %v, want ErrCrashed", err)
	}
	if got := crashing.Stats().Crashed; got != 1 {
		t.Errorf("%d calls counted crashed, want 1", got)
	}
}

// SDKRetryer retries a dropped connection as production's clients do, and never a crash.
func TestSDKRetryerRetriesDropsNotCrashes(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	for _, tc := range []struct {
		name      string
		crash     bool
		wantCalls int
	}{
		{"dropped connection", false, 3},
		{"crash", true, 1},
	} {
		calls := 0
		var tr *Transport
		tr = NewTransport(roundTripFunc(func(req *http.Request) (*http.Response, error) {
			calls++
			if tc.crash {
				tr.Crash()
			}
			return nil, errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")
		}), Plan{})
		db := DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr, func(o *dynamodb.Options) { o.Retryer = SDKRetryer() })
		_, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table, Key: key("r", "1")})
		if err == nil || calls != tc.wantCalls || errors.Is(err, ErrCrashed) != tc.crash {
			t.Errorf("%s: %d calls, error %v; want %d calls and crashed=%v", tc.name, calls, err, tc.wantCalls, tc.crash)
		}
	}
}

func TestCrashAfterDeleteObjects(t *testing.T) {
	env := testenv.New(t)
	bucket := env.Buckets["FilesBucket"]
	putObjects(t, env, bucket, []string{"a", "b", "c"})
	client, tr := s3Client(t, env, Plan{Operations: []string{"DeleteObjects"}, CrashAfter: 1})
	ctx := context.Background()
	// Not targeted, so neither counted nor crashed.
	if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("c")}); err != nil {
		t.Fatal(err)
	}
	_, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: objectIDs([]string{"a", "b"})}})
	if !errors.Is(err, ErrCrashed) {
		t.Errorf("DeleteObjects: %v, want ErrCrashed", err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if exists(t, env, bucket, k) {
			t.Errorf("%s still exists", k)
		}
	}
	if _, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket}); !errors.Is(err, ErrCrashed) {
		t.Errorf("ListObjectsV2 after the crash: %v", err)
	}
	if got, want := tr.Stats().Counts, (Counts{Calls: 3, Forwarded: 2, Crashed: 2}); got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
}

func TestOperationsAndStats(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables["PlatformTable"]
	for _, op := range []string{"BatchWriteItem", "DynamoDB_20120810.BatchWriteItem"} {
		db, tr := dynamoDBClient(t, env, Plan{Seed: 1, Throttle: 1, Operations: []string{op}})
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key("s", "1")}); err != nil {
			t.Errorf("%s: PutItem is not targeted but failed: %v", op, err)
		}
		for range 2 {
			_, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
				table: {{PutRequest: &types.PutRequest{Item: key("s", "2")}}},
			}})
			if statusCode(err) != 400 {
				t.Errorf("%s: BatchWriteItem: %v, want throttled", op, err)
			}
		}
		st := tr.Stats()
		want := Stats{
			Counts: Counts{Calls: 3, Forwarded: 1, Throttled: 2},
			ByOperation: map[string]Counts{
				"PutItem":        {Calls: 1, Forwarded: 1},
				"BatchWriteItem": {Calls: 2, Throttled: 2},
			},
			Log: []Call{
				{N: 1, Operation: "PutItem", Forwarded: true},
				{N: 2, Operation: "BatchWriteItem", Fault: Throttling, Code: st.Log[1].Code},
				{N: 3, Operation: "BatchWriteItem", Fault: Throttling, Code: st.Log[2].Code},
			},
		}
		if !reflect.DeepEqual(st, want) {
			t.Errorf("%s: stats\n got %+v\nwant %+v", op, st, want)
		}
	}
}

// Plan.Tables fails the calls on the named tables only: a Query of the platform table is throttled,
// the same Query of the ledger table and a batch write to it go through.
func TestTables(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	platform, ledger := env.Tables["PlatformTable"], env.Tables["LedgerTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 1, Throttle: 1, Operations: []string{"Query", "BatchWriteItem"}, Tables: []string{platform}})
	query := func(table string) error {
		_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "s"}}})
		return err
	}
	if err := query(platform); statusCode(err) != 400 {
		t.Errorf("Query of the targeted table: %v, want throttled", err)
	}
	if err := query(ledger); err != nil {
		t.Errorf("Query of another table: %v, want it through", err)
	}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{
		ledger: {{PutRequest: &types.PutRequest{Item: key("s", "1")}}}}}); err != nil {
		t.Errorf("BatchWriteItem to another table: %v, want it through", err)
	}
	if st := tr.Stats(); st.Throttled != 1 || st.Forwarded != 2 {
		t.Errorf("stats %+v, want one call throttled and two forwarded", st.Counts)
	}
}

// Plan.After lets the first targeted calls through: the third Query is the first throttled.
func TestAfter(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables["PlatformTable"]
	db, _ := dynamoDBClient(t, env, Plan{Seed: 1, Throttle: 1, Operations: []string{"Query"}, After: 2})
	for i := range 4 {
		_, err := db.Query(ctx, &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "s"}}})
		if throttled := statusCode(err) == 400; throttled != (i >= 2) {
			t.Errorf("Query %d: %v; want only the third and later throttled", i+1, err)
		}
	}
}

// The SDK's own retryer, when a test asks for it, rides over the faults.
func TestSDKRetryer(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 1, Throttle: 0.3, ServerError: 0.2}, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 20
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	for i := range 30 {
		if _, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table, Item: key("r", fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	if st := tr.Stats(); st.Forwarded != 30 || st.Throttled+st.ServerErrors == 0 || st.Calls != 30+st.Throttled+st.ServerErrors {
		t.Errorf("counts %+v", st.Counts)
	}
}
