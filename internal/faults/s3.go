package faults

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3 returns a path-style client for the S3 endpoint (env.S3Endpoint) that sends through tr. As with
// DynamoDB, the SDK does not retry unless an option sets o.Retryer.
//
// Checksums need no setting: the SDK sends DeleteObjects with X-Amz-Checksum-CRC32 (or the algorithm
// the input names) and X-Amz-Content-Sha256, never Content-MD5, even with
// RequestChecksumCalculationWhenRequired since DeleteObjects requires one; the transport recomputes
// whichever it finds for the body it forwards.
func S3(cfg aws.Config, endpoint string, tr *Transport, optFns ...func(*s3.Options)) *s3.Client {
	cfg.HTTPClient = tr
	return s3.NewFromConfig(cfg, append([]func(*s3.Options){func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 0
	}}, optFns...)...)
}

// s3Error is an error as S3 sends it: the XML Error document with request ids.
func s3Error(req *http.Request, d *dice, status int, code, message string) *http.Response {
	reqID := d.id("0123456789ABCDEF", 16)
	hostID := make([]byte, 48)
	for i := range hostID {
		hostID[i] = byte(d.IntN(256))
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	fmt.Fprintf(&b, "<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>%s</HostId></Error>",
		code, message, reqID, base64.StdEncoding.EncodeToString(hostID))
	h := http.Header{}
	h.Set("Content-Type", "application/xml")
	h.Set("X-Amz-Request-Id", reqID)
	h.Set("X-Amz-Id-2", base64.StdEncoding.EncodeToString(hostID))
	return newResponse(req, status, h, b.Bytes())
}

// deleteEntry is one <Object> of a DeleteObjects request, with where it lies in the body.
type deleteEntry struct {
	start, end int64
	Key        string `xml:"Key"`
	VersionID  string `xml:"VersionId"`
}

// parseDelete finds the <Object> elements of a DeleteObjects request body.
func parseDelete(body []byte) ([]deleteEntry, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	var entries []deleteEntry
	depth := 0
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			return entries, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 1 && t.Name.Local == "Object" {
				var e deleteEntry
				if err := d.DecodeElement(&e, &t); err != nil {
					return nil, err
				}
				e.start, e.end = start, d.InputOffset()
				entries = append(entries, e)
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

const internalErrorMessage = "We encountered an internal error. Please try again."

// withholdDeletes takes a random non-empty subset of a DeleteObjects request's keys out of the body
// it forwards, and reports each as an InternalError entry in the result, as S3 does when it fails
// some keys of a batch: the caller must retry exactly those. When every key is withheld nothing is
// forwarded (S3 rejects an empty Delete).
func (t *Transport) withholdDeletes(c *call) (*http.Response, Call, error) {
	body, err := readBody(c.req)
	if err != nil {
		return nil, Call{}, fmt.Errorf("faults: read DeleteObjects request: %w", err)
	}
	entries, err := parseDelete(body)
	if err != nil {
		return nil, Call{}, fmt.Errorf("faults: parse DeleteObjects request: %w", err)
	}
	if len(entries) == 0 {
		resp, _, err := t.forward(c, body)
		return resp, Call{Forwarded: err == nil}, err
	}
	withhold := c.dice.subset(len(entries), 1, len(entries))
	var sent, errs bytes.Buffer
	last := int64(0)
	for i, e := range entries {
		if !withhold[i] {
			continue
		}
		sent.Write(body[last:e.start])
		last = e.end
		errs.WriteString("<Error><Key>")
		xml.EscapeText(&errs, []byte(e.Key))
		errs.WriteString("</Key>")
		if e.VersionID != "" {
			errs.WriteString("<VersionId>")
			xml.EscapeText(&errs, []byte(e.VersionID))
			errs.WriteString("</VersionId>")
		}
		errs.WriteString("<Code>InternalError</Code><Message>" + internalErrorMessage + "</Message></Error>")
	}
	sent.Write(body[last:])
	rec := Call{Fault: PartialDelete, Withheld: len(withhold)}

	const closing = "</DeleteResult>"
	if len(withhold) == len(entries) {
		h := http.Header{}
		h.Set("Content-Type", "application/xml")
		out := xml.Header + `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + errs.String() + closing
		return newResponse(c.req, http.StatusOK, h, []byte(out)), rec, nil
	}
	resp, out, err := t.forward(c, sent.Bytes())
	if err != nil {
		return nil, Call{}, err
	}
	rec.Forwarded = true
	i := bytes.LastIndex(out, []byte(closing))
	if resp.StatusCode/100 != 2 || i < 0 {
		return resp, Call{Forwarded: true}, nil // the emulator's own answer, as it sent it
	}
	out = slices.Concat(out[:i:i], errs.Bytes(), out[i:])
	replaceBody(resp, out)
	return resp, rec, nil
}
