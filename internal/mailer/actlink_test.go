package mailer

import (
	"strings"
	"testing"
	"time"
)

// The final mail gives the act's public link, made absolute, and says until when it works; without
// a link it says nothing of one.
func TestCompletedMailGivesTheActsLinkAndItsExpiry(t *testing.T) {
	d := fullData()
	d.ActURL = "/v1/acts/req-42?exp=1790000000&sig=" + strings.Repeat("ab", 32)
	d.ActURLExpires = time.Date(2026, 9, 21, 12, 0, 0, 0, time.UTC)
	for loc, until := range map[string]string{LocaleRU: "21 сентября 2026 г.", LocaleEN: "21 September 2026"} {
		r, err := Render(Mail{Template: AccountDeletionCompleted, Locale: loc, Data: d}, "https://lethe.example.com")
		if err != nil {
			t.Fatal(err)
		}
		link := "https://lethe.example.com" + d.ActURL
		if !strings.Contains(r.Text, link) || !strings.Contains(r.Text, until) || !strings.Contains(r.Text, "90") {
			t.Errorf("%s: the text lacks the link or its expiry:\n%s", loc, r.Text[:min(len(r.Text), 1200)])
		}
		if !strings.Contains(r.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) || !strings.Contains(r.HTML, "format=pdf") {
			t.Errorf("%s: the html lacks the links to the act", loc)
		}
	}
	r, err := Render(Mail{Template: AccountDeletionCompleted, Locale: LocaleEN, Data: fullData()}, "https://lethe.example.com")
	if err != nil || strings.Contains(r.Text, "/v1/acts/") || strings.Contains(r.Text, "without signing in") {
		t.Errorf("a mail without a link mentions one (%v)", err)
	}
}
