package rietest

import (
	"fmt"
	"strconv"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// Endpoints are the local emulators a function's AWS clients are pointed at.
type Endpoints struct {
	DynamoDB, S3, SES, SFN string
}

// TemplateEnv is the environment template.yaml gives one function (Globals' variables and its
// own, no others), resolved as the local run resolves it: the local defaults of every parameter
// (config.LocalDefaults with the API on apiPort) for the stack tenv names, through localflow's
// Parameters and FunctionEnv.
func TemplateEnv(tpl *samtemplate.Template, tenv samtemplate.Env, logicalID string, apiPort int) (map[string]string, error) {
	tenv.Parameters = localflow.Parameters(tpl, config.LocalDefaults(apiPort))
	all, err := localflow.FunctionEnv(tpl, tenv)
	if err != nil {
		return nil, err
	}
	names, err := VariableNames(tpl, logicalID)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for _, name := range names {
		env[name] = all[name]
	}
	return env, nil
}

// VariableNames are the environment variables template.yaml gives one function: Globals' and its
// own.
func VariableNames(tpl *samtemplate.Template, logicalID string) ([]string, error) {
	raw := tpl.Raw()
	fn, ok := localflow.Dig(raw, "Resources", logicalID).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("rietest: template.yaml has no %s", logicalID)
	}
	var names []string
	for _, vars := range []any{localflow.Dig(raw, "Globals", "Function", "Environment", "Variables"), localflow.Dig(fn, "Properties", "Environment", "Variables")} {
		m, _ := vars.(map[string]any)
		for name := range m {
			names = append(names, name)
		}
	}
	return names, nil
}

// RuntimeEnv is the whole environment of a function under the emulator: its template environment
// and what the Lambda service adds — its name, region, the timeout and memory template.yaml gives
// it (Globals' when its own are not set), the JSON log format of Globals' LoggingConfig —, dummy
// credentials, no shared AWS config files, and each AWS client's endpoint (the SDK's
// AWS_ENDPOINT_URL_<SERVICE>) at the local emulators.
func RuntimeEnv(tpl *samtemplate.Template, tenv samtemplate.Env, logicalID string, vars map[string]string, ep Endpoints, scratch string) map[string]string {
	raw := tpl.Raw()
	prop := func(name string) string {
		for _, v := range []any{localflow.Dig(raw, "Resources", logicalID, "Properties", name), localflow.Dig(raw, "Globals", "Function", name)} {
			switch v := v.(type) {
			case int:
				return strconv.Itoa(v)
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			case string:
				return v
			}
		}
		return ""
	}
	region := tenv.Region
	if region == "" {
		region = samtemplate.DefaultRegion
	}
	env := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        tenv.StackName + "-" + logicalID,
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     prop("Timeout"),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": prop("MemorySize"),
		"AWS_LAMBDA_LOG_FORMAT":           fmt.Sprint(localflow.Dig(raw, "Globals", "Function", "LoggingConfig", "LogFormat")),
		"AWS_LAMBDA_LOG_LEVEL":            fmt.Sprint(localflow.Dig(raw, "Globals", "Function", "LoggingConfig", "ApplicationLogLevel")),
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ACCESS_KEY_ID":               "local",
		"AWS_SECRET_ACCESS_KEY":           "local",
		"AWS_CONFIG_FILE":                 scratch + "/no-aws-config",
		"AWS_SHARED_CREDENTIALS_FILE":     scratch + "/no-aws-credentials",
		"AWS_EC2_METADATA_DISABLED":       "true",
		"AWS_ENDPOINT_URL_DYNAMODB":       ep.DynamoDB,
		"AWS_ENDPOINT_URL_S3":             ep.S3,
		"AWS_ENDPOINT_URL_SESV2":          ep.SES,
		"AWS_ENDPOINT_URL_SFN":            ep.SFN,
	}
	for k, v := range vars {
		env[k] = v
	}
	return env
}
