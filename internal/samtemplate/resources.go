package samtemplate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableSpec is one DynamoDB table of the template, as deployed to an Env.
type TableSpec struct {
	LogicalID string
	// Input creates the table's data shape: name, key schema, attribute definitions, secondary
	// indexes with their projections, billing mode (and throughput and stream when declared).
	// Production-only controls (deletion protection, PITR, SSE, tags) are left out so that tests can
	// create and drop tables freely on DynamoDB Local.
	Input *dynamodb.CreateTableInput
	// TTLAttribute is the attribute DynamoDB TTL expires items by; "" when TTL is off.
	TTLAttribute string
}

// LifecycleRule is one enabled S3 lifecycle rule; a zero day count means the action is absent.
type LifecycleRule struct {
	ID     string
	Prefix string
	// Tags are the rule's tag filters: it matches only objects carrying every one of them.
	Tags                     map[string]string
	ExpirationDays           int
	NoncurrentExpirationDays int
	AbortMultipartDays       int
}

// BucketSpec is one S3 bucket of the template, as deployed to an Env.
type BucketSpec struct {
	LogicalID, Name string
	Versioned       bool
	Lifecycle       []LifecycleRule
}

// Tables returns every AWS::DynamoDB::Table deployed for env, sorted by LogicalID.
func (t *Template) Tables(env Env) ([]TableSpec, error) {
	r := &resolver{t: t, env: env.withDefaults()}
	var specs []TableSpec
	for _, id := range t.logicalIDs("AWS::DynamoDB::Table") {
		spec, ok, err := r.table(id)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		if ok {
			specs = append(specs, spec)
		}
	}
	return specs, nil
}

// Buckets returns every AWS::S3::Bucket deployed for env, sorted by LogicalID.
func (t *Template) Buckets(env Env) ([]BucketSpec, error) {
	r := &resolver{t: t, env: env.withDefaults()}
	var specs []BucketSpec
	for _, id := range t.logicalIDs("AWS::S3::Bucket") {
		spec, ok, err := r.bucket(id)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w", id, err)
		}
		if ok {
			specs = append(specs, spec)
		}
	}
	return specs, nil
}

// properties resolves a resource's Properties into dst (a struct mirroring CloudFormation's names);
// ok is false when the resource's Condition leaves it out of env.
func (r *resolver) properties(logicalID string, dst any) (ok bool, err error) {
	decl, _, _ := r.t.resource(logicalID)
	if included, err := r.resourceIncluded(decl); err != nil || !included {
		return false, err
	}
	props, err := r.value(decl["Properties"])
	if err != nil {
		return false, err
	}
	data, err := json.Marshal(props)
	if err != nil {
		return false, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(dst); err != nil {
		return false, fmt.Errorf("properties: %w", err)
	}
	return true, nil
}

// flexInt and flexBool accept CloudFormation's habit of writing numbers and booleans as strings.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		i, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not an integer", s)
		}
		*f = flexInt(i)
		return nil
	}
	var i int
	if err := json.Unmarshal(b, &i); err != nil {
		return err
	}
	*f = flexInt(i)
	return nil
}

type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", s)
		}
		*f = flexBool(v)
		return nil
	}
	var v bool
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = flexBool(v)
	return nil
}

type cfnKey struct{ AttributeName, KeyType string }

type cfnThroughput struct{ ReadCapacityUnits, WriteCapacityUnits flexInt }

type cfnIndex struct {
	IndexName  string
	KeySchema  []cfnKey
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
	ProvisionedThroughput *cfnThroughput
}

type cfnTable struct {
	TableName            string
	BillingMode          string
	AttributeDefinitions []struct{ AttributeName, AttributeType string }
	KeySchema            []cfnKey
	GlobalSecondaryIndexes,
	LocalSecondaryIndexes []cfnIndex
	ProvisionedThroughput   *cfnThroughput
	StreamSpecification     *struct{ StreamViewType string }
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       flexBool
	}
}

func (r *resolver) table(logicalID string) (TableSpec, bool, error) {
	var p cfnTable
	ok, err := r.properties(logicalID, &p)
	if err != nil || !ok {
		return TableSpec{}, false, err
	}
	name, err := r.physicalName(logicalID)
	if err != nil {
		return TableSpec{}, false, err
	}
	if len(p.KeySchema) == 0 {
		return TableSpec{}, false, fmt.Errorf("no KeySchema")
	}
	in := &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: keySchema(p.KeySchema),
	}
	for _, a := range p.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: types.ScalarAttributeType(a.AttributeType),
		})
	}
	// CloudFormation's default billing mode is PROVISIONED.
	in.BillingMode = types.BillingModeProvisioned
	if p.BillingMode != "" {
		in.BillingMode = types.BillingMode(p.BillingMode)
	}
	in.ProvisionedThroughput = throughput(p.ProvisionedThroughput)
	for _, x := range p.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:             aws.String(x.IndexName),
			KeySchema:             keySchema(x.KeySchema),
			Projection:            projection(x),
			ProvisionedThroughput: throughput(x.ProvisionedThroughput),
		})
	}
	for _, x := range p.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{
			IndexName:  aws.String(x.IndexName),
			KeySchema:  keySchema(x.KeySchema),
			Projection: projection(x),
		})
	}
	if p.StreamSpecification != nil && p.StreamSpecification.StreamViewType != "" {
		in.StreamSpecification = &types.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: types.StreamViewType(p.StreamSpecification.StreamViewType),
		}
	}
	spec := TableSpec{LogicalID: logicalID, Input: in}
	if ttl := p.TimeToLiveSpecification; ttl != nil && bool(ttl.Enabled) {
		spec.TTLAttribute = ttl.AttributeName
	}
	return spec, true, nil
}

func keySchema(ks []cfnKey) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

func projection(x cfnIndex) *types.Projection {
	return &types.Projection{
		ProjectionType:   types.ProjectionType(x.Projection.ProjectionType),
		NonKeyAttributes: x.Projection.NonKeyAttributes,
	}
}

func throughput(t *cfnThroughput) *types.ProvisionedThroughput {
	if t == nil {
		return nil
	}
	return &types.ProvisionedThroughput{
		ReadCapacityUnits:  aws.Int64(int64(t.ReadCapacityUnits)),
		WriteCapacityUnits: aws.Int64(int64(t.WriteCapacityUnits)),
	}
}

type cfnBucket struct {
	VersioningConfiguration *struct{ Status string }
	LifecycleConfiguration  *struct {
		Rules []struct {
			ID                                string `json:"Id"`
			Prefix                            string
			Status                            string
			ExpirationInDays                  flexInt
			NoncurrentVersionExpirationInDays flexInt
			NoncurrentVersionExpiration       *struct{ NoncurrentDays flexInt }
			AbortIncompleteMultipartUpload    *struct{ DaysAfterInitiation flexInt }
			TagFilters                        []struct{ Key, Value string }
		}
	}
}

func (r *resolver) bucket(logicalID string) (BucketSpec, bool, error) {
	var p cfnBucket
	ok, err := r.properties(logicalID, &p)
	if err != nil || !ok {
		return BucketSpec{}, false, err
	}
	name, err := r.physicalName(logicalID)
	if err != nil {
		return BucketSpec{}, false, err
	}
	spec := BucketSpec{
		LogicalID: logicalID,
		Name:      name,
		Versioned: p.VersioningConfiguration != nil && p.VersioningConfiguration.Status == "Enabled",
	}
	if p.LifecycleConfiguration == nil {
		return spec, true, nil
	}
	for _, rule := range p.LifecycleConfiguration.Rules {
		// A disabled rule does nothing in S3, so it does nothing here.
		if rule.Status != "Enabled" {
			continue
		}
		lr := LifecycleRule{
			ID:                       rule.ID,
			Prefix:                   rule.Prefix,
			ExpirationDays:           int(rule.ExpirationInDays),
			NoncurrentExpirationDays: int(rule.NoncurrentVersionExpirationInDays),
		}
		if n := rule.NoncurrentVersionExpiration; n != nil {
			lr.NoncurrentExpirationDays = int(n.NoncurrentDays)
		}
		if a := rule.AbortIncompleteMultipartUpload; a != nil {
			lr.AbortMultipartDays = int(a.DaysAfterInitiation)
		}
		for _, tf := range rule.TagFilters {
			if lr.Tags == nil {
				lr.Tags = map[string]string{}
			}
			lr.Tags[tf.Key] = tf.Value
		}
		spec.Lifecycle = append(spec.Lifecycle, lr)
	}
	return spec, true, nil
}
