package webhooks_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// samplesDir holds a sample of every event the channel function receives (SPEC §1: events/), as API
// Gateway delivers them (payload 2.0, lower-cased headers, form bodies base64-encoded).
var samplesDir = filepath.Join("..", "..", "events", "channel-webhook")

// sample is one sample event and the status it must be answered with.
type sample struct {
	file   string
	status int
	ev     events.APIGatewayV2HTTPRequest
}

// samples builds the sample events for the world's data: signed with the local default secrets
// (config.LocalDefaults) and the per-connection secrets of the test seed, at the world's clock.
func (w *world) samples() []sample {
	w.t.Helper()
	meta := w.cfg[config.EnvMetaAppSecret]
	slack := w.cfg[config.EnvSlackSigningSecret]
	now := w.eng.Clock().Now()
	_, wa := w.connection(platform.ChannelWhatsApp)
	_, sl := w.connection(platform.ChannelSlack)
	_, tg := w.connection(platform.ChannelTelegram)
	_, vk := w.connection(platform.ChannelVK)
	_, vb := w.connection(platform.ChannelViber)
	_, tgUser := w.blockedUser(tg)
	_, vkUser := w.blockedUser(vk)
	_, vbUser := w.blockedUser(vb)

	_, ig := w.connection(platform.ChannelInstagram)

	sr := signedRequest(meta, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": now.Unix(), "user_id": w.man.MetaASIDShared}, false)
	form := metaForm(sr)
	// The admin who connected a page removes the app: Meta's deauthorize callback names them.
	adminForm := metaForm(signedRequest(meta, map[string]any{"algorithm": "HMAC-SHA256", "issued_at": now.Unix(), "user_id": ig.Keys[platform.ConnKeyMetaUserID]}, false))
	code := w.sys.Webhooks.ConfirmationCode(sr)
	waBody := `{"object":"whatsapp_business_account","entry":[{"id":"` + wa.ChannelKey + `","time":` + strconv.FormatInt(now.Unix(), 10) +
		`,"changes":[{"field":"account_update","value":{"event":"PARTNER_APP_UNINSTALLED"}}]}]}`
	slBody := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"` + sl.ChannelKey + `","api_app_id":"A0MDYCDME","event":{"type":"app_uninstalled"},` +
		`"type":"event_callback","event_id":"Ev0MDYGDKJ","event_time":` + strconv.FormatInt(now.Unix(), 10) + `}`
	slVerify := `{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`
	tgBody := fmt.Sprintf(`{"update_id":512340001,"my_chat_member":{"chat":{"id":%s,"first_name":"A","type":"private"},"from":{"id":%s,"is_bot":false,"first_name":"A"},`+
		`"date":%d,"old_chat_member":{"user":{"id":%s,"is_bot":true,"first_name":"Bot"},"status":"member"},"new_chat_member":{"user":{"id":%s,"is_bot":true,"first_name":"Bot"},"status":"kicked","until_date":0}}}`,
		tgUser, tgUser, now.Unix(), tg.ChannelKey, tg.ChannelKey)
	vkBody := `{"type":"message_deny","object":{"user_id":` + vkUser + `},"group_id":` + vk.ChannelKey + `,"event_id":"5bd6a7e8f9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4","v":"5.199","secret":"` + vk.Secrets["secret"] + `"}`
	vkConfirm := `{"type":"confirmation","group_id":` + vk.ChannelKey + `,"secret":"` + vk.Secrets["secret"] + `"}`
	vbBody := `{"event":"unsubscribed","timestamp":` + strconv.FormatInt(now.UnixMilli(), 10) + `,"chat_hostname":"SN-376_","user_id":"` + vbUser + `","message_token":5741311803571721087}`
	ts := strconv.FormatInt(now.Unix(), 10)
	codePage := w.pendingCode(now)

	return []sample{
		{"meta-data-deletion.json", 200, gatewayEvent("POST /webhooks/meta/data-deletion", "/webhooks/meta/data-deletion",
			b64(form), true, map[string]string{"content-type": formType})},
		{"deletion-status.json", 200, withPath(gatewayEvent("GET /deletion-status/{confirmationCode}", "/deletion-status/"+code, "", false,
			map[string]string{"accept": "application/json"}), "confirmationCode", code)},
		// A wrong one-time code entered on an end customer's page: 422, with the tries left.
		{"deletion-status-verification.json", 422, withPath(gatewayEvent("POST /deletion-status/{confirmationCode}/verification",
			"/deletion-status/"+codePage+"/verification", "code=123456", false,
			map[string]string{"content-type": formType}), "confirmationCode", codePage)},
		{"meta-deauthorize.json", 200, gatewayEvent("POST /webhooks/meta/deauthorize", "/webhooks/meta/deauthorize",
			b64(form), true, map[string]string{"content-type": formType})},
		{"meta-deauthorize-page-admin.json", 200, gatewayEvent("POST /webhooks/meta/deauthorize", "/webhooks/meta/deauthorize",
			b64(adminForm), true, map[string]string{"content-type": formType})},
		{"whatsapp-handshake.json", 200, withQuery(gatewayEvent("GET /webhooks/whatsapp", "/webhooks/whatsapp", "", false, map[string]string{}),
			url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"1158201444"}, "hub.verify_token": {w.cfg[config.EnvWhatsAppVerifyToken]}})},
		{"whatsapp-account-update.json", 200, gatewayEvent("POST /webhooks/whatsapp", "/webhooks/whatsapp", waBody, false,
			map[string]string{"content-type": "application/json", "x-hub-signature-256": "sha256=" + hmacHex(meta, waBody)})},
		{"slack-url-verification.json", 200, gatewayEvent("POST /webhooks/slack/events", "/webhooks/slack/events", slVerify, false,
			map[string]string{"content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hmacHex(slack, "v0:"+ts+":"+slVerify)})},
		{"slack-app-uninstalled.json", 200, gatewayEvent("POST /webhooks/slack/events", "/webhooks/slack/events", slBody, false,
			map[string]string{"content-type": "application/json", "x-slack-request-timestamp": ts, "x-slack-signature": "v0=" + hmacHex(slack, "v0:"+ts+":"+slBody)})},
		{"telegram-kicked.json", 200, withPath(gatewayEvent("POST /webhooks/telegram/{connectionId}", "/webhooks/telegram/"+tg.ID, tgBody, false,
			map[string]string{"content-type": "application/json", "x-telegram-bot-api-secret-token": tg.Secrets["secret_token"]}), "connectionId", tg.ID)},
		{"vk-confirmation.json", 200, withPath(gatewayEvent("POST /webhooks/vk/{connectionId}", "/webhooks/vk/"+vk.ID, vkConfirm, false,
			map[string]string{"content-type": "application/json"}), "connectionId", vk.ID)},
		{"vk-message-deny.json", 200, withPath(gatewayEvent("POST /webhooks/vk/{connectionId}", "/webhooks/vk/"+vk.ID, vkBody, false,
			map[string]string{"content-type": "application/json"}), "connectionId", vk.ID)},
		{"viber-unsubscribed.json", 200, withPath(gatewayEvent("POST /webhooks/viber/{connectionId}", "/webhooks/viber/"+vb.ID, vbBody, false,
			map[string]string{"content-type": "application/json", "x-viber-content-signature": hmacHex(vb.Secrets["auth_token"], vbBody)}), "connectionId", vb.ID)},
	}
}

// pendingCode records an end customer's request waiting for the owner, with a one-time code sent
// at now whose hash no entered code matches, and returns the code of its status page.
func (w *world) pendingCode(now time.Time) string {
	w.t.Helper()
	a := w.man.Accounts[0]
	eu := a.EndUsers[0]
	const id, page = "01SAMPLEENDCUSTOMER0000000", "samplestatuspagecodeforverification"
	r := request.Request{ID: id, AccountID: a.ID, Kind: request.KindEndCustomerRequest, Source: "email", Status: request.StatusAwaitingVerification,
		Scope:  platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID},
		Locale: "en", CreatedAt: now,
		Verification: &request.Verification{EndUserID: eu.ID, Channel: platform.ChannelTelegram, ConnectionID: "sample",
			CodeHash: strings.Repeat("0", 64), SentAt: now, ExpiresAt: now.Add(15 * time.Minute), Sends: []time.Time{now}}}
	if _, err := w.sys.Ledger.Create(w.ctx, r); err != nil {
		w.t.Fatal(err)
	}
	if err := w.sys.Ledger.PutReference(w.ctx, ledger.RefStatus, page, id, ledger.ActionEndCustomerStatus); err != nil {
		w.t.Fatal(err)
	}
	return page
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func withPath(ev events.APIGatewayV2HTTPRequest, name, value string) events.APIGatewayV2HTTPRequest {
	ev.PathParameters = map[string]string{name: value}
	return ev
}

func withQuery(ev events.APIGatewayV2HTTPRequest, q url.Values) events.APIGatewayV2HTTPRequest {
	ev.RawQueryString = q.Encode()
	ev.QueryStringParameters = map[string]string{}
	for k := range q {
		ev.QueryStringParameters[k] = q.Get(k)
	}
	return ev
}

// The committed samples are exactly what the test data produce (LETHE_WRITE_SAMPLES=1 rewrites
// them), and each, handed to the function as API Gateway would, is answered as a genuine signal.
func TestSampleEvents(t *testing.T) {
	w := newWorld(t)
	write := os.Getenv("LETHE_WRITE_SAMPLES") == "1"
	for _, s := range w.samples() {
		s.ev.Version = "2.0"
		s.ev.RequestContext.AccountID = "123456789012"
		s.ev.RequestContext.APIID = "a1b2c3d4e5"
		s.ev.RequestContext.Stage = "$default"
		s.ev.RequestContext.DomainName = "a1b2c3d4e5.execute-api.eu-central-1.amazonaws.com"
		s.ev.RequestContext.RequestID = "JKJaXmPLvHcESHA="
		s.ev.RequestContext.HTTP.Protocol = "HTTP/1.1"
		s.ev.RequestContext.HTTP.SourceIP = "203.0.113.7"
		s.ev.RequestContext.HTTP.UserAgent = "channel"
		s.ev.RequestContext.Time = "02/Mar/2026:09:00:00 +0000"
		s.ev.RequestContext.TimeEpoch = start.UnixMilli()
		want, err := json.MarshalIndent(s.ev, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		path := filepath.Join(samplesDir, s.file)
		if write {
			if err := os.MkdirAll(samplesDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (LETHE_WRITE_SAMPLES=1 writes it)", s.file, err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from what the test data make (LETHE_WRITE_SAMPLES=1 rewrites it)", s.file)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(got, &ev); err != nil {
			t.Fatal(err)
		}
		resp, err := w.sys.Webhooks.Handle(w.ctx, ev)
		if err != nil || resp.StatusCode != s.status {
			t.Errorf("%s: %d %s %v", s.file, resp.StatusCode, resp.Body, err)
		}
		if strings.HasPrefix(s.file, "meta-data-deletion") || s.file == "meta-deauthorize-page-admin.json" {
			if err := w.eng.Settle(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The page admin's sample took their page from the app: its Instagram connection is wiped.
	_, ig := w.connection(platform.ChannelInstagram)
	if _, err := w.sys.Store.Connection(w.ctx, ig.ID); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("meta-deauthorize-page-admin.json: the page's Instagram connection %s is still there (%v)", ig.ID, err)
	}
}
