package gateway

import (
	"fmt"
	"strings"
)

// anyMethod is API Gateway's route method that matches every method no other route of the path names.
const anyMethod = "ANY"

// segment is one piece of a route path template.
type segment struct {
	literal string // the text to match when param is ""
	param   string // the path parameter name for {param} and {param+}
	greedy  bool   // {param+}: one or more whole segments, only at the end
}

// route is a Route with its path template parsed.
type route struct {
	Route
	key      string // the route key API Gateway reports: "GET /v1/bots/{botId}"
	segments []segment
}

// compileRoutes parses every template and refuses what API Gateway's CreateRoute would refuse: a
// path that does not start with "/", a greedy variable that is not last, a parameter named twice, a
// route key defined twice.
func compileRoutes(routes []Route) ([]route, error) {
	out := make([]route, 0, len(routes))
	seen := map[string]bool{}
	for _, r := range routes {
		method := strings.ToUpper(r.Method)
		if method == "" || r.Handler == nil {
			return nil, fmt.Errorf("route %q %q: needs a method and a handler", r.Method, r.Path)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %s %s: path must start with /", method, r.Path)
		}
		key := method + " " + r.Path
		if seen[key] {
			return nil, fmt.Errorf("route %s defined twice", key)
		}
		seen[key] = true
		var segs []segment
		names := map[string]bool{}
		parts := strings.Split(r.Path[1:], "/")
		for i, p := range parts {
			if !strings.HasPrefix(p, "{") || !strings.HasSuffix(p, "}") {
				if strings.ContainsAny(p, "{}") {
					return nil, fmt.Errorf("route %s: segment %q mixes text and a variable", key, p)
				}
				segs = append(segs, segment{literal: p})
				continue
			}
			name := p[1 : len(p)-1]
			greedy := strings.HasSuffix(name, "+")
			name = strings.TrimSuffix(name, "+")
			if name == "" || strings.ContainsAny(name, "{}+") {
				return nil, fmt.Errorf("route %s: bad variable %q", key, p)
			}
			if greedy && i != len(parts)-1 {
				return nil, fmt.Errorf("route %s: a greedy variable must end the path", key)
			}
			if names[name] {
				return nil, fmt.Errorf("route %s: variable %q used twice", key, name)
			}
			names[name] = true
			segs = append(segs, segment{param: name, greedy: greedy})
		}
		r.Method = method
		out = append(out, route{Route: r, key: key, segments: segs})
	}
	return out, nil
}

// match reports whether the decoded request path fits the template, with its path parameters.
func (r *route) match(method, path string) (map[string]string, bool) {
	if r.Method != method && r.Method != anyMethod {
		return nil, false
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	params := map[string]string{}
	for i, s := range r.segments {
		if s.greedy {
			if i >= len(parts) {
				return nil, false
			}
			rest := strings.Join(parts[i:], "/")
			if rest == "" {
				return nil, false
			}
			params[s.param] = rest
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		switch {
		case s.param == "" && parts[i] != s.literal:
			return nil, false
		case s.param != "" && parts[i] == "":
			// A variable stands for a whole, non-empty segment.
			return nil, false
		case s.param != "":
			params[s.param] = parts[i]
		}
	}
	if len(parts) != len(r.segments) {
		return nil, false
	}
	if len(params) == 0 {
		params = nil
	}
	return params, true
}

// moreSpecific orders two routes that both match, the way API Gateway picks the best match: a route
// without a greedy variable beats one with; then, segment by segment from the left, literal text beats
// a variable; then the longer template; and a named method beats ANY.
func moreSpecific(a, b *route) bool {
	ag, bg := a.greedy(), b.greedy()
	if ag != bg {
		return !ag
	}
	for i := 0; i < len(a.segments) && i < len(b.segments); i++ {
		al, bl := a.segments[i].param == "", b.segments[i].param == ""
		if al != bl {
			return al
		}
	}
	if len(a.segments) != len(b.segments) {
		return len(a.segments) > len(b.segments)
	}
	return a.Method != anyMethod && b.Method == anyMethod
}

func (r *route) greedy() bool {
	return len(r.segments) > 0 && r.segments[len(r.segments)-1].greedy
}

// decodePath percent-decodes a request path as an HTTP API does before routing and before it fills
// rawPath: every escape is decoded except %25, which stays as written so the result cannot be decoded
// a second time into something else.
func decodePath(escaped string) string {
	if !strings.Contains(escaped, "%") {
		return escaped
	}
	var b strings.Builder
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		if c == '%' && i+2 < len(escaped) && isHex(escaped[i+1]) && isHex(escaped[i+2]) {
			v := unhex(escaped[i+1])<<4 | unhex(escaped[i+2])
			if v != '%' {
				b.WriteByte(v)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
