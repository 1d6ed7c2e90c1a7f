package statemachine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// Machine is a state machine of the SAM template, ready for CreateStateMachine.
type Machine struct {
	LogicalID  string `json:"logicalId"`
	Name       string `json:"name"`
	ARN        string `json:"arn"`
	Definition []byte `json:"-"`
}

// placeholder matches ${Key} in a definition; keys are CloudFormation-style names.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_.:-]+)\}`)

// LoadTemplate reads every AWS::Serverless::StateMachine of t, as deployed to env: it reads its
// DefinitionUri (relative to the template's directory) and replaces each ${Key} with the resolved
// DefinitionSubstitutions value, as SAM does at deploy. A placeholder without a substitution is
// an error. Machines are sorted by LogicalID.
func LoadTemplate(t *samtemplate.Template, env samtemplate.Env) ([]Machine, error) {
	resources, _ := t.Raw()["Resources"].(map[string]any)
	dir := filepath.Dir(t.Path())
	var out []Machine
	for _, id := range sortedKeys(resources) {
		res, _ := resources[id].(map[string]any)
		if res["Type"] != "AWS::Serverless::StateMachine" {
			continue
		}
		m, err := loadMachine(t, env, dir, id, res)
		if err != nil {
			return nil, fmt.Errorf("state machine %s: %w", id, err)
		}
		out = append(out, m)
	}
	return out, nil
}

func loadMachine(t *samtemplate.Template, env samtemplate.Env, dir, id string, res map[string]any) (Machine, error) {
	props, _ := res["Properties"].(map[string]any)
	if typ, ok := props["Type"]; ok && typ != "STANDARD" {
		return Machine{}, fmt.Errorf("type %v is not supported (only STANDARD)", typ)
	}
	uri, ok := props["DefinitionUri"].(string)
	if !ok {
		if _, inline := props["Definition"]; inline {
			return Machine{}, fmt.Errorf("an inline Definition is not supported; use DefinitionUri")
		}
		return Machine{}, fmt.Errorf("DefinitionUri is missing or not a local file path")
	}
	if !filepath.IsAbs(uri) {
		uri = filepath.Join(dir, uri)
	}
	doc, err := os.ReadFile(uri)
	if err != nil {
		return Machine{}, fmt.Errorf("read definition: %w", err)
	}
	subs := map[string]string{}
	if raw, ok := props["DefinitionSubstitutions"]; ok {
		resolved, err := t.Resolve(raw, env)
		if err != nil {
			return Machine{}, fmt.Errorf("DefinitionSubstitutions: %w", err)
		}
		m, ok := resolved.(map[string]any)
		if !ok {
			return Machine{}, fmt.Errorf("DefinitionSubstitutions is not a map")
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				subs[k] = v
			case bool, int, int64, float64:
				subs[k] = fmt.Sprint(v)
			default:
				return Machine{}, fmt.Errorf("DefinitionSubstitutions.%s resolves to %v, not a string", k, v)
			}
		}
	}
	var missing []string
	text := placeholder.ReplaceAllStringFunc(string(doc), func(s string) string {
		key := placeholder.FindStringSubmatch(s)[1]
		v, ok := subs[key]
		if !ok {
			missing = append(missing, key)
			return s
		}
		// The placeholder sits inside a JSON string: escape the value as JSON string content.
		b, _ := json.Marshal(v)
		return strings.TrimSuffix(strings.TrimPrefix(string(b), `"`), `"`)
	})
	if len(missing) > 0 {
		sort.Strings(missing)
		return Machine{}, fmt.Errorf("%s: no DefinitionSubstitutions for %s", filepath.Base(uri), strings.Join(missing, ", "))
	}
	arn, err := t.Resolve(map[string]any{"Ref": id}, env)
	if err != nil {
		return Machine{}, fmt.Errorf("resolve ARN: %w", err)
	}
	name, err := t.Resolve(map[string]any{"Fn::GetAtt": []any{id, "Name"}}, env)
	if err != nil {
		return Machine{}, fmt.Errorf("resolve name: %w", err)
	}
	arnS, _ := arn.(string)
	nameS, _ := name.(string)
	return Machine{LogicalID: id, Name: nameS, ARN: arnS, Definition: []byte(text)}, nil
}

// LoadMachines creates every machine on the engine (register the Lambda functions first).
func (e *Engine) LoadMachines(machines []Machine) error {
	for _, m := range machines {
		if err := e.CreateStateMachine(m.Name, m.ARN, m.Definition); err != nil {
			return err
		}
	}
	return nil
}
