package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/apispec"
	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/local/gateway"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/testenv"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// world is a test's own stack: the demo data, the workflows on the local engine, and the public
// routes served through the local API Gateway, every answer checked against api/openapi.yaml.
type world struct {
	t    *testing.T
	ctx  context.Context
	env  *testenv.Env
	sys  *system.System
	eng  *statemachine.Engine
	man  seed.Manifest
	srv  *httptest.Server
	spec *apispec.Validator
	cfg  map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	wd := testworld.New(t, testworld.Options{Start: start, Seed: 3,
		Size: seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 8, ConversationsPerEndUser: 1, MessagesPerConversation: 2,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 2, PaymentsPerAccount: 1}})
	srv := httptest.NewServer(&gateway.Gateway{Routes: wd.Sys.Webhooks.Routes(), Now: wd.Engine.Clock().Now})
	t.Cleanup(srv.Close)
	return &world{t: t, ctx: wd.Ctx, env: wd.Env, sys: wd.Sys, eng: wd.Engine, man: wd.Manifest, srv: srv, spec: testworld.Spec(t),
		cfg: config.LocalDefaults(3000)}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// post sends one request through the gateway, settles the workflows, and checks the answer
// against the document.
func (w *world) do(method, path, contentType, body string, headers ...string) reply {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := w.eng.Settle(w.ctx); err != nil {
		w.t.Fatal(err)
	}
	if err := w.spec.ValidateResponse(w.ctx, method, path, resp.StatusCode, resp.Header, b); err != nil {
		w.t.Errorf("%s %s: %v", method, path, err)
	}
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (w *world) requests() []request.Request {
	w.t.Helper()
	var all []request.Request
	for _, acct := range append([]string{"-"}, w.accountIDs()...) {
		rs, _, err := w.sys.Ledger.ByAccount(w.ctx, acct, 200, "")
		if err != nil {
			w.t.Fatal(err)
		}
		all = append(all, rs...)
	}
	return all
}

func (w *world) accountIDs() []string {
	var out []string
	for _, a := range w.man.Accounts {
		out = append(out, a.ID)
	}
	return out
}

// snapshot is what the platform table holds, by category: what "nothing changed" compares.
func (w *world) snapshot() map[string]int64 {
	w.t.Helper()
	out := map[string]int64{}
	for _, a := range w.man.Accounts {
		left, err := w.sys.Engine.Verify(w.ctx, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
		if err != nil {
			w.t.Fatal(err)
		}
		for k, n := range left {
			out[k] += n
		}
	}
	return out
}

func (w *world) unchanged(before map[string]int64, what string) {
	w.t.Helper()
	if after := w.snapshot(); fmt.Sprint(after) != fmt.Sprint(before) {
		w.t.Errorf("%s changed the data: %v → %v", what, before, after)
	}
	if n := len(w.requests()); n != 0 {
		w.t.Errorf("%s made %d requests", what, n)
	}
}

func hmacHex(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// signedRequest builds Meta's signed_request the way Meta's documentation describes it.
func signedRequest(secret string, payload map[string]any, pad bool) string {
	b, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding
	if pad {
		enc = base64.URLEncoding
	}
	p := enc.EncodeToString(b)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(p))
	return enc.EncodeToString(m.Sum(nil)) + "." + p
}

func metaForm(sr string) string { return url.Values{"signed_request": {sr}}.Encode() }

const formType = "application/x-www-form-urlencoded"

func TestMetaDataDeletionDeletesEveryBotsEndUsersAndShowsItsStatus(t *testing.T) {
	w := newWorld(t)
	secret := w.cfg[config.EnvMetaAppSecret]
	asid := w.man.MetaASIDShared
	idents, err := w.sys.Store.IdentitiesOf(w.ctx, platform.IdentityMetaASID, asid)
	if err != nil || len(idents) < 2 {
		t.Fatalf("the shared Meta identity has %d end users: %v", len(idents), err)
	}
	before := w.snapshot()

	// Forged, tampered and wrong-algorithm callbacks: 401, nothing happens.
	good := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": start.Unix(), "user_id": asid}, false)
	sig, _, _ := strings.Cut(good, ".")
	tampered := sig + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","user_id":"1"}`))
	for name, sr := range map[string]string{
		"wrong secret":    signedRequest("not-the-secret", map[string]any{"algorithm": "HMAC-SHA256", "user_id": asid}, false),
		"tampered":        tampered,
		"wrong algorithm": signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA1", "user_id": asid}, false),
	} {
		if r := w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(sr)); r.status != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.body)
		}
	}
	if r := w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(sig+".")); r.status != 400 {
		t.Errorf("no payload: %d", r.status)
	}
	if r := w.do("POST", "/webhooks/meta/data-deletion", formType, "nothing=here"); r.status != 400 {
		t.Errorf("no signed_request: %d", r.status)
	}
	w.unchanged(before, "refused callbacks")

	// The genuine one, user_id as a number, padded base64url.
	n, _ := strconv.ParseInt(asid, 10, 64)
	sr := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": start.Unix(), "user_id": n}, true)
	r := w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(sr))
	var ans struct {
		URL  string `json:"url"`
		Code string `json:"confirmation_code"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &ans) != nil || ans.Code == "" || !strings.HasSuffix(ans.URL, "/deletion-status/"+ans.Code) {
		t.Fatalf("answer %d %s", r.status, r.body)
	}
	if len(ans.Code) < 24 {
		t.Errorf("confirmation code %q is guessable", ans.Code)
	}
	// Meta sends it again: the same answer, one request.
	if r2 := w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(sr)); r2.body != r.body {
		t.Errorf("redelivery answered %s, first %s", r2.body, r.body)
	}
	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Kind != request.KindChannelIdentity || reqs[0].Status != request.StatusCompleted {
		t.Fatalf("requests %+v", reqs)
	}
	left, err := w.sys.Store.IdentitiesOf(w.ctx, platform.IdentityMetaASID, asid)
	if err != nil || len(left) != 0 {
		t.Fatalf("%d end users of the Meta identity left: %v", len(left), err)
	}
	for _, id := range idents {
		if _, err := w.sys.Store.EndUser(w.ctx, id.EndUserID); err == nil {
			t.Errorf("end user %s still there", id.EndUserID)
		}
	}

	// The status page: JSON when asked, HTML for a person; no personal data.
	path := "/deletion-status/" + ans.Code
	js := w.do("GET", path, "", "", "Accept", "application/json")
	var st struct {
		RequestID    string `json:"requestId"`
		Kind         string `json:"kind"`
		Status       string `json:"status"`
		ItemsDeleted int64  `json:"itemsDeleted"`
	}
	if js.status != 200 || json.Unmarshal([]byte(js.body), &st) != nil || st.Status != "completed" || st.ItemsDeleted == 0 ||
		st.RequestID == "" || st.Kind != "channel_identity_deletion" {
		t.Fatalf("status JSON %d %s", js.status, js.body)
	}
	// The page says which request it is, what it deletes and which step it has reached.
	page := w.do("GET", path, "", "", "Accept", "text/html")
	if page.status != 200 || !strings.Contains(page.body, "выполнена") || !strings.Contains(page.body, "completed") || strings.Contains(page.body, asid) ||
		!strings.Contains(page.body, st.RequestID) || !strings.Contains(page.body, "запрос Meta") ||
		!strings.Contains(page.body, "<strong>Выполнена / Done") {
		t.Fatalf("status page %d %s", page.status, page.body)
	}
	if r := w.do("GET", "/deletion-status/"+strings.Repeat("a", 32), "", "", "Accept", "application/json"); r.status != 404 {
		t.Errorf("unknown code: %d", r.status)
	}

	// Someone the platform holds nothing about: still an answer, and the page says so.
	none := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "user_id": "999000111222333"}, false)
	r = w.do("POST", "/webhooks/meta/data-deletion", formType, metaForm(none))
	if r.status != 200 || json.Unmarshal([]byte(r.body), &ans) != nil {
		t.Fatalf("answer %d %s", r.status, r.body)
	}
	page = w.do("GET", "/deletion-status/"+ans.Code, "", "")
	if page.status != 200 || !strings.Contains(page.body, "nothing to delete") {
		t.Fatalf("page for no data: %d %s", page.status, page.body)
	}
}

func (w *world) connection(channel string) (seed.ManifestAccount, seed.ManifestConnection) {
	w.t.Helper()
	a := w.man.Accounts[0]
	for _, b := range a.Bots {
		for _, c := range b.Connections {
			if c.Channel == channel {
				return a, c
			}
		}
	}
	w.t.Fatalf("no %s connection seeded", channel)
	return a, seed.ManifestConnection{}
}

// wiped checks that exactly one connection wipe was made, for conn, and that it finished.
func (w *world) wiped(conn seed.ManifestConnection) {
	w.t.Helper()
	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Kind != request.KindConnectionWipe || reqs[0].Scope.ConnectionID != conn.ID || reqs[0].Status != request.StatusCompleted {
		w.t.Fatalf("requests %+v, want one completed wipe of %s", reqs, conn.ID)
	}
	if _, err := w.sys.Store.Connection(w.ctx, conn.ID); err == nil {
		w.t.Fatalf("connection %s still there", conn.ID)
	}
	w.revokedEvidence(reqs[0].ID)
}

// revokedEvidence checks the act of destruction gives the channel's revocation as the reason.
func (w *world) revokedEvidence(requestID string) {
	w.t.Helper()
	acts, err := w.sys.Deletion.Evidence(w.ctx, requestID)
	if err != nil || len(acts) == 0 {
		w.t.Fatalf("no act for %s: %v", requestID, err)
	}
	if acts[0].Reason != evidence.ReasonChannelRevoked {
		w.t.Errorf("act of %s: reason %s, want %s", requestID, acts[0].Reason, evidence.ReasonChannelRevoked)
	}
}

func TestWhatsAppAccountUpdateWipesTheConnection(t *testing.T) {
	w := newWorld(t)
	secret := w.cfg[config.EnvMetaAppSecret]
	_, conn := w.connection(platform.ChannelWhatsApp)
	// The handshake.
	tok := w.cfg[config.EnvWhatsAppVerifyToken]
	if r := w.do("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="+url.QueryEscape(tok), "", ""); r.status != 200 || r.body != "1158201444" {
		t.Errorf("handshake: %d %q", r.status, r.body)
	}
	if r := w.do("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong", "", ""); r.status != 403 {
		t.Errorf("handshake with a wrong token: %d", r.status)
	}
	before := w.snapshot()
	body := `{"object":"whatsapp_business_account","entry":[{"id":"` + conn.ChannelKey + `","time":1772442000,"changes":[{"field":"account_update","value":{"event":"PARTNER_REMOVED"}}]}]}`
	if r := w.do("POST", "/webhooks/whatsapp", "application/json", body, "X-Hub-Signature-256", "sha256="+hmacHex("wrong", body)); r.status != 401 {
		t.Errorf("forged: %d", r.status)
	}
	if r := w.do("POST", "/webhooks/whatsapp", "application/json", strings.Replace(body, "PARTNER_REMOVED", "ACCOUNT_DELETED", 1),
		"X-Hub-Signature-256", "sha256="+hmacHex(secret, body)); r.status != 401 {
		t.Errorf("tampered: %d", r.status)
	}
	w.unchanged(before, "forged WhatsApp events")
	sig := "sha256=" + strings.ToUpper(hmacHex(secret, body))
	for i := 0; i < 2; i++ { // and its redelivery
		if r := w.do("POST", "/webhooks/whatsapp", "application/json", body, "x-hub-signature-256", sig); r.status != 200 {
			t.Fatalf("genuine: %d %s", r.status, r.body)
		}
	}
	w.wiped(conn)
}

func slackHeaders(secret string, ts time.Time, body string) []string {
	s := strconv.FormatInt(ts.Unix(), 10)
	return []string{"X-Slack-Request-Timestamp", s, "X-Slack-Signature", "v0=" + hmacHex(secret, "v0:"+s+":"+body)}
}

func TestSlackUninstallWipesTheWorkspaceOnce(t *testing.T) {
	w := newWorld(t)
	secret := w.cfg[config.EnvSlackSigningSecret]
	_, conn := w.connection(platform.ChannelSlack)
	now := w.eng.Clock().Now()
	ch := `{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	if r := w.do("POST", "/webhooks/slack/events", "application/json", ch, slackHeaders(secret, now, ch)...); r.status != 200 || !strings.Contains(r.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P") {
		t.Errorf("url_verification: %d %s", r.status, r.body)
	}
	before := w.snapshot()
	body := `{"token":"x","team_id":"` + conn.ChannelKey + `","api_app_id":"A1","event":{"type":"app_uninstalled","event_ts":"1772442000.0001"},"type":"event_callback","event_id":"Ev0PV52K21","event_time":1772442000}`
	if r := w.do("POST", "/webhooks/slack/events", "application/json", body, slackHeaders(secret, now.Add(-6*time.Minute), body)...); r.status != 401 {
		t.Errorf("replayed (6 minutes old): %d", r.status)
	}
	if r := w.do("POST", "/webhooks/slack/events", "application/json", body, slackHeaders("wrong", now, body)...); r.status != 401 {
		t.Errorf("forged: %d", r.status)
	}
	w.unchanged(before, "forged or replayed Slack events")
	if r := w.do("POST", "/webhooks/slack/events", "application/json", body, slackHeaders(secret, now, body)...); r.status != 200 {
		t.Fatalf("genuine: %d %s", r.status, r.body)
	}
	// Slack retries the same event_id (a new signature, X-Slack-Retry-Num): nothing new.
	retry := append(slackHeaders(secret, now.Add(time.Minute), body), "X-Slack-Retry-Num", "1", "X-Slack-Retry-Reason", "http_timeout")
	if r := w.do("POST", "/webhooks/slack/events", "application/json", body, retry...); r.status != 200 {
		t.Fatalf("retry: %d", r.status)
	}
	w.wiped(conn)
}

// blockedUser is a seeded end user who came through conn, with their id on that channel.
func (w *world) blockedUser(conn seed.ManifestConnection) (seed.ManifestEndUser, string) {
	w.t.Helper()
	for _, a := range w.man.Accounts {
		for _, eu := range a.EndUsers {
			if eu.ConnectionID == conn.ID && eu.Identities[conn.Channel] != "" {
				return eu, eu.Identities[conn.Channel]
			}
		}
	}
	w.t.Fatalf("no end user of %s", conn.ID)
	return seed.ManifestEndUser{}, ""
}

func (w *world) endUser(id string) (platform.EndUser, bool) {
	u, err := w.sys.Store.EndUser(w.ctx, id)
	if err != nil {
		return platform.EndUser{}, false
	}
	return u, true
}

// settings changes an account's settings.
func (w *world) settings(accountID string, change func(*platform.AccountSettings)) {
	w.t.Helper()
	a, err := w.sys.Store.Account(w.ctx, accountID)
	if err != nil {
		w.t.Fatal(err)
	}
	change(&a.Settings)
	if err := w.sys.Store.Put(w.ctx, a); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) deleteOnBlock(accountID string, on bool) {
	w.settings(accountID, func(s *platform.AccountSettings) { s.DeleteOnBlock = on })
}

func TestTelegramBlockIsRecordedAndDeletesWhenTheAccountSaysSo(t *testing.T) {
	w := newWorld(t)
	acct, conn := w.connection(platform.ChannelTelegram)
	eu, tgID := w.blockedUser(conn)
	update := func(id int, chatType, status string) string {
		return fmt.Sprintf(`{"update_id":%d,"my_chat_member":{"chat":{"id":%s,"type":%q},"from":{"id":%s,"is_bot":false,"first_name":"X"},"date":1772442000,`+
			`"old_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"bot"},"status":"member"},"new_chat_member":{"user":{"id":1,"is_bot":true,"first_name":"bot"},"status":%q}}}`,
			id, tgID, chatType, tgID, status)
	}
	w.deleteOnBlock(acct.ID, false)
	path := "/webhooks/telegram/" + conn.ID
	secret := conn.Secrets["secret_token"]
	before := w.snapshot()
	if r := w.do("POST", path, "application/json", update(1, "private", "kicked"), "X-Telegram-Bot-Api-Secret-Token", "wrong"); r.status != 401 {
		t.Errorf("wrong secret: %d", r.status)
	}
	if r := w.do("POST", "/webhooks/telegram/no-such-connection", "application/json", update(1, "private", "kicked"), "X-Telegram-Bot-Api-Secret-Token", secret); r.status != 401 {
		t.Errorf("unknown connection: %d", r.status)
	}
	other := w.man.Accounts[1].Bots[0].Connections[0]
	if r := w.do("POST", "/webhooks/telegram/"+other.ID, "application/json", update(1, "private", "kicked"), "X-Telegram-Bot-Api-Secret-Token", secret); r.status != 401 {
		t.Errorf("another connection's secret: %d", r.status)
	}
	w.unchanged(before, "refused Telegram updates")
	// Kicked in a group is not a block; a private kick is.
	if r := w.do("POST", path, "application/json", update(2, "group", "kicked"), "x-telegram-bot-api-secret-token", secret); r.status != 200 {
		t.Fatalf("group: %d", r.status)
	}
	if u, _ := w.endUser(eu.ID); u.Blocked {
		t.Fatal("a kick from a group recorded a block")
	}
	if r := w.do("POST", path, "application/json", update(3, "private", "kicked"), "X-Telegram-Bot-Api-Secret-Token", secret); r.status != 200 {
		t.Fatalf("block: %d %s", r.status, r.body)
	}
	if u, ok := w.endUser(eu.ID); !ok || !u.Blocked {
		t.Fatal("the block was not recorded")
	}
	if n := len(w.requests()); n != 0 {
		t.Fatalf("%d requests for a block the account does not delete on", n)
	}
	// The account now deletes on block: the next block deletes, once however often it is delivered.
	w.deleteOnBlock(acct.ID, true)
	for i := 0; i < 2; i++ {
		if r := w.do("POST", path, "application/json", update(4, "private", "kicked"), "X-Telegram-Bot-Api-Secret-Token", secret); r.status != 200 {
			t.Fatalf("block: %d", r.status)
		}
	}
	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Kind != request.KindEndUserDeletion || reqs[0].Scope.EndUserID != eu.ID || reqs[0].Status != request.StatusCompleted {
		t.Fatalf("requests %+v", reqs)
	}
	if _, ok := w.endUser(eu.ID); ok {
		t.Fatal("the end user is still there")
	}
	w.revokedEvidence(reqs[0].ID)
}

func TestVKConfirmationAndMessageDeny(t *testing.T) {
	w := newWorld(t)
	acct, conn := w.connection(platform.ChannelVK)
	eu, vkID := w.blockedUser(conn)
	path := "/webhooks/vk/" + conn.ID
	confirm := `{"type":"confirmation","group_id":` + conn.ChannelKey + `,"secret":"` + conn.Secrets["secret"] + `"}`
	if r := w.do("POST", path, "application/json", confirm); r.status != 200 || r.body != conn.Secrets["confirmation"] {
		t.Errorf("confirmation: %d %q", r.status, r.body)
	}
	noSecret := `{"type":"confirmation","group_id":` + conn.ChannelKey + `}`
	if r := w.do("POST", path, "application/json", noSecret); r.status != 200 || r.body != conn.Secrets["confirmation"] {
		t.Errorf("confirmation without a secret: %d %q", r.status, r.body)
	}
	for name, body := range map[string]string{
		"wrong secret": `{"type":"confirmation","group_id":` + conn.ChannelKey + `,"secret":"wrong"}`,
		"other group":  `{"type":"confirmation","group_id":1,"secret":"` + conn.Secrets["secret"] + `"}`,
	} {
		if r := w.do("POST", path, "application/json", body); r.status != 401 || strings.Contains(r.body, conn.Secrets["confirmation"]) {
			t.Errorf("confirmation, %s: %d %q", name, r.status, r.body)
		}
	}
	deny := func(secret string) string {
		return `{"type":"message_deny","object":{"user_id":` + vkID + `},"group_id":` + conn.ChannelKey + `,"event_id":"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678","v":"5.199","secret":"` + secret + `"}`
	}
	before := w.snapshot()
	if r := w.do("POST", path, "application/json", deny("wrong")); r.status != 401 {
		t.Errorf("wrong secret: %d", r.status)
	}
	w.unchanged(before, "a forged VK event")
	w.deleteOnBlock(acct.ID, true)
	for i := 0; i < 2; i++ {
		if r := w.do("POST", path, "application/json", deny(conn.Secrets["secret"])); r.status != 200 || r.body != "ok" {
			t.Fatalf("message_deny: %d %q", r.status, r.body)
		}
	}
	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Scope.EndUserID != eu.ID || reqs[0].Status != request.StatusCompleted {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestViberUnsubscribedIsABlock(t *testing.T) {
	w := newWorld(t)
	_, conn := w.connection(platform.ChannelViber)
	eu, viberID := w.blockedUser(conn)
	path := "/webhooks/viber/" + conn.ID
	body := `{"event":"unsubscribed","timestamp":1772442000123,"chat_hostname":"SN-376_","user_id":"` + viberID + `","message_token":5741311803571721087}`
	token := conn.Secrets["auth_token"]
	before := w.snapshot()
	if r := w.do("POST", path, "application/json", body, "X-Viber-Content-Signature", hmacHex("wrong", body)); r.status != 401 {
		t.Errorf("forged: %d", r.status)
	}
	w.unchanged(before, "a forged Viber event")
	if r := w.do("POST", path, "application/json", body, "X-Viber-Content-Signature", hmacHex(token, body)); r.status != 200 {
		t.Fatalf("unsubscribed: %d %s", r.status, r.body)
	}
	if u, ok := w.endUser(eu.ID); !ok || !u.Blocked {
		t.Fatal("the unsubscription was not recorded")
	}
}

// API Gateway hands a form body base64-encoded with lower-cased header names; the function decodes
// it before verifying.
func TestBase64BodiesAreDecodedBeforeVerifying(t *testing.T) {
	w := newWorld(t)
	secret := w.cfg[config.EnvMetaAppSecret]
	sr := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "user_id": "424242"}, false)
	body := metaForm(sr)
	ev := gatewayEvent("POST /webhooks/meta/data-deletion", "/webhooks/meta/data-deletion", base64.StdEncoding.EncodeToString([]byte(body)), true,
		map[string]string{"content-type": formType})
	resp, err := w.sys.Webhooks.Handle(w.ctx, ev)
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, "confirmation_code") {
		t.Fatalf("%d %s %v", resp.StatusCode, resp.Body, err)
	}
}

func gatewayEvent(routeKey, path, body string, b64 bool, headers map[string]string) events.APIGatewayV2HTTPRequest {
	method, _, _ := strings.Cut(routeKey, " ")
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: routeKey, RawPath: path, Body: body, IsBase64Encoded: b64, Headers: headers}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	return ev
}

func TestMetaDeauthorizeRecordsAndWipesWhereTheAccountSaysSo(t *testing.T) {
	w := newWorld(t)
	secret := w.cfg[config.EnvMetaAppSecret]
	asid := w.man.MetaASIDShared
	idents, err := w.sys.Store.IdentitiesOf(w.ctx, platform.IdentityMetaASID, asid)
	if err != nil {
		t.Fatal(err)
	}
	wiping := w.man.Accounts[0].ID
	w.settings(wiping, func(s *platform.AccountSettings) { s.WipeOnDeauthorize = true })
	w.settings(w.man.Accounts[1].ID, func(s *platform.AccountSettings) { s.WipeOnDeauthorize = false })
	before := w.snapshot()
	if r := w.do("POST", "/webhooks/meta/deauthorize", formType, metaForm(signedRequest("wrong", map[string]any{"algorithm": "HMAC-SHA256", "user_id": asid}, false))); r.status != 401 {
		t.Errorf("forged: %d", r.status)
	}
	w.unchanged(before, "a forged deauthorize callback")
	sr := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": start.Unix(), "user_id": asid}, false)
	for i := 0; i < 2; i++ {
		if r := w.do("POST", "/webhooks/meta/deauthorize", formType, metaForm(sr)); r.status != 200 {
			t.Fatalf("deauthorize: %d %s", r.status, r.body)
		}
	}
	reqs := w.requests()
	if len(reqs) != 1 || reqs[0].Scope.AccountID != wiping || reqs[0].Status != request.StatusCompleted {
		t.Fatalf("requests %+v, want one wipe in the account that enables it", reqs)
	}
	kept := 0
	for _, id := range idents {
		u, ok := w.endUser(id.EndUserID)
		switch {
		case id.AccountID == wiping && ok:
			t.Errorf("end user %s of the wiping account is still there", id.EndUserID)
		case id.AccountID != wiping && (!ok || !u.Blocked):
			t.Errorf("end user %s of the other account: present %v, blocked %v; want kept and marked", id.EndUserID, ok, u.Blocked)
		case id.AccountID != wiping:
			kept++
		}
	}
	if kept == 0 {
		t.Fatal("the shared identity has no end user in the other account to keep")
	}
	// An end user is no page admin: no connection went.
	for _, a := range w.man.Accounts {
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				if _, err := w.sys.Store.Connection(w.ctx, c.ID); err != nil {
					t.Errorf("%s connection %s: %v", c.Channel, c.ID, err)
				}
			}
		}
	}
}

// addConnection stores one more connection of the account, on bot, as a platform writer does (its
// key items with it).
func (w *world) addConnection(accountID, botID, channel, page string, keys map[string]string) platform.ChannelConnection {
	w.t.Helper()
	c := platform.ChannelConnection{AccountID: accountID, BotID: botID, ID: platform.NewID(w.eng.Clock().Now()), Channel: channel, ChannelKey: page,
		Name: "Added", Status: platform.ConnectionActive, Secrets: map[string]string{"page_access_token": "EAAGadded"}, Keys: keys, CreatedAt: w.eng.Clock().Now()}
	if err := w.sys.Store.Put(w.ctx, c); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// connectionKeysOf counts the key items stored in a connection's partition.
func (w *world) connectionKeysOf(connectionID string) int {
	w.t.Helper()
	n := 0
	err := platform.EachOf(w.ctx, w.sys.Store, datamap.ConnectionKey, map[string]string{"connection": connectionID}, "",
		func(platform.ConnectionKey) error { n++; return nil })
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

// accountLeft is what account deletion would still find of an account, by category.
func (w *world) accountLeft(accountID string) string {
	w.t.Helper()
	left, err := w.sys.Engine.Verify(w.ctx, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: accountID})
	if err != nil {
		w.t.Fatal(err)
	}
	return fmt.Sprint(left)
}

// A page admin removing the app (or the page's Instagram account doing so) takes the page from
// every connection of it: its Messenger and Instagram connections are wiped with their key items,
// once however often Meta delivers it, and nothing of another page or another account is touched.
func TestMetaDeauthorizeOfAPageWipesItsMessengerAndInstagramConnections(t *testing.T) {
	for _, by := range []string{platform.ConnKeyMetaUserID, platform.ConnKeyInstagramAccountID} {
		t.Run(by, func(t *testing.T) {
			w := newWorld(t)
			secret := w.cfg[config.EnvMetaAppSecret]
			acct, ig := w.connection(platform.ChannelInstagram)
			_, otherPage := w.connection(platform.ChannelMessenger)
			if otherPage.ChannelKey == ig.ChannelKey {
				t.Fatal("the seed put the Messenger and Instagram connections on one page: nothing tells pages apart")
			}
			otherBot := ""
			for _, b := range acct.Bots {
				if !slices.ContainsFunc(b.Connections, func(c seed.ManifestConnection) bool { return c.ID == ig.ID }) {
					otherBot = b.ID
				}
			}
			if otherBot == "" {
				t.Fatal("the account has no other bot")
			}
			// The same page's Messenger, connected on another bot by another admin.
			samePage := w.addConnection(acct.ID, otherBot, platform.ChannelMessenger, ig.ChannelKey, map[string]string{platform.ConnKeyMetaUserID: "1999000111222333"})
			if w.connectionKeysOf(ig.ID) == 0 || w.connectionKeysOf(samePage.ID) == 0 || w.connectionKeysOf(otherPage.ID) == 0 {
				t.Fatal("connections stored without their key items")
			}
			other := w.man.Accounts[1].ID
			otherBefore := w.accountLeft(other)

			sr := signedRequest(secret, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": start.Unix(), "user_id": ig.Keys[by]}, false)
			for i := 0; i < 2; i++ { // and its redelivery
				if r := w.do("POST", "/webhooks/meta/deauthorize", formType, metaForm(sr)); r.status != 200 {
					t.Fatalf("deauthorize: %d %s", r.status, r.body)
				}
			}
			reqs := w.requests()
			wiped := map[string]bool{}
			for _, r := range reqs {
				if r.Kind != request.KindConnectionWipe || r.Source != "webhook:meta" || r.Status != request.StatusCompleted || r.Scope.AccountID != acct.ID {
					t.Errorf("request %s: kind %s, source %s, status %s, account %s; want a completed connection wipe from webhook:meta in %s",
						r.ID, r.Kind, r.Source, r.Status, r.Scope.AccountID, acct.ID)
				}
				if len(r.History) == 0 || r.History[0].Actor != "webhook:meta-deauthorize" {
					t.Errorf("request %s: history %+v, want it opened by webhook:meta-deauthorize", r.ID, r.History)
				}
				wiped[r.Scope.ConnectionID] = true
				w.revokedEvidence(r.ID)
			}
			if len(reqs) != 2 || !wiped[ig.ID] || !wiped[samePage.ID] {
				t.Fatalf("wipes of %v in %d requests, want one each of the page's Instagram %s and Messenger %s", wiped, len(reqs), ig.ID, samePage.ID)
			}
			for _, id := range []string{ig.ID, samePage.ID} {
				if _, err := w.sys.Store.Connection(w.ctx, id); err == nil {
					t.Errorf("connection %s still there", id)
				}
				if n := w.connectionKeysOf(id); n != 0 {
					t.Errorf("connection %s: %d key items left", id, n)
				}
			}
			if cs, err := w.sys.Store.ConnectionsByInstagramAccount(w.ctx, ig.Keys[platform.ConnKeyInstagramAccountID]); err != nil || len(cs) != 0 {
				t.Errorf("the wiped Instagram account still finds %d connections (%v)", len(cs), err)
			}
			if _, err := w.sys.Store.Connection(w.ctx, otherPage.ID); err != nil {
				t.Errorf("the connection of another page went: %v", err)
			}
			if n := w.connectionKeysOf(otherPage.ID); n != len(otherPage.Keys) {
				t.Errorf("the connection of another page has %d key items, want %d", n, len(otherPage.Keys))
			}
			if after := w.accountLeft(other); after != otherBefore {
				t.Errorf("another account changed: %s → %s", otherBefore, after)
			}
		})
	}
}
