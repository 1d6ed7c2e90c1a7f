// Package testenv gives each test its own DynamoDB tables and S3 buckets, created from template.yaml
// under a unique stack name, on the local AWS stack that the whole test run shares (the one
// `lethe testenv` started) or, when a package is tested alone, on one started for that package.
//
// A package opts in with
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
// and each test calls env := testenv.New(t).
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// Region and AccountID are those of every test Env; the account only shows in bucket names.
const (
	Region    = localaws.Region
	AccountID = samtemplate.DefaultAccountID
)

// Env is one test's slice of the local stack: its own tables and buckets, and clients to reach them.
type Env struct {
	// StackName is unique to the test ("t" and 12 hex digits); every resource name derives from it.
	StackName string
	// Tables and Buckets map the template's logical ids ("PlatformTable", "FilesBucket") to the names
	// created for this test.
	Tables  map[string]string
	Buckets map[string]string
	// TemplateEnv is what the template was evaluated with, for code that resolves it again.
	TemplateEnv samtemplate.Env

	DynamoDB *dynamodb.Client
	S3       *s3.Client // path-style
	SES      *sesv2.Client

	DynamoDBEndpoint string
	S3Endpoint       string
	SESEndpoint      string

	// MailDomain is this test's own mail domain; SentMail returns the mail that involves it.
	MailDomain string

	aws aws.Config
}

var pkg struct {
	mainCalled bool

	stackOnce sync.Once
	stack     *localaws.Stack
	owned     bool // started here rather than connected to
	stackErr  error

	tmplOnce sync.Once
	tmpl     *samtemplate.Template
	tmplErr  error
}

// Streams, set (before Main) by a package whose tests read a table's DynamoDB stream, gives New's
// tables the streams template.yaml declares. Off otherwise: DynamoDB Local records every write of a
// table with a stream, which slows the packages that never read one by about half.
var Streams bool

// Main runs the package's tests. It connects to the stack named by LETHE_*_ENDPOINT (set by
// `lethe testenv`); without those, the first New starts a private stack, which Main stops after the
// tests. Call it from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M) int {
	pkg.mainCalled = true
	code := m.Run()
	if pkg.owned && pkg.stack != nil {
		if err := pkg.stack.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "testenv: stop local AWS stack: %v\n", err)
		}
	}
	return code
}

// Stack returns the package's local AWS stack, starting it if needed.
func Stack(t testing.TB) *localaws.Stack {
	t.Helper()
	if !pkg.mainCalled {
		t.Fatal("testenv: the package needs func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }")
	}
	pkg.stackOnce.Do(func() {
		pkg.stack, pkg.stackErr = localaws.ConnectFromEnv()
		if errors.Is(pkg.stackErr, localaws.ErrNotConfigured) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			pkg.stack, pkg.stackErr = localaws.Start(ctx, localaws.Options{})
			pkg.owned = pkg.stackErr == nil
		}
		if pkg.stackErr != nil {
			pkg.stackErr = fmt.Errorf("testenv: local AWS stack: %w", pkg.stackErr)
		}
	})
	if pkg.stackErr != nil {
		t.Fatal(pkg.stackErr)
	}
	return pkg.stack
}

func loadTemplate() (*samtemplate.Template, error) {
	pkg.tmplOnce.Do(func() {
		path, err := samtemplate.Find()
		if err != nil {
			pkg.tmplErr = err
			return
		}
		pkg.tmpl, pkg.tmplErr = samtemplate.Load(path)
	})
	return pkg.tmpl, pkg.tmplErr
}

// New creates every table and bucket of template.yaml under a stack name unique to t, and deletes
// them (objects and versions first) when t ends.
func New(t testing.TB) *Env {
	t.Helper()
	st := Stack(t)
	tmpl, err := loadTemplate()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	name := uniqueStackName()
	tenv := samtemplate.Env{StackName: name, Region: Region, AccountID: AccountID}
	tables, err := tmpl.Tables(tenv)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	buckets, err := tmpl.Buckets(tenv)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	e := &Env{
		StackName:        name,
		Tables:           make(map[string]string, len(tables)),
		Buckets:          make(map[string]string, len(buckets)),
		TemplateEnv:      tenv,
		DynamoDB:         st.DynamoDB(),
		S3:               st.S3(),
		SES:              st.SES(),
		DynamoDBEndpoint: st.DynamoDBEndpoint,
		S3Endpoint:       st.S3Endpoint,
		SESEndpoint:      st.SESEndpoint,
		MailDomain:       name + ".lethe.test",
		aws:              st.AWSConfig(),
	}
	if !Streams {
		for _, s := range tables {
			s.Input.StreamSpecification = nil
		}
	}
	var tableNames, bucketNames []string
	for _, s := range tables {
		e.Tables[s.LogicalID] = aws.ToString(s.Input.TableName)
		tableNames = append(tableNames, aws.ToString(s.Input.TableName))
	}
	for _, b := range buckets {
		e.Buckets[b.LogicalID] = b.Name
		bucketNames = append(bucketNames, b.Name)
	}

	// Registered first so that a half-made Env is cleaned up too.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := errors.Join(
			localaws.DeleteTables(ctx, e.DynamoDB, tableNames),
			localaws.DeleteBuckets(ctx, e.S3, bucketNames),
		)
		if err != nil {
			t.Errorf("testenv: clean up %s: %v", name, err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- localaws.CreateBuckets(ctx, e.S3, buckets) }()
	err = localaws.CreateTables(ctx, e.DynamoDB, tables)
	if err = errors.Join(err, <-errc); err != nil {
		t.Fatalf("testenv: create resources of %s: %v", name, err)
	}
	return e
}

// AWSConfig is the configuration the clients were built from (region, dummy credentials, no endpoint).
func (e *Env) AWSConfig() aws.Config { return e.aws.Copy() }

// Address returns local@MailDomain: mail to or from it is this test's (see SentMail).
func (e *Env) Address(local string) string { return local + "@" + e.MailDomain }

func uniqueStackName() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "t" + hex.EncodeToString(b)
}
