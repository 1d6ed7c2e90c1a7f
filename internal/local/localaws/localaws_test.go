package localaws

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// orphanHelperEnv makes the test binary act as a stack owner that TestNoOrphanWhenOwnerKilled kills.
const orphanHelperEnv = "LETHE_LOCALAWS_ORPHAN_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(orphanHelperEnv) == "1" {
		runOrphanHelper()
		return
	}
	code := m.Run()
	if shared.stack != nil {
		shared.stack.Close()
	}
	os.Exit(code)
}

// runOrphanHelper starts a stack, prints its PIDs as one JSON line and waits to be killed.
func runOrphanHelper() {
	st, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(st.PIDs())
	select {}
}

var shared struct {
	once  sync.Once
	stack *Stack
	err   error
}

// sharedStack is the `lethe testenv` stack when there is one, else one started for this package.
func sharedStack(t *testing.T) *Stack {
	t.Helper()
	shared.once.Do(func() {
		shared.stack, shared.err = ConnectFromEnv()
		if errors.Is(shared.err, ErrNotConfigured) {
			shared.stack, shared.err = Start(context.Background(), Options{})
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.stack
}

func TestStartAnswersAndCloseStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	began := time.Now()
	st, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stack started in %v", time.Since(began))
	defer st.Close()

	if _, err := st.DynamoDB().ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("dynamodb: %v", err)
	}
	if _, err := st.S3().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("s3: %v", err)
	}
	resp, err := http.Get(st.SESEndpoint + "/health-check")
	if err != nil {
		t.Fatalf("ses: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("ses health: %s", resp.Status)
	}
	for _, ep := range []string{st.DynamoDBEndpoint, st.SESEndpoint, st.S3Endpoint} {
		if !strings.HasPrefix(ep, "http://127.0.0.1:") {
			t.Errorf("endpoint %q is not on loopback", ep)
		}
	}

	pids := st.PIDs()
	if len(pids) != 2 {
		t.Fatalf("PIDs() = %v, want dynamodb and ses", pids)
	}
	began = time.Now()
	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	t.Logf("stack closed in %v", time.Since(began))
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still running after Close", name, pid)
		}
	}
	if _, err := http.Get(st.S3Endpoint); err == nil {
		t.Error("s3 still answers after Close")
	}
}

// TestNoOrphanWhenOwnerKilled kills a stack's owner with SIGKILL, so no Close runs, and checks that
// the kernel takes the JVM and node down with it.
func TestNoOrphanWhenOwnerKilled(t *testing.T) {
	t.Parallel()
	helper := exec.Command(os.Args[0], "-test.run=^$")
	helper.Env = append(os.Environ(), orphanHelperEnv+"=1")
	helper.Stderr = os.Stderr
	out, err := helper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := helper.Start(); err != nil {
		t.Fatal(err)
	}
	defer helper.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		helper.Wait()
		t.Fatalf("helper printed no PIDs: %v", err)
	}
	var pids map[string]int
	if err := json.Unmarshal([]byte(line), &pids); err != nil || len(pids) != 2 {
		t.Fatalf("helper printed %q (%v), want the dynamodb and ses PIDs", line, err)
	}
	for name, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%s (pid %d) not running before the kill", name, pid)
		}
	}

	if err := helper.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	helper.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for name, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				syscall.Kill(-pid, syscall.SIGKILL)
				t.Fatalf("%s (pid %d) outlived its killed owner", name, pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// alive reports whether pid is a running process (a zombie waiting for its reaper counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return syscall.Kill(pid, 0) == nil // no /proc (not Linux): ask the kernel
	}
	// The state follows the parenthesised command name, which may itself hold spaces.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

func TestStartExplainsWhatIsMissing(t *testing.T) {
	root, err := FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	brokenJar := t.TempDir()
	if err := os.WriteFile(filepath.Join(brokenJar, "DynamoDBLocal.jar"), []byte("not a jar"), 0o644); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name string
		opts Options
		path string // PATH for the test; "" keeps it
		want []string
	}{
		{"no jar", Options{DynamoDBLocalDir: t.TempDir()}, "", []string{"DynamoDB Local is not installed", "make deps"}},
		{"no npm package", Options{NPMDir: t.TempDir()}, "", []string{"SES emulator is not installed", "make deps"}},
		{"broken jar", Options{DynamoDBLocalDir: brokenJar}, "", []string{"dynamodb exited before answering", "last output", "jarfile"}},
		{"no java", Options{}, t.TempDir(), []string{"java not found"}},
		{"port taken", Options{SESPort: takenPort}, "", []string{"ses: port", "already in use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.path != "" {
				t.Setenv("PATH", tt.path)
				t.Setenv("JAVA_HOME", "")
			}
			tt.opts.RepoRoot = root
			st, err := Start(context.Background(), tt.opts)
			if err == nil {
				st.Close()
				t.Fatal("Start succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestConnectFromEnv(t *testing.T) {
	t.Setenv(EnvDynamoDBEndpoint, "")
	t.Setenv(EnvSESEndpoint, "")
	t.Setenv(EnvS3Endpoint, "")
	if _, err := ConnectFromEnv(); !errors.Is(err, ErrNotConfigured) {
		t.Errorf("nothing set: err = %v, want ErrNotConfigured", err)
	}
	t.Setenv(EnvDynamoDBEndpoint, "http://127.0.0.1:1")
	if _, err := ConnectFromEnv(); err == nil || errors.Is(err, ErrNotConfigured) {
		t.Errorf("partly set: err = %v, want a configuration error", err)
	}
	t.Setenv(EnvSESEndpoint, "http://127.0.0.1:2")
	t.Setenv(EnvS3Endpoint, "http://127.0.0.1:3")
	st, err := ConnectFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	got := [3]string{st.DynamoDBEndpoint, st.SESEndpoint, st.S3Endpoint}
	want := [3]string{"http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"}
	if got != want {
		t.Errorf("endpoints = %v, want %v", got, want)
	}
	if st.DynamoDB() == nil || st.S3() == nil || st.SES() == nil {
		t.Error("clients not built")
	}
	if len(st.PIDs()) != 0 || st.Close() != nil {
		t.Error("a connected stack must own no processes")
	}
}

func TestProvisioningIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := sharedStack(t)
	tables, buckets := templateResources(t, fmt.Sprintf("lawsidem%d", time.Now().UnixNano()%1e6))
	var tableNames, bucketNames []string
	for _, s := range tables {
		tableNames = append(tableNames, aws.ToString(s.Input.TableName))
	}
	for _, b := range buckets {
		bucketNames = append(bucketNames, b.Name)
	}
	t.Cleanup(func() {
		DeleteTables(ctx, st.DynamoDB(), tableNames)
		DeleteBuckets(ctx, st.S3(), bucketNames)
	})

	for round := 1; round <= 2; round++ {
		if err := CreateTables(ctx, st.DynamoDB(), tables); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := CreateBuckets(ctx, st.S3(), buckets); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	checkProvisioned(t, st, tables, buckets)

	// Objects, old versions and delete markers must all go before a bucket can.
	for _, b := range buckets {
		for _, body := range []string{"one", "two"} {
			if _, err := st.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.S3().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: aws.String("k")}); err != nil {
			t.Fatal(err)
		}
	}
	for round := 1; round <= 2; round++ {
		if err := DeleteTables(ctx, st.DynamoDB(), tableNames); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := DeleteBuckets(ctx, st.S3(), bucketNames); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	for _, name := range bucketNames {
		_, err := st.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name})
		if err == nil {
			t.Errorf("bucket %s still exists", name)
		}
	}
	for _, name := range tableNames {
		_, err := st.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		var nf *ddbtypes.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("table %s: DescribeTable err = %v, want ResourceNotFound", name, err)
		}
	}
}

// TestOnDiskDataSurvivesRestart is what `make run` relies on: a second start over the same data
// directory sees the tables and CreateTables accepts them.
func TestOnDiskDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	tables, _ := templateResources(t, "ondisk")
	for run := 1; run <= 2; run++ {
		st, err := Start(ctx, Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		if err := CreateTables(ctx, st.DynamoDB(), tables); err != nil {
			st.Close()
			t.Fatalf("run %d: %v", run, err)
		}
		name := tables[0].Input.TableName
		pk, sk := keyNames(tables[0].Input.KeySchema)
		if run == 1 {
			_, err = st.DynamoDB().PutItem(ctx, &dynamodb.PutItemInput{TableName: name, Item: map[string]ddbtypes.AttributeValue{
				pk: &ddbtypes.AttributeValueMemberS{Value: "kept"},
				sk: &ddbtypes.AttributeValueMemberS{Value: "kept"},
			}})
		} else {
			var out *dynamodb.GetItemOutput
			out, err = st.DynamoDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: name, Key: map[string]ddbtypes.AttributeValue{
				pk: &ddbtypes.AttributeValueMemberS{Value: "kept"},
				sk: &ddbtypes.AttributeValueMemberS{Value: "kept"},
			}})
			if err == nil && out.Item == nil {
				err = errors.New("item written before the restart is gone")
			}
		}
		st.Close()
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
}

func keyNames(ks []ddbtypes.KeySchemaElement) (hash, rng string) {
	for _, k := range ks {
		if k.KeyType == ddbtypes.KeyTypeHash {
			hash = aws.ToString(k.AttributeName)
		} else {
			rng = aws.ToString(k.AttributeName)
		}
	}
	return hash, rng
}

func templateResources(t *testing.T, stackName string) ([]samtemplate.TableSpec, []samtemplate.BucketSpec) {
	t.Helper()
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	env := samtemplate.Env{StackName: stackName}
	tables, err := tmpl.Tables(env)
	if err != nil {
		t.Fatal(err)
	}
	buckets, err := tmpl.Buckets(env)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 || len(buckets) == 0 {
		t.Fatalf("template declares %d tables and %d buckets", len(tables), len(buckets))
	}
	return tables, buckets
}

func checkProvisioned(t *testing.T, st *Stack, tables []samtemplate.TableSpec, buckets []samtemplate.BucketSpec) {
	t.Helper()
	ctx := context.Background()
	for _, spec := range tables {
		name := spec.Input.TableName
		d, err := st.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: name})
		if err != nil {
			t.Fatal(err)
		}
		if d.Table.TableStatus != ddbtypes.TableStatusActive {
			t.Errorf("%s is %s", *name, d.Table.TableStatus)
		}
		if got, want := len(d.Table.GlobalSecondaryIndexes), len(spec.Input.GlobalSecondaryIndexes); got != want {
			t.Errorf("%s has %d GSIs, want %d", *name, got, want)
		}
		ttl, err := st.DynamoDB().DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: name})
		if err != nil {
			t.Fatal(err)
		}
		desc := ttl.TimeToLiveDescription
		if spec.TTLAttribute == "" {
			if desc != nil && desc.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled {
				t.Errorf("%s: TTL enabled, template has none", *name)
			}
			continue
		}
		if desc == nil || desc.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(desc.AttributeName) != spec.TTLAttribute {
			t.Errorf("%s: TTL = %+v, want enabled on %s", *name, desc, spec.TTLAttribute)
		}
	}
	for _, b := range buckets {
		v, err := st.S3().GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &b.Name})
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Status == s3types.BucketVersioningStatusEnabled; got != b.Versioned {
			t.Errorf("%s: versioning %q, want enabled=%v", b.Name, v.Status, b.Versioned)
		}
	}
}
