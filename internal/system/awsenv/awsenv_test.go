package awsenv_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/system/awsenv"
)

// lambdaEnv sets what the Lambda runtime (and the local run, for the endpoints) sets, after
// clearing every variable awsenv or the clients read.
func lambdaEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k) // the clients tell unset from empty (os.LookupEnv)
		}
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// endpointsOf is the base endpoint each client the functions use gets from cfg.
func endpointsOf(cfg aws.Config) map[string]string {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return map[string]string{
		"dynamodb": s(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
		"s3":       s(s3.NewFromConfig(cfg).Options().BaseEndpoint),
		"sesv2":    s(sesv2.NewFromConfig(cfg).Options().BaseEndpoint),
		"sfn":      s(sfn.NewFromConfig(cfg).Options().BaseEndpoint),
	}
}

func TestConfigFromTheLambdaEnvironment(t *testing.T) {
	lambdaEnv(t, map[string]string{
		"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8006",
		"AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:8005", "AWS_ENDPOINT_URL_SFN": "http://127.0.0.1:3000",
	})
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-central-1" {
		t.Errorf("region %q, want AWS_REGION's eu-central-1", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" || creds.CanExpire {
		t.Errorf("credentials %+v, want the environment's, not expiring", creds)
	}
	want := map[string]string{"dynamodb": "http://127.0.0.1:8000", "s3": "http://127.0.0.1:8006",
		"sesv2": "http://127.0.0.1:8005", "sfn": "http://127.0.0.1:3000"}
	for svc, ep := range endpointsOf(cfg) {
		if ep != want[svc] {
			t.Errorf("%s client's endpoint %q, want %q", svc, ep, want[svc])
		}
	}
	// A client's region is the configuration's (it signs with it).
	if r := dynamodb.NewFromConfig(cfg).Options().Region; r != "eu-central-1" {
		t.Errorf("DynamoDB client's region %q", r)
	}
}

// A deployed function has no endpoint variables: every client resolves AWS's own endpoint.
func TestConfigWithoutEndpointsLeavesTheClientsOnAWS(t *testing.T) {
	lambdaEnv(t, map[string]string{"AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"})
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	for svc, ep := range endpointsOf(cfg) {
		if ep != "" {
			t.Errorf("%s client's endpoint %q, want none", svc, ep)
		}
	}
	if creds, _ := cfg.Credentials.Retrieve(context.Background()); creds.SessionToken != "" || creds.AccessKeyID != "AKID" {
		t.Errorf("credentials %+v", creds)
	}
}

// AWS_ENDPOINT_URL serves every service without its own variable, and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS drops both, as the SDK's environment configuration does.
func TestConfigGlobalAndIgnoredEndpoints(t *testing.T) {
	vars := map[string]string{"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s",
		"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8006"}
	lambdaEnv(t, vars)
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("region %q, want AWS_DEFAULT_REGION's when AWS_REGION is unset", cfg.Region)
	}
	want := map[string]string{"dynamodb": "http://127.0.0.1:9000", "s3": "http://127.0.0.1:8006",
		"sesv2": "http://127.0.0.1:9000", "sfn": "http://127.0.0.1:9000"}
	for svc, ep := range endpointsOf(cfg) {
		if ep != want[svc] {
			t.Errorf("%s client's endpoint %q, want %q", svc, ep, want[svc])
		}
	}

	vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
	lambdaEnv(t, vars)
	if cfg, err = awsenv.Config(os.Getenv); err != nil {
		t.Fatal(err)
	}
	for svc, ep := range endpointsOf(cfg) {
		if ep != "" {
			t.Errorf("%s client's endpoint %q, want none under AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true", svc, ep)
		}
	}
}

func TestConfigNamesWhatIsMissing(t *testing.T) {
	full := map[string]string{"AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}
	for _, drop := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		env := map[string]string{}
		for k, v := range full {
			if k != drop {
				env[k] = v
			}
		}
		_, err := awsenv.Config(func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), drop) {
			t.Errorf("without %s: error %v, want one naming it", drop, err)
		}
		for k := range env {
			if err != nil && strings.Contains(err.Error(), k) {
				t.Errorf("without %s: error %v names %s, which is set", drop, err, k)
			}
		}
	}
	_, err := awsenv.Config(func(k string) string {
		if k == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" {
			return "yes"
		}
		return full[k]
	})
	if err == nil || !strings.Contains(err.Error(), "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
		t.Errorf("a malformed AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: error %v, want one naming it", err)
	}
}
