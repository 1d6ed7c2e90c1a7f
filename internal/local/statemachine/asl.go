package statemachine

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// definition is a parsed, validated state machine.
type definition struct {
	startAt        string
	states         map[string]*state
	timeoutSeconds int64 // 0: none
}

// ioPath is InputPath or OutputPath: absent means $, null means the empty object.
type ioPath struct {
	p    *path
	null bool
}

func (io ioPath) apply(data, ctx any) (any, error) {
	switch {
	case io.null:
		return map[string]any{}, nil
	case io.p == nil:
		return data, nil
	}
	return io.p.get(data, ctx)
}

type state struct {
	name, typ string
	next      string
	end       bool

	inputPath, outputPath ioPath
	parameters            *template
	resultSelector        *template
	resultPath            *path
	resultPathNull        bool
	result                any
	hasResult             bool

	// Task
	res              *resource
	timeoutSeconds   int64
	timeoutPath      *path
	heartbeatSeconds int64
	heartbeatPath    *path
	retry            []*retrier
	catch            []*catcher

	// Choice
	choices     []*choiceRule
	defaultNext string

	// Wait
	seconds       *int64
	secondsPath   *path
	timestamp     *time.Time
	timestampPath *path

	// Fail
	errorName, cause     string
	errorPath, causePath *failValue
}

// failValue is ErrorPath or CausePath: a reference path or an intrinsic function.
type failValue struct {
	p  *path
	fn *intrinsic
}

type retrier struct {
	errorEquals []string
	interval    float64
	maxAttempts int
	backoffRate float64
	maxDelay    float64 // seconds; 0: none
	jitterFull  bool
}

type catcher struct {
	errorEquals    []string
	next           string
	resultPath     *path
	resultPathNull bool
}

// defaultTaskTimeout is what Step Functions uses when a Task gives no TimeoutSeconds.
const defaultTaskTimeout = 99999999

// allowedFields lists the fields each state type may carry; anything else is refused.
var allowedFields = map[string][]string{
	"Task": {"Resource", "Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath",
		"Retry", "Catch", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
	"Pass":    {"Next", "End", "InputPath", "OutputPath", "Parameters", "Result", "ResultPath"},
	"Choice":  {"Choices", "Default", "InputPath", "OutputPath"},
	"Wait":    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed": {"InputPath", "OutputPath"},
	"Fail":    {"Error", "ErrorPath", "Cause", "CausePath"},
}

// parseDefinition parses and validates an ASL document; check vets each Task's resource.
func parseDefinition(doc []byte, check func(st *state) error) (*definition, error) {
	v, err := decodeJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("definition is not JSON: %w", err)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("definition is not a JSON object")
	}
	d := &definition{states: map[string]*state{}}
	for _, k := range sortedKeys(top) {
		switch k {
		case "StartAt", "States", "Comment", "Version":
		case "TimeoutSeconds":
			n, ok := asInt(top[k])
			if !ok || n <= 0 {
				return nil, fmt.Errorf("field TimeoutSeconds must be a positive integer")
			}
			d.timeoutSeconds = n
		case "QueryLanguage":
			if top[k] != "JSONPath" {
				return nil, fmt.Errorf("field QueryLanguage: only JSONPath is supported, not %v", top[k])
			}
		default:
			return nil, fmt.Errorf("unsupported top-level field %q", k)
		}
	}
	if d.startAt, ok = top["StartAt"].(string); !ok || d.startAt == "" {
		return nil, fmt.Errorf("field StartAt is missing")
	}
	states, ok := top["States"].(map[string]any)
	if !ok || len(states) == 0 {
		return nil, fmt.Errorf("field States is missing or empty")
	}
	for _, name := range sortedKeys(states) {
		if len(name) > 80 {
			return nil, fmt.Errorf("state name %q is longer than 80 characters", name)
		}
		raw, ok := states[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("state %q is not an object", name)
		}
		st, err := parseState(name, raw)
		if err != nil {
			return nil, fmt.Errorf("state %q: %w", name, err)
		}
		if check != nil && st.typ == "Task" {
			if err := check(st); err != nil {
				return nil, fmt.Errorf("state %q: field Resource: %w", name, err)
			}
		}
		d.states[name] = st
	}
	if _, ok := d.states[d.startAt]; !ok {
		return nil, fmt.Errorf("StartAt %q is not a state", d.startAt)
	}
	// Every transition must name a state, and every state must be reachable, as AWS requires.
	reach := map[string]bool{}
	var visit func(string)
	visit = func(n string) {
		if reach[n] {
			return
		}
		reach[n] = true
		for _, t := range d.states[n].targets() {
			visit(t)
		}
	}
	for _, name := range sortedKeys(states) {
		st := d.states[name]
		for _, t := range st.targets() {
			if _, ok := d.states[t]; !ok {
				return nil, fmt.Errorf("state %q: transition to unknown state %q", name, t)
			}
		}
	}
	visit(d.startAt)
	for _, name := range sortedKeys(states) {
		if !reach[name] {
			return nil, fmt.Errorf("state %q is not reachable from StartAt", name)
		}
	}
	return d, nil
}

func (st *state) targets() []string {
	var out []string
	if st.next != "" {
		out = append(out, st.next)
	}
	for _, c := range st.catch {
		out = append(out, c.next)
	}
	for _, r := range st.choices {
		out = append(out, r.next)
	}
	if st.defaultNext != "" {
		out = append(out, st.defaultNext)
	}
	return out
}

func parseState(name string, raw map[string]any) (*state, error) {
	typ, _ := raw["Type"].(string)
	allowed, ok := allowedFields[typ]
	if !ok {
		if typ == "Map" || typ == "Parallel" {
			return nil, fmt.Errorf("state type %s is not supported by the local engine", typ)
		}
		return nil, fmt.Errorf("field Type: unknown state type %q", raw["Type"])
	}
	st := &state{name: name, typ: typ}
	for _, k := range sortedKeys(raw) {
		if k == "Type" || k == "Comment" {
			continue
		}
		if !contains(allowed, k) {
			switch k {
			case "QueryLanguage", "Arguments", "Output", "Assign":
				return nil, fmt.Errorf("field %s is not supported (JSONata and variables are not supported by the local engine)", k)
			}
			return nil, fmt.Errorf("field %s is not allowed in a %s state", k, typ)
		}
	}
	str := func(k string) (string, bool, error) {
		v, has := raw[k]
		if !has {
			return "", false, nil
		}
		s, ok := v.(string)
		if !ok {
			return "", true, fmt.Errorf("field %s must be a string", k)
		}
		return s, true, nil
	}
	var err error
	// Next / End.
	if contains(allowed, "Next") {
		next, hasNext, err := str("Next")
		if err != nil {
			return nil, err
		}
		end, hasEnd := raw["End"]
		if hasEnd && end != true {
			return nil, fmt.Errorf("field End must be true when present")
		}
		switch {
		case hasNext && hasEnd:
			return nil, fmt.Errorf("fields Next and End are mutually exclusive")
		case !hasNext && !hasEnd:
			return nil, fmt.Errorf("field Next or End is required")
		}
		st.next, st.end = next, hasEnd
	}
	for _, k := range []string{"InputPath", "OutputPath"} {
		v, has := raw[k]
		if !has {
			continue
		}
		io := ioPath{null: v == nil}
		if v != nil {
			s, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("field %s must be a path or null", k)
			}
			if io.p, err = parsePath(s); err != nil {
				return nil, fmt.Errorf("field %s: %w", k, err)
			}
		}
		if k == "InputPath" {
			st.inputPath = io
		} else {
			st.outputPath = io
		}
	}
	for _, k := range []string{"Parameters", "ResultSelector"} {
		v, has := raw[k]
		if !has {
			continue
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, fmt.Errorf("field %s must be an object", k)
		}
		t, err := parseTemplate(v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", k, err)
		}
		if k == "Parameters" {
			st.parameters = t
		} else {
			st.resultSelector = t
		}
	}
	if v, has := raw["ResultPath"]; has {
		if st.resultPath, st.resultPathNull, err = parseResultPath(v); err != nil {
			return nil, fmt.Errorf("field ResultPath: %w", err)
		}
	}
	if v, has := raw["Result"]; has {
		st.result, st.hasResult = v, true
	}
	switch typ {
	case "Task":
		return st, parseTask(st, raw)
	case "Choice":
		list, ok := raw["Choices"].([]any)
		if !ok || len(list) == 0 {
			return nil, fmt.Errorf("field Choices must be a non-empty array")
		}
		for i, e := range list {
			r, err := parseChoiceRule(e, true)
			if err != nil {
				return nil, fmt.Errorf("Choices[%d]: %w", i, err)
			}
			st.choices = append(st.choices, r)
		}
		if st.defaultNext, _, err = str("Default"); err != nil {
			return nil, err
		}
	case "Wait":
		n := 0
		for _, k := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
			if _, has := raw[k]; has {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("exactly one of Seconds, SecondsPath, Timestamp and TimestampPath is required")
		}
		if v, has := raw["Seconds"]; has {
			s, ok := asInt(v)
			if !ok || s < 0 {
				return nil, fmt.Errorf("field Seconds must be a non-negative integer")
			}
			st.seconds = &s
		}
		if s, has, err := str("Timestamp"); err != nil {
			return nil, err
		} else if has {
			t, ok := parseTimestamp(s)
			if !ok {
				return nil, fmt.Errorf("field Timestamp: %q is not an RFC 3339 timestamp", s)
			}
			st.timestamp = &t
		}
		for _, k := range []string{"SecondsPath", "TimestampPath"} {
			s, has, err := str(k)
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
			p, err := parsePath(s)
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", k, err)
			}
			if k == "SecondsPath" {
				st.secondsPath = p
			} else {
				st.timestampPath = p
			}
		}
	case "Fail":
		if st.errorName, _, err = str("Error"); err != nil {
			return nil, err
		}
		if st.cause, _, err = str("Cause"); err != nil {
			return nil, err
		}
		for _, k := range []string{"ErrorPath", "CausePath"} {
			s, has, err := str(k)
			if err != nil {
				return nil, err
			}
			if !has {
				continue
			}
			if _, both := raw[strings.TrimSuffix(k, "Path")]; both {
				return nil, fmt.Errorf("fields %s and %s are mutually exclusive", k, strings.TrimSuffix(k, "Path"))
			}
			fv := &failValue{}
			if strings.HasPrefix(s, "$") {
				fv.p, err = parsePath(s)
			} else {
				fv.fn, err = parseIntrinsic(s)
			}
			if err != nil {
				return nil, fmt.Errorf("field %s: %w", k, err)
			}
			if k == "ErrorPath" {
				st.errorPath = fv
			} else {
				st.causePath = fv
			}
		}
	}
	return st, nil
}

func parseResultPath(v any) (*path, bool, error) {
	if v == nil {
		return nil, true, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, false, fmt.Errorf("must be a reference path or null")
	}
	p, err := parseReferencePath(s)
	return p, false, err
}

func parseTask(st *state, raw map[string]any) error {
	res, ok := raw["Resource"].(string)
	if !ok || res == "" {
		return fmt.Errorf("field Resource is required and must be a string")
	}
	r, err := parseResource(res)
	if err != nil {
		return fmt.Errorf("field Resource: %w", err)
	}
	st.res = r
	st.timeoutSeconds = defaultTaskTimeout
	for _, k := range []string{"TimeoutSeconds", "HeartbeatSeconds"} {
		v, has := raw[k]
		if !has {
			continue
		}
		if _, both := raw[k+"Path"]; both {
			return fmt.Errorf("fields %s and %sPath are mutually exclusive", k, k)
		}
		n, ok := asInt(v)
		if !ok || n <= 0 || n > defaultTaskTimeout {
			return fmt.Errorf("field %s must be a positive integer", k)
		}
		if k == "TimeoutSeconds" {
			st.timeoutSeconds = n
		} else {
			st.heartbeatSeconds = n
		}
	}
	for _, k := range []string{"TimeoutSecondsPath", "HeartbeatSecondsPath"} {
		v, has := raw[k]
		if !has {
			continue
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("field %s must be a reference path", k)
		}
		p, err := parseReferencePath(s)
		if err != nil {
			return fmt.Errorf("field %s: %w", k, err)
		}
		if k == "TimeoutSecondsPath" {
			st.timeoutPath = p
		} else {
			st.heartbeatPath = p
		}
	}
	if st.heartbeatSeconds > 0 && st.timeoutPath == nil && st.heartbeatSeconds >= st.timeoutSeconds {
		return fmt.Errorf("field HeartbeatSeconds must be smaller than TimeoutSeconds")
	}
	if r.pattern == patternToken && (st.parameters == nil || !st.parameters.mentions("$$.Task.Token")) {
		return fmt.Errorf("field Parameters must pass $$.Task.Token for a .waitForTaskToken resource")
	}
	if v, has := raw["Retry"]; has {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("field Retry must be an array")
		}
		for i, e := range list {
			r, err := parseRetrier(e)
			if err != nil {
				return fmt.Errorf("Retry[%d]: %w", i, err)
			}
			st.retry = append(st.retry, r)
		}
		if err := checkErrorLists(len(st.retry), func(i int) []string { return st.retry[i].errorEquals }); err != nil {
			return fmt.Errorf("field Retry: %w", err)
		}
	}
	if v, has := raw["Catch"]; has {
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("field Catch must be an array")
		}
		for i, e := range list {
			c, err := parseCatcher(e)
			if err != nil {
				return fmt.Errorf("Catch[%d]: %w", i, err)
			}
			st.catch = append(st.catch, c)
		}
		if err := checkErrorLists(len(st.catch), func(i int) []string { return st.catch[i].errorEquals }); err != nil {
			return fmt.Errorf("field Catch: %w", err)
		}
	}
	return nil
}

// checkErrorLists enforces that States.ALL appears alone and only in the last retrier or catcher.
func checkErrorLists(n int, list func(int) []string) error {
	for i := 0; i < n; i++ {
		l := list(i)
		if contains(l, ErrAll) && (len(l) != 1 || i != n-1) {
			return fmt.Errorf("States.ALL must appear alone in the last ErrorEquals")
		}
	}
	return nil
}

func errorEquals(m map[string]any) ([]string, error) {
	list, ok := m["ErrorEquals"].([]any)
	if !ok || len(list) == 0 {
		return nil, fmt.Errorf("field ErrorEquals must be a non-empty array of strings")
	}
	var out []string
	for _, e := range list {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, fmt.Errorf("field ErrorEquals must be a non-empty array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

func parseRetrier(v any) (*retrier, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a retrier must be an object")
	}
	r := &retrier{interval: 1, maxAttempts: 3, backoffRate: 2}
	var err error
	if r.errorEquals, err = errorEquals(m); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		v := m[k]
		switch k {
		case "ErrorEquals", "Comment":
		case "IntervalSeconds":
			n, ok := asInt(v)
			if !ok || n < 1 || n > defaultTaskTimeout {
				return nil, fmt.Errorf("field IntervalSeconds must be a positive integer")
			}
			r.interval = float64(n)
		case "MaxAttempts":
			n, ok := asInt(v)
			if !ok || n < 0 || n > math.MaxInt32 {
				return nil, fmt.Errorf("field MaxAttempts must be a non-negative integer")
			}
			r.maxAttempts = int(n)
		case "BackoffRate":
			f, ok := asFloat(v)
			if !ok || f < 1 {
				return nil, fmt.Errorf("field BackoffRate must be a number >= 1.0")
			}
			r.backoffRate = f
		case "MaxDelaySeconds":
			n, ok := asInt(v)
			if !ok || n < 1 || n > 31622400 {
				return nil, fmt.Errorf("field MaxDelaySeconds must be a positive integer")
			}
			r.maxDelay = float64(n)
		case "JitterStrategy":
			switch v {
			case "FULL":
				r.jitterFull = true
			case "NONE":
			default:
				return nil, fmt.Errorf("field JitterStrategy must be FULL or NONE")
			}
		default:
			return nil, fmt.Errorf("unsupported field %q in a retrier", k)
		}
	}
	return r, nil
}

func parseCatcher(v any) (*catcher, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a catcher must be an object")
	}
	c := &catcher{}
	var err error
	if c.errorEquals, err = errorEquals(m); err != nil {
		return nil, err
	}
	for _, k := range sortedKeys(m) {
		switch k {
		case "ErrorEquals", "Comment":
		case "Next":
			s, ok := m[k].(string)
			if !ok || s == "" {
				return nil, fmt.Errorf("field Next must be a state name")
			}
			c.next = s
		case "ResultPath":
			if c.resultPath, c.resultPathNull, err = parseResultPath(m[k]); err != nil {
				return nil, fmt.Errorf("field ResultPath: %w", err)
			}
		default:
			return nil, fmt.Errorf("unsupported field %q in a catcher", k)
		}
	}
	if c.next == "" {
		return nil, fmt.Errorf("field Next is required")
	}
	return c, nil
}

// Integration patterns.
const (
	patternRequest = ""
	patternSync2   = "sync:2"
	patternToken   = "waitForTaskToken"
)

// Resource kinds.
const (
	resLambdaFunction = "lambda-function" // a function ARN used directly
	resLambdaInvoke   = "lambda-invoke"   // arn:aws:states:::lambda:invoke
	resDynamoDB       = "dynamodb"        // optimized integration
	resSDK            = "aws-sdk"         // aws-sdk:dynamodb:* and aws-sdk:sesv2:sendEmail
	resStartExecution = "states-startExecution"
)

type resource struct {
	arn      string
	kind     string
	pattern  string
	service  string // dynamodb, sesv2 (aws-sdk); the ARN's service for history events
	action   string // the action as written (getItem, sendEmail)
	function string // for resLambdaFunction: the function name
}

// dynamoDBActions are the DynamoDB API actions the aws-sdk integration may call.
var dynamoDBActions = []string{
	"BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "DeleteItem", "DescribeTable",
	"ExecuteStatement", "ExecuteTransaction", "GetItem", "PutItem", "Query", "Scan",
	"TransactGetItems", "TransactWriteItems", "UpdateItem",
}

func parseResource(arn string) (*resource, error) {
	r := &resource{arn: arn}
	parts := strings.Split(arn, ":")
	if len(parts) < 6 || parts[0] != "arn" {
		return nil, fmt.Errorf("%q is not an ARN", arn)
	}
	if parts[2] == "lambda" {
		if len(parts) != 7 || parts[5] != "function" || parts[6] == "" {
			return nil, fmt.Errorf("unsupported Lambda resource %q (want arn:aws:lambda:REGION:ACCOUNT:function:NAME)", arn)
		}
		r.kind, r.function = resLambdaFunction, parts[6]
		return r, nil
	}
	if parts[2] != "states" || parts[3] != "" || parts[4] != "" {
		return nil, fmt.Errorf("unsupported resource %q", arn)
	}
	rest := strings.Join(parts[5:], ":")
	if base, p, ok := strings.Cut(rest, "."); ok {
		rest, r.pattern = base, p
	}
	switch r.pattern {
	case patternRequest, patternSync2, patternToken:
	default:
		return nil, fmt.Errorf("unsupported integration pattern .%s in %q", r.pattern, arn)
	}
	svc := strings.Split(rest, ":")
	refuse := func() (*resource, error) {
		if r.pattern != "" {
			return nil, fmt.Errorf("unsupported resource %q (pattern .%s is not supported for it)", arn, r.pattern)
		}
		return nil, fmt.Errorf("unsupported resource %q", arn)
	}
	switch {
	case len(svc) == 2 && svc[0] == "lambda" && svc[1] == "invoke":
		if r.pattern == patternSync2 {
			return refuse()
		}
		r.kind, r.service, r.action = resLambdaInvoke, "lambda", "invoke"
	case len(svc) == 2 && svc[0] == "dynamodb":
		switch svc[1] {
		case "getItem", "putItem", "updateItem", "deleteItem":
		default:
			return refuse()
		}
		if r.pattern != patternRequest {
			return refuse()
		}
		r.kind, r.service, r.action = resDynamoDB, "dynamodb", svc[1]
	case len(svc) == 3 && svc[0] == "aws-sdk":
		if r.pattern != patternRequest {
			return refuse()
		}
		switch {
		case svc[1] == "dynamodb" && contains(dynamoDBActions, pascal(svc[2])) && svc[2] == camel(svc[2]):
		case svc[1] == "sesv2" && svc[2] == "sendEmail":
		default:
			return nil, fmt.Errorf("unsupported AWS SDK integration %q (the local engine supports aws-sdk:dynamodb:<action> and aws-sdk:sesv2:sendEmail)", arn)
		}
		r.kind, r.service, r.action = resSDK, svc[1], svc[2]
	case len(svc) == 2 && svc[0] == "states" && svc[1] == "startExecution":
		r.kind, r.service, r.action = resStartExecution, "states", "startExecution"
	default:
		return refuse()
	}
	return r, nil
}

func pascal(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func camel(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != orderKey {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
