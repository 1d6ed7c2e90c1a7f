package samtemplate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// loadReal loads the module's template.yaml.
func loadReal(t *testing.T) *Template {
	t.Helper()
	tmpl, _ := loadRealRoot(t)
	return tmpl
}

// loadRealRoot is loadReal with the repository root, where functions/ and events/ are.
func loadRealRoot(t *testing.T) (*Template, string) {
	t.Helper()
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl, filepath.Dir(path)
}

func TestFind(t *testing.T) {
	path, err := Find()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "template.yaml" {
		t.Errorf("got %s, want a template.yaml", path)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "go.mod")); err != nil {
		t.Errorf("template %s is not beside go.mod: %v", path, err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "template.yaml")); err == nil {
		t.Error("got no error for a missing file")
	}
}

func key(name string, kt types.KeyType) types.KeySchemaElement {
	return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
}

func attrs(names ...string) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for _, n := range names {
		out = append(out, types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS})
	}
	return out
}

func gsi(name, pk, sk string) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(name),
		KeySchema:  []types.KeySchemaElement{key(pk, types.KeyTypeHash), key(sk, types.KeyTypeRange)},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}
}

func TestTablesOfRealTemplate(t *testing.T) {
	tmpl := loadReal(t)
	pkSK := []types.KeySchemaElement{key("pk", types.KeyTypeHash), key("sk", types.KeyTypeRange)}
	withGSIs := func(logicalID, name string) TableSpec {
		return TableSpec{
			LogicalID: logicalID,
			Input: &dynamodb.CreateTableInput{
				TableName:              aws.String(name),
				KeySchema:              pkSK,
				AttributeDefinitions:   attrs("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"),
				GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{gsi("GSI1", "gsi1pk", "gsi1sk"), gsi("GSI2", "gsi2pk", "gsi2sk")},
				BillingMode:            types.BillingModePayPerRequest,
			},
			TTLAttribute: "expiresAt",
		}
	}
	// The platform table's stream shows what TTL removes (RetentionStreamFunction), with the old image.
	platform := withGSIs("PlatformTable", "t1-platform")
	// The connection-health sweep's schedule (GSI3), on the platform table only.
	platform.Input.AttributeDefinitions = append(platform.Input.AttributeDefinitions, attrs("gsi3pk", "gsi3sk")...)
	platform.Input.GlobalSecondaryIndexes = append(platform.Input.GlobalSecondaryIndexes, gsi("GSI3", "gsi3pk", "gsi3sk"))
	platform.Input.StreamSpecification = &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeOldImage}
	want := []TableSpec{
		{
			LogicalID: "AnalyticsTable",
			Input: &dynamodb.CreateTableInput{
				TableName:            aws.String("t1-analytics"),
				KeySchema:            pkSK,
				AttributeDefinitions: attrs("pk", "sk"),
				BillingMode:          types.BillingModePayPerRequest,
			},
			// Analytics are anonymous aggregates kept by design: no TTL.
			TTLAttribute: "",
		},
		withGSIs("LedgerTable", "t1-ledger"),
		platform,
	}
	got, err := tmpl.Tables(Env{StackName: "t1"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func TestBucketsOfRealTemplate(t *testing.T) {
	tmpl := loadReal(t)
	want := []BucketSpec{
		{
			LogicalID: "FilesBucket",
			Name:      "t1-files-111122223333",
			Versioned: true,
			Lifecycle: []LifecycleRule{{ID: "RotateBackups", NoncurrentExpirationDays: 30, AbortMultipartDays: 1},
				// Only the objects tagged as an end user's 13-month files, never the held ones.
				{ID: "ExpireEndUserFiles", Prefix: "accounts/", Tags: map[string]string{"lethe-retention": "personal-13m"}, ExpirationDays: 397}},
		},
		{
			LogicalID: "InboundMailBucket",
			Name:      "t1-inbound-mail-111122223333",
			Versioned: true,
			Lifecycle: []LifecycleRule{{ID: "ExpireRawMail", ExpirationDays: 14, NoncurrentExpirationDays: 1, AbortMultipartDays: 1}},
		},
	}
	got, err := tmpl.Buckets(Env{StackName: "t1", AccountID: "111122223333"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
}

// TestFunctionEnvironmentOfRealTemplate: the functions see the deployed names and configuration
// (each function the part it reads: TestFunctionEnvironmentIsWhatTheCodeReads), and the HTTP API's
// authorizer the JWT issuer and audience.
func TestFunctionEnvironmentOfRealTemplate(t *testing.T) {
	tmpl := loadReal(t)
	vars, err := tmpl.FunctionVariables()
	if err != nil {
		t.Fatal(err)
	}
	jwt := dig(tmpl.Raw(), "Resources", "HttpApi", "Properties", "Auth", "Authorizers", "dashboardJwt", "JwtConfiguration")
	vars["JWT_ISSUER"] = dig(jwt, "issuer")
	if aud, _ := dig(jwt, "audience").([]any); len(aud) == 1 {
		vars["JWT_AUDIENCE"] = aud[0]
	}
	secrets := map[string]string{"MetaAppSecret": "m", "SlackSigningSecret": "s", "WhatsAppVerifyToken": "w",
		"ActLinkSecret": "an-act-link-secret-of-32-characters", "VerificationSecret": "a-verification-secret-of-32-chars",
		"OperatorName": "ООО «Оператор»", "OperatorAddress": "Москва"}
	got, err := tmpl.Resolve(vars, Env{StackName: "t1", AccountID: "111122223333", Parameters: secrets})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"PLATFORM_TABLE":          "t1-platform",
		"LEDGER_TABLE":            "t1-ledger",
		"ANALYTICS_TABLE":         "t1-analytics",
		"FILES_BUCKET":            "t1-files-111122223333",
		"INBOUND_MAIL_BUCKET":     "t1-inbound-mail-111122223333",
		"META_APP_SECRET":         "m",
		"SLACK_SIGNING_SECRET":    "s",
		"WHATSAPP_VERIFY_TOKEN":   "w",
		"INFO_ADDRESS":            "info@example.com",
		"SENDER_ADDRESS":          "no-reply@example.com",
		"PRIVACY_OFFICER_ADDRESS": "privacy@example.com",
		"FORWARD_ADDRESS":         "office@example.com",
		"PUBLIC_BASE_URL":         "https://lethe.example.com",
		"OPERATOR_NAME":           "ООО «Оператор»",
		"OPERATOR_ADDRESS":        "Москва",
		"OPERATOR_INN":            "",
		"OPERATOR_NAME_EN":        "",
		"OPERATOR_ADDRESS_EN":     "",
		"JWT_ISSUER":              "https://auth.example.com/",
		"JWT_AUDIENCE":            "lethe-dashboard",
		"TTL_SAFETY_MARGIN":       "168h",
		"TELEGRAM_API_BASE_URL":   "https://api.telegram.org",
		"META_GRAPH_BASE_URL":     "https://graph.facebook.com/v21.0",
		"SLACK_API_BASE_URL":      "https://slack.com/api",
		"VK_API_BASE_URL":         "https://api.vk.com/method",
		"VIBER_API_BASE_URL":      "https://chatapi.viber.com/pa",
		"OPS_GROUP_CLAIM":         "cognito:groups",
		"OPS_GROUP":               "privacy-officers",
		"ACT_LINK_SECRET":         "an-act-link-secret-of-32-characters",
		"VERIFICATION_SECRET":     "a-verification-secret-of-32-chars",
		"CONSOLE_OIDC_SCOPE":      "openid email profile",

		"CONSOLE_OIDC_AUTHORIZE_URL": "",
		"CONSOLE_OIDC_TOKEN_URL":     "",
		"CONSOLE_OIDC_CLIENT_ID":     "",
		"CONSOLE_DEMO_SIGN_IN":       "",

		"BUSINESS_CALENDAR_EXTRA_HOLIDAYS":       "",
		"BUSINESS_CALENDAR_EXTRA_WORKDAYS":       "",
		"ACCOUNT_DELETION_STATE_MACHINE_ARN":     "arn:aws:states:us-east-1:111122223333:stateMachine:t1-account-deletion",
		"END_USER_DELETION_STATE_MACHINE_ARN":    "arn:aws:states:us-east-1:111122223333:stateMachine:t1-end-user-deletion",
		"CONNECTION_WIPE_STATE_MACHINE_ARN":      "arn:aws:states:us-east-1:111122223333:stateMachine:t1-connection-wipe",
		"END_CUSTOMER_REQUEST_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:111122223333:stateMachine:t1-end-customer-request",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", dump(got), dump(want))
	}
	// Secrets have no default: deploying or running without them fails instead of running unsigned.
	if _, err := tmpl.Resolve(vars, Env{}); err == nil || !strings.Contains(err.Error(), "has no default") {
		t.Errorf("got error %v without secrets, want a missing-parameter error", err)
	}
}

// TestParametersOfRealTemplate: every parameter says what it is for, secrets are masked and have no
// default to leak, and every default passes its own AllowedPattern (else the default stack fails).
func TestParametersOfRealTemplate(t *testing.T) {
	tmpl := loadReal(t)
	params := tmpl.Raw()["Parameters"].(map[string]any)
	secrets := map[string]bool{"MetaAppSecret": true, "SlackSigningSecret": true, "WhatsAppVerifyToken": true, "ActLinkSecret": true,
		"VerificationSecret": true}
	// The operator's legal identity is stated in every act of destruction: a deploy must name it,
	// never fall back to a placeholder. Nor may the alarms mail a placeholder address.
	required := map[string]bool{"OperatorName": true, "OperatorAddress": true, "AlarmEmail": true}
	for _, name := range []string{"MetaAppSecret", "SlackSigningSecret", "WhatsAppVerifyToken", "ActLinkSecret", "VerificationSecret", "InfoAddress",
		"SenderAddress", "PrivacyOfficerAddress", "ForwardAddress", "PublicBaseUrl", "JwtIssuer", "JwtAudience", "TtlSafetyMargin",
		"OperatorName", "OperatorAddress", "OperatorInn"} {
		if _, ok := params[name]; !ok {
			t.Errorf("parameter %s is missing", name)
		}
	}
	for name, v := range params {
		p := v.(map[string]any)
		if d, _ := p["Description"].(string); d == "" {
			t.Errorf("%s: no Description", name)
		}
		_, hasDefault := p["Default"]
		if secrets[name] {
			if p["NoEcho"] != true || hasDefault {
				t.Errorf("%s: NoEcho %v, has default %v; want a masked secret without default", name, p["NoEcho"], hasDefault)
			}
			continue
		}
		if required[name] {
			if hasDefault {
				t.Errorf("%s: must be given at deploy time, has default %v", name, p["Default"])
			}
			continue
		}
		if !hasDefault {
			t.Errorf("%s: no Default", name)
		}
		if pat, ok := p["AllowedPattern"].(string); ok {
			if def, _ := p["Default"].(string); !regexp.MustCompile(pat).MatchString(def) {
				t.Errorf("%s: default %q does not match AllowedPattern %s", name, def, pat)
			}
		}
	}
	if got := params["TtlSafetyMargin"].(map[string]any)["Default"]; got != "168h" {
		t.Errorf("TtlSafetyMargin default = %v, want 168h", got)
	}
}

func TestTablesAndBucketsOfInlineTemplate(t *testing.T) {
	doc := `
Parameters:
  Stage: {Type: String, Default: dev}
  Capacity: {Type: String, Default: "5"}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Events:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: N}, {AttributeName: at, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: !Ref Capacity, WriteCapacityUnits: 2}
      LocalSecondaryIndexes:
        - IndexName: ByAt
          KeySchema: [{AttributeName: id, KeyType: HASH}, {AttributeName: at, KeyType: RANGE}]
          Projection: {ProjectionType: INCLUDE, NonKeyAttributes: [x]}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: "false"}
  ProdOnly:
    Type: AWS::DynamoDB::Table
    Condition: IsProd
    Properties:
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  Media:
    Type: AWS::S3::Bucket
    Properties:
      LifecycleConfiguration:
        Rules:
          - {Id: Old, Status: Disabled, ExpirationInDays: 1}
          - {Id: Tmp, Status: Enabled, Prefix: tmp/, ExpirationInDays: !If [IsProd, 7, 1], NoncurrentVersionExpirationInDays: 3}
`
	tmpl, err := parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := tmpl.Tables(Env{StackName: "t2"})
	if err != nil {
		t.Fatal(err)
	}
	wantTables := []TableSpec{{
		LogicalID: "Events",
		Input: &dynamodb.CreateTableInput{
			TableName: aws.String("t2-Events"),
			KeySchema: []types.KeySchemaElement{key("id", types.KeyTypeHash)},
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN},
				{AttributeName: aws.String("at"), AttributeType: types.ScalarAttributeTypeS},
			},
			BillingMode:           types.BillingModeProvisioned,
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(2)},
			LocalSecondaryIndexes: []types.LocalSecondaryIndex{{
				IndexName:  aws.String("ByAt"),
				KeySchema:  []types.KeySchemaElement{key("id", types.KeyTypeHash), key("at", types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"x"}},
			}},
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
		},
	}}
	if !reflect.DeepEqual(tables, wantTables) {
		t.Errorf("tables: got\n%s\nwant\n%s", dump(tables), dump(wantTables))
	}

	prodTables, err := tmpl.Tables(Env{Parameters: map[string]string{"Stage": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range prodTables {
		ids = append(ids, s.LogicalID)
	}
	if want := []string{"Events", "ProdOnly"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("prod tables: got %v, want %v", ids, want)
	}

	buckets, err := tmpl.Buckets(Env{StackName: "T2"})
	if err != nil {
		t.Fatal(err)
	}
	wantBuckets := []BucketSpec{{
		LogicalID: "Media",
		Name:      "t2-media",
		Lifecycle: []LifecycleRule{{ID: "Tmp", Prefix: "tmp/", ExpirationDays: 1, NoncurrentExpirationDays: 3}},
	}}
	if !reflect.DeepEqual(buckets, wantBuckets) {
		t.Errorf("buckets: got\n%s\nwant\n%s", dump(buckets), dump(wantBuckets))
	}
}

func TestTablesErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"no key schema", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {}\n", "table T: no KeySchema"},
		{"unresolvable name", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Ref Missing\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n", `"Missing"`},
		{"bad number", "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      KeySchema: [{AttributeName: id, KeyType: HASH}]\n      ProvisionedThroughput: {ReadCapacityUnits: lots, WriteCapacityUnits: 1}\n", `"lots" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Tables(Env{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDataAtRestIsProtected: every table and bucket is encrypted; every table can be restored for
// 30 days (the backup rotation promise) and cannot be deleted by a stack mistake.
func TestDataAtRestIsProtected(t *testing.T) {
	tmpl := loadReal(t)
	checked := 0
	for id, v := range tmpl.Raw()["Resources"].(map[string]any) {
		decl := v.(map[string]any)
		props, _ := decl["Properties"].(map[string]any)
		switch decl["Type"] {
		case "AWS::DynamoDB::Table":
			checked++
			if got := path(props, "SSESpecification", "SSEEnabled"); got != true {
				t.Errorf("%s: SSESpecification.SSEEnabled = %v, want true", id, got)
			}
			if got := path(props, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"); got != true {
				t.Errorf("%s: PointInTimeRecoveryEnabled = %v, want true", id, got)
			}
			if got := path(props, "PointInTimeRecoverySpecification", "RecoveryPeriodInDays"); got != 30 {
				t.Errorf("%s: RecoveryPeriodInDays = %v, want 30 (backups rotate within 30 days)", id, got)
			}
			if got := props["DeletionProtectionEnabled"]; got != true {
				t.Errorf("%s: DeletionProtectionEnabled = %v, want true", id, got)
			}
			if decl["DeletionPolicy"] != "Retain" || decl["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v, want Retain", id, decl["DeletionPolicy"], decl["UpdateReplacePolicy"])
			}
		case "AWS::S3::Bucket":
			checked++
			rules, _ := path(props, "BucketEncryption", "ServerSideEncryptionConfiguration").([]any)
			if len(rules) == 0 {
				t.Errorf("%s: no BucketEncryption", id)
			}
			for _, r := range rules {
				alg := path(r.(map[string]any), "ServerSideEncryptionByDefault", "SSEAlgorithm")
				if alg != "AES256" && alg != "aws:kms" && alg != "aws:kms:dsse" {
					t.Errorf("%s: SSEAlgorithm = %v", id, alg)
				}
			}
			for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
				if got := path(props, "PublicAccessBlockConfiguration", k); got != true {
					t.Errorf("%s: PublicAccessBlockConfiguration.%s = %v, want true", id, k, got)
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("checked %d tables and buckets, want at least 5", checked)
	}
}

func path(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func dump(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
