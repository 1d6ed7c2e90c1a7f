package webhooks_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
	"github.com/lethe-dev/lethe/internal/webhooks"
)

// The channel function serves exactly the public routes of api/openapi.yaml the dashboard API does
// not, and template.yaml deploys exactly those on ChannelWebhookFunction, without the JWT.
func TestRoutesMatchTheDocumentAndTheTemplate(t *testing.T) {
	served := (&webhooks.Service{}).RouteKeys()
	doc := testworld.Document(t)
	apiKeys := api.New(api.Services{}).RouteKeys()
	var public []string
	for _, r := range apispec.Routes(doc) {
		if !r.Auth && !slices.Contains(apiKeys, r.Method+" "+r.Path) {
			public = append(public, r.Method+" "+r.Path)
		}
	}
	slices.Sort(public)
	slices.Sort(served)
	if !slices.Equal(public, served) {
		t.Errorf("the document's public channel routes are %v; the function serves %v", public, served)
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := tpl.Raw()["Resources"].(map[string]any)["ChannelWebhookFunction"].(map[string]any)
	evs, _ := fn["Properties"].(map[string]any)["Events"].(map[string]any)
	var deployed []string
	for name, e := range evs {
		p := e.(map[string]any)["Properties"].(map[string]any)
		deployed = append(deployed, strings.ToUpper(p["Method"].(string))+" "+p["Path"].(string))
		auth, _ := p["Auth"].(map[string]any)
		if auth["Authorizer"] != "NONE" {
			t.Errorf("event %s is deployed behind the JWT authorizer", name)
		}
	}
	slices.Sort(deployed)
	if !slices.Equal(deployed, served) {
		t.Errorf("template.yaml deploys %v, the function serves %v", deployed, served)
	}
}
