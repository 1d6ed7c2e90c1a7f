package intake_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/localsmtp"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// corpusWant is a fixture's sidecar: what the intake must make of the message.
type corpusWant struct {
	// Charset the fixture is sent in (it is written in UTF-8 with placeholders); "" sends it as is.
	Charset string `json:"charset"`
	// Verdicts simulated by the local receiver (SES's SPF/DKIM/DMARC); "" is all PASS.
	Verdicts string `json:"verdicts"`
	Kind     string `json:"kind"`
	Outcome  string `json:"outcome"`
	// Requests by kind; -1 means one per connection of the fixture's channel.
	Requests      map[request.Kind]int `json:"requests"`
	RequestStatus request.Status       `json:"request_status"`
	// Mails: the templates each party ("owner", "stranger") received; a party not listed gets none.
	Mails map[string][]string `json:"mails"`
}

// Every fixture of testdata/ goes through SMTP, the intake and the workflows on a stack of its own,
// and must end exactly as its sidecar says: the journal's outcome, the requests in the ledger, and
// who got which mail in the SES emulator.
func TestCorpusOutcomes(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) < 12 {
		t.Fatalf("corpus: %d fixtures, %v", len(files), err)
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var want corpusWant
			side, err := os.ReadFile(strings.TrimSuffix(path, ".eml") + ".want.json")
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(side))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("sidecar: %v", err)
			}
			tpl, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t)
			_, u, bot := r.endUser()
			channel := r.acct.Bots[0].Connections[0].Channel
			raw := strings.NewReplacer(
				"{{INFO}}", r.sys.Config.InfoAddress, "{{OWNER}}", r.env.Address("owner"), "{{NAME}}", r.acct.FullName,
				"{{STRANGER}}", r.env.Address("stranger"), "{{DOMAIN}}", r.env.MailDomain,
				"{{DATE}}", r.eng.Clock().Now().Format(time.RFC1123Z), "{{MSGID}}", fmt.Sprintf("%s.%d@corpus.test", name, time.Now().UnixNano()),
				"{{BOT}}", bot.Name, "{{USER}}", u.Username, "{{LASTDATE}}", u.LastActiveAt.In(msk).Format("02.01.2006"),
				"{{CHANNEL}}", channel,
			).Replace(string(tpl))
			if strings.Contains(raw, "{{") {
				t.Fatalf("a placeholder is left in the fixture")
			}
			if want.Verdicts != "" {
				raw = localsmtp.VerdictHeader + ": " + want.Verdicts + "\r\n" + raw
			}
			body := []byte(raw)
			switch want.Charset {
			case "":
			case "koi8-r":
				body, err = charmap.KOI8R.NewEncoder().Bytes(body)
			case "windows-1251":
				body, err = charmap.Windows1251.NewEncoder().Bytes(body)
			default:
				t.Fatalf("charset %q", want.Charset)
			}
			if err != nil {
				t.Fatal(err)
			}
			perChannel := 0 // counted before the wipe removes them
			conns, err := r.sys.Store.Connections(r.ctx, r.acct.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range conns {
				if c.Channel == channel {
					perChannel++
				}
			}
			from := "sender@" + r.env.MailDomain
			if err := smtp.SendMail(r.smtp, nil, from, []string{r.sys.Config.InfoAddress}, body); err != nil {
				t.Fatal(err)
			}
			if err := r.eng.Settle(r.ctx); err != nil {
				t.Fatal(err)
			}

			ev := r.lastEvent()
			if j := r.journal(ev); j.State != ledger.InboundDone || j.Kind != want.Kind || j.Outcome != want.Outcome {
				t.Errorf("journal: state %s kind %s outcome %s, want %s %s", j.State, j.Kind, j.Outcome, want.Kind, want.Outcome)
			}
			if r.stored(ev) {
				t.Error("the raw message is still stored")
			}
			got := map[request.Kind]int{}
			for _, q := range r.requests() {
				got[q.Kind]++
				if want.RequestStatus != "" && q.Status != want.RequestStatus {
					t.Errorf("%s request %s, want %s", q.Kind, q.Status, want.RequestStatus)
				}
			}
			wantReqs := map[request.Kind]int{}
			for k, n := range want.Requests {
				if n < 0 {
					n = perChannel
				}
				wantReqs[k] = n
			}
			if fmt.Sprint(got) != fmt.Sprint(wantReqs) {
				t.Errorf("requests %v, want %v", got, wantReqs)
			}
			for _, party := range []string{"owner", "stranger", "sender", "office"} {
				var templates []string
				for _, m := range r.mailTo(party) {
					for _, h := range m.Headers {
						if h.Name == "X-Lethe-Template" && !slices.Contains(templates, h.Value) {
							templates = append(templates, h.Value)
						}
					}
					// The emulator keeps no header of a raw mail: a forward is known by what it carries.
					if len(m.Headers) == 0 && isForwardOf(m, raw) && !slices.Contains(templates, "forward") {
						templates = append(templates, "forward")
					}
				}
				slices.Sort(templates)
				w := slices.Clone(want.Mails[party])
				slices.Sort(w)
				if !slices.Equal(templates, w) {
					t.Errorf("%s received %v, want %v", party, templates, w)
				}
			}
		})
	}
}

// isForwardOf: m carries the received message raw, attached as message/rfc822, under a "Fwd:"
// subject.
func isForwardOf(m testenv.Mail, raw string) bool {
	if !strings.HasPrefix(m.Subject, "Fwd: ") {
		return false
	}
	for _, a := range m.Attachments {
		if a.ContentType == "message/rfc822" && bytes.Contains(a.Content, []byte(strings.SplitN(raw, "\r\n\r\n", 2)[1])) {
			return true
		}
	}
	return false
}
