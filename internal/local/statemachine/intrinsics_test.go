package statemachine

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func evalIntrinsic(t *testing.T, e *Engine, expr, input string) (any, error) {
	t.Helper()
	fn, err := parseIntrinsic(expr)
	if err != nil {
		t.Fatalf("parse %s: %v", expr, err)
	}
	data, err := decodeJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return fn.eval(data, map[string]any{"Execution": map[string]any{"Name": "ex"}}, &runCtx{e})
}

// Examples from the AWS documentation of each intrinsic function.
func TestIntrinsics(t *testing.T) {
	input := `{"name":"Arnav","n":3,"arr":[1,2,3,4,5,6,7,8,9],"dup":[1,2,3,3,3,3,3,3,4],"obj":{"a":{"b":1},"c":2},"obj2":{"a":{"x":9},"d":4},
		"str":"{\"x\":1}","csv":"1,2,3,4,5","multi":"This.is+a,test=string","b64":"RGF0YSB0byBlbmNvZGU=","plain":"Data to encode"}`
	tests := []struct{ expr, want string }{
		{`States.Format('Hello, my name is {}.', $.name)`, `"Hello, my name is Arnav."`},
		{`States.Format('{} and {} of {}', 'a', 3, $$.Execution.Name)`, `"a and 3 of ex"`},
		{`States.Format('literal \{\} and {}', true)`, `"literal {} and true"`},
		{`States.Format('it\'s {}', null)`, `"it's null"`},
		{`States.StringToJson($.str)`, `{"x":1}`},
		{`States.JsonToString($.obj)`, `"{\"a\":{\"b\":1},\"c\":2}"`},
		{`States.Array('Foo', 2020, $.obj.c, States.Array(1))`, `["Foo",2020,2,[1]]`},
		{`States.ArrayPartition($.arr, 4)`, `[[1,2,3,4],[5,6,7,8],[9]]`},
		{`States.ArrayContains($.arr, 5)`, `true`},
		{`States.ArrayContains($.arr, 10)`, `false`},
		{`States.ArrayRange(1, 9, 2)`, `[1,3,5,7,9]`},
		{`States.ArrayGetItem($.arr, 5)`, `6`},
		{`States.ArrayLength($.arr)`, `9`},
		{`States.ArrayUnique($.dup)`, `[1,2,3,4]`},
		{`States.Base64Encode($.plain)`, `"RGF0YSB0byBlbmNvZGU="`},
		{`States.Base64Decode($.b64)`, `"Data to encode"`},
		{`States.JsonMerge($.obj, $.obj2, false)`, `{"a":{"x":9},"c":2,"d":4}`},
		{`States.MathAdd($.n, -1)`, `2`},
		{`States.MathAdd(111, -1)`, `110`},
		{`States.StringSplit($.csv, ',')`, `["1","2","3","4","5"]`},
		{`States.StringSplit($.multi, '.+,=')`, `["This","is","a","test","string"]`},
		{`States.ArrayLength(States.StringSplit($.csv, ','))`, `5`},
	}
	e := newEngine(t)
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got, err := evalIntrinsic(t, e, tt.expr, input)
			if err != nil {
				t.Fatal(err)
			}
			jsonEq(t, encodeJSON(got), tt.want)
		})
	}
}

func TestIntrinsicHash(t *testing.T) {
	e := newEngine(t)
	for alg, want := range map[string]string{
		"MD5":     "900150983cd24fb0d6963f7d28e17f72",
		"SHA-1":   "a9993e364706816aba3e25717850c26c9cd0d89d",
		"SHA-256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	} {
		got, err := evalIntrinsic(t, e, `States.Hash('abc', '`+alg+`')`, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: got %v, want %s", alg, got, want)
		}
	}
	if _, err := evalIntrinsic(t, e, `States.Hash('abc', 'CRC32')`, `{}`); err == nil {
		t.Error("unsupported algorithm accepted")
	}
}

func TestIntrinsicUUIDAndRandom(t *testing.T) {
	e := newEngine(t)
	got, err := evalIntrinsic(t, e, `States.UUID()`, `{}`)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(got.(string)) {
		t.Errorf("not a v4 UUID: %v", got)
	}
	for range 50 {
		v, err := evalIntrinsic(t, e, `States.MathRandom(1, 10)`, `{}`)
		if err != nil {
			t.Fatal(err)
		}
		if n := v.(int64); n < 1 || n >= 10 {
			t.Fatalf("MathRandom out of range: %d", n)
		}
	}
}

func TestIntrinsicErrors(t *testing.T) {
	e := newEngine(t)
	for _, expr := range []string{
		`States.Format('{} {}', 'one')`,
		`States.StringToJson('not json')`,
		`States.MathAdd('a', 1)`,
		`States.ArrayGetItem($.a, 9)`,
		`States.Base64Decode('%%%')`,
		`States.JsonMerge($.o, $.o, true)`,
	} {
		_, err := evalIntrinsic(t, e, expr, `{"a":[1],"o":{}}`)
		se, ok := err.(*stateError)
		if !ok || se.Name != ErrIntrinsicFailure {
			t.Errorf("%s: got %v, want States.IntrinsicFailure", expr, err)
		}
	}
}

func TestIntrinsicParseRefusals(t *testing.T) {
	for _, expr := range []string{
		`States.Nope(1)`,
		`States.Format(`,
		`States.MathAdd(1)`,
		`States.UUID(1)`,
		`States.Format('x') trailing`,
		`States.Format('unterminated)`,
	} {
		if _, err := parseIntrinsic(expr); err == nil {
			t.Errorf("%s: parsed", expr)
		}
	}
}

// States.JsonToString writes an object's members in the order the JSON they came from had (a task
// result, the execution input), as Step Functions does; Parameters keep the definition's order and a
// ResultPath adds its member last. The machines hash that text into child execution names.
func TestJsonToStringKeepsMemberOrder(t *testing.T) {
	e := newEngine(t)
	e.RegisterLambda(fnARN("cp"), 128, func(context.Context, json.RawMessage) (json.RawMessage, error) {
		return json.RawMessage(`{"table":"t","segment":3,"after":{"sk":"b","pk":"a"},"done":false}`), nil
	})
	d := runMachine(t, e, `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"`+fnARN("cp")+`","ResultPath":"$.cp","Next":"P"},
		"P":{"Type":"Pass","Parameters":{"zeta.$":"States.JsonToString($.cp)","alpha.$":"States.JsonToString($.in)",
			"merged.$":"States.JsonToString(States.JsonMerge($.in, $.cp.after, false))"},"End":true}}}`, `{"in":{"y":1,"x":2}}`)
	want := `{"zeta":"{\"table\":\"t\",\"segment\":3,\"after\":{\"sk\":\"b\",\"pk\":\"a\"},\"done\":false}",` +
		`"alpha":"{\"y\":1,\"x\":2}","merged":"{\"y\":1,\"x\":2,\"sk\":\"b\",\"pk\":\"a\"}"}`
	if got := str(d.Output); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	h := mustHistoryEvents(t, e, str(d.ExecutionArn))
	for _, ev := range h {
		if ev.Type == "TaskStateExited" && !strings.HasPrefix(ev.Output, `{"in":{"y":1,"x":2},"cp":{"table":"t","segment":3,`) {
			t.Errorf("state output %s: the input's members first, the ResultPath's last, each in its order", ev.Output)
		}
	}
}

func mustHistoryEvents(t *testing.T, e *Engine, arn string) []Event {
	t.Helper()
	h, err := e.History(arn)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// The kept member order is no member: a wildcard does not list it and no output shows it.
func TestMemberOrderIsNoMember(t *testing.T) {
	e := newEngine(t)
	d := runMachine(t, e, `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"n.$":"States.ArrayLength($.in.*)",
		"all.$":"States.ArrayLength($..*)",
		"same.$":"States.ArrayContains(States.Array($.in), $.other)","in.$":"$.in"},"End":true}}}`, `{"in":{"y":1,"x":2},"other":{"x":2,"y":1}}`)
	if got, want := str(d.Output), `{"n":2,"all":6,"same":true,"in":{"y":1,"x":2}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
