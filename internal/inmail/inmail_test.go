package inmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testInfo = "EtoChatBot <info@etochat.bot>"

// want is a corpus sidecar: the expected Classified (every field compared; absent means empty)
// and the Message fields worth pinning for that fixture (absent means not checked).
type want struct {
	Message struct {
		Subject      *string  `json:"subject"`
		From         *string  `json:"from"`
		FromName     *string  `json:"from_name"`
		To           []string `json:"to"`
		Cc           []string `json:"cc"`
		MessageID    *string  `json:"message_id"`
		Date         *string  `json:"date"`
		InReplyTo    []string `json:"in_reply_to"`
		References   []string `json:"references"`
		Text         *string  `json:"text"`
		TextContains []string `json:"text_contains"`
		TextExcludes []string `json:"text_excludes"`
	} `json:"message"`
	Classified struct {
		Kind         Kind     `json:"kind"`
		Reason       string   `json:"reason"`
		FullName     string   `json:"full_name"`
		AccountEmail string   `json:"account_email"`
		Channel      string   `json:"channel"`
		BotName      string   `json:"bot_name"`
		Username     string   `json:"username"`
		LastMessage  string   `json:"last_message"`
		Tokens       []string `json:"tokens"`
		Referenced   []string `json:"referenced"`
	} `json:"classified"`
}

func corpus(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("corpus has %d messages, expected the full set", len(files))
	}
	return files
}

func TestCorpus(t *testing.T) {
	for _, path := range corpus(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			side, err := os.ReadFile(strings.TrimSuffix(path, ".eml") + ".want.json")
			if err != nil {
				t.Fatal(err)
			}
			var w want
			dec := json.NewDecoder(bytes.NewReader(side))
			dec.DisallowUnknownFields() // a misspelt key would silently check nothing
			if err := dec.Decode(&w); err != nil {
				t.Fatalf("sidecar: %v", err)
			}
			m, err := Parse(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkMessage(t, m, &w)

			got := Classify(m, testInfo)
			wc := w.Classified
			var wantLast time.Time
			if wc.LastMessage != "" {
				if wantLast, err = time.Parse("2006-01-02", wc.LastMessage); err != nil {
					t.Fatal(err)
				}
			}
			exp := Classified{Kind: wc.Kind, Reason: wc.Reason, FullName: wc.FullName, AccountEmail: wc.AccountEmail,
				Channel: wc.Channel, BotName: wc.BotName, Username: wc.Username, LastMessage: wantLast,
				Tokens: wc.Tokens, Referenced: wc.Referenced}
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("Classify:\n got %+v\nwant %+v\ntext: %q", got, exp, m.Text)
			}
		})
	}
}

func checkMessage(t *testing.T, m *Message, w *want) {
	t.Helper()
	wm := w.Message
	str := func(field string, got string, want *string) {
		if want != nil && got != *want {
			t.Errorf("Message.%s = %q, want %q", field, got, *want)
		}
	}
	emails := func(as []Address) []string {
		var out []string
		for _, a := range as {
			out = append(out, a.Email)
		}
		return out
	}
	str("Subject", m.Subject, wm.Subject)
	str("From.Email", m.From.Email, wm.From)
	str("From.Name", m.From.Name, wm.FromName)
	str("MessageID", m.MessageID, wm.MessageID)
	str("Text", m.Text, wm.Text)
	if wm.Date != nil {
		if got := m.Date.UTC().Format(time.RFC3339); got != *wm.Date {
			t.Errorf("Message.Date = %s, want %s", got, *wm.Date)
		}
	}
	if wm.To != nil && !reflect.DeepEqual(emails(m.To), wm.To) {
		t.Errorf("Message.To = %v, want %v", emails(m.To), wm.To)
	}
	if wm.Cc != nil && !reflect.DeepEqual(emails(m.Cc), wm.Cc) {
		t.Errorf("Message.Cc = %v, want %v", emails(m.Cc), wm.Cc)
	}
	if wm.InReplyTo != nil && !reflect.DeepEqual(m.InReplyTo, wm.InReplyTo) {
		t.Errorf("Message.InReplyTo = %v, want %v", m.InReplyTo, wm.InReplyTo)
	}
	if wm.References != nil && !reflect.DeepEqual(m.References, wm.References) {
		t.Errorf("Message.References = %v, want %v", m.References, wm.References)
	}
	for _, s := range wm.TextContains {
		if !strings.Contains(m.Text, s) {
			t.Errorf("Message.Text lacks %q:\n%s", s, m.Text)
		}
	}
	for _, s := range wm.TextExcludes {
		if strings.Contains(m.Text, s) {
			t.Errorf("Message.Text still has %q:\n%s", s, m.Text)
		}
	}
	if !utf8Valid(m.Text) || !utf8Valid(m.Subject) {
		t.Errorf("invalid UTF-8 in text or subject")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s }

// bigMessage streams a request with one base64 attachment of about size bytes, without holding
// it in memory.
func bigMessage(size int) io.Reader {
	head := "From: big@example.com\r\nTo: info@etochat.bot\r\nSubject: Data deletion\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"big\"\r\n\r\n" +
		"--big\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nFull name: Big Sender\r\nEmail: big@example.com\r\n" +
		"--big\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"dump.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	line := strings.Repeat("QUJD", 19) + "\r\n" // 76 base64 characters per line, as MIME wants
	lines := size / len(line)
	tail := "--big--\r\n"
	return io.MultiReader(strings.NewReader(head), &repeatReader{s: line, n: lines}, strings.NewReader(tail))
}

type repeatReader struct {
	s   string
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	written := 0
	for written < len(p) && r.n > 0 {
		c := copy(p[written:], r.s[r.off:])
		written += c
		r.off += c
		if r.off == len(r.s) {
			r.off = 0
			r.n--
		}
	}
	if written == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return written, nil
}

func TestLargeAttachmentWithinLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("20 MB message")
	}
	m, err := Parse(bigMessage(20 << 20))
	if err != nil {
		t.Fatalf("Parse of a 20 MB message: %v", err)
	}
	c := Classify(m, testInfo)
	if c.Kind != KindAccountDeletion || c.FullName != "Big Sender" || c.AccountEmail != "big@example.com" {
		t.Errorf("Classify = %+v", c)
	}
	if strings.Contains(m.Text, "QUJD") {
		t.Errorf("attachment content leaked into the text")
	}
}

func TestOverLimitRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("41 MB message")
	}
	_, err := Parse(bigMessage(41 << 20))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse of a 41 MB message: err = %v, want ErrTooLarge", err)
	}
	// Past the limit anywhere, even after the last boundary where enmime stops looking.
	_, err = Parse(io.MultiReader(strings.NewReader("Subject: Data deletion\r\n\r\nhi\r\n"), &repeatReader{s: "x\r\n", n: MaxSize / 3}))
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Parse of a 40 MB + plain body: err = %v, want ErrTooLarge", err)
	}
}

func TestLimitReaderBoundary(t *testing.T) {
	for _, tc := range []struct {
		n, size int
		over    bool
	}{{10, 9, false}, {10, 10, false}, {10, 11, true}, {0, 0, false}, {0, 1, true}} {
		lr := &limitReader{r: strings.NewReader(strings.Repeat("a", tc.size)), n: int64(tc.n)}
		b, err := io.ReadAll(lr)
		if lr.over != tc.over || (tc.over != errors.Is(err, ErrTooLarge)) || len(b) > tc.n {
			t.Errorf("limit %d, size %d: read %d, over %v, err %v", tc.n, tc.size, len(b), lr.over, err)
		}
	}
}

// Input that is not a mail message at all — no header, a header line without a colon, a
// continuation line before any header, binary garbage — is refused with ErrMalformed and no
// message; input that is a message, however odd (empty, a multipart without its closing
// boundary), is read and classified as nothing to act on.
func TestParseErrors(t *testing.T) {
	for _, in := range []string{"\x00\x01\x02", "not a header\r\n\r\nbody", "Subject Data deletion\r\n",
		" continuation\r\nSubject: Data deletion\r\n\r\n"} {
		m, err := Parse(strings.NewReader(in))
		if !errors.Is(err, ErrMalformed) || m != nil {
			t.Errorf("Parse(%q) = %+v, %v; want no message and ErrMalformed", in, m, err)
		}
	}
	for in, wantText := range map[string]string{
		"": "",
		"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi": "hi",
	} {
		m, err := Parse(strings.NewReader(in))
		if err != nil || m == nil {
			t.Errorf("Parse(%q) = %v, %v; want a message", in, m, err)
			continue
		}
		if m.Text != wantText {
			t.Errorf("Parse(%q).Text = %q, want %q", in, m.Text, wantText)
		}
		if c := Classify(m, testInfo); c.Kind != KindOther {
			t.Errorf("Classify(Parse(%q)) = %s, want %s", in, c.Kind, KindOther)
		}
	}
}

func TestClassifyTotal(t *testing.T) {
	for _, m := range []*Message{nil, {}, {Subject: "Data deletion"}, {Subject: "Re: Re: Re:"},
		{Subject: "Data deletion — end customer", Text: "Date: 31.02.2026\nBot:\nUsername: @"}} {
		for _, info := range []string{testInfo, "", "not an address", "@"} {
			c := Classify(m, info)
			if c.Kind == "" {
				t.Errorf("Classify(%+v, %q) has no kind", m, info)
			}
		}
	}
}

func TestSubjectNormalization(t *testing.T) {
	for in, wantKind := range map[string]Kind{
		"Data deletion":      KindAccountDeletion,
		"  data   deletion ": KindAccountDeletion,
		"Отв: Пересл: УДАЛЕНИЕ ДАННЫХ":        KindAccountDeletion,
		"Fwd[2]: Re(3): [ext] Data deletion":  KindAccountDeletion,
		"Data deletion – end customer":        KindEndCustomer,
		"Data deletion—End Customer":          KindEndCustomer,
		"Data deletion: end-customer":         KindEndCustomer,
		"Удаление данных — конечный клиент":   KindEndCustomer,
		"Удаление данных: клиент бота":        KindEndCustomer,
		"Data deletion request":               KindOther,
		"Re: Deletion of data":                KindOther,
		"Data deletion — WhatsApp connection": KindConnectionWipe,
	} {
		c := Classify(&Message{Subject: in}, testInfo)
		if c.Kind != wantKind {
			t.Errorf("subject %q: kind %s, want %s", in, c.Kind, wantKind)
		}
	}
}

func TestDates(t *testing.T) {
	nov20 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-11-20":                 nov20,
		"2026-11-20T14:30:00+03:00":  nov20,
		"20.11.2026":                 nov20,
		"20/11/2026":                 nov20,
		"11/20/2026":                 nov20,
		"20.11.26":                   nov20,
		"20 ноября 2026":             nov20,
		"20 нояб. 2026 г.":           nov20,
		"20 November 2026":           nov20,
		"20th Nov 2026":              nov20,
		"November 20, 2026":          nov20,
		"Nov 20th 2026":              nov20,
		"around 20 ноября 2026 года": nov20,
		"31.11.2026":                 {},
		"2026-13-01":                 {},
		"yesterday":                  {},
		"":                           {},
	} {
		got, _ := parseDate(in)
		if !got.Equal(want) {
			t.Errorf("parseDate(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestChannelNames(t *testing.T) {
	for text, want := range map[string]string{
		"Please wipe the Telegram connection":          "telegram",
		"удалите подключение к Телеграму":              "telegram",
		"удалить интеграцию с Ватсапом":                "whatsapp",
		"disconnect WhatsApp":                          "whatsapp",
		"удалите подключение Facebook Messenger":       "messenger",
		"remove the Instagram integration":             "instagram",
		"удалите связку с Инстаграмом":                 "instagram",
		"отключите ВК":                                 "vk",
		"delete the VK connection":                     "vk",
		"отвяжите Вайбер":                              "viber",
		"unlink Slack and delete the data":             "slack",
		"удалите подключение Слака":                    "slack",
		"I use Telegram a lot":                         "",
		"не отключайте Telegram":                       "",
		"удалите данные, я пишу через мессенджер":      "",
		"please delete the connection with my dentist": "",
	} {
		if got := wipeRequest(text, fields{}, ""); got != want {
			t.Errorf("wipeRequest(%q) = %q, want %q", text, got, want)
		}
	}
}

func FuzzParseClassify(f *testing.F) {
	for _, path := range corpus(f) {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.NewReader(data))
		if err != nil {
			if m != nil {
				t.Fatalf("Parse returned a message with error %v", err)
			}
			return
		}
		for _, info := range []string{testInfo, ""} {
			c := Classify(m, info)
			switch c.Kind {
			case KindAccountDeletion, KindEndCustomer, KindConnectionWipe, KindAutomatic, KindOther:
			default:
				t.Fatalf("Classify kind %q", c.Kind)
			}
			if c.Kind == KindAutomatic && c.Reason == "" {
				t.Fatal("automatic without a reason")
			}
		}
	})
}

// TestAdversarialBodyFast: a body built to make the extraction regexps work hard still parses
// and classifies quickly; the mail handler runs under a Lambda timeout.
func TestAdversarialBodyFast(t *testing.T) {
	bodies := []string{
		strings.Repeat("не удалите подключение Telegram delete ", 20000),
		strings.Repeat("a@b.cd ", 100000),
		strings.Repeat("Name: x\n", 60000),
		strings.Repeat("On x wrote\n", 60000),
		strings.Repeat("20 ", 200000),
		strings.Repeat(">", 1<<20),
	}
	for i, body := range bodies {
		start := time.Now()
		m, err := Parse(strings.NewReader("Subject: Data deletion\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		Classify(m, testInfo)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("body %d took %v", i, d)
		}
	}
}

func TestLabels(t *testing.T) {
	f := labelledFields(strings.Join([]string{
		"Ник в Telegram: @petya",
		"**Bot I wrote to:** Shop Bot",
		"Дата последнего сообщения боту: 5 марта 2026",
		"- Your account email address: Petya@Example.com",
		"1) ФИО полностью: Петров Пётр",
		"https://example.com: not a label",
	}, "\n"))
	exp := fields{name: "Петров Пётр", email: "Petya@Example.com", bot: "Shop Bot", username: "@petya", date: "5 марта 2026"}
	if f != exp {
		t.Errorf("labelledFields = %+v, want %+v", f, exp)
	}
}

// A message at SES's limit is parsed holding about one decoded copy of its attachment besides what
// enmime reads through: the heap in use never reaches three times the message's size. (The peak is
// sampled while Parse runs, so it can only be under-estimated: the bound cannot fail spuriously.)
func TestParseAtTheLimitKeepsMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("38 MB message")
	}
	const size = 38 << 20
	debug.FreeOSMemory()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	m, err := Parse(bigMessage(size))
	close(done)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}
	if c := Classify(m, testInfo); c.Kind != KindAccountDeletion {
		t.Fatalf("kind %s", c.Kind)
	}
	grew := peak.Load() - min(peak.Load(), before.HeapInuse)
	t.Logf("%d MB message: heap in use grew by at most %d MB while parsing", size>>20, grew>>20)
	if grew > 3*size {
		t.Fatalf("parsing a %d MB message took %d MB of heap: more than three copies", size>>20, grew>>20)
	}
}

// The subject is recognised however a mail client or a person wrapped it: reply and forward
// prefixes of every language the platform serves, stacked, in any case, and the subject itself in
// quotes of any kind, the quotes inside or outside the prefixes.
func TestSubjectPrefixesAndQuotes(t *testing.T) {
	prefixes := []string{"", "Re: ", "RE: ", "Fwd: ", "FW: ", "AW: ", "WG: ", "Отв: ", "Ответ: ", "Пересл: ",
		"Re: Fwd: ", "AW: WG: RE: ", "Ответ: Пересл: Отв: ", "Fwd: [EtoChat] Re[2]: "}
	quotes := [][2]string{{"", ""}, {"«", "»"}, {`"`, `"`}, {"'", "'"}, {"“", "”"}, {"„", "“"}}
	subjects := map[string]Kind{"Удаление данных": KindAccountDeletion, "Data deletion": KindAccountDeletion,
		"Data deletion — end customer": KindEndCustomer, "удаление данных - конечный клиент": KindEndCustomer}
	for subject, kind := range subjects {
		for _, p := range prefixes {
			for _, q := range quotes {
				for _, s := range []string{p + q[0] + subject + q[1], q[0] + p + subject + q[1]} {
					m := &Message{Subject: s, From: Address{Email: "kim@example.com"}, Text: "Full name: Kim Park\nEmail: kim@example.com\n"}
					if got := Classify(m, testInfo).Kind; got != kind {
						t.Errorf("%q: %s, want %s", s, got, kind)
					}
				}
			}
		}
	}
	for _, s := range []string{`"Data deletion" pricing`, "Re: «Удаление данных» счёта", "Invoice 'Data deletion'"} {
		m := &Message{Subject: s, From: Address{Email: "kim@example.com"}}
		if got := Classify(m, testInfo).Kind; got != KindOther {
			t.Errorf("%q: %s, want other", s, got)
		}
	}
}
