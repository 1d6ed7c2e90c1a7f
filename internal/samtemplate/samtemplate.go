// Package samtemplate reads the SAM template (template.yaml) so that local runs and tests create
// exactly what production deploys: the same tables, key schemas, indexes, TTL attributes, buckets,
// lifecycle rules and names, evaluated from the one file `sam deploy` uses.
package samtemplate

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
)

// FileName is the name of the SAM template at the root of the module.
const FileName = "template.yaml"

// Template is a parsed SAM template in CloudFormation's long (JSON) form.
type Template struct {
	path string
	doc  map[string]any
}

// Env is the deployment a template is evaluated for. Zero values take the local defaults
// (StackName "lethe-local", Region "us-east-1", AccountID "000000000000").
type Env struct {
	StackName, Region, AccountID string
	// Parameters override the template's parameter defaults, by parameter name.
	Parameters map[string]string
}

// Default values of a zero Env.
const (
	DefaultStackName = "lethe-local"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
)

func (e Env) withDefaults() Env {
	if e.StackName == "" {
		e.StackName = DefaultStackName
	}
	if e.Region == "" {
		e.Region = DefaultRegion
	}
	if e.AccountID == "" {
		e.AccountID = DefaultAccountID
	}
	return e
}

// Find locates template.yaml: it walks up from the working directory to the folder holding go.mod,
// so tests of any package find the module's template.
func Find() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, FileName)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("find %s: %w", FileName, err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find %s: no go.mod above the working directory", FileName)
		}
		dir = parent
	}
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load template: %w", err)
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	t.path = path
	return t, nil
}

func parse(data []byte) (*Template, error) {
	v, err := decodeYAML(data)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the document is not a mapping")
	}
	if res, ok := doc["Resources"]; ok {
		if _, ok := res.(map[string]any); !ok {
			return nil, errors.New("Resources is not a mapping")
		}
	}
	return &Template{doc: doc}, nil
}

// Path is the file the template was loaded from.
func (t *Template) Path() string { return t.path }

// Raw returns the whole document in long form: maps, slices, strings, numbers and booleans only,
// ready for encoding/json. It is a copy; changing it does not change the template.
func (t *Template) Raw() map[string]any {
	return deepCopy(t.doc).(map[string]any)
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	}
	return v
}

// section returns a top-level mapping such as Resources or Parameters (nil when absent).
func (t *Template) section(name string) map[string]any {
	m, _ := t.doc[name].(map[string]any)
	return m
}

// resource returns the declaration of a resource and its Type.
func (t *Template) resource(logicalID string) (map[string]any, string, bool) {
	r, ok := t.section("Resources")[logicalID].(map[string]any)
	if !ok {
		return nil, "", false
	}
	typ, _ := r["Type"].(string)
	return r, typ, true
}

// FunctionVariables is every environment variable the template gives any function — Globals' and
// each function's own — unresolved, by name. The local run gives all its functions one process
// environment, so it takes them all; a name two functions set must be set alike.
func (t *Template) FunctionVariables() (map[string]any, error) {
	vars := map[string]any{}
	add := func(where string, m any) error {
		own, _ := m.(map[string]any)
		for name, v := range own {
			if prev, ok := vars[name]; ok && !reflect.DeepEqual(prev, v) {
				return fmt.Errorf("template.yaml: %s sets %s otherwise than another function", where, name)
			}
			vars[name] = v
		}
		return nil
	}
	if err := add("Globals", environment(t.section("Globals")["Function"])); err != nil {
		return nil, err
	}
	for _, id := range t.logicalIDs("AWS::Serverless::Function") {
		decl, _ := t.section("Resources")[id].(map[string]any)
		if err := add(id, environment(decl["Properties"])); err != nil {
			return nil, err
		}
	}
	return vars, nil
}

// environment is the Environment.Variables of a function's properties (or of Globals.Function).
func environment(props any) any {
	p, _ := props.(map[string]any)
	e, _ := p["Environment"].(map[string]any)
	return e["Variables"]
}
