package samtemplate

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decodeYAML parses a CloudFormation YAML document into plain JSON-compatible values, with every
// short-form tag (!Ref, !Sub …) rewritten to its long JSON form.
func decodeYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("empty document")
	}
	return convert(&doc)
}

// shortForms maps each CloudFormation short-form tag to its long-form key.
var shortForms = map[string]string{
	"!Ref":         "Ref",
	"!Condition":   "Condition",
	"!Sub":         "Fn::Sub",
	"!GetAtt":      "Fn::GetAtt",
	"!Join":        "Fn::Join",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!FindInMap":   "Fn::FindInMap",
	"!ImportValue": "Fn::ImportValue",
	"!Base64":      "Fn::Base64",
	"!GetAZs":      "Fn::GetAZs",
	"!Cidr":        "Fn::Cidr",
}

func convert(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0])
	case yaml.AliasNode:
		return convert(n.Alias)
	}
	if long, ok := shortForms[n.Tag]; ok {
		return convertShortForm(n, long)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		return convertMapping(n)
	case yaml.SequenceNode:
		return convertSequence(n)
	case yaml.ScalarNode:
		return convertScalar(n)
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
}

func convertShortForm(n *yaml.Node, long string) (any, error) {
	if n.Kind == yaml.ScalarNode {
		// A tagged scalar is always text: `!Ref 123` names the parameter "123".
		switch long {
		case "Fn::GetAtt":
			// CloudFormation splits on the first dot; attribute names may themselves hold dots.
			res, attr, ok := strings.Cut(n.Value, ".")
			if !ok || res == "" || attr == "" {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, n.Value)
			}
			return map[string]any{long: []any{res, attr}}, nil
		}
		return map[string]any{long: n.Value}, nil
	}
	var v any
	var err error
	switch n.Kind {
	case yaml.MappingNode:
		v, err = convertMapping(n)
	case yaml.SequenceNode:
		v, err = convertSequence(n)
	default:
		return nil, fmt.Errorf("line %d: %s on an unsupported node", n.Line, n.Tag)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{long: v}, nil
}

func convertMapping(n *yaml.Node) (any, error) {
	m := make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, vn := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
		}
		if k.Tag == "!!merge" {
			return nil, fmt.Errorf("line %d: YAML merge keys are not supported by CloudFormation", k.Line)
		}
		// CloudFormation refuses duplicate keys; silently keeping the last one would hide a resource.
		if _, dup := m[k.Value]; dup {
			return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
		}
		v, err := convert(vn)
		if err != nil {
			return nil, err
		}
		m[k.Value] = v
	}
	return m, nil
}

func convertSequence(n *yaml.Node) (any, error) {
	s := make([]any, 0, len(n.Content))
	for _, c := range n.Content {
		v, err := convert(c)
		if err != nil {
			return nil, err
		}
		s = append(s, v)
	}
	return s, nil
}

func convertScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return b, nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		if i < math.MinInt || i > math.MaxInt {
			return float64(i), nil
		}
		return int(i), nil
	case "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil {
			var d float64
			if derr := n.Decode(&d); derr != nil {
				return nil, fmt.Errorf("line %d: %w", n.Line, derr)
			}
			f = d
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %q is not a JSON number", n.Line, n.Value)
		}
		return f, nil
	}
	// Strings, and timestamps such as an unquoted 2010-09-09, stay the text they were written as.
	return n.Value, nil
}
