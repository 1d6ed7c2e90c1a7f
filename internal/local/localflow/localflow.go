// Package localflow runs Lethe's deletion workflows on the local Step Functions engine: the state
// machines template.yaml declares, with its DefinitionSubstitutions, and the task functions it
// declares served in-process by the very handlers functions/*/main.go give the Lambda runtime. `make
// run` and the end-to-end tests both start workflows through it.
package localflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localttl"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/system"
)

// Options say what to run the workflows against.
type Options struct {
	Template *samtemplate.Template
	Env      samtemplate.Env
	Config   config.Config
	Clients  system.Clients // SFN is ignored: the engine is the Step Functions client
	// DynamoDBEndpoint and SESEndpoint serve the machines' direct service integrations.
	DynamoDBEndpoint, SESEndpoint string
	Clock                         *statemachine.Clock
	Seed                          uint64
	// Tune, if set, adjusts the services before any execution runs (tests bound slices by items).
	Tune func(*system.System)
	// Invoke, if set, serves the task functions and the stream consumers instead of their handlers
	// in process: `make run` with LETHE_LAMBDA_RUNTIME=rie invokes the built functions through it.
	Invoke Invoker
}

// Invoker invokes the function template.yaml declares under logicalID with payload, as Lambda's
// Invoke API does, and answers its response payload; a function error is a
// messages.InvokeResponse_Error carrying the errorType the runtime reported, so the engine names
// it exactly as it names an in-process handler's error.
type Invoker func(ctx context.Context, logicalID string, payload []byte) (json.RawMessage, error)

// StreamHandler is a stream consumer served by invoke: the DynamoDB event as the event source
// mapping sends it, the batch response as the function answers it.
func (invoke Invoker) StreamHandler(logicalID string) localttl.Handler {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		payload, err := json.Marshal(ev)
		if err != nil {
			return resp, err
		}
		out, err := invoke(ctx, logicalID, payload)
		if err != nil {
			return resp, err
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return resp, fmt.Errorf("%s answered %q: %w", logicalID, out, err)
		}
		return resp, nil
	}
}

// Stack is the running workflows and the services they call.
type Stack struct {
	Engine   *statemachine.Engine
	System   *system.System
	Machines []statemachine.Machine
	// Streams are DynamoDB's TTL and the stream event source mappings, by function (RunStreams).
	Streams map[string]*localttl.Local
}

// RunStreams does what DynamoDB's TTL and Lambda's stream pollers would have done by the virtual
// clock's now: removes the expired items and hands every stream's new records to its function.
func (s *Stack) RunStreams(ctx context.Context) (removed int, err error) {
	for _, id := range slices.Sorted(maps.Keys(s.Streams)) {
		n, err := s.Streams[id].Run(ctx)
		removed += n
		if err != nil {
			return removed, fmt.Errorf("%s: %w", id, err)
		}
	}
	return removed, nil
}

// Start builds the engine and the services and loads every state machine of the template.
func Start(o Options) (*Stack, error) {
	if o.Template == nil {
		return nil, errors.New("localflow: no template")
	}
	eng := statemachine.New(statemachine.Options{Clock: o.Clock, Region: o.Env.Region, AccountID: o.Env.AccountID,
		DynamoDBEndpoint: o.DynamoDBEndpoint, SESEndpoint: o.SESEndpoint, Seed: o.Seed})
	c := o.Clients
	c.SFN = eng
	sys, err := system.New(o.Config, c, eng.Clock().Now)
	if err != nil {
		return nil, err
	}
	if o.Tune != nil {
		o.Tune(sys)
	}
	handlers := sys.TaskHandlers()
	if o.Invoke != nil {
		for id := range handlers {
			handlers[id] = func(ctx context.Context, payload json.RawMessage) (json.RawMessage, error) {
				return o.Invoke(ctx, id, payload)
			}
		}
	}
	if err := registerFunctions(eng, o.Template, o.Env, handlers); err != nil {
		return nil, err
	}
	machines, err := statemachine.LoadTemplate(o.Template, o.Env)
	if err != nil {
		return nil, err
	}
	if err := eng.LoadMachines(machines); err != nil {
		return nil, err
	}
	streams := map[string]*localttl.Local{}
	if c.DynamoDB != nil {
		tables := map[string]string{datamap.PlatformTable: o.Config.PlatformTable, datamap.LedgerTable: o.Config.LedgerTable,
			datamap.AnalyticsTable: o.Config.AnalyticsTable}
		for id, h := range sys.StreamHandlers() {
			if o.Invoke != nil {
				h = o.Invoke.StreamHandler(id)
			}
			l, err := localttl.New(c.DynamoDB, o.Template, tables, id, h, eng.Clock().Now)
			if err != nil {
				return nil, err
			}
			streams[id] = l
		}
	}
	return &Stack{Engine: eng, System: sys, Machines: machines, Streams: streams}, nil
}

// registerFunctions registers each handler under the ARN and memory size its function has in the
// template; a handler without a function, or a task function without a handler, is an error.
func registerFunctions(eng *statemachine.Engine, tpl *samtemplate.Template, env samtemplate.Env, handlers map[string]func(context.Context, json.RawMessage) (json.RawMessage, error)) error {
	raw := tpl.Raw()
	resources, _ := raw["Resources"].(map[string]any)
	globalMem := memory(Dig(raw, "Globals", "Function", "MemorySize"), 128)
	for id, h := range handlers {
		decl, ok := resources[id].(map[string]any)
		if !ok || decl["Type"] != "AWS::Serverless::Function" {
			return fmt.Errorf("template.yaml has no function %s for its handler", id)
		}
		arn, err := tpl.Resolve(map[string]any{"Fn::GetAtt": []any{id, "Arn"}}, env)
		if err != nil {
			return fmt.Errorf("ARN of %s: %w", id, err)
		}
		eng.RegisterLambda(fmt.Sprint(arn), memory(Dig(decl, "Properties", "MemorySize"), globalMem), statemachine.LambdaFunc(h))
	}
	var unserved []string
	for id, v := range resources {
		decl, _ := v.(map[string]any)
		if decl["Type"] == "AWS::Serverless::Function" && handlers[id] == nil && isTask(raw, id) {
			unserved = append(unserved, id)
		}
	}
	if len(unserved) > 0 {
		slices.Sort(unserved)
		return fmt.Errorf("no local handler for the task functions %v", unserved)
	}
	return nil
}

// isTask reports whether a state machine's substitutions name the function.
func isTask(raw map[string]any, fn string) bool {
	resources, _ := raw["Resources"].(map[string]any)
	for _, v := range resources {
		decl, _ := v.(map[string]any)
		if decl["Type"] != "AWS::Serverless::StateMachine" {
			continue
		}
		subs, _ := Dig(decl, "Properties", "DefinitionSubstitutions").(map[string]any)
		for _, s := range subs {
			if ga, ok := s.(map[string]any)["Fn::GetAtt"]; ok && fmt.Sprint(ga) == fmt.Sprint([]any{fn, "Arn"}) {
				return true
			}
		}
	}
	return false
}

func memory(v any, def int) int {
	switch m := v.(type) {
	case int:
		return m
	case float64:
		return int(m)
	case string:
		if n, err := strconv.Atoi(m); err == nil {
			return n
		}
	}
	return def
}

// Dig reads a value at a path of map keys in a decoded template (nil when any step is missing).
func Dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// Parameters gives the template parameters behind environment variables: values sets variables by
// name (INFO_ADDRESS …), and each sets the parameter its entry in a function's environment (or in
// Globals) is a Ref to. The machines' substitutions and the functions' environment are then
// resolved with the same parameters.
func Parameters(tpl *samtemplate.Template, values map[string]string) map[string]string {
	raw := tpl.Raw()
	vars, _ := tpl.FunctionVariables() // a conflict is FunctionEnv's error to report
	params := map[string]string{}
	for name, v := range vars {
		m, _ := v.(map[string]any)
		ref, ok := m["Ref"].(string)
		if !ok {
			continue
		}
		if _, isParam := Dig(raw, "Parameters", ref).(map[string]any); !isParam {
			continue
		}
		if val, ok := values[name]; ok && val != "" {
			params[ref] = val
		}
	}
	return params
}

// FunctionEnv evaluates the environment template.yaml gives its functions (Globals' and each
// function's own, as one process environment) for a stack evaluated with env (its Parameters included).
func FunctionEnv(tpl *samtemplate.Template, env samtemplate.Env) (map[string]string, error) {
	vars, err := tpl.FunctionVariables()
	if err != nil {
		return nil, err
	}
	if len(vars) == 0 {
		return nil, errors.New("template.yaml: no function environment variables")
	}
	resolved, err := tpl.Resolve(vars, env)
	if err != nil {
		return nil, fmt.Errorf("template.yaml function environment: %w", err)
	}
	out := map[string]string{}
	for k, v := range resolved.(map[string]any) {
		out[k] = fmt.Sprint(v)
	}
	return out, nil
}
