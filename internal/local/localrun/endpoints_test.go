package localrun

import (
	"testing"

	"github.com/lethe-dev/lethe/internal/local/localaws"
)

// TestEndpointsFromEnv: every command that talks to the local run finds it where `make run`
// serves — the ports of LETHE_*_PORT, SPEC §6's defaults without them — unless an emulator's
// endpoint variable (lethe testenv's) names another.
func TestEndpointsFromEnv(t *testing.T) {
	vars := []string{EnvAPIPort, EnvDynamoDBPort, EnvSESPort, EnvS3Port, EnvSMTPPort,
		localaws.EnvDynamoDBEndpoint, localaws.EnvSESEndpoint, localaws.EnvS3Endpoint}
	defaults := Endpoints{API: "http://127.0.0.1:3000", DynamoDB: "http://127.0.0.1:8000", SES: "http://127.0.0.1:8005",
		S3: "http://127.0.0.1:8006", SMTP: "127.0.0.1:2525"}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    Endpoints
		wantErr bool
	}{
		{name: "defaults", want: defaults},
		{name: "ports", env: map[string]string{EnvAPIPort: "18160", EnvDynamoDBPort: "18161", EnvSESPort: "18162", EnvSMTPPort: "18163", EnvS3Port: "18164"},
			want: Endpoints{API: "http://127.0.0.1:18160", DynamoDB: "http://127.0.0.1:18161", SES: "http://127.0.0.1:18162",
				S3: "http://127.0.0.1:18164", SMTP: "127.0.0.1:18163"}},
		{name: "one port", env: map[string]string{EnvDynamoDBPort: "9100"},
			want: Endpoints{API: defaults.API, DynamoDB: "http://127.0.0.1:9100", SES: defaults.SES, S3: defaults.S3, SMTP: defaults.SMTP}},
		{name: "testenv's endpoints win over ports", env: map[string]string{EnvDynamoDBPort: "9100", EnvS3Port: "9101",
			localaws.EnvDynamoDBEndpoint: "http://127.0.0.1:41000", localaws.EnvS3Endpoint: "http://127.0.0.1:41001", localaws.EnvSESEndpoint: "http://127.0.0.1:41002"},
			want: Endpoints{API: defaults.API, DynamoDB: "http://127.0.0.1:41000", SES: "http://127.0.0.1:41002", S3: "http://127.0.0.1:41001", SMTP: defaults.SMTP}},
		{name: "not a port", env: map[string]string{EnvAPIPort: "http://x"}, wantErr: true},
		{name: "out of range", env: map[string]string{EnvDynamoDBPort: "70000"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tc.env[v])
			}
			got, err := EndpointsFromEnv()
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	// make run's own options give the same answer.
	for _, v := range vars {
		t.Setenv(v, "")
	}
	t.Setenv(EnvAPIPort, "18160")
	o, err := OptionsFromEnv(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := EndpointsFromEnv(); o.Endpoints() != e || e.API != "http://127.0.0.1:18160" {
		t.Errorf("make run serves %+v; commands dial %+v", o.Endpoints(), e)
	}
}
