package samtemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// samSchema compiles AWS SAM's JSON schema once per test binary (it is ~750 KB).
var samSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	tmpl, err := Find()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(filepath.Dir(tmpl), "..", "shared", "schemas", "sam.schema.json")
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(samRegexp)
	return c.Compile(path)
})

// schemaOrSkip returns SAM's schema, skipping the test when the schema file is not there.
func schemaOrSkip(t *testing.T) *jsonschema.Schema {
	t.Helper()
	sch, err := samSchema()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("SAM schema not found (want ../shared/schemas/sam.schema.json beside the module): %v", err)
	}
	if err != nil {
		t.Fatalf("compile SAM schema: %v", err)
	}
	return sch
}

// samRegexp compiles the schema's patterns with Go's RE2, which has no lookaround. SAM's schema uses
// one: a leading negative lookahead, `^(?!AWS::Serverless::).+$`, so that a SAM resource with wrong
// properties cannot pass as a plain CloudFormation resource. `^(?!X)Y` is evaluated as
// "^X does not match and ^Y does".
func samRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp.Compile(s)
	if err == nil {
		return re, nil
	}
	rest, ok := strings.CutPrefix(s, "^(?!")
	if !ok {
		return nil, err
	}
	depth, end := 1, -1
	for i := 0; i < len(rest) && end < 0; i++ {
		switch rest[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		return nil, err
	}
	not, nerr := regexp.Compile("^(?:" + rest[:end] + ")")
	must, merr := regexp.Compile("^" + rest[end+1:])
	if nerr != nil || merr != nil {
		return nil, fmt.Errorf("pattern %q: %w", s, errors.Join(nerr, merr))
	}
	return negativeLookahead{src: s, not: not, must: must}, nil
}

type negativeLookahead struct {
	src       string
	not, must *regexp.Regexp
}

func (n negativeLookahead) MatchString(s string) bool {
	return !n.not.MatchString(s) && n.must.MatchString(s)
}

func (n negativeLookahead) String() string { return n.src }

func TestSAMRegexp(t *testing.T) {
	re, err := samRegexp(`^(?!AWS::Serverless::).+$`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want bool
	}{
		{"AWS::DynamoDB::Table", true},
		{"AWS::S3::BucketPolicy", true},
		{"AWS::Serverless::Function", false},
		{"AWS::Serverless::", false},
		{"", false},
		{"Custom::AWS::Serverless::X", true},
	}
	for _, tt := range tests {
		if got := re.MatchString(tt.in); got != tt.want {
			t.Errorf("MatchString(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if _, err := samRegexp(`^(?<=x)y`); err == nil {
		t.Error("got no error for a lookbehind")
	}
}

// asJSON encodes the long form as JSON and decodes it the way the schema library reads JSON.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestRealTemplateMatchesSAMSchema(t *testing.T) {
	sch := schemaOrSkip(t)
	tmpl := loadReal(t)
	if err := sch.Validate(asJSON(t, tmpl.Raw())); err != nil {
		t.Errorf("template.yaml does not validate against SAM's schema:\n%v", err)
	}
}

// TestSAMSchemaRefusesMistakes proves the schema check can fail, on the kinds of mistake it exists
// to catch.
func TestSAMSchemaRefusesMistakes(t *testing.T) {
	sch := schemaOrSkip(t)
	base := `
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: provided.al2023
    Tracing: Active
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties: {TableName: !Sub "${AWS::StackName}-t"}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/x
      Handler: bootstrap
      Environment: {Variables: {TABLE: !Ref Table}}
`
	tests := []struct {
		name    string
		old     string
		new     string
		wantErr bool
	}{
		{name: "valid", wantErr: false},
		{name: "unknown Globals property", old: "    Tracing: Active", new: "    Tracing: Active\n    Runtimee: go", wantErr: true},
		{name: "bad Tracing mode", old: "Tracing: Active", new: "Tracing: Sometimes", wantErr: true},
		{name: "unknown SAM resource attribute", old: "    Type: AWS::Serverless::Function", new: "    Type: AWS::Serverless::Function\n    Propertiez: {}", wantErr: true},
		{name: "resource without Type", old: "    Type: AWS::DynamoDB::Table\n", new: "\n", wantErr: true},
		{name: "no Resources", old: "Resources:", new: "Resourcez:", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := base
			if tt.old != "" {
				if !strings.Contains(doc, tt.old) {
					t.Fatalf("base template lacks %q", tt.old)
				}
				doc = strings.Replace(doc, tt.old, tt.new, 1)
			}
			tmpl, err := parse([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			err = sch.Validate(asJSON(t, tmpl.Raw()))
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Errorf("got error %v, want error: %v", err, tt.wantErr)
			}
		})
	}
}
