package datamap

import (
	"strings"
	"testing"
	"time"
)

func TestDataMapIsConsistent(t *testing.T) {
	if err := Validate(); err != nil {
		t.Fatal(err)
	}
}

// Every category SPEC §2 names must be in the data map, with the owner the spec gives it.
func TestEveryCategoryOfTheSpecIsMapped(t *testing.T) {
	want := map[string]Owner{
		AccountProfile: OwnerAccount, TeamMember: OwnerAccount, Bot: OwnerAccount, ChannelConnection: OwnerAccount, ConnectionKey: OwnerAccount,
		APIToken: OwnerAccount, Webhook: OwnerAccount, Integration: OwnerAccount, Template: OwnerAccount,
		Tag: OwnerAccount, AccountFile: OwnerAccount, ActivityLog: OwnerAccount,
		EndUserProfile: OwnerEndUser, ChannelIdentity: OwnerEndUser, NameToken: OwnerEndUser,
		Conversation: OwnerEndUser, Message: OwnerEndUser, InboxMessage: OwnerEndUser, EndUserFile: OwnerEndUser,
		Contact: OwnerEndUser, EndUserTag: OwnerEndUser, Note: OwnerEndUser,
		Payment: OwnerRetained, Consent: OwnerRetained, LegalHold: OwnerRetained,
		Evidence: OwnerEvidence, DeletionRequest: OwnerEvidence, AnalyticsCounter: OwnerAnalytics,
		// The ledger's own bookkeeping: open-request slots and email references.
		RequestSlot: OwnerEvidence, RequestReference: OwnerEvidence, InboundMail: OwnerEvidence,
		ReauthAttempts: OwnerService, VerificationTries: OwnerService, IdempotencyRecord: OwnerService, PreviewToken: OwnerService, WebhookDelivery: OwnerService,
		SweepCheckpoint: OwnerService, RetentionTally: OwnerService, ConnectionSuspicion: OwnerService,
	}
	if len(Categories) != len(want) {
		t.Errorf("data map has %d categories, the spec %d", len(Categories), len(want))
	}
	for name, owner := range want {
		c, ok := Lookup(name)
		if !ok {
			t.Errorf("category %s missing", name)
			continue
		}
		if c.Owner != owner {
			t.Errorf("%s: owner %s, want %s", name, c.Owner, owner)
		}
	}
}

func TestEveryCategoryHasARetentionRule(t *testing.T) {
	for _, c := range Categories {
		if c.Retention.Kind == "" {
			t.Errorf("%s has no retention rule", c.Name)
		}
	}
}

// Personal data of end users and activity logs must carry a TTL no later than 13 months after its
// anchor; the safety margin comes off it.
func TestPersonalCategoriesExpireWithin13Months(t *testing.T) {
	p := Policy{SafetyMargin: DefaultSafetyMargin}
	anchor := time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)
	limit := time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC).AddDate(0, 0, 3) // Jan 31 + 13 months normalizes to Mar 3
	for _, c := range Categories {
		if c.Owner != OwnerEndUser && c.Name != ActivityLog {
			continue
		}
		exp, ok := p.ExpiresAt(c, anchor)
		if !ok {
			t.Errorf("%s: personal category without TTL", c.Name)
			continue
		}
		if got, want := exp, limit.Add(-DefaultSafetyMargin); !got.Equal(want) {
			t.Errorf("%s: expires %v, want %v", c.Name, got, want)
		}
	}
}

func TestRetentionRules(t *testing.T) {
	p := Policy{SafetyMargin: 48 * time.Hour}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		category string
		anchor   time.Time
		want     time.Time
		wantTTL  bool
	}{
		{Message, at, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC).Add(-48 * time.Hour), true},
		{EndUserProfile, at, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC).Add(-48 * time.Hour), true},
		{ActivityLog, at, time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC).Add(-48 * time.Hour), true},
		// Retained categories expire exactly when the law allows, never early.
		{Payment, at, time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{Consent, at, time.Date(2031, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{Consent, time.Time{}, time.Time{}, false}, // not withdrawn: kept
		{Evidence, at, time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{LegalHold, time.Time{}, time.Time{}, false}, // active hold: kept
		{LegalHold, at, time.Date(2029, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{AnalyticsCounter, at, time.Time{}, false},
		{AccountProfile, at, time.Time{}, false},
		{ChannelConnection, at, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := p.ExpiresAt(MustLookup(tt.category), tt.anchor)
		if ok != tt.wantTTL || !got.Equal(tt.want) {
			t.Errorf("%s anchored %v: got (%v, %v), want (%v, %v)", tt.category, tt.anchor, got, ok, tt.want, tt.wantTTL)
		}
	}
}

// Nothing kept by law or by design may be reachable by any deletion scope; every scope reaches
// something.
func TestScopesNeverReachKeptData(t *testing.T) {
	for _, s := range AllScopes {
		reached := Reaching(s)
		if len(reached) == 0 {
			t.Errorf("scope %s reaches nothing", s)
		}
		for _, c := range reached {
			if c.Owner == OwnerRetained || c.Owner == OwnerEvidence || c.Owner == OwnerAnalytics {
				t.Errorf("scope %s reaches kept category %s", s, c.Name)
			}
		}
	}
	for _, name := range []string{Payment, Consent, LegalHold, Evidence, DeletionRequest, AnalyticsCounter} {
		if !MustLookup(name).Kept() {
			t.Errorf("%s must be kept", name)
		}
	}
}

// The account scope reaches every account and end-user category; the one-message scope only the
// inbox message; activity-log deletion only activity logs.
func TestScopeReach(t *testing.T) {
	names := func(cs []Category) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range Categories {
		want := c.Owner == OwnerAccount || c.Owner == OwnerEndUser
		if c.Reaches(ScopeAccount) != want {
			t.Errorf("account scope reaches %s = %v, want %v", c.Name, !want, want)
		}
	}
	if got := names(Reaching(ScopeInboxMessage)); got != InboxMessage {
		t.Errorf("inbox message scope reaches %s", got)
	}
	if got := names(Reaching(ScopeActivityLogs)); got != ActivityLog {
		t.Errorf("activity-log scope reaches %s", got)
	}
	for _, c := range Reaching(ScopeEndUser) {
		if c.Owner != OwnerEndUser {
			t.Errorf("one-end-user scope reaches %s of owner %s", c.Name, c.Owner)
		}
	}
}

func TestFill(t *testing.T) {
	tests := []struct {
		pattern string
		vars    map[string]string
		want    string
		wantErr bool
	}{
		{"U#{endUser}", map[string]string{"endUser": "01J"}, "U#01J", false},
		{"{firstConversationAt}#{endUser}", map[string]string{"firstConversationAt": "2026", "endUser": "x"}, "2026#x", false},
		{"PROFILE", nil, "PROFILE", false},
		{"U#{endUser}", map[string]string{}, "", true},
		{"U#{endUser}", map[string]string{"endUser": ""}, "", true},
		{"U#{endUser", map[string]string{"endUser": "a"}, "", true},
	}
	for _, tt := range tests {
		got, err := Fill(tt.pattern, tt.vars)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Fill(%q) = %q, %v; want %q, err %v", tt.pattern, got, err, tt.want, tt.wantErr)
		}
	}
}

// Two categories sharing a partition must be told apart by their sort-key prefix, or a scope that
// deletes one by prefix would delete the other.
func TestCategoriesSharingAPartitionHaveDistinctPrefixes(t *testing.T) {
	byPartition := map[string][]Category{}
	for _, c := range Categories {
		if c.Location.Table == "" {
			continue
		}
		byPartition[c.Location.Table+" "+c.Location.PK] = append(byPartition[c.Location.Table+" "+c.Location.PK], c)
	}
	for part, cs := range byPartition {
		for i, a := range cs {
			for _, b := range cs[i+1:] {
				pa, pb := a.SKPrefix(), b.SKPrefix()
				if pa == "" || pb == "" || strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa) {
					t.Errorf("partition %s: %s (%q) and %s (%q) cannot be told apart by sort key", part, a.Name, pa, b.Name, pb)
				}
			}
		}
	}
}
