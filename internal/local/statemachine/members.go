package statemachine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
)

// Step Functions keeps the order of an object's members: a state's output, a task's input and
// States.JsonToString (whose text the machines hash into child execution names) list them as the
// JSON they came from did, and Parameters and ResultSelector as the definition wrote them. The
// engine's objects are maps, so a decoded or built object keeps its members' order under orderKey,
// a member name no JSON text can produce (it is not valid UTF-8), which only this file reads.
const orderKey = "\xff"

// memberOrder is the order of an object's members, kept under orderKey; its field is unexported so
// that a path walking the data (a descendant wildcard) finds nothing in it.
type memberOrder struct{ keys []string }

// members lists m's member names in their order: the kept order first, then any member added
// without it, sorted (as encoding/json orders a map).
func members(m map[string]any) []string {
	var order []string
	if o, ok := m[orderKey].(*memberOrder); ok {
		order = o.keys
	}
	out := make([]string, 0, len(m))
	for _, k := range order {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	if len(out) == len(m)-1 && len(order) > 0 {
		return out
	}
	var rest []string
	for k := range m {
		if k != orderKey && !slices.Contains(order, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// setMember sets member k of m, a new member going last.
func setMember(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[orderKey] = &memberOrder{keys: append(members(m), k)}
	}
	m[k] = v
}

// newObject is an empty object whose members will come in the order given.
func newObject(order []string) map[string]any {
	m := make(map[string]any, len(order)+1)
	if len(order) > 1 {
		m[orderKey] = &memberOrder{keys: slices.Clone(order)}
	}
	return m
}

// withoutOrder is a copy of v without the kept orders, for comparing values as JSON does (by
// members).
func withoutOrder(v any) any { return copyValue(v, false) }

// decodeJSON parses JSON into maps (keeping their members' order), slices, strings, booleans, nil,
// int64 (integers that fit) and float64, the value model every path and intrinsic works on.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	v, err := decodeValue(d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(d *json.Decoder) (any, error) {
	tok, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := map[string]any{}
			var order []string
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				if _, dup := m[k]; !dup {
					order = append(order, k)
				}
				m[k] = v // the last of duplicate members wins, as with encoding/json
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			if len(order) > 1 {
				m[orderKey] = &memberOrder{keys: order}
			}
			return m, nil
		case '[':
			s := []any{}
			for d.More() {
				v, err := decodeValue(d)
				if err != nil {
					return nil, err
				}
				s = append(s, v)
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return s, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return normalize(t), nil
	}
	return tok, nil
}

// encodeJSON writes v compactly, without HTML escaping, members in their order, as Step Functions
// does.
func encodeJSON(v any) string {
	w := &jsonWriter{}
	w.enc = json.NewEncoder(&w.scratch)
	w.enc.SetEscapeHTML(false)
	if err := w.write(v); err != nil {
		return "null"
	}
	return w.out.String()
}

// jsonWriter writes the engine's values; scalars go through one encoding/json encoder.
type jsonWriter struct {
	out, scratch bytes.Buffer
	enc          *json.Encoder
}

func (w *jsonWriter) write(v any) error {
	switch v := v.(type) {
	case map[string]any:
		w.out.WriteByte('{')
		for i, k := range members(v) {
			if i > 0 {
				w.out.WriteByte(',')
			}
			if err := w.scalar(k); err != nil {
				return err
			}
			w.out.WriteByte(':')
			if err := w.write(v[k]); err != nil {
				return err
			}
		}
		w.out.WriteByte('}')
		return nil
	case []any:
		w.out.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				w.out.WriteByte(',')
			}
			if err := w.write(e); err != nil {
				return err
			}
		}
		w.out.WriteByte(']')
		return nil
	case int64:
		w.out.WriteString(strconv.FormatInt(v, 10))
		return nil
	case bool:
		w.out.WriteString(strconv.FormatBool(v))
		return nil
	case nil:
		w.out.WriteString("null")
		return nil
	}
	return w.scalar(v)
}

// scalar writes anything else as encoding/json does, unescaped.
func (w *jsonWriter) scalar(v any) error {
	w.scratch.Reset()
	if err := w.enc.Encode(v); err != nil {
		return err
	}
	w.out.Write(bytes.TrimSuffix(w.scratch.Bytes(), []byte("\n")))
	return nil
}
