// Package apispec is the HTTP contract of SPEC §8 as the code sees it: it loads and validates the
// OpenAPI document at api/openapi.yaml, lists its routes and whether each needs the dashboard JWT,
// and checks real responses against it so handler tests cannot drift from the document.
package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/lethe-dev/lethe/internal/local/localaws"
)

// DocumentPath is where the document lives, relative to the repository root.
const DocumentPath = "api/openapi.yaml"

// SecurityScheme is the name of the dashboard's JWT scheme in the document.
const SecurityScheme = "dashboardJwt"

// Load reads <root>/api/openapi.yaml and validates it. An empty root is the repository root found
// from the working directory (the nearest directory above it holding go.mod).
func Load(root string) (*openapi3.T, error) {
	if root == "" {
		r, err := localaws.FindRepoRoot()
		if err != nil {
			return nil, err
		}
		root = r
	}
	path := filepath.Join(root, DocumentPath)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the API document: %w", err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	return doc, nil
}

// Route is one operation of the document.
type Route struct {
	Method string // upper case
	Path   string // as templated in the document: /v1/bots/{botId}/end-users
	// Auth: the operation requires the dashboard JWT.
	Auth bool
}

func (r Route) String() string { return r.Method + " " + r.Path }

// Routes lists every operation of doc, sorted by path then method.
func Routes(doc *openapi3.T) []Route {
	var out []Route
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out = append(out, Route{Method: strings.ToUpper(method), Path: path, Auth: RequiresJWT(doc, op)})
		}
	}
	slices.SortFunc(out, func(a, b Route) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// RequiresJWT reports whether op requires the dashboard JWT: its own security requirements, or the
// document's when it declares none (an explicit empty list means public).
func RequiresJWT(doc *openapi3.T, op *openapi3.Operation) bool {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return false
	}
	// Every alternative must carry the scheme, or an anonymous alternative would let callers in.
	for _, alt := range reqs {
		if _, ok := alt[SecurityScheme]; !ok {
			return false
		}
	}
	return true
}

// Validator checks responses against the document.
type Validator struct {
	router routers.Router
}

// textDecoders registers the readable-document content types the document answers (HTML pages,
// Markdown acts, the console's scripts and style sheet) as plain text, once: kin-openapi decodes only the types it knows.
var textDecoders sync.Once

// NewValidator builds a validator over doc. Routes are matched on the path alone, so the server
// URL (a variable) does not have to be known.
func NewValidator(doc *openapi3.T) (*Validator, error) {
	textDecoders.Do(func() {
		for _, ct := range []string{"text/html", "text/markdown", "text/javascript", "text/css"} {
			if openapi3filter.RegisteredBodyDecoder(ct) == nil {
				openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
			}
		}
	})
	pathOnly := *doc
	pathOnly.Servers = nil
	router, err := legacy.NewRouter(&pathOnly)
	if err != nil {
		return nil, fmt.Errorf("route the API document: %w", err)
	}
	return &Validator{router: router}, nil
}

// ErrNoRoute: the document has no operation for the method and path.
var ErrNoRoute = errors.New("no such operation in the API document")

// ValidateResponse checks one response to method and path (a concrete path, optionally with a
// query): its status must be documented for the operation, and its headers and body must match.
func (v *Validator) ValidateResponse(ctx context.Context, method, path string, status int, header http.Header, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, path, nil)
	if err != nil {
		return fmt.Errorf("validate response to %s %s: %w", method, path, err)
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", ErrNoRoute, method, path, err)
	}
	if header == nil {
		header = http.Header{}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
		return fmt.Errorf("response %d to %s %s: %w", status, method, path, err)
	}
	return nil
}
