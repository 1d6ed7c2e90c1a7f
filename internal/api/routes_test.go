package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/api"
	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
)

// The routes the API serves are exactly the dashboard routes of api/openapi.yaml (with the JWT), and the HttpApi
// events template.yaml gives ApiFunction: a route cannot be deployed undocumented or served locally
// but not in AWS.
func TestRoutesMatchTheDocumentAndTheTemplate(t *testing.T) {
	served := api.New(api.Services{}).RouteKeys()
	doc := testworld.Document(t)
	documented := map[string]bool{} // route key → requires the JWT
	for _, r := range apispec.Routes(doc) {
		documented[r.Method+" "+r.Path] = r.Auth
	}
	for _, r := range api.New(api.Services{}).Routes() {
		k := r.Method + " " + r.Path
		auth, ok := documented[k]
		if !ok {
			t.Errorf("%s is served but not documented", k)
		} else if auth != r.Auth {
			t.Errorf("%s: served with JWT %v, documented with JWT %v", k, r.Auth, auth)
		}
		if auth {
			delete(documented, k)
		}
	}
	for k, auth := range documented {
		if auth {
			t.Errorf("%s is documented as a dashboard route but not served", k)
		}
	}
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := tpl.Raw()["Resources"].(map[string]any)["ApiFunction"].(map[string]any)
	events, _ := fn["Properties"].(map[string]any)["Events"].(map[string]any)
	var deployed []string
	for _, e := range events {
		p := e.(map[string]any)["Properties"].(map[string]any)
		deployed = append(deployed, strings.ToUpper(p["Method"].(string))+" "+p["Path"].(string))
	}
	slices.Sort(deployed)
	slices.Sort(served)
	if !slices.Equal(deployed, served) {
		t.Errorf("template.yaml deploys %v, the API serves %v", deployed, served)
	}
}
