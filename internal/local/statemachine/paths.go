package statemachine

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/ohler55/ojg/jp"
)

func normalize(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = normalize(e)
		}
	case []any:
		for i, e := range v {
			v[i] = normalize(e)
		}
	case int:
		return int64(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
			return int64(v)
		}
	}
	return v
}

// deepCopy copies the maps and slices of a decoded JSON value, so ResultPath can write into it.
func deepCopy(v any) any { return copyValue(v, true) }

// copyValue copies v's maps and slices, with or without the member orders they keep.
func copyValue(v any, keepOrder bool) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			if k != orderKey || keepOrder {
				m[k] = copyValue(e, keepOrder)
			}
		}
		return m
	case *memberOrder:
		return &memberOrder{keys: slices.Clone(v.keys)}
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyValue(e, keepOrder)
		}
		return s
	}
	return v
}

// path is a parsed JSONPath: Paths may select many nodes, Reference Paths exactly one.
type path struct {
	src       string
	context   bool // starts with $$: evaluated against the context object
	expr      jp.Expr
	reference bool // only child names and indexes: selects at most one node
}

func parsePath(s string) (*path, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("path %q does not start with $", s)
	}
	p := &path{src: s}
	expr := s
	if strings.HasPrefix(s, "$$") {
		p.context = true
		expr = s[1:]
	}
	x, err := jp.ParseString(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid path %q: %w", s, err)
	}
	p.expr = x
	p.reference = true
	for i, f := range x {
		switch f.(type) {
		case jp.Root:
			if i != 0 {
				p.reference = false
			}
		case jp.Child, jp.Nth, jp.Bracket:
		default:
			p.reference = false
		}
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("invalid path %q", s)
	}
	if _, ok := x[0].(jp.Root); !ok {
		return nil, fmt.Errorf("path %q does not start with $", s)
	}
	return p, nil
}

// parseReferencePath parses a Reference Path, as ResultPath and Choice variables take.
func parseReferencePath(s string) (*path, error) {
	p, err := parsePath(s)
	if err != nil {
		return nil, err
	}
	if !p.reference || p.context {
		return nil, fmt.Errorf("%q is not a reference path", s)
	}
	return p, nil
}

// lookup walks a reference path; ok is false when a step does not exist.
func (p *path) lookup(v any) (any, bool) {
	for _, f := range p.expr {
		switch f := f.(type) {
		case jp.Root, jp.Bracket:
		case jp.Child:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[string(f)]; !ok {
				return nil, false
			}
		case jp.Nth:
			s, ok := v.([]any)
			if !ok {
				return nil, false
			}
			i := int(f)
			if i < 0 {
				i += len(s)
			}
			if i < 0 || i >= len(s) {
				return nil, false
			}
			v = s[i]
		}
	}
	return v, true
}

// get evaluates the path against data (or the context object for $$ paths). A reference path that
// selects nothing is an error; any other path yields the list of what it selects.
func (p *path) get(data, ctx any) (any, error) {
	src := data
	if p.context {
		src = ctx
	}
	if p.reference {
		v, ok := p.lookup(src)
		if !ok {
			return nil, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The path references an invalid value.", p.src)}
		}
		return v, nil
	}
	res := slices.DeleteFunc(p.expr.Get(src), func(v any) bool {
		_, isOrder := v.(*memberOrder) // a wildcard lists every member of a map
		return isOrder
	})
	if res == nil {
		res = []any{}
	}
	return normalize(res), nil
}

// set writes value at the reference path in data (a copy is made), creating objects on the way.
func (p *path) set(data, value any) (any, error) {
	if len(p.expr) == 1 {
		return value, nil
	}
	root := deepCopy(data)
	if _, ok := root.(map[string]any); !ok {
		if _, isArr := root.([]any); !isArr {
			return nil, &stateError{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Invalid path '%s': The ResultPath cannot be applied to a non-object input.", p.src)}
		}
	}
	frags := make([]jp.Frag, 0, len(p.expr))
	for _, f := range p.expr {
		if _, ok := f.(jp.Bracket); !ok {
			frags = append(frags, f)
		}
	}
	cur := root
	for i := 1; i < len(frags); i++ {
		last := i == len(frags)-1
		switch f := frags[i].(type) {
		case jp.Child:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, &stateError{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Invalid path '%s': The ResultPath references a field of a non-object value.", p.src)}
			}
			if last {
				setMember(m, string(f), value)
				break
			}
			next, ok := m[string(f)]
			if !ok || next == nil {
				next = map[string]any{}
				setMember(m, string(f), next)
			}
			cur = next
		case jp.Nth:
			s, ok := cur.([]any)
			idx := int(f)
			if ok && idx < 0 {
				idx += len(s)
			}
			if !ok || idx < 0 || idx >= len(s) {
				return nil, &stateError{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Invalid path '%s': The ResultPath references an invalid array index.", p.src)}
			}
			if last {
				s[idx] = value
				break
			}
			cur = s[idx]
		}
	}
	return root, nil
}

// template is a parsed payload template (Parameters, ResultSelector): fields whose name ends in .$
// are paths or intrinsic functions evaluated at run time, the rest are copied as they are.
type template struct {
	literal any
	fields  []templateField // for an object
	items   []*template     // for an array
	isObj   bool
	isArr   bool
}

type templateField struct {
	name  string
	path  *path      // for "name.$": "$..."
	fn    *intrinsic // for "name.$": "States.X(...)"
	value *template  // for a plain field
}

func parseTemplate(v any) (*template, error) {
	switch v := v.(type) {
	case map[string]any:
		t := &template{isObj: true}
		for _, k := range members(v) { // the definition's order, which the result keeps
			e := v[k]
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				s, isStr := e.(string)
				if !isStr {
					return nil, fmt.Errorf("field %q: the value of a field ending in .$ must be a path or an intrinsic function", k)
				}
				f := templateField{name: name}
				if strings.HasPrefix(s, "$") {
					p, err := parsePath(s)
					if err != nil {
						return nil, fmt.Errorf("field %q: %w", k, err)
					}
					f.path = p
				} else {
					fn, err := parseIntrinsic(s)
					if err != nil {
						return nil, fmt.Errorf("field %q: %w", k, err)
					}
					f.fn = fn
				}
				t.fields = append(t.fields, f)
				continue
			}
			sub, err := parseTemplate(e)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", k, err)
			}
			t.fields = append(t.fields, templateField{name: k, value: sub})
		}
		return t, nil
	case []any:
		t := &template{isArr: true}
		for i, e := range v {
			sub, err := parseTemplate(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			t.items = append(t.items, sub)
		}
		return t, nil
	}
	return &template{literal: v}, nil
}

// mentions reports whether the template reads the context path s (to check $$.Task.Token).
func (t *template) mentions(s string) bool {
	for _, f := range t.fields {
		if f.path != nil && strings.HasPrefix(f.path.src, s) {
			return true
		}
		if f.fn != nil && f.fn.mentions(s) {
			return true
		}
		if f.value != nil && f.value.mentions(s) {
			return true
		}
	}
	for _, it := range t.items {
		if it.mentions(s) {
			return true
		}
	}
	return false
}

func (t *template) eval(data, ctx any, rc *runCtx) (any, error) {
	switch {
	case t.isObj:
		names := make([]string, len(t.fields))
		for i, f := range t.fields {
			names[i] = f.name
		}
		m := newObject(names)
		for _, f := range t.fields {
			var v any
			var err error
			switch {
			case f.path != nil:
				v, err = f.path.get(data, ctx)
				v = deepCopy(v)
			case f.fn != nil:
				v, err = f.fn.eval(data, ctx, rc)
			default:
				v, err = f.value.eval(data, ctx, rc)
			}
			if err != nil {
				return nil, err
			}
			m[f.name] = v
		}
		return m, nil
	case t.isArr:
		s := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := it.eval(data, ctx, rc)
			if err != nil {
				return nil, err
			}
			s[i] = v
		}
		return s, nil
	}
	return deepCopy(t.literal), nil
}
