package archtest

import (
	"slices"
	"strings"
	"testing"
)

// edgePackages serve one edge each; a workflow task's Lambda needs none of them.
var edgePackages = []string{"internal/system", "internal/api", "internal/webhooks", "internal/intake", "internal/inmail",
	"internal/chsweep", "internal/slasweep", "internal/retention"}

// taskFunctions are the Lambdas the state machines invoke (internal/system/wiring/tasks.go).
var taskFunctions = []string{"open-request", "begin-hard-delete", "erase-slice", "complete-deletion", "finish-request",
	"await-decision", "notify-declined"}

// Each Lambda links only what its handler uses: a workflow task is built from the shared services
// (internal/system/wiring) alone and links no edge's package.
func TestTaskLambdasLinkNoEdge(t *testing.T) {
	var patterns []string
	for _, f := range taskFunctions {
		patterns = append(patterns, "./functions/"+f)
	}
	fns := list(t, patterns...)
	if len(fns) != len(taskFunctions) {
		t.Fatalf("found %d task functions, want %d", len(fns), len(taskFunctions))
	}
	for _, f := range fns {
		for _, d := range f.Deps {
			for _, e := range edgePackages {
				if d == module+"/"+e {
					t.Errorf("%s links %s", strings.TrimPrefix(f.ImportPath, module+"/"), e)
				}
			}
		}
	}
}

// ownEdges are the edge packages each edge Lambda's handler uses: the API's legal holds settle TTLs
// through the retention sweep's batches; everything else serves one edge.
var ownEdges = map[string][]string{
	"api":              {"internal/api", "internal/retention"},
	"channel-webhook":  {"internal/webhooks"},
	"inbound-email":    {"internal/intake", "internal/inmail"},
	"retention-sweep":  {"internal/retention"},
	"retention-stream": {"internal/retention"},
	"sla-sweep":        {"internal/slasweep"},
	"channel-sweep":    {"internal/chsweep"},
}

// An edge Lambda links its own edge and no other (nor internal/system, which links them all): Go
// runs the package initialisation of everything a binary links at every cold start, and the
// intake's alone (phone-number metadata, mail parsing) cost every edge ~18 ms of init when they all
// linked it (internal/bench/initbench measures it).
func TestEdgeLambdasLinkOnlyTheirOwnEdge(t *testing.T) {
	var patterns []string
	for f := range ownEdges {
		patterns = append(patterns, "./functions/"+f)
	}
	fns := list(t, patterns...)
	if len(fns) != len(ownEdges) {
		t.Fatalf("found %d edge functions, want %d", len(fns), len(ownEdges))
	}
	linked := map[string]bool{}
	for _, f := range fns {
		folder := strings.TrimPrefix(f.ImportPath, module+"/functions/")
		for _, d := range f.Deps {
			if d == "github.com/nyaruka/phonenumbers" && folder != "inbound-email" {
				t.Errorf("%s links the phone-number library, which only the intake uses", folder)
			}
			for _, e := range edgePackages {
				if d != module+"/"+e {
					continue
				}
				linked[folder+" "+e] = true
				if !slices.Contains(ownEdges[folder], e) {
					t.Errorf("%s links %s, another edge's package", folder, e)
				}
			}
		}
	}
	for folder, edges := range ownEdges {
		for _, e := range edges {
			if !linked[folder+" "+e] {
				t.Errorf("%s does not link %s: this test's list of its own edge is out of date", folder, e)
			}
		}
	}
}

// sdkConfigMachinery is what config.LoadDefaultConfig links: the shared config files, and every
// credential source but the environment's (STS, SSO, SSO OIDC, sign-in, IMDS, processes, containers).
var sdkConfigMachinery = []string{"github.com/aws/aws-sdk-go-v2/config", "github.com/aws/aws-sdk-go-v2/internal/ini",
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds", "github.com/aws/aws-sdk-go-v2/service/sts",
	"github.com/aws/aws-sdk-go-v2/service/sso", "github.com/aws/aws-sdk-go-v2/service/ssooidc",
	"github.com/aws/aws-sdk-go-v2/service/signin", "github.com/aws/aws-sdk-go-v2/credentials/stscreds",
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds", "github.com/aws/aws-sdk-go-v2/credentials/processcreds",
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds", "github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"}

// lambdaServices are the AWS services Lethe's Lambdas call (DynamoDB Streams' types come with the
// DynamoDB attribute-value package).
var lambdaServices = []string{"dynamodb", "dynamodbstreams", "s3", "sesv2", "sfn"}

// A Lambda builds its AWS configuration from the variables its runtime sets (internal/system/awsenv)
// and links no other credential source nor the shared-config machinery: Go initialises every linked
// package at each cold start, and LoadDefaultConfig's (STS, SSO, SSO OIDC, sign-in and their
// endpoint and schema tables) cost every function ~1 ms of init. Nor does it link the client of a
// service none of them calls.
func TestLambdasLinkNoSharedConfigNorOtherServices(t *testing.T) {
	fns := list(t, "./functions/...")
	if len(fns) < len(taskFunctions)+len(ownEdges) {
		t.Fatalf("found %d functions, want at least %d", len(fns), len(taskFunctions)+len(ownEdges))
	}
	const servicePrefix = "github.com/aws/aws-sdk-go-v2/service/"
	for _, f := range fns {
		folder := strings.TrimPrefix(f.ImportPath, module+"/functions/")
		for _, d := range f.Deps {
			if slices.Contains(sdkConfigMachinery, d) {
				t.Errorf("%s links %s: a Lambda's AWS configuration comes from its environment (internal/system/awsenv)", folder, d)
				continue
			}
			svc, ok := strings.CutPrefix(d, servicePrefix)
			if !ok {
				continue
			}
			if svc, _, _ = strings.Cut(svc, "/"); svc != "internal" && !slices.Contains(lambdaServices, svc) {
				t.Errorf("%s links %s, a service no Lambda calls", folder, d)
			}
		}
	}
}
