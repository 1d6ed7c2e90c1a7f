package localrun

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/chsweep"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
)

// The whole path of a revocation no webhook tells of, for every channel, as `make run` serves it:
// the credential is revoked on the channel's local stand-in (which answers with the channel's own
// documented refusal), the hourly connection-health sweep finds it in the connection's hour slot
// and, refused again an hour later, requests the wipe; the connection and what came through it are
// destroyed, the account owner gets the "connection wiped" mail, and the request holds its act.
// Nothing of the connections left alone is touched.
func TestLocalRunWipesARevokedConnectionOfEveryChannel(t *testing.T) {
	sys, stop, _ := start(t, t.TempDir())
	defer stop()
	ctx := context.Background()

	// One connection of each channel, revoked, and one of each left alone.
	revoked := map[string]seed.ManifestConnection{}
	kept := map[string]seed.ManifestConnection{}
	accountOf := map[string]string{}
	for _, a := range sys.Manifest.Accounts {
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				accountOf[c.ID] = a.ID
				switch {
				case revoked[c.Channel].ID == "":
					revoked[c.Channel] = c
				case kept[c.Channel].ID == "" && c.ChannelKey != revoked[c.Channel].ChannelKey:
					kept[c.Channel] = c
				}
			}
		}
	}
	for _, ch := range platform.Channels {
		if revoked[ch].ID == "" {
			t.Fatalf("the demo seed has no %s connection", ch)
		}
	}
	// A Messenger and an Instagram connection of the same page go together (a page token refused
	// wipes the page's connections of both channels); the seed gives each its own page.
	// The schedule's first run (make run's scheduler makes it at start) sets where the sweep stands.
	var first map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/channels", ``, &first); code != 200 {
		t.Fatalf("first sweep: %d %v", code, first)
	}
	created := map[string]time.Time{}
	for _, ch := range platform.Channels {
		conn, err := sys.Store.Connection(ctx, revoked[ch].ID)
		if err != nil {
			t.Fatal(err)
		}
		created[ch] = conn.CreatedAt
		var out map[string]string
		if code := postJSON(t, sys.APIURL+"/_local/channels/"+revoked[ch].ID+"/revoke", ``, &out); code != 200 || out["channel"] != ch {
			t.Fatalf("revoke %s: %d %v", ch, code, out)
		}
	}

	// A day of hourly slots: every connection is checked once; each revoked one is a suspicion only.
	var rep struct {
		Total    struct{ Checked, Suspected, Confirmed, Requested, Errors int }
		Channels map[string]struct{ Checked, Suspected, Confirmed, Requested, Errors int }
	}
	var clock map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"24h"}`, &clock); code != 200 {
		t.Fatalf("advance: %d", code)
	}
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/channels", ``, &rep); code != 200 {
		t.Fatalf("sweep: %d %+v", code, rep)
	}
	for _, ch := range platform.Channels {
		if rep.Channels[ch].Suspected != 1 || rep.Channels[ch].Requested != 0 {
			t.Errorf("%s after its first check: %+v", ch, rep.Channels[ch])
		}
		if _, err := sys.Store.Connection(ctx, revoked[ch].ID); err != nil {
			t.Errorf("%s: the connection went after one refusal: %v", ch, err)
		}
	}
	if rep.Total.Errors != 0 {
		t.Errorf("the stand-ins answered with errors: %+v", rep.Total)
	}

	// An hour later, refused again: every revoked connection is wiped, and only those.
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"1h1m"}`, &clock); code != 200 {
		t.Fatalf("advance: %d", code)
	}
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/channels", ``, &rep); code != 200 {
		t.Fatalf("sweep: %d %+v", code, rep)
	}
	if err := sys.Workflows.Engine.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	sent := sesMessageIDs(t, sys)
	for _, ch := range platform.Channels {
		c := revoked[ch]
		if _, err := sys.Store.Connection(ctx, c.ID); err == nil {
			t.Errorf("%s: the revoked connection is still there", ch)
		}
		if k := kept[ch]; k.ID != "" {
			if _, err := sys.Store.Connection(ctx, k.ID); err != nil {
				t.Errorf("%s: a connection whose credential works was touched: %v", ch, err)
			}
		}
		id := chsweep.RequestID(platform.ChannelConnection{ID: c.ID, CreatedAt: created[ch]})
		r, err := sys.Workflows.System.Ledger.Get(ctx, id)
		if err != nil {
			t.Errorf("%s: the wipe request %s: %v", ch, id, err)
			continue
		}
		if r.Kind != request.KindConnectionWipe || r.Source != "sweep:"+ch || r.Scope.ConnectionID != c.ID || r.AccountID != accountOf[c.ID] {
			t.Errorf("%s: the request is %s from %s for %+v", ch, r.Kind, r.Source, r.Scope)
		}
		if r.Status != request.StatusCompleted && r.Status != request.StatusAwaitingBackupRotation {
			t.Errorf("%s: the wipe is %s", ch, r.Status)
		}
		if len(r.Evidence) == 0 {
			t.Errorf("%s: the wipe holds no act", ch)
		}
		if m := r.Mail[string(mailer.ConnectionWiped)]; m == "" || !sent[m] {
			t.Errorf("%s: no \"connection wiped\" mail went to the owner (%q)", ch, m)
		}
	}
}

// sesMessageIDs lists the ids of the messages the SES emulator holds.
func sesMessageIDs(t *testing.T, sys *System) map[string]bool {
	t.Helper()
	resp, err := http.Get(sys.Stack.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var store struct {
		Emails []struct {
			MessageID string `json:"messageId"`
		} `json:"emails"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&store); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, e := range store.Emails {
		ids[strings.TrimSpace(e.MessageID)] = true
	}
	return ids
}
