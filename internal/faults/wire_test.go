package faults

import (
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Requests not made by the SDK are classified from the wire, and the errors answered are AWS's own
// wire format, byte for byte where AWS fixes the bytes.
func TestWireFormat(t *testing.T) {
	never := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		t.Errorf("%s %s was forwarded", req.Method, req.URL)
		return nil, io.EOF
	})
	tests := []struct {
		name        string
		req         func() *http.Request
		plan        Plan
		op          string
		status      int
		contentType string
		body        string // prefix
	}{
		{
			name: "DynamoDB throttling",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader(`{}`))
				r.Header.Set("X-Amz-Target", "DynamoDB_20120810.BatchWriteItem")
				return r
			},
			plan: Plan{Throttle: 1}, op: "BatchWriteItem", status: 400,
			contentType: "application/x-amz-json-1.0",
			body:        `{"__type":"com.amazonaws.dynamodb.v20120810#`,
		},
		{
			name: "DynamoDB server error",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", strings.NewReader(`{}`))
				r.Header.Set("X-Amz-Target", "DynamoDB_20120810.DeleteItem")
				return r
			},
			plan: Plan{ServerError: 1}, op: "DeleteItem", status: 500,
			contentType: "application/x-amz-json-1.0",
			body:        `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"Internal server error"}`,
		},
		{
			name: "S3 SlowDown",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/bucket?delete=", strings.NewReader(`<Delete/>`))
				return r
			},
			plan: Plan{Throttle: 1, Operations: []string{"DeleteObjects"}}, op: "DeleteObjects", status: 503,
			contentType: "application/xml",
			body:        `<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTransport(never, tt.plan)
			resp, err := tr.RoundTrip(tt.req())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Type") != tt.contentType || !strings.HasPrefix(string(body), tt.body) {
				t.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) || resp.ContentLength != int64(len(body)) {
				t.Errorf("Content-Length %s (%d), body %d bytes", got, resp.ContentLength, len(body))
			}
			if tt.contentType == "application/x-amz-json-1.0" {
				if got, want := resp.Header.Get("X-Amz-Crc32"), strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10); got != want {
					t.Errorf("X-Amz-Crc32 %s, want %s", got, want)
				}
				var e map[string]string
				if err := json.Unmarshal(body, &e); err != nil || e["message"] == "" || len(e) != 2 {
					t.Errorf("error body %s: %v", body, err)
				}
			}
			if got := tr.Stats().Log[0].Operation; got != tt.op {
				t.Errorf("operation %q, want %q", got, tt.op)
			}
		})
	}
}

func TestParseDelete(t *testing.T) {
	body := `<?xml version="1.0"?>` + "\n" + `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Quiet>true</Quiet>
  <Object><Key>a &amp; b</Key><VersionId>v1</VersionId></Object>
  <Object><Key><![CDATA[<c>]]></Key></Object>
</Delete>`
	got, err := parseDelete([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Key != "a & b" || got[0].VersionID != "v1" || got[1].Key != "<c>" {
		t.Fatalf("parsed %+v", got)
	}
	for _, e := range got {
		if s := body[e.start:e.end]; !strings.HasPrefix(s, "<Object>") || !strings.HasSuffix(s, "</Object>") {
			t.Errorf("span %q is not one Object element", s)
		}
	}
}
