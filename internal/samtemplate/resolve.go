package samtemplate

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// noValue is what `Ref: AWS::NoValue` evaluates to: the enclosing key or list element disappears.
type noValueT struct{}

var noValue = noValueT{}

// Resolve evaluates the intrinsic functions in v for env, the way CloudFormation would at deploy:
// Ref (parameters, pseudo parameters, resources), Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Select,
// Fn::Split, Fn::If with the template's Conditions, Fn::Equals/Not/And/Or, Fn::FindInMap and
// Fn::Base64. Functions whose value only AWS knows (Fn::ImportValue, Fn::GetAZs, Fn::Cidr, …) are
// kept in long form with their arguments resolved. A reference to an unknown parameter, resource,
// attribute, condition or mapping is an error naming it. v itself is not modified.
//
// Ref to a resource gives what CloudFormation gives: the physical name (TableName, BucketName,
// FunctionName, Name, StateMachineName, QueueName, …, else "<StackName>-<LogicalID>"), except the
// ARN for state machines and SNS topics and the URL for SQS queues.
func (t *Template) Resolve(v any, env Env) (any, error) {
	r := &resolver{t: t, env: env.withDefaults()}
	out, err := r.value(v)
	if err != nil {
		return nil, err
	}
	if out == noValue {
		return nil, nil
	}
	return out, nil
}

type resolver struct {
	t   *Template
	env Env
	// active holds the names being evaluated, to report a reference cycle instead of overflowing.
	active []string
}

func (r *resolver) enter(key string) error {
	for _, k := range r.active {
		if k == key {
			return fmt.Errorf("reference cycle: %s -> %s", strings.Join(r.active, " -> "), key)
		}
	}
	r.active = append(r.active, key)
	return nil
}

func (r *resolver) leave() { r.active = r.active[:len(r.active)-1] }

func (r *resolver) value(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				if out, ok, err := r.intrinsic(k, arg); ok || err != nil {
					return out, err
				}
			}
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			out, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if out != noValue {
				m[k] = out
			}
		}
		return m, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, e := range v {
			out, err := r.value(e)
			if err != nil {
				return nil, err
			}
			if out != noValue {
				s = append(s, out)
			}
		}
		return s, nil
	}
	return v, nil
}

// intrinsic evaluates {fn: arg}; ok is false when fn is not an intrinsic function.
func (r *resolver) intrinsic(fn string, arg any) (out any, ok bool, err error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, true, fmt.Errorf("Ref: %v is not a name", arg)
		}
		out, err = r.ref(name)
	case "Fn::Sub":
		out, err = r.sub(arg)
	case "Fn::GetAtt":
		out, err = r.getAttArg(arg)
	case "Fn::Join":
		out, err = r.join(arg)
	case "Fn::Select":
		out, err = r.selectFn(arg)
	case "Fn::Split":
		out, err = r.split(arg)
	case "Fn::If":
		out, err = r.ifFn(arg)
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or":
		out, err = r.condition(map[string]any{fn: arg})
	case "Fn::FindInMap":
		out, err = r.findInMap(arg)
	case "Fn::Base64":
		var s string
		if s, err = r.str(arg); err == nil {
			out = base64.StdEncoding.EncodeToString([]byte(s))
		}
	default:
		if !strings.HasPrefix(fn, "Fn::") {
			return nil, false, nil
		}
		// Only AWS knows the value (Fn::ImportValue, Fn::GetAZs, Fn::Cidr, Fn::Transform …).
		a, err := r.value(arg)
		if err != nil {
			return nil, true, fmt.Errorf("%s: %w", fn, err)
		}
		return map[string]any{fn: a}, true, nil
	}
	if err != nil && !strings.HasPrefix(err.Error(), fn) {
		err = fmt.Errorf("%s: %w", fn, err)
	}
	return out, true, err
}

// str resolves v and requires a string (numbers and booleans are written as text, as in CloudFormation).
func (r *resolver) str(v any) (string, error) {
	out, err := r.value(v)
	if err != nil {
		return "", err
	}
	return text(out)
}

func text(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", fmt.Errorf("%v is not a string", v)
}

// list resolves v and requires a list.
func (r *resolver) list(v any) ([]any, error) {
	out, err := r.value(v)
	if err != nil {
		return nil, err
	}
	s, ok := out.([]any)
	if !ok {
		return nil, fmt.Errorf("%v is not a list", out)
	}
	return s, nil
}

// args requires arg to be a list of exactly n elements (unresolved).
func args(arg any, n int) ([]any, error) {
	s, ok := arg.([]any)
	if !ok || len(s) != n {
		return nil, fmt.Errorf("want a list of %d arguments, got %v", n, arg)
	}
	return s, nil
}

func (r *resolver) partition() string {
	switch {
	case strings.HasPrefix(r.env.Region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(r.env.Region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

func (r *resolver) urlSuffix() string {
	if strings.HasPrefix(r.env.Region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// arn builds arn:<partition>:<service>:<region>:<account>:<resource>.
func (r *resolver) arn(service, region, account, resource string) string {
	return "arn:" + r.partition() + ":" + service + ":" + region + ":" + account + ":" + resource
}

func (r *resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::StackName":
		return r.env.StackName, nil
	case "AWS::Region":
		return r.env.Region, nil
	case "AWS::AccountId":
		return r.env.AccountID, nil
	case "AWS::Partition":
		return r.partition(), nil
	case "AWS::URLSuffix":
		return r.urlSuffix(), nil
	case "AWS::StackId":
		return r.arn("cloudformation", r.env.Region, r.env.AccountID,
			"stack/"+r.env.StackName+"/00000000-0000-0000-0000-000000000000"), nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	case "AWS::NoValue":
		return noValue, nil
	}
	if p, ok := r.t.section("Parameters")[name].(map[string]any); ok {
		return r.parameter(name, p)
	}
	if _, _, ok := r.t.resource(name); ok {
		return r.resourceRef(name)
	}
	return nil, fmt.Errorf("Ref: unknown parameter or resource %q", name)
}

func (r *resolver) parameter(name string, p map[string]any) (any, error) {
	val, ok := r.env.Parameters[name]
	if !ok {
		def, has := p["Default"]
		if !has {
			return nil, fmt.Errorf("Ref: parameter %q has no default and no value was given", name)
		}
		if l, isList := def.([]any); isList {
			return l, nil
		}
		s, err := text(def)
		if err != nil {
			return nil, fmt.Errorf("Ref: parameter %q default: %w", name, err)
		}
		val = s
	}
	typ, _ := p["Type"].(string)
	if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
		parts := strings.Split(val, ",")
		l := make([]any, len(parts))
		for i, s := range parts {
			l[i] = strings.TrimSpace(s)
		}
		return l, nil
	}
	return val, nil
}

// nameProperties are the properties that give a resource its physical name, by resource type.
var nameProperties = map[string]string{
	"AWS::DynamoDB::Table":             "TableName",
	"AWS::Serverless::SimpleTable":     "TableName",
	"AWS::S3::Bucket":                  "BucketName",
	"AWS::Lambda::Function":            "FunctionName",
	"AWS::Serverless::Function":        "FunctionName",
	"AWS::StepFunctions::StateMachine": "StateMachineName",
	"AWS::Serverless::StateMachine":    "Name",
	"AWS::SQS::Queue":                  "QueueName",
	"AWS::SNS::Topic":                  "TopicName",
	"AWS::IAM::Role":                   "RoleName",
	"AWS::Logs::LogGroup":              "LogGroupName",
	"AWS::SES::ReceiptRuleSet":         "RuleSetName",
}

// genericNameProperties are tried, in order, for other resource types.
var genericNameProperties = []string{"TableName", "BucketName", "Name", "FunctionName", "StateMachineName", "QueueName"}

// physicalName is the name the resource gets when deployed to env: the template's own name where it
// gives one, else "<StackName>-<LogicalID>" (lower case for buckets, whose names must be).
func (r *resolver) physicalName(logicalID string) (string, error) {
	decl, typ, ok := r.t.resource(logicalID)
	if !ok {
		return "", fmt.Errorf("unknown resource %q", logicalID)
	}
	if err := r.enter(logicalID); err != nil {
		return "", err
	}
	defer r.leave()
	props, _ := decl["Properties"].(map[string]any)
	keys := genericNameProperties
	if k, ok := nameProperties[typ]; ok {
		keys = []string{k}
	}
	for _, k := range keys {
		if v, ok := props[k]; ok {
			out, err := r.value(v)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", logicalID, k, err)
			}
			if out == noValue {
				break
			}
			s, err := text(out)
			if err != nil {
				return "", fmt.Errorf("%s.%s: %w", logicalID, k, err)
			}
			return s, nil
		}
	}
	name := r.env.StackName + "-" + logicalID
	if typ == "AWS::S3::Bucket" {
		name = strings.ToLower(name)
	}
	return name, nil
}

func (r *resolver) resourceRef(logicalID string) (any, error) {
	_, typ, _ := r.t.resource(logicalID)
	name, err := r.physicalName(logicalID)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "AWS::StepFunctions::StateMachine", "AWS::Serverless::StateMachine":
		return r.arn("states", r.env.Region, r.env.AccountID, "stateMachine:"+name), nil
	case "AWS::SNS::Topic":
		return r.arn("sns", r.env.Region, r.env.AccountID, name), nil
	case "AWS::SQS::Queue":
		return "https://sqs." + r.env.Region + "." + r.urlSuffix() + "/" + r.env.AccountID + "/" + name, nil
	}
	return name, nil
}

func (r *resolver) getAttArg(arg any) (any, error) {
	var res, attr string
	switch a := arg.(type) {
	case string:
		var ok bool
		if res, attr, ok = strings.Cut(a, "."); !ok {
			return nil, fmt.Errorf("%q is not Resource.Attribute", a)
		}
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("want [Resource, Attribute], got %v", a)
		}
		var ok bool
		if res, ok = a[0].(string); !ok {
			return nil, fmt.Errorf("resource %v is not a name", a[0])
		}
		// The attribute name may itself be a Ref.
		var err error
		if attr, err = r.str(a[1]); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("want [Resource, Attribute], got %v", arg)
	}
	return r.getAtt(res, attr)
}

func (r *resolver) getAtt(logicalID, attr string) (any, error) {
	_, typ, ok := r.t.resource(logicalID)
	if !ok {
		return nil, fmt.Errorf("Fn::GetAtt: unknown resource %q", logicalID)
	}
	name, err := r.physicalName(logicalID)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s.%s: %w", logicalID, attr, err)
	}
	region, acct := r.env.Region, r.env.AccountID
	var out string
	switch typ + "." + attr {
	case "AWS::DynamoDB::Table.Arn":
		out = r.arn("dynamodb", region, acct, "table/"+name)
	case "AWS::S3::Bucket.Arn":
		out = r.arn("s3", "", "", name)
	case "AWS::S3::Bucket.DomainName":
		out = name + ".s3." + r.urlSuffix()
	case "AWS::S3::Bucket.RegionalDomainName":
		out = name + ".s3." + region + "." + r.urlSuffix()
	case "AWS::Lambda::Function.Arn", "AWS::Serverless::Function.Arn":
		out = r.arn("lambda", region, acct, "function:"+name)
	case "AWS::StepFunctions::StateMachine.Arn", "AWS::Serverless::StateMachine.Arn":
		out = r.arn("states", region, acct, "stateMachine:"+name)
	case "AWS::StepFunctions::StateMachine.Name", "AWS::Serverless::StateMachine.Name":
		out = name
	case "AWS::SQS::Queue.Arn":
		out = r.arn("sqs", region, acct, name)
	case "AWS::SQS::Queue.QueueName":
		out = name
	case "AWS::SQS::Queue.QueueUrl":
		out = "https://sqs." + region + "." + r.urlSuffix() + "/" + acct + "/" + name
	case "AWS::SNS::Topic.TopicArn":
		out = r.arn("sns", region, acct, name)
	case "AWS::SNS::Topic.TopicName":
		out = name
	case "AWS::IAM::Role.Arn":
		out = r.arn("iam", "", acct, "role/"+name)
	case "AWS::Logs::LogGroup.Arn":
		out = r.arn("logs", region, acct, "log-group:"+name+":*")
	default:
		return nil, fmt.Errorf("Fn::GetAtt: attribute %s of %s (%s) is not known locally", attr, logicalID, typ)
	}
	return out, nil
}

func (r *resolver) sub(arg any) (any, error) {
	var tmpl string
	vars := map[string]string{}
	switch a := arg.(type) {
	case string:
		tmpl = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("want [template, {variables}], got %v", a)
		}
		var ok bool
		if tmpl, ok = a[0].(string); !ok {
			return nil, fmt.Errorf("template %v is not a string", a[0])
		}
		m, ok := a[1].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("variables %v are not a mapping", a[1])
		}
		for k, v := range m {
			s, err := r.str(v)
			if err != nil {
				return nil, fmt.Errorf("variable %s: %w", k, err)
			}
			vars[k] = s
		}
	default:
		return nil, fmt.Errorf("want a string or [template, {variables}], got %v", arg)
	}
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			break
		}
		j := strings.Index(tmpl[i:], "}")
		if j < 0 {
			break
		}
		b.WriteString(tmpl[:i])
		inner := tmpl[i+2 : i+j]
		tmpl = tmpl[i+j+1:]
		if lit, ok := strings.CutPrefix(inner, "!"); ok {
			b.WriteString("${" + lit + "}")
			continue
		}
		name := strings.TrimSpace(inner)
		if s, ok := vars[name]; ok {
			b.WriteString(s)
			continue
		}
		var v any
		var err error
		if res, attr, dotted := strings.Cut(name, "."); dotted {
			v, err = r.getAtt(res, attr)
		} else {
			v, err = r.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		s, err := text(v)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		b.WriteString(s)
	}
	b.WriteString(tmpl)
	return b.String(), nil
}

func (r *resolver) join(arg any) (any, error) {
	a, err := args(arg, 2)
	if err != nil {
		return nil, err
	}
	delim, err := r.str(a[0])
	if err != nil {
		return nil, fmt.Errorf("delimiter: %w", err)
	}
	elems, err := r.list(a[1])
	if err != nil {
		return nil, err
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		if parts[i], err = text(e); err != nil {
			return nil, fmt.Errorf("element %d: %w", i, err)
		}
	}
	return strings.Join(parts, delim), nil
}

func (r *resolver) selectFn(arg any) (any, error) {
	a, err := args(arg, 2)
	if err != nil {
		return nil, err
	}
	is, err := r.str(a[0])
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	i, err := strconv.Atoi(is)
	if err != nil {
		return nil, fmt.Errorf("index %q is not an integer", is)
	}
	elems, err := r.list(a[1])
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(elems) {
		return nil, fmt.Errorf("index %d out of range of %d elements", i, len(elems))
	}
	return elems[i], nil
}

func (r *resolver) split(arg any) (any, error) {
	a, err := args(arg, 2)
	if err != nil {
		return nil, err
	}
	delim, err := r.str(a[0])
	if err != nil {
		return nil, fmt.Errorf("delimiter: %w", err)
	}
	if delim == "" {
		return nil, errors.New("empty delimiter")
	}
	src, err := r.str(a[1])
	if err != nil {
		return nil, err
	}
	parts := strings.Split(src, delim)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

func (r *resolver) ifFn(arg any) (any, error) {
	a, err := args(arg, 3)
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, fmt.Errorf("condition %v is not a name", a[0])
	}
	holds, err := r.namedCondition(name)
	if err != nil {
		return nil, err
	}
	if holds {
		return r.value(a[1])
	}
	return r.value(a[2])
}

// namedCondition evaluates a condition of the template's Conditions section.
func (r *resolver) namedCondition(name string) (bool, error) {
	def, ok := r.t.section("Conditions")[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	if err := r.enter("Condition " + name); err != nil {
		return false, err
	}
	defer r.leave()
	holds, err := r.condition(def)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	return holds, nil
}

// condition evaluates a condition expression: Fn::Equals/Not/And/Or or {Condition: name}.
func (r *resolver) condition(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%v is not a condition", v)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, ok := arg.(string)
			if !ok {
				return false, fmt.Errorf("Condition: %v is not a name", arg)
			}
			return r.namedCondition(name)
		case "Fn::Equals":
			a, err := args(arg, 2)
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
			x, err := r.str(a[0])
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
			y, err := r.str(a[1])
			if err != nil {
				return false, fmt.Errorf("Fn::Equals: %w", err)
			}
			return x == y, nil
		case "Fn::Not":
			a, err := args(arg, 1)
			if err != nil {
				return false, fmt.Errorf("Fn::Not: %w", err)
			}
			holds, err := r.condition(a[0])
			return !holds, err
		case "Fn::And", "Fn::Or":
			a, ok := arg.([]any)
			if !ok || len(a) < 2 {
				return false, fmt.Errorf("%s: want a list of at least 2 conditions, got %v", fn, arg)
			}
			for _, c := range a {
				holds, err := r.condition(c)
				if err != nil {
					return false, err
				}
				if fn == "Fn::And" && !holds {
					return false, nil
				}
				if fn == "Fn::Or" && holds {
					return true, nil
				}
			}
			return fn == "Fn::And", nil
		}
	}
	return false, fmt.Errorf("%v is not a condition", v)
}

func (r *resolver) findInMap(arg any) (any, error) {
	a, err := args(arg, 3)
	if err != nil {
		return nil, err
	}
	var keys [3]string
	for i := range keys {
		if keys[i], err = r.str(a[i]); err != nil {
			return nil, err
		}
	}
	top, ok := r.t.section("Mappings")[keys[0]].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("unknown mapping %q", keys[0])
	}
	second, ok := top[keys[1]].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("mapping %s has no key %q", keys[0], keys[1])
	}
	v, ok := second[keys[2]]
	if !ok {
		return nil, fmt.Errorf("mapping %s.%s has no key %q", keys[0], keys[1], keys[2])
	}
	return r.value(v)
}

// resourceIncluded reports whether a resource is deployed for env, given its Condition attribute.
func (r *resolver) resourceIncluded(decl map[string]any) (bool, error) {
	c, ok := decl["Condition"]
	if !ok {
		return true, nil
	}
	name, ok := c.(string)
	if !ok {
		return false, fmt.Errorf("Condition %v is not a name", c)
	}
	return r.namedCondition(name)
}

// logicalIDs lists the resources of the given type, sorted.
func (t *Template) logicalIDs(typ string) []string {
	var ids []string
	for id, v := range t.section("Resources") {
		if decl, ok := v.(map[string]any); ok && decl["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
