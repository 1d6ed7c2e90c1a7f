package statemachine

import (
	"fmt"
	"strings"
	"time"
)

// choiceRule is one Choice rule: a comparison of Variable, or And/Or/Not of nested rules.
type choiceRule struct {
	variable *path
	op       string
	value    any   // the literal operand
	operand  *path // the operand of a …Path operator
	and, or  []*choiceRule
	not      *choiceRule
	next     string
}

// comparisonKinds gives the operand kind each comparison operator takes.
var comparisonKinds = map[string]string{
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

// pathOperators are the comparison operators that also exist with a Path suffix.
func isPathOperator(op string) (string, bool) {
	base, ok := strings.CutSuffix(op, "Path")
	if !ok || base == "StringMatches" || strings.HasPrefix(base, "Is") {
		return "", false
	}
	_, known := comparisonKinds[base]
	return base, known
}

func parseChoiceRule(raw any, top bool) (*choiceRule, error) {
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a choice rule must be an object")
	}
	r := &choiceRule{}
	var ops []string
	for k, v := range m {
		switch k {
		case orderKey:
		case "Next":
			if !top {
				return nil, fmt.Errorf("field Next is only allowed in a top-level choice rule")
			}
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("field Next must be a string")
			}
			r.next = s
		case "Comment":
		case "Variable":
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("field Variable must be a string")
			}
			p, err := parsePath(s)
			if err != nil {
				return nil, fmt.Errorf("field Variable: %w", err)
			}
			r.variable = p
		case "And", "Or":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("field %s must be a non-empty array of rules", k)
			}
			var rules []*choiceRule
			for i, e := range list {
				sub, err := parseChoiceRule(e, false)
				if err != nil {
					return nil, fmt.Errorf("%s[%d]: %w", k, i, err)
				}
				rules = append(rules, sub)
			}
			if k == "And" {
				r.and = rules
			} else {
				r.or = rules
			}
			ops = append(ops, k)
		case "Not":
			sub, err := parseChoiceRule(v, false)
			if err != nil {
				return nil, fmt.Errorf("Not: %w", err)
			}
			r.not = sub
			ops = append(ops, k)
		default:
			if base, ok := isPathOperator(k); ok {
				s, isStr := v.(string)
				if !isStr {
					return nil, fmt.Errorf("field %s must be a path", k)
				}
				p, err := parsePath(s)
				if err != nil {
					return nil, fmt.Errorf("field %s: %w", k, err)
				}
				r.op, r.operand = base, p
				ops = append(ops, k)
				continue
			}
			kind, ok := comparisonKinds[k]
			if !ok {
				return nil, fmt.Errorf("unsupported field %q in a choice rule", k)
			}
			if err := checkOperand(k, kind, v); err != nil {
				return nil, err
			}
			r.op, r.value = k, v
			ops = append(ops, k)
		}
	}
	if len(ops) != 1 {
		return nil, fmt.Errorf("a choice rule needs exactly one comparison operator or And/Or/Not, got %d", len(ops))
	}
	if top && r.next == "" {
		return nil, fmt.Errorf("a top-level choice rule needs field Next")
	}
	if r.op != "" && r.variable == nil {
		return nil, fmt.Errorf("comparison %s needs field Variable", ops[0])
	}
	if r.op == "" && r.variable != nil {
		return nil, fmt.Errorf("field Variable is not allowed with %s", ops[0])
	}
	return r, nil
}

func checkOperand(op, kind string, v any) error {
	switch kind {
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("field %s must be a string", op)
		}
	case "number":
		if _, ok := asFloat(v); !ok {
			return fmt.Errorf("field %s must be a number", op)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("field %s must be a boolean", op)
		}
	case "timestamp":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("field %s must be a timestamp string", op)
		}
		if _, ok := parseTimestamp(s); !ok {
			return fmt.Errorf("field %s: %q is not an RFC 3339 timestamp", op, s)
		}
	}
	return nil
}

// parseTimestamp accepts the RFC 3339 profile ASL uses (an uppercase T and a zone).
func parseTimestamp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// eval tells whether the rule matches; a missing variable or operand path is States.Runtime,
// except for IsPresent.
func (r *choiceRule) eval(data, ctx any) (bool, error) {
	switch {
	case r.and != nil:
		for _, s := range r.and {
			ok, err := s.eval(data, ctx)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, s := range r.or {
			ok, err := s.eval(data, ctx)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := r.not.eval(data, ctx)
		return !ok, err
	}
	var v any
	var present bool
	if r.variable.reference {
		src := data
		if r.variable.context {
			src = ctx
		}
		v, present = r.variable.lookup(src)
	} else {
		got, _ := r.variable.get(data, ctx)
		v, present = got, len(got.([]any)) > 0
	}
	if r.op == "IsPresent" {
		return present == r.value.(bool), nil
	}
	if !present {
		return false, &stateError{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.src)}
	}
	operand := r.value
	if r.operand != nil {
		var err error
		if operand, err = r.operand.get(data, ctx); err != nil {
			return false, err
		}
	}
	switch r.op {
	case "IsNull":
		return (v == nil) == operand.(bool), nil
	case "IsNumeric":
		_, ok := asFloat(v)
		return ok == operand.(bool), nil
	case "IsString":
		_, ok := v.(string)
		return ok == operand.(bool), nil
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == operand.(bool), nil
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, ok = parseTimestamp(s)
		}
		return ok == operand.(bool), nil
	case "StringMatches":
		s, ok1 := v.(string)
		pat, ok2 := operand.(string)
		return ok1 && ok2 && wildcardMatch(pat, s), nil
	}
	var cmp int
	switch comparisonKinds[r.op] {
	case "string":
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = strings.Compare(a, b)
	case "number":
		a, ok1 := asFloat(v)
		b, ok2 := asFloat(operand)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = compare(a < b, a > b)
	case "boolean":
		a, ok1 := v.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b, nil
	case "timestamp":
		as, ok1 := v.(string)
		bs, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false, nil
		}
		a, ok1 := parseTimestamp(as)
		b, ok2 := parseTimestamp(bs)
		if !ok1 || !ok2 {
			return false, nil
		}
		cmp = a.Compare(b)
	}
	switch {
	case strings.HasSuffix(r.op, "GreaterThanEquals"):
		return cmp >= 0, nil
	case strings.HasSuffix(r.op, "LessThanEquals"):
		return cmp <= 0, nil
	case strings.HasSuffix(r.op, "GreaterThan"):
		return cmp > 0, nil
	case strings.HasSuffix(r.op, "LessThan"):
		return cmp < 0, nil
	}
	return cmp == 0, nil
}

func compare(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}

// wildcardMatch implements StringMatches: * matches any run of characters; \* and \\ are literal.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		c    rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch {
		case rs[i] == '\\' && i+1 < len(rs):
			toks = append(toks, tok{c: rs[i+1]})
			i++
		case rs[i] == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{c: rs[i]})
		}
	}
	str := []rune(s)
	// Iterative matching with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].c == str[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
