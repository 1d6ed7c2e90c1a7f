package localrun

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// start runs a whole local system on free ports over dataDir and returns it once it serves.
func start(t *testing.T, dataDir string) (*System, func() error, *strings.Builder) {
	t.Helper()
	return startTicking(t, dataDir, -1) // sweeps run when a test asks, not on their own
}

// startTicking is start with the sweep scheduler checking the virtual clock every tick.
func startTicking(t *testing.T, dataDir string, tick time.Duration) (*System, func() error, *strings.Builder) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *System, 1)
	done := make(chan error, 1)
	out := &strings.Builder{}
	go func() {
		done <- Run(ctx, Options{APIPort: -1, SESPort: -1, DynamoDBPort: -1, S3Port: -1, DataDir: dataDir,
			Seed: 5, Now: time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), Out: out, Ready: func(s *System) { ready <- s }, SweepTick: tick})
	}()
	select {
	case s := <-ready:
		stop := func() error { cancel(); return <-done }
		return s, stop, out
	case err := <-done:
		cancel()
		t.Fatalf("local run failed to start: %v\n%s", err, out)
	case <-time.After(3 * time.Minute):
		cancel()
		t.Fatalf("local run not ready after 3 minutes\n%s", out)
	}
	return nil, nil, nil
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("%s: %v in %s", url, err, body)
	}
	return resp.StatusCode
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestLocalRun(t *testing.T) {
	dataDir := t.TempDir()
	sys, stop, out := start(t, dataDir)

	if !strings.Contains(out.String(), "lethe: ready at "+sys.APIURL) {
		t.Errorf("no ready line in:\n%s", out)
	}
	// The console's address is printed, and there the demo sign-in is offered (only the local run
	// sets it).
	if !strings.Contains(out.String(), "web console        "+sys.APIURL+"/console") {
		t.Errorf("no console line in:\n%s", out)
	}
	var consoleConfig struct{ Demo string }
	if code := getJSON(t, sys.APIURL+"/console/config.json", &consoleConfig); code != 200 || consoleConfig.Demo != "/_local/demo" {
		t.Errorf("console config.json: %d %+v, want the demo sign-in at /_local/demo", code, consoleConfig)
	}
	var health struct {
		Status     string
		Components map[string]struct{ Status string }
	}
	if code := getJSON(t, sys.APIURL+"/_local/health", &health); code != 200 || health.Status != "ok" || len(health.Components) != 3 {
		t.Errorf("health: %d %+v", code, health)
	}

	var demo struct {
		Accounts []struct {
			ID, Email, Password string
			Tokens              map[string]string
			Bots                []struct{ ID string }
			EndUsers            []struct{ ID, Name string }
			Inbox               []struct{ ID, BotID, EndUserID string }
		}
		Secrets map[string]string
		Config  map[string]string
	}
	if code := getJSON(t, sys.APIURL+"/_local/demo", &demo); code != 200 {
		t.Fatalf("demo: %d", code)
	}
	if len(demo.Accounts) < 2 {
		t.Fatalf("demo lists %d accounts", len(demo.Accounts))
	}
	for _, a := range demo.Accounts {
		if a.Email == "" || a.Password == "" || len(a.Bots) == 0 || len(a.EndUsers) == 0 || len(a.Inbox) == 0 {
			t.Errorf("account %s incomplete: %+v", a.ID, a)
		}
		for _, role := range []string{platform.RoleOwner, platform.RoleAccountAdmin, platform.RoleBotAdmin, platform.RoleMember} {
			c, err := sys.Issuer.Verify(a.Tokens[role])
			if err != nil || c.AccountID != a.ID {
				t.Errorf("account %s: %s token does not verify: %v", a.ID, role, err)
			}
		}
		// What /_local/demo lists is in the tables.
		acc, err := sys.Store.Account(context.Background(), a.ID)
		if err != nil || acc.Email != a.Email {
			t.Errorf("demo account %s not in the platform table: %v", a.ID, err)
		}
	}
	for _, k := range []string{config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken} {
		if demo.Secrets[k] == "" || demo.Secrets[k] != os.Getenv(k) {
			t.Errorf("secret %s: demo shows %q, the process runs with %q", k, demo.Secrets[k], os.Getenv(k))
		}
	}
	// Table names come from template.yaml's function environment for the local stack.
	if got := demo.Config[config.EnvPlatformTable]; got != "lethe-local-platform" {
		t.Errorf("PLATFORM_TABLE = %q", got)
	}

	resp, err := http.Get(sys.APIURL + "/_local/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown local route: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Outside /_local/ the local API Gateway answers, as AWS would.
	resp, err = http.Get(sys.APIURL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("unknown route: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The dashboard API is served with the demo tokens.
	var cur map[string]any
	if code := getJSONAuth(t, sys.APIURL+"/v1/account/deletion", demo.Accounts[0].Tokens[platform.RoleOwner], &cur); code != 404 {
		t.Errorf("GET /v1/account/deletion with the owner's demo token: %d %v", code, cur)
	}

	objects := countObjects(t, sys)
	if objects == 0 {
		t.Error("demo data has no files in S3")
	}

	pids := sys.Stack.PIDs()
	firstManifest := sys.Manifest
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for name, pid := range pids {
		if alive(pid) {
			t.Errorf("%s (pid %d) still running after stop", name, pid)
		}
	}

	// A restart over the same data folder finds the demo data and does not seed it again.
	sys2, stop2, out2 := start(t, dataDir)
	defer stop2()
	if !strings.Contains(out2.String(), "already seeded") {
		t.Errorf("restart seeded again:\n%s", out2)
	}
	if sys2.Manifest.Accounts[0].ID != firstManifest.Accounts[0].ID {
		t.Error("restart describes different demo data")
	}
	if _, err := sys2.Store.Account(context.Background(), firstManifest.Accounts[0].ID); err != nil {
		t.Errorf("demo data lost across restart: %v", err)
	}
	if got := countObjects(t, sys2); got != objects {
		t.Errorf("S3 holds %d demo files after the restart, %d before", got, objects)
	}
}

func countObjects(t *testing.T, sys *System) int {
	t.Helper()
	out, err := sys.Stack.S3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(sys.Buckets[datamap.FilesBucket])})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Contents)
}

func postJSON(t *testing.T, url, body string, v any) int {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", url, err)
		}
	}
	return resp.StatusCode
}

// The workflows run inside `make run`: an account deletion waits out its window when the clock is
// advanced through /_local/clock/advance, and /_local/executions shows it with its cost.
func TestLocalRunWorkflowsAndClock(t *testing.T) {
	sys, stop, _ := start(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	a := sys.Manifest.Accounts[0]
	req, _, err := sys.Workflows.System.Requests.RequestAccountDeletion(ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Workflows.Engine.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Executions []struct {
			Name, Status, CurrentState string
			Transitions                int
			CostUSD                    float64
		}
	}
	if code := getJSON(t, sys.APIURL+"/_local/executions", &list); code != 200 || len(list.Executions) != 1 ||
		list.Executions[0].Name != req.ID || list.Executions[0].CurrentState != "SoftDeleteWindow" {
		t.Fatalf("executions: %d %+v", code, list)
	}
	var bad map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"soon"}`, &bad); code != 400 {
		t.Errorf("a bad duration answered %d", code)
	}
	var adv struct{ Now time.Time }
	before := sys.Workflows.Engine.Clock().Now()
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"721h"}`, &adv); code != 200 || adv.Now.Sub(before) < 721*time.Hour {
		t.Fatalf("advance: %d, now %v (was %v)", code, adv.Now, before)
	}
	// GET /_local/clock answers the virtual time the advance reached (what a locally signed webhook uses).
	var svcClock struct {
		Now  time.Time
		Unix int64
	}
	if code := getJSON(t, sys.APIURL+"/_local/clock", &svcClock); code != 200 || svcClock.Now.Before(adv.Now) ||
		svcClock.Unix != svcClock.Now.Unix() || time.Until(svcClock.Now) < 720*time.Hour {
		t.Fatalf("clock after the advance: %d %+v (advanced to %v)", code, svcClock, adv.Now)
	}
	r, err := sys.Workflows.System.Ledger.Get(ctx, req.ID)
	if err != nil || r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("after 30 days: %s %v", r.Status, err)
	}
	if code := getJSON(t, sys.APIURL+"/_local/executions", &list); code != 200 || list.Executions[0].CurrentState != "BackupRotation" ||
		list.Executions[0].Transitions < 6 || list.Executions[0].CostUSD <= 0 {
		t.Fatalf("executions after the window: %+v", list)
	}
	var tok struct{ Token string }
	if code := postJSON(t, sys.APIURL+"/_local/token", `{"sub":"s-1","account_id":"`+a.ID+`"}`, &tok); code != 200 {
		t.Fatalf("token: %d", code)
	}
	if c, err := sys.Issuer.Verify(tok.Token); err != nil || c.AccountID != a.ID {
		t.Fatalf("minted token: %v", err)
	}

	// The connection-health sweep runs on demand against the local stand-ins for the channels'
	// APIs: a Telegram token revoked there is refused in its connection's hour slot, refused again
	// an hour later, and the connection is wiped. (The scheduler may run the hourly sweep itself as
	// the clock moves: the outcome is asserted, not which run got there.)
	var conn string
	for _, b := range sys.Manifest.Accounts[1].Bots {
		for _, c := range b.Connections {
			if c.Channel == platform.ChannelTelegram && conn == "" {
				conn = c.ID
			}
		}
	}
	var rep struct {
		Total struct{ Checked, Suspected, Confirmed, Requested, Errors int }
	}
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/channels", ``, &rep); code != 200 || rep.Total.Suspected != 0 {
		t.Fatalf("sweep with no token revoked: %d %+v", code, rep)
	}
	var revoked map[string]string
	if code := postJSON(t, sys.APIURL+"/_local/channels/"+conn+"/revoke", ``, &revoked); code != 200 || revoked["channel"] != platform.ChannelTelegram {
		t.Fatalf("revoke: %d %v", code, revoked)
	}
	var clock struct{ Now time.Time }
	slot, _ := strconv.Atoi(platform.ConnectionSlot(conn))
	now := sys.Workflows.Engine.Clock().Now()
	k := (slot - now.Hour() + 24) % 24
	if k == 0 {
		k = 24 // this hour's slot may be done already: the next day's
	}
	toSlot := now.Truncate(time.Hour).Add(time.Duration(k)*time.Hour + time.Minute).Sub(now)
	for _, d := range []time.Duration{toSlot, time.Hour + time.Minute} {
		if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"`+d.String()+`"}`, &clock); code != 200 {
			t.Fatalf("advance: %d", code)
		}
		if code := postJSON(t, sys.APIURL+"/_local/sweeps/channels", ``, &rep); code != 200 {
			t.Fatalf("sweep after a revocation: %d %+v", code, rep)
		}
	}
	if _, err := sys.Store.Connection(ctx, conn); err == nil {
		t.Error("the revoked connection is still there after the sweep's two checks")
	}
	// The other scheduled sweeps run on demand too.
	var sla struct{ Open int }
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/sla", ``, &sla); code != 200 {
		t.Errorf("SLA sweep: %d", code)
	}
	var ret map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/retention", ``, &ret); code != 200 || ret == nil {
		t.Errorf("retention sweep: %d %v", code, ret)
	}
	var nope map[string]any
	if code := postJSON(t, sys.APIURL+"/_local/sweeps/nothing", ``, &nope); code != 404 {
		t.Errorf("an unknown sweep answered %d", code)
	}
}

// Mail sent with any SMTP client to the local port goes through the intake: an authenticated
// "Data deletion" from the owner starts the deletion, and the confirmation shows in the SES
// emulator's store; the raw message is gone from the inbound bucket.
func TestLocalRunTakesMailOnItsSMTPPort(t *testing.T) {
	sys, stop, out := start(t, t.TempDir())
	defer stop()
	ctx := context.Background()
	if !strings.Contains(out.String(), "smtp://"+sys.SMTPAddr) {
		t.Errorf("the SMTP address is not printed:\n%s", out)
	}
	var demo struct{ SMTP, InfoAddress string }
	if code := getJSON(t, sys.APIURL+"/_local/demo", &demo); code != 200 || demo.SMTP != sys.SMTPAddr || demo.InfoAddress != sys.Config.InfoAddress {
		t.Fatalf("demo: %d %+v", code, demo)
	}
	a := sys.Manifest.Accounts[1]
	msg := "From: " + a.Email + "\r\nTo: " + demo.InfoAddress + "\r\nSubject: =?UTF-8?B?0KPQtNCw0LvQtdC90LjQtSDQtNCw0L3QvdGL0YU=?=\r\n" +
		"Message-ID: <local-run-1@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nФИО: " + a.FullName + "\r\nEmail: " + a.Email + "\r\n"
	if err := smtp.SendMail(demo.SMTP, nil, a.Email, []string{demo.InfoAddress}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := sys.Workflows.Engine.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	req, err := sys.Workflows.System.Requests.CurrentAccountDeletion(ctx, a.ID)
	if err != nil || req.Status != request.StatusSoftDeleted || req.Source != "email" {
		t.Fatalf("after the mail: %+v %v", req.Status, err)
	}
	resp, err := http.Get(sys.Stack.SESEndpoint + "/store")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), a.Email) || !strings.Contains(string(body), "account_deletion_confirmation") {
		t.Errorf("the SES emulator's store has no confirmation to %s", a.Email)
	}
	left, err := sys.Stack.S3().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(sys.Buckets["InboundMailBucket"])})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Contents) != 0 {
		t.Errorf("%d raw messages left in the inbound bucket", len(left.Contents))
	}
}

func getJSONAuth(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(v)
	return resp.StatusCode
}

// `make run` runs the scheduled sweeps on their schedules of the virtual clock: each once at the
// start, and the daily retention sweep again once the clock has moved a day on.
func TestLocalRunSchedulesTheSweeps(t *testing.T) {
	sys, stop, _ := startTicking(t, t.TempDir(), 20*time.Millisecond)
	defer stop()
	type list struct {
		Sweeps []struct {
			Name, Every string
			Last        *struct {
				At    time.Time
				Error string
			}
		}
	}
	last := func(name string) (time.Time, string) {
		var l list
		if code := getJSON(t, sys.APIURL+"/_local/sweeps", &l); code != 200 {
			t.Fatalf("GET /_local/sweeps: %d", code)
		}
		for _, s := range l.Sweeps {
			if s.Name == name && s.Last != nil {
				return s.Last.At, s.Last.Error
			}
		}
		return time.Time{}, ""
	}
	wait := func(name string, after time.Time) time.Time {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			if at, errText := last(name); at.After(after) {
				if errText != "" {
					t.Fatalf("%s sweep failed: %s", name, errText)
				}
				return at
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("the %s sweep did not run", name)
		return time.Time{}
	}
	var first time.Time
	for _, name := range []string{"channels", "sla", "retention", "ttl", "retention-continue"} {
		at := wait(name, time.Time{})
		if name == "retention" {
			first = at
		}
	}
	var adv struct{ Now time.Time }
	if code := postJSON(t, sys.APIURL+"/_local/clock/advance", `{"duration":"25h"}`, &adv); code != 200 {
		t.Fatalf("advance: %d", code)
	}
	if again := wait("retention", first); again.Sub(first) < 24*time.Hour {
		t.Fatalf("the retention sweep ran again at %v, %v after the first", again, again.Sub(first))
	}
}
