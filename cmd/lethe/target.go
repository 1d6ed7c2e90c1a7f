package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/local/localrun"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// localUsage is the usage paragraph of a command that works on the local run's DynamoDB and S3:
// what it does (the start of the sentence) and where it finds them.
func localUsage(what string) string {
	return what + " at the local run's DynamoDB and S3,\n" +
		"where make run serves them: http://127.0.0.1:$" + localrun.EnvDynamoDBPort + " (8000) and http://127.0.0.1:$" + localrun.EnvS3Port + " (8006);\n" +
		"$" + localaws.EnvDynamoDBEndpoint + " and $" + localaws.EnvS3Endpoint + ", as `lethe testenv` sets them, name others.\n"
}

// targetFlags choose what a command works on: the local stack (tables named by template.yaml for a
// stack name, at the local run's endpoints: localrun.EndpointsFromEnv) or, with --aws, the deployed one (the AWS default
// credentials and the table and bucket names in PLATFORM_TABLE … as a Lambda function reads them).
type targetFlags struct {
	stack  string
	useAWS bool
}

func addTargetFlags(fs *flag.FlagSet) *targetFlags {
	f := &targetFlags{}
	fs.StringVar(&f.stack, "stack", samtemplate.DefaultStackName, "local stack name the table and bucket names of template.yaml derive from")
	fs.BoolVar(&f.useAWS, "aws", false, "work on the deployed tables (AWS default credentials; names from PLATFORM_TABLE, LEDGER_TABLE … )")
	return f
}

// target is what a command reaches.
type target struct {
	db      *dynamodb.Client
	s3      *s3.Client
	tables  platform.Tables
	buckets map[string]string
	policy  datamap.Policy
	// specs are the template's definitions, for creating them locally when missing.
	tableSpecs  []samtemplate.TableSpec
	bucketSpecs []samtemplate.BucketSpec
	dynamoDBURL string
	s3URL       string
}

func (f *targetFlags) open(ctx context.Context) (*target, error) {
	t := &target{policy: datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}}
	if v := os.Getenv(config.EnvTTLSafetyMargin); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", config.EnvTTLSafetyMargin, err)
		}
		t.policy.SafetyMargin = d
	}
	if f.useAWS {
		cfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, err
		}
		t.db, t.s3 = dynamodb.NewFromConfig(cfg), s3.NewFromConfig(cfg)
		t.tables = platform.Tables{}
		t.buckets = map[string]string{}
		for logical, env := range map[string]string{datamap.PlatformTable: config.EnvPlatformTable, datamap.LedgerTable: config.EnvLedgerTable,
			datamap.AnalyticsTable: config.EnvAnalyticsTable, datamap.FilesBucket: config.EnvFilesBucket} {
			v := os.Getenv(env)
			if v == "" {
				return nil, fmt.Errorf("--aws needs %s", env)
			}
			if logical == datamap.FilesBucket {
				t.buckets[logical] = v
			} else {
				t.tables[logical] = v
			}
		}
		return t, nil
	}
	path, err := samtemplate.Find()
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		return nil, err
	}
	tenv := samtemplate.Env{StackName: f.stack}
	if t.tableSpecs, err = tmpl.Tables(tenv); err != nil {
		return nil, err
	}
	if t.bucketSpecs, err = tmpl.Buckets(tenv); err != nil {
		return nil, err
	}
	t.tables = platform.Tables{}
	for _, s := range t.tableSpecs {
		t.tables[s.LogicalID] = aws.ToString(s.Input.TableName)
	}
	t.buckets = map[string]string{}
	for _, b := range t.bucketSpecs {
		t.buckets[b.LogicalID] = b.Name
	}
	at, err := localrun.EndpointsFromEnv()
	if err != nil {
		return nil, err
	}
	t.dynamoDBURL, t.s3URL = at.DynamoDB, at.S3
	local := localaws.Connect(t.dynamoDBURL, "", t.s3URL)
	t.db, t.s3 = local.DynamoDB(), local.S3()
	return t, nil
}

// ensureLocal creates the stack's tables and buckets when they are missing (local only).
func (t *target) ensureLocal(ctx context.Context) error {
	if t.tableSpecs == nil {
		return nil
	}
	if err := localaws.CreateTables(ctx, t.db, t.tableSpecs); err != nil {
		return fmt.Errorf("tables at %s: %w", t.dynamoDBURL, err)
	}
	if err := localaws.CreateBuckets(ctx, t.s3, t.bucketSpecs); err != nil {
		return fmt.Errorf("buckets at %s: %w", t.s3URL, err)
	}
	return nil
}
