package statemachine

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// intrinsic is a parsed intrinsic function call such as States.Format('{}', $.name).
type intrinsic struct {
	name string
	args []intrinsicArg
}

type intrinsicArg struct {
	literal any
	path    *path
	fn      *intrinsic
}

// intrinsicArity gives the argument count each supported function takes: min and max (-1: any).
var intrinsicArity = map[string][2]int{
	"States.Format":         {1, -1},
	"States.StringToJson":   {1, 1},
	"States.JsonToString":   {1, 1},
	"States.Array":          {0, -1},
	"States.ArrayPartition": {2, 2},
	"States.ArrayContains":  {2, 2},
	"States.ArrayRange":     {3, 3},
	"States.ArrayGetItem":   {2, 2},
	"States.ArrayLength":    {1, 1},
	"States.ArrayUnique":    {1, 1},
	"States.Base64Encode":   {1, 1},
	"States.Base64Decode":   {1, 1},
	"States.Hash":           {2, 2},
	"States.JsonMerge":      {3, 3},
	"States.MathRandom":     {2, 3},
	"States.MathAdd":        {2, 2},
	"States.StringSplit":    {2, 2},
	"States.UUID":           {0, 0},
}

func parseIntrinsic(s string) (*intrinsic, error) {
	p := &intrinsicParser{s: s}
	fn, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic function %q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic function %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return fn, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *intrinsicParser) call() (*intrinsic, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '(' {
		p.i++
	}
	if p.i == len(p.s) {
		return nil, fmt.Errorf("not a function call")
	}
	name := strings.TrimSpace(p.s[start:p.i])
	arity, ok := intrinsicArity[name]
	if !ok {
		return nil, fmt.Errorf("unsupported intrinsic function %q", name)
	}
	p.i++ // (
	fn := &intrinsic{name: name}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			a, err := p.arg()
			if err != nil {
				return nil, err
			}
			fn.args = append(fn.args, a)
			p.space()
			if p.i >= len(p.s) {
				return nil, fmt.Errorf("missing ) after the arguments of %s", name)
			}
			if p.s[p.i] == ')' {
				p.i++
				break
			}
			if p.s[p.i] != ',' {
				return nil, fmt.Errorf("unexpected %q in the arguments of %s", p.s[p.i], name)
			}
			p.i++
		}
	}
	if len(fn.args) < arity[0] || (arity[1] >= 0 && len(fn.args) > arity[1]) {
		return nil, fmt.Errorf("%s takes %s arguments, got %d", name, arityText(arity), len(fn.args))
	}
	return fn, nil
}

func arityText(a [2]int) string {
	switch {
	case a[1] < 0:
		return fmt.Sprintf("at least %d", a[0])
	case a[0] == a[1]:
		return strconv.Itoa(a[0])
	}
	return fmt.Sprintf("%d to %d", a[0], a[1])
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	p.space()
	if p.i >= len(p.s) {
		return intrinsicArg{}, fmt.Errorf("missing argument")
	}
	switch c := p.s[p.i]; {
	case c == '\'':
		s, err := p.str()
		return intrinsicArg{literal: s}, err
	case c == '$':
		start := p.i
		depth := 0
		var quote byte
		for p.i < len(p.s) {
			ch := p.s[p.i]
			if quote != 0 {
				if ch == '\\' {
					p.i++
				} else if ch == quote {
					quote = 0
				}
			} else if ch == '\'' || ch == '"' {
				quote = ch
			} else if ch == '[' || ch == '(' {
				depth++
			} else if ch == ']' || (ch == ')' && depth > 0) {
				depth--
			} else if depth == 0 && (ch == ',' || ch == ')') {
				break
			}
			p.i++
		}
		pth, err := parsePath(strings.TrimSpace(p.s[start:p.i]))
		return intrinsicArg{path: pth}, err
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.eE0123456789", p.s[p.i]) >= 0 {
			p.i++
		}
		txt := p.s[start:p.i]
		if n, err := strconv.ParseInt(txt, 10, 64); err == nil {
			return intrinsicArg{literal: n}, nil
		}
		f, err := strconv.ParseFloat(txt, 64)
		if err != nil {
			return intrinsicArg{}, fmt.Errorf("invalid number %q", txt)
		}
		return intrinsicArg{literal: f}, nil
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += 4
		return intrinsicArg{literal: true}, nil
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += 5
		return intrinsicArg{literal: false}, nil
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += 4
		return intrinsicArg{literal: nil}, nil
	}
	fn, err := p.call()
	return intrinsicArg{fn: fn}, err
}

// str reads a single-quoted string; \' \{ \} and \\ are escapes.
func (p *intrinsicParser) str() (string, error) {
	p.i++ // '
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch c {
		case '\\':
			if p.i+1 >= len(p.s) {
				return "", fmt.Errorf("unterminated escape")
			}
			next := p.s[p.i+1]
			if next == '{' || next == '}' {
				// Keep the escape: States.Format tells literal braces from placeholders by it.
				b.WriteByte('\\')
			}
			b.WriteByte(next)
			p.i += 2
			continue
		case '\'':
			p.i++
			return b.String(), nil
		}
		b.WriteByte(c)
		p.i++
	}
	return "", fmt.Errorf("unterminated string")
}

func (fn *intrinsic) mentions(s string) bool {
	for _, a := range fn.args {
		if a.path != nil && strings.HasPrefix(a.path.src, s) {
			return true
		}
		if a.fn != nil && a.fn.mentions(s) {
			return true
		}
	}
	return false
}

// unescapeBraces drops the backslashes kept before braces of a string literal outside Format.
func unescapeBraces(v any) any {
	if s, ok := v.(string); ok {
		return strings.NewReplacer(`\{`, "{", `\}`, "}").Replace(s)
	}
	return v
}

func intrinsicErr(name, format string, args ...any) error {
	return &stateError{Name: ErrIntrinsicFailure, Cause: name + ": " + fmt.Sprintf(format, args...)}
}

func (fn *intrinsic) eval(data, ctx any, rc *runCtx) (any, error) {
	args := make([]any, len(fn.args))
	for i, a := range fn.args {
		var err error
		switch {
		case a.path != nil:
			args[i], err = a.path.get(data, ctx)
		case a.fn != nil:
			args[i], err = a.fn.eval(data, ctx, rc)
		default:
			args[i] = a.literal
			if fn.name != "States.Format" || i != 0 {
				args[i] = unescapeBraces(a.literal)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	name := fn.name
	switch name {
	case "States.Format":
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErr(name, "the template is not a string")
		}
		var b strings.Builder
		next := 1
		for i := 0; i < len(tmpl); i++ {
			switch {
			case tmpl[i] == '\\' && i+1 < len(tmpl) && (tmpl[i+1] == '{' || tmpl[i+1] == '}'):
				b.WriteByte(tmpl[i+1])
				i++
			case tmpl[i] == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
				if next >= len(args) {
					return nil, intrinsicErr(name, "more placeholders than arguments")
				}
				switch a := args[next].(type) {
				case string:
					b.WriteString(a)
				case map[string]any, []any:
					return nil, intrinsicErr(name, "argument %d is not a string, number, boolean or null", next)
				default:
					b.WriteString(encodeJSON(a))
				}
				next++
				i++
			default:
				b.WriteByte(tmpl[i])
			}
		}
		if next != len(args) {
			return nil, intrinsicErr(name, "%d arguments for %d placeholders", len(args)-1, next-1)
		}
		return b.String(), nil
	case "States.StringToJson":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErr(name, "the argument is not a string")
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, intrinsicErr(name, "the argument is not JSON: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		return encodeJSON(args[0]), nil
	case "States.Array":
		return args, nil
	case "States.ArrayPartition":
		arr, ok := args[0].([]any)
		n, okN := asInt(args[1])
		if !ok || !okN || n <= 0 {
			return nil, intrinsicErr(name, "want an array and a positive chunk size")
		}
		out := []any{}
		for i := 0; i < len(arr); i += int(n) {
			end := min(i+int(n), len(arr))
			out = append(out, append([]any{}, arr[i:end]...))
		}
		return out, nil
	case "States.ArrayContains":
		arr, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicErr(name, "the first argument is not an array")
		}
		for _, e := range arr {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		lo, ok1 := asInt(args[0])
		hi, ok2 := asInt(args[1])
		step, ok3 := asInt(args[2])
		if !ok1 || !ok2 || !ok3 || step == 0 {
			return nil, intrinsicErr(name, "want integer start, end and a non-zero step")
		}
		out := []any{}
		for v := lo; (step > 0 && v <= hi) || (step < 0 && v >= hi); v += step {
			out = append(out, v)
			if len(out) > 1000 {
				return nil, intrinsicErr(name, "the range has more than 1000 items")
			}
		}
		return out, nil
	case "States.ArrayGetItem":
		arr, ok := args[0].([]any)
		i, okI := asInt(args[1])
		if !ok || !okI || i < 0 || int(i) >= len(arr) {
			return nil, intrinsicErr(name, "index out of range")
		}
		return arr[i], nil
	case "States.ArrayLength":
		arr, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicErr(name, "the argument is not an array")
		}
		return int64(len(arr)), nil
	case "States.ArrayUnique":
		arr, ok := args[0].([]any)
		if !ok {
			return nil, intrinsicErr(name, "the argument is not an array")
		}
		out := []any{}
	next:
		for _, e := range arr {
			for _, o := range out {
				if jsonEqual(e, o) {
					continue next
				}
			}
			out = append(out, e)
		}
		return out, nil
	case "States.Base64Encode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErr(name, "the argument is not a string")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, ok := args[0].(string)
		if !ok {
			return nil, intrinsicErr(name, "the argument is not a string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !utf8.Valid(b) {
			return nil, intrinsicErr(name, "the argument is not base64-encoded text")
		}
		return string(b), nil
	case "States.Hash":
		alg, ok := args[1].(string)
		var h hash.Hash
		switch alg {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			ok = false
		}
		if !ok {
			return nil, intrinsicErr(name, "unsupported algorithm %v (MD5, SHA-1, SHA-256, SHA-384, SHA-512)", args[1])
		}
		s, isStr := args[0].(string)
		if !isStr {
			s = encodeJSON(args[0])
		}
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		deep, ok3 := args[2].(bool)
		if !ok1 || !ok2 || !ok3 {
			return nil, intrinsicErr(name, "want two objects and a boolean")
		}
		if deep {
			return nil, intrinsicErr(name, "deep merging is not supported; the third argument must be false")
		}
		out := deepCopy(a).(map[string]any)
		for _, k := range members(b) {
			setMember(out, k, deepCopy(b[k]))
		}
		return out, nil
	case "States.MathRandom":
		lo, ok1 := asInt(args[0])
		hi, ok2 := asInt(args[1])
		if !ok1 || !ok2 || hi <= lo {
			return nil, intrinsicErr(name, "want integer start < end")
		}
		return lo + rc.randInt(hi-lo), nil
	case "States.MathAdd":
		a, ok1 := asInt(args[0])
		b, ok2 := asInt(args[1])
		if !ok1 || !ok2 {
			return nil, intrinsicErr(name, "both arguments must be integers")
		}
		return a + b, nil
	case "States.StringSplit":
		s, ok1 := args[0].(string)
		sep, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return nil, intrinsicErr(name, "both arguments must be strings")
		}
		// Every character of the separator splits, and empty pieces are dropped.
		parts := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) })
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "States.UUID":
		return rc.uuid(), nil
	}
	return nil, intrinsicErr(name, "unsupported")
}

// asInt accepts integers and floats with no fractional part.
func asInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case float64:
		if v == math.Trunc(v) {
			return int64(v), true
		}
	}
	return 0, false
}

func jsonEqual(a, b any) bool {
	if x, ok := asFloat(a); ok {
		y, ok := asFloat(b)
		return ok && x == y
	}
	return reflect.DeepEqual(normalize(withoutOrder(a)), normalize(withoutOrder(b)))
}

func asFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
