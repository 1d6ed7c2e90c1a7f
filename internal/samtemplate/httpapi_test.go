package samtemplate_test

import (
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// TestHttpApiServesTheDocument: the deployed HTTP API is api/openapi.yaml (included whole, so SAM
// adds each HttpApi event's Lambda integration to the document's operation), behind the JWT
// authorizer whose name is the document's security scheme; its routes are exactly the document's
// operations, each served by one function's HttpApi event, without the authorizer exactly where the
// document says `security: []`.
func TestHttpApiServesTheDocument(t *testing.T) {
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	raw := tmpl.Raw()
	root := filepath.Dir(path)
	api, _ := dig(raw, "Resources", "HttpApi").(map[string]any)
	if api["Type"] != "AWS::Serverless::HttpApi" {
		t.Fatalf("HttpApi is a %v", api["Type"])
	}
	props, _ := api["Properties"].(map[string]any)

	// The document, included as it is: a DefinitionUri would reach API Gateway unchanged (no
	// integrations, no authorizer; SAM refuses Auth with it).
	wantBody := map[string]any{"Fn::Transform": map[string]any{
		"Name": "AWS::Include", "Parameters": map[string]any{"Location": apispec.DocumentPath}}}
	if got := props["DefinitionBody"]; !reflect.DeepEqual(got, wantBody) {
		t.Errorf("DefinitionBody = %v, want %v", got, wantBody)
	}
	if _, ok := props["DefinitionUri"]; ok {
		t.Error("DefinitionUri is set: SAM would neither add the integrations nor the authorizer to it")
	}

	// The JWT authorizer: the default, named as the document's scheme, with the issuer and audience
	// parameters.
	auth, _ := props["Auth"].(map[string]any)
	if auth["DefaultAuthorizer"] != apispec.SecurityScheme {
		t.Errorf("Auth.DefaultAuthorizer = %v, want the document's scheme %s", auth["DefaultAuthorizer"], apispec.SecurityScheme)
	}
	authorizers, _ := auth["Authorizers"].(map[string]any)
	wantAuthorizer := map[string]any{
		"IdentitySource": "$request.header.Authorization",
		"JwtConfiguration": map[string]any{
			"issuer":   map[string]any{"Ref": "JwtIssuer"},
			"audience": []any{map[string]any{"Ref": "JwtAudience"}},
		},
	}
	if len(authorizers) != 1 || !reflect.DeepEqual(authorizers[apispec.SecurityScheme], wantAuthorizer) {
		t.Errorf("Auth.Authorizers = %v, want only %s: %v", authorizers, apispec.SecurityScheme, wantAuthorizer)
	}

	doc, err := apispec.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{} // route → needs the JWT
	for _, r := range apispec.Routes(doc) {
		documented[r.String()] = r.Auth
	}
	for p, item := range doc.Paths.Map() {
		for m, op := range item.Operations() {
			// SAM adds an event's integration only where the document has none.
			if _, ok := op.Extensions["x-amazon-apigateway-integration"]; ok {
				t.Errorf("%s %s has its own x-amazon-apigateway-integration; the HttpApi events give the integrations", m, p)
			}
		}
	}

	deployed := map[string]bool{} // route → behind the authorizer
	for id, r := range raw["Resources"].(map[string]any) {
		if dig(r, "Type") != "AWS::Serverless::Function" {
			continue
		}
		events, _ := dig(r, "Properties", "Events").(map[string]any)
		for name, ev := range events {
			if dig(ev, "Type") != "HttpApi" {
				continue
			}
			p, _ := dig(ev, "Properties").(map[string]any)
			if !reflect.DeepEqual(p["ApiId"], map[string]any{"Ref": "HttpApi"}) {
				t.Errorf("%s.%s: ApiId %v, want !Ref HttpApi (else SAM makes an implicit API)", id, name, p["ApiId"])
			}
			method, _ := p["Method"].(string)
			route := strings.ToUpper(method) + " " + p["Path"].(string)
			if _, dup := deployed[route]; dup {
				t.Errorf("%s is deployed twice", route)
			}
			switch a := dig(p, "Auth", "Authorizer"); a {
			case nil:
				deployed[route] = true
			case "NONE":
				deployed[route] = false
			default:
				t.Errorf("%s.%s: Authorizer %v, want the default or NONE", id, name, a)
			}
		}
	}
	var missing, undocumented []string
	for route, jwt := range documented {
		got, ok := deployed[route]
		switch {
		case !ok:
			missing = append(missing, route)
		case got != jwt:
			t.Errorf("%s: documented with the JWT %v, deployed behind the authorizer %v", route, jwt, got)
		}
	}
	for route := range deployed {
		if _, ok := documented[route]; !ok {
			undocumented = append(undocumented, route)
		}
	}
	sort.Strings(missing)
	sort.Strings(undocumented)
	if len(missing) > 0 {
		t.Errorf("documented but served by no HttpApi event: %v", missing)
	}
	if len(undocumented) > 0 {
		t.Errorf("HttpApi events for routes the document lacks (API Gateway would serve them undocumented): %v", undocumented)
	}
	if len(documented) < 25 {
		t.Errorf("only %d documented routes", len(documented))
	}

	// CloudFormation evaluates intrinsic functions in an included document: no key of it may look
	// like one.
	included, err := samtemplate.Load(filepath.Join(root, apispec.DocumentPath))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(at string, v any)
	walk = func(at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					t.Errorf("%s: key %q would be read as an intrinsic function", at, k)
				}
				walk(at+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(at, e)
			}
		}
	}
	walk("", included.Raw())
}
