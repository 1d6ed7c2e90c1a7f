package faults

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDB returns a client for the DynamoDB endpoint (env.DynamoDBEndpoint) that sends through tr.
// The SDK does not retry (aws.NopRetryer), so every fault reaches the code under test; to test with
// the SDK's retries on top, pass an option that sets o.Retryer (and o.RetryMaxAttempts, if set,
// overrides its attempts).
func DynamoDB(cfg aws.Config, endpoint string, tr *Transport, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	cfg.HTTPClient = tr
	return dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0 // cfg's (testenv: 5) would override the attempts of a retryer set below
	}}, optFns...)...)
}

const dynamoDBErrorPrefix = "com.amazonaws.dynamodb.v20120810#"

// The throttling errors DynamoDB answers with, and their messages as DynamoDB words them.
var dynamoDBThrottles = []struct{ code, message string }{
	{"ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."},
	{"ThrottlingException", "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly."},
	{"RequestLimitExceeded", "Throughput exceeds the current throughput limit for your account. Please contact AWS Support at https://aws.amazon.com/support request a limit increase"},
}

func throttleResponse(c *call, d *dice) (*http.Response, string) {
	if c.svc == svcS3 {
		return s3Error(c.req, d, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate."), "SlowDown"
	}
	t := dynamoDBThrottles[d.IntN(len(dynamoDBThrottles))]
	return dynamoDBError(c.req, d, http.StatusBadRequest, t.code, t.message), t.code
}

func serverErrorResponse(c *call, d *dice) (*http.Response, string) {
	if c.svc == svcS3 {
		return s3Error(c.req, d, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again."), "InternalError"
	}
	return dynamoDBError(c.req, d, http.StatusInternalServerError, "InternalServerError", "Internal server error"), "InternalServerError"
}

// dynamoDBError is an error as DynamoDB sends it: awsJson1_0 with the namespaced __type, a request id
// and the CRC32 of the body that the SDK checks.
func dynamoDBError(req *http.Request, d *dice, status int, code, message string) *http.Response {
	body, _ := marshal(map[string]string{"__type": dynamoDBErrorPrefix + code, "message": message})
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", d.id("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 52))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	return newResponse(req, status, h, body)
}

// withholdWrites forwards a random non-empty proper subset of a BatchWriteItem's requests and adds the
// rest, byte for byte as the caller sent them, to the response's UnprocessedItems. A batch of one
// request goes through whole: DynamoDB answers a batch it can do none of with a throttling error.
func (t *Transport) withholdWrites(c *call) (*http.Response, Call, error) {
	body, err := readBody(c.req)
	if err != nil {
		return nil, Call{}, fmt.Errorf("faults: read BatchWriteItem request: %w", err)
	}
	var in map[string]json.RawMessage
	var items map[string][]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, Call{}, fmt.Errorf("faults: parse BatchWriteItem request: %w", err)
	}
	if err := json.Unmarshal(in["RequestItems"], &items); err != nil {
		return nil, Call{}, fmt.Errorf("faults: parse BatchWriteItem RequestItems: %w", err)
	}
	type ref struct {
		table string
		i     int
	}
	var all []ref
	for _, table := range slices.Sorted(maps.Keys(items)) {
		for i := range items[table] {
			all = append(all, ref{table, i})
		}
	}
	if len(all) < 2 {
		resp, _, err := t.forward(c, body)
		return resp, Call{Forwarded: err == nil}, err
	}
	withhold := c.dice.subset(len(all), 1, len(all)-1)
	sent := map[string][]json.RawMessage{}
	held := map[string][]json.RawMessage{}
	for j, r := range all {
		if withhold[j] {
			held[r.table] = append(held[r.table], items[r.table][r.i])
		} else {
			sent[r.table] = append(sent[r.table], items[r.table][r.i])
		}
	}
	if in["RequestItems"], err = marshal(sent); err != nil {
		return nil, Call{}, err
	}
	if body, err = marshal(in); err != nil {
		return nil, Call{}, err
	}

	resp, out, err := t.forward(c, body)
	if err != nil {
		return nil, Call{}, err
	}
	rec := Call{Forwarded: true}
	if resp.StatusCode/100 != 2 {
		return resp, rec, nil // the emulator's own error, as it sent it
	}
	var res map[string]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, rec, fmt.Errorf("faults: parse BatchWriteItem response: %w", err)
	}
	unprocessed := map[string][]json.RawMessage{}
	if raw, ok := res["UnprocessedItems"]; ok {
		if err := json.Unmarshal(raw, &unprocessed); err != nil {
			return nil, rec, fmt.Errorf("faults: parse UnprocessedItems: %w", err)
		}
	}
	for table, reqs := range held {
		unprocessed[table] = append(unprocessed[table], reqs...)
	}
	if res["UnprocessedItems"], err = marshal(unprocessed); err != nil {
		return nil, rec, err
	}
	if out, err = marshal(res); err != nil {
		return nil, rec, err
	}
	replaceBody(resp, out)
	resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(out)), 10))
	rec.Fault, rec.Withheld = UnprocessedItems, len(withhold)
	return resp, rec, nil
}
