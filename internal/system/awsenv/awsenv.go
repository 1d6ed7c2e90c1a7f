// Package awsenv builds a Lambda function's AWS configuration from its environment alone, by hand,
// instead of config.LoadDefaultConfig: in Lambda the region and the role's credentials are always
// environment variables (AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN),
// and LoadDefaultConfig would link STS, SSO, SSO OIDC, sign-in, IMDS and the shared-config files'
// machinery into every function, each package initialised at every cold start (issue 19 §2).
//
// What it reads is what the SDK's environment configuration would give for these variables:
//   - the region from AWS_REGION, else AWS_DEFAULT_REGION;
//   - static credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN
//     and AWS_ACCOUNT_ID when set, in the SDK's credentials cache (source "EnvConfigCredentials");
//   - AWS_ENDPOINT_URL as the base endpoint of every client, and AWS_ENDPOINT_URL_<SERVICE> per
//     service through the same configuration-source interface the clients ask (the service's SDK
//     id upper-cased, spaces as underscores: DYNAMODB, S3, SESV2, SFN), both ignored when
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. The local run and internal/rietest point each
//     function at the emulators that way.
//
// The HTTP client, retryer and defaults mode stay the clients' own defaults, as LoadDefaultConfig
// leaves them when nothing configures them. Profiles, shared config files, web identity, SSO,
// container and IMDS credentials are not read, nor the legacy AWS_ACCESS_KEY / AWS_SECRET_KEY
// spellings: the CLI (cmd/lethe) keeps LoadDefaultConfig for them. (Only SnapStart hands a Lambda
// container credentials instead of the three variables, and the Go runtime has no SnapStart.)
// Unlike LoadDefaultConfig, a missing region or key fails the function's init, naming the variable,
// rather than its first call.
package awsenv

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// The variables the configuration is read from.
const (
	EnvRegion                = "AWS_REGION"
	EnvDefaultRegion         = "AWS_DEFAULT_REGION"
	EnvAccessKeyID           = "AWS_ACCESS_KEY_ID"
	EnvSecretAccessKey       = "AWS_SECRET_ACCESS_KEY"
	EnvSessionToken          = "AWS_SESSION_TOKEN"
	EnvAccountID             = "AWS_ACCOUNT_ID"
	EnvEndpointURL           = "AWS_ENDPOINT_URL"
	EnvIgnoreConfiguredURLs  = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	credentialsSourceName    = "EnvConfigCredentials" // config.CredentialsSourceName
	serviceEndpointURLPrefix = EnvEndpointURL + "_"
)

// Config is the AWS configuration getenv gives (os.Getenv in a Lambda), or an error naming each
// missing or malformed variable.
func Config(getenv func(string) string) (aws.Config, error) {
	var missing []string
	region := getenv(EnvRegion)
	if region == "" {
		region = getenv(EnvDefaultRegion)
	}
	if region == "" {
		missing = append(missing, EnvRegion)
	}
	creds := aws.Credentials{AccessKeyID: getenv(EnvAccessKeyID), SecretAccessKey: getenv(EnvSecretAccessKey),
		SessionToken: getenv(EnvSessionToken), AccountID: getenv(EnvAccountID), Source: credentialsSourceName}
	if creds.AccessKeyID == "" {
		missing = append(missing, EnvAccessKeyID)
	}
	if creds.SecretAccessKey == "" {
		missing = append(missing, EnvSecretAccessKey)
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("aws configuration: %s not set (a Lambda's runtime always sets them)", strings.Join(missing, ", "))
	}
	ep := endpoints{getenv: getenv}
	switch v := getenv(EnvIgnoreConfiguredURLs); {
	case v == "":
	case strings.EqualFold(v, "true"):
		ep.ignore = true
	case strings.EqualFold(v, "false"):
	default:
		return aws.Config{}, fmt.Errorf("aws configuration: %s=%q, need true or false", EnvIgnoreConfiguredURLs, v)
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.StaticCredentialsProvider{Value: creds}),
		// As LoadDefaultConfig: the SDK's own logger on stderr, the legacy defaults mode.
		Logger:        logging.NewStandardLogger(os.Stderr),
		DefaultsMode:  aws.DefaultsModeLegacy,
		ConfigSources: []any{ep},
	}
	if u := getenv(EnvEndpointURL); u != "" && !ep.ignore {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

// endpoints answers the clients' questions for AWS_ENDPOINT_URL_<SERVICE> as the SDK's environment
// configuration does: each client's constructor asks its ConfigSources for the interfaces
// GetServiceBaseEndpoint and GetIgnoreConfiguredEndpoints (aws-sdk-go-v2/internal/configsources).
type endpoints struct {
	getenv func(string) string
	ignore bool
}

// GetServiceBaseEndpoint is AWS_ENDPOINT_URL_<sdkID upper-cased, spaces as underscores>.
func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	if v := e.getenv(ServiceEndpointVar(sdkID)); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e endpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.ignore, e.ignore, nil
}

// ServiceEndpointVar is the variable of a service's endpoint by its SDK id ("DynamoDB" →
// AWS_ENDPOINT_URL_DYNAMODB, "SESv2" → AWS_ENDPOINT_URL_SESV2).
func ServiceEndpointVar(sdkID string) string {
	return serviceEndpointURLPrefix + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_")
}
