package deletion_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/faults"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// operator has an English form of its name and address, which English acts state.
var operator = evidence.Operator{Name: "ООО «Тест»", Address: "Москва, ул. Тестовая, 1", INN: "7700000000",
	NameEN: "Test LLC", AddressEN: "1 Testovaya St., Moscow"}

// service is a deletion service over env with no seeded data; its own reads of the platform and
// ledger tables (acts, journal, kept data) go through db.
func service(env *testenv.Env, db platform.DB) *deletion.Service {
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	led := ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], policy, clock)
	real := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, clock)
	eng := erasure.New(real, env.DynamoDB, env.S3, env.Buckets, led, erasure.Options{Now: clock})
	return &deletion.Service{Ledger: led, Engine: eng, Store: platform.NewStore(db, platform.Tables(env.Tables), policy, clock),
		Now: clock, Operator: operator}
}

func other(locale string) string {
	if locale == evidence.LocaleEN {
		return evidence.LocaleRU
	}
	return evidence.LocaleEN
}

// Every request kind's act states the reason of that kind (and of its source where the source
// decides it), is drawn up in the request's language — or the account's when the request has none,
// as a token sweep's connection wipe — with the operator's name and address in that language, and
// names the account owner where the account's profile still exists.
func TestActStatesItsKindsReasonInTheRequestsLanguage(t *testing.T) {
	env := testenv.New(t)
	svc := service(env, env.DynamoDB)
	ctx := context.Background()
	const gone = "acct-gone" // an account deletion's profile is destroyed before its act is drawn up
	cases := []struct {
		kind     request.Kind
		source   string
		scope    platform.ScopeRef // AccountID filled in per case
		category string
		reason   string
	}{
		{request.KindAccountDeletion, "dashboard", platform.ScopeRef{Kind: datamap.ScopeAccount}, datamap.AccountProfile, evidence.ReasonAccountOwnerRequest},
		{request.KindAccountDeletion, "email", platform.ScopeRef{Kind: datamap.ScopeAccount}, datamap.AccountProfile, evidence.ReasonAccountOwnerRequest},
		{request.KindBotDeletion, "dashboard", platform.ScopeRef{Kind: datamap.ScopeBot, BotID: "bot-x"}, datamap.Bot, evidence.ReasonAccountInstruction},
		{request.KindConnectionWipe, "email", platform.ScopeRef{Kind: datamap.ScopeConnection, ConnectionID: "conn-x", Channel: "whatsapp"}, datamap.ChannelConnection, evidence.ReasonAccountInstruction},
		{request.KindConnectionWipe, "webhook:slack", platform.ScopeRef{Kind: datamap.ScopeConnection, ConnectionID: "conn-x", Channel: "slack"}, datamap.ChannelConnection, evidence.ReasonChannelRevoked},
		{request.KindConnectionWipe, "sweep:telegram-tokens", platform.ScopeRef{Kind: datamap.ScopeConnection, ConnectionID: "conn-x", Channel: "telegram"}, datamap.ChannelConnection, evidence.ReasonChannelRevoked},
		{request.KindEndUserFilter, "dashboard", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, From: now.AddDate(0, 0, -7), To: now}, datamap.EndUserProfile, evidence.ReasonAccountInstruction},
		{request.KindEndUserDeletion, "dashboard", platform.ScopeRef{Kind: datamap.ScopeEndUser, BotID: "bot-x", EndUserID: "eu-x"}, datamap.EndUserProfile, evidence.ReasonAccountInstruction},
		{request.KindEndUserDeletion, "webhook:telegram", platform.ScopeRef{Kind: datamap.ScopeEndUser, BotID: "bot-x", EndUserID: "eu-x"}, datamap.EndUserProfile, evidence.ReasonChannelRevoked},
		{request.KindChannelIdentity, "webhook:meta", platform.ScopeRef{Kind: datamap.ScopeChannelIdentity, Channel: "meta_asid", ExternalID: "asid-x"}, datamap.ChannelIdentity, evidence.ReasonSubjectRequest},
		{request.KindInboxMessage, "dashboard", platform.ScopeRef{Kind: datamap.ScopeInboxMessage, MessageID: "msg-x"}, datamap.InboxMessage, evidence.ReasonAccountInstruction},
		{request.KindActivityLogs, "dashboard", platform.ScopeRef{Kind: datamap.ScopeActivityLogs, LogIDs: []string{"log-x"}}, datamap.ActivityLog, evidence.ReasonAccountInstruction},
		{request.KindEndCustomerRequest, "email", platform.ScopeRef{Kind: datamap.ScopeEndUser, BotID: "bot-x", EndUserID: "eu-x"}, datamap.EndUserProfile, evidence.ReasonEndCustomerRequest},
		{request.KindEndUserFilter, "retention", platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, From: now.AddDate(-2, 0, 0), To: now.AddDate(-1, -1, 0)}, datamap.Message, evidence.ReasonRetentionExpired},
	}
	covered := map[request.Kind]bool{}
	for _, c := range cases {
		covered[c.kind] = true
	}
	for _, k := range request.Kinds {
		if !covered[k] {
			t.Errorf("request kind %s has no case", k)
		}
	}
	n := 0
	for _, c := range cases {
		for _, loc := range evidence.Locales {
			// The request states its language, or (false) only the account does.
			for _, requestSays := range []bool{true, false} {
				n++
				id := fmt.Sprintf("req-%d", n)
				acct := fmt.Sprintf("acct-%d", n)
				switch c.kind {
				case request.KindAccountDeletion:
					acct = gone
				case request.KindChannelIdentity:
					acct = "" // platform-wide: a Meta identity spans accounts
				}
				if !requestSays && (acct == gone || acct == "") {
					continue // no account to take the language from
				}
				name := fmt.Sprintf("Owner %d", n)
				reqLocale := loc
				if acct != gone && acct != "" {
					// The account's language differs from the request's when the request states one.
					acctLocale := loc
					if requestSays {
						acctLocale = other(loc)
					}
					if err := svc.Store.Put(ctx, platform.Account{ID: acct, Email: acct + "@example.com", FullName: name, Locale: acctLocale, CreatedAt: now}); err != nil {
						t.Fatal(err)
					}
				}
				if !requestSays {
					reqLocale = ""
				}
				scope := c.scope
				scope.AccountID = acct
				if _, err := svc.Ledger.Create(ctx, request.Request{ID: id, AccountID: acct, Kind: c.kind, Source: c.source, Scope: scope,
					Status: request.StatusHardDeleting, Locale: reqLocale, History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: c.source}}}); err != nil {
					t.Fatal(err)
				}
				label := fmt.Sprintf("%s from %s, %s (request states it: %v)", c.kind, c.source, loc, requestSays)
				r, err := svc.Complete(ctx, id, erasure.Checkpoint{Done: true, Deleted: map[string]int64{c.category: 1}, StartedAt: now})
				if err != nil {
					t.Errorf("%s: complete: %v", label, err)
					continue
				}
				if r.Locale != loc {
					t.Errorf("%s: the request's language is now %q, want %q", label, r.Locale, loc)
				}
				acts, err := svc.Evidence(ctx, id)
				if err != nil || len(acts) != 1 {
					t.Errorf("%s: evidence %d, %v", label, len(acts), err)
					continue
				}
				act := acts[0]
				if act.Reason != c.reason {
					t.Errorf("%s: reason %s, want %s", label, act.Reason, c.reason)
				}
				if act.Locale != loc {
					t.Errorf("%s: act in %q, want %q", label, act.Locale, loc)
				}
				if acct != gone && acct != "" && scope.EndUserID == "" {
					named := false
					for _, s := range act.Subjects {
						named = named || s.Kind == evidence.SubjectAccountOwner && s.ID == acct && s.Name == name
					}
					if !named {
						t.Errorf("%s: the act does not name the owner %q: %+v", label, name, act.Subjects)
					}
				}
				doc, err := evidence.RenderMarkdown(act, "")
				if err != nil {
					t.Errorf("%s: render: %v", label, err)
					continue
				}
				wantName, wantAddress := operator.In(loc)
				otherName, otherAddress := operator.In(other(loc))
				title := map[string]string{evidence.LocaleRU: "Акт об уничтожении персональных данных", evidence.LocaleEN: "Act of Destruction of Personal Data"}[loc]
				reasonText, _ := evidence.ReasonTitle(c.reason, loc)
				for _, want := range []string{title, wantName, wantAddress, reasonText[len(reasonText)/2:]} {
					if !strings.Contains(doc, want) {
						t.Errorf("%s: the act lacks %q", label, want)
					}
				}
				for _, unwanted := range []string{otherName, otherAddress} {
					if strings.Contains(doc, unwanted) {
						t.Errorf("%s: the act states %q, the operator in the other language", label, unwanted)
					}
				}
			}
		}
	}
}

// A failed read of the data an account deletion keeps by law fails the step (Step Functions retries
// it) instead of drawing up an act without "kept for 5 years"; the retry's act states both.
func TestAFailedReadOfKeptDataFailsTheAct(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	paid := now.AddDate(-1, 0, 0)
	withdrawn := now.AddDate(0, -1, 0)
	const acct = "acct-paid"
	good := service(env, env.DynamoDB)
	if err := good.Store.Put(ctx, platform.Payment{AccountID: acct, ID: "pay-1", PaidAt: paid, AmountMinor: 100, Currency: "RUB", Document: "INV-1"}); err != nil {
		t.Fatal(err)
	}
	if err := good.Store.Put(ctx, platform.Consent{AccountID: acct, ID: "con-1", Document: "privacy-v1", GivenAt: paid, WithdrawnAt: &withdrawn}); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Ledger.Create(ctx, request.Request{ID: "req-paid", AccountID: acct, Kind: request.KindAccountDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: acct}, Status: request.StatusHardDeleting, Locale: "en",
		History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: "owner:sub-1"}}}); err != nil {
		t.Fatal(err)
	}
	cp := erasure.Checkpoint{Done: true, Deleted: map[string]int64{datamap.AccountProfile: 1}, StartedAt: now}

	// Every query of the platform table (payments, consents) is throttled; the ledger's are not.
	tr := faults.NewTransport(nil, faults.Plan{Seed: 1, Throttle: 1, Operations: []string{"Query"}, Tables: []string{env.Tables[datamap.PlatformTable]}})
	throttled := service(env, faults.DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr))
	if _, err := throttled.Complete(ctx, "req-paid", cp); err == nil {
		t.Fatal("complete with the kept data unreadable succeeded")
	}
	if tr.Stats().Throttled == 0 {
		t.Fatal("no read was throttled: the test proves nothing")
	}
	r, err := good.Ledger.Get(ctx, "req-paid")
	if err != nil || r.Status != request.StatusHardDeleting || len(r.Evidence) != 0 {
		t.Fatalf("after the failed step: %s, evidence %v, %v; want it still hard_deleting without an act", r.Status, r.Evidence, err)
	}

	if _, err := good.Complete(ctx, "req-paid", cp); err != nil {
		t.Fatalf("retry: %v", err)
	}
	acts, err := good.Evidence(ctx, "req-paid")
	if err != nil || len(acts) != 1 {
		t.Fatalf("evidence %d, %v", len(acts), err)
	}
	kept := map[string]int64{}
	for _, k := range acts[0].Kept {
		kept[k.Reason] = k.Count
	}
	if kept[evidence.KeptLawAccounting5y] != 1 || kept[evidence.KeptConsentWithdrawal5y] != 1 {
		t.Errorf("the act keeps %+v; want the payment and the consent", acts[0].Kept)
	}
}
