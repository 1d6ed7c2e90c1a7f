package localsmtp

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseHeadersKeepsOrderAndUnfolds(t *testing.T) {
	raw := "Received: from a\r\n by b;\r\n\tMon, 2 Mar 2026\r\n" +
		"From x@y Mon Mar  2\r\n" + // an mbox line, not a field
		"subject:  Hi  \r\n" +
		"X-Empty:\r\n" +
		"\r\n" +
		"Body: not a header\r\n"
	got := parseHeaders([]byte(raw))
	want := []header{{"Received", "from a by b;\tMon, 2 Mar 2026"}, {"subject", "Hi"}, {"X-Empty", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// Bare LF line ends and a message that is all header.
	if got := parseHeaders([]byte("A: 1\nB: 2")); !slices.Equal(got, []header{{"A", "1"}, {"B", "2"}}) {
		t.Errorf("LF-only: %q", got)
	}
}

func TestEventHeadersAreTruncatedPast10KB(t *testing.T) {
	var hs []header
	for range 30 {
		hs = append(hs, header{"X-Filler", strings.Repeat("v", 500)})
	}
	hs = append(hs, header{"Subject", "=?utf-8?q?caf=C3=A9?="})
	ev := buildEvent(eventInput{id: "id", headers: hs, received: time.Unix(1, 0), triggered: time.Unix(2, 5e6)})
	m := ev.Records[0].SES.Mail
	if !m.HeadersTruncated || len(m.Headers) >= len(hs) || len(m.Headers) == 0 {
		t.Errorf("truncated %v with %d of %d headers", m.HeadersTruncated, len(m.Headers), len(hs))
	}
	// commonHeaders still come from every header.
	if m.CommonHeaders.Subject != "café" {
		t.Errorf("subject %q", m.CommonHeaders.Subject)
	}
	if p := ev.Records[0].SES.Receipt.ProcessingTimeMillis; p != 1005 {
		t.Errorf("processingTimeMillis %d", p)
	}
}

func TestAddressListFallsBackToTheRawValue(t *testing.T) {
	if got := addressList("not an address <<"); !slices.Equal(got, []string{"not an address <<"}) {
		t.Errorf("got %q", got)
	}
	got := addressList(`a@x.test, "B. Name" <b@x.test>, =?iso-8859-1?q?J=F6rg?= <j@x.test>`)
	want := []string{"a@x.test", `"B. Name" <b@x.test>`, "Jörg <j@x.test>"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestMessageIDsLookLikeSESOnes(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := newMessageID()
		if err != nil {
			t.Fatal(err)
		}
		if !sesID.MatchString(id) || seen[id] {
			t.Fatalf("id %q (repeat %v)", id, seen[id])
		}
		seen[id] = true
	}
}
