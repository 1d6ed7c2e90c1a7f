package platform

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
)

var t0 = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// sampleRecords has one record of every category stored in a table, with every key field set.
func sampleRecords() []Record {
	withdrawn := t0.Add(24 * time.Hour)
	return []Record{
		Account{ID: "acc1", Email: " Owner@Example.RU", FullName: "Иван Петров", Locale: "ru", Status: AccountActive, CreatedAt: t0},
		TeamMember{AccountID: "acc1", Sub: "sub1", Role: RoleOwner, CreatedAt: t0},
		Bot{AccountID: "acc1", ID: "bot1", Name: "Support", CreatedAt: t0},
		ChannelConnection{AccountID: "acc1", BotID: "bot1", ID: "conn1", Channel: ChannelSlack, ChannelKey: "T0001", CreatedAt: t0},
		ConnectionKey{AccountID: "acc1", BotID: "bot1", ConnectionID: "conn1", Kind: ConnKeyMetaUserID, Value: "5550001"},
		APIToken{AccountID: "acc1", ID: "tok1", CreatedAt: t0},
		Webhook{AccountID: "acc1", ID: "wh1", Events: []string{"message"}, CreatedAt: t0},
		Integration{AccountID: "acc1", ID: "int1", CreatedAt: t0},
		Template{AccountID: "acc1", ID: "tpl1", CreatedAt: t0},
		Tag{AccountID: "acc1", ID: "tag1", CreatedAt: t0},
		AccountFile{AccountID: "acc1", ID: "f1", CreatedAt: t0},
		ActivityLog{AccountID: "acc1", ID: "log1", At: t0},
		EndUser{AccountID: "acc1", BotID: "bot1", ConnectionID: "conn1", ID: "eu1", FirstConversationAt: t0, LastActiveAt: t0},
		ChannelIdentity{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", Channel: IdentityMetaASID, ExternalID: "1234", LastActiveAt: t0},
		NameToken{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", Token: "иван", LastActiveAt: t0},
		Conversation{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ID: "cv1", StartedAt: t0, LastMessageAt: t0},
		Message{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ConversationID: "cv1", ID: "m1", SentAt: t0},
		InboxMessage{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ID: "im1", SentAt: t0},
		EndUserFile{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ID: "uf1", CreatedAt: t0},
		Contact{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ID: "ct1", UpdatedAt: t0},
		EndUserTag{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", TagID: "tag1", UpdatedAt: t0},
		Note{AccountID: "acc1", BotID: "bot1", EndUserID: "eu1", ID: "n1", UpdatedAt: t0},
		Payment{AccountID: "acc1", ID: "p1", PaidAt: t0},
		Consent{AccountID: "acc1", ID: "k1", GivenAt: t0, WithdrawnAt: &withdrawn},
		LegalHold{AccountID: "acc1", ID: "h1", PlacedAt: t0},
		AnalyticsCounter{BotID: "bot1", Metric: "messages_in", Day: "2026-05-04", Channel: "telegram", Count: 3},
	}
}

func s(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func TestEncodeKeys(t *testing.T) {
	want := map[string][6]string{ // pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk
		datamap.AccountProfile:    {"A#acc1", "PROFILE", "", "", "EMAIL#owner@example.ru", "acc1"},
		datamap.TeamMember:        {"A#acc1", "MEMBER#sub1"},
		datamap.Bot:               {"A#acc1", "BOT#bot1", "BOTNAME#support", "acc1#bot1"},
		datamap.ChannelConnection: {"C#conn1", "CONN", "CHKEY#slack#T0001", "conn1", "A#acc1#CONN", "bot1#conn1"},
		datamap.ConnectionKey:     {"C#conn1", "KEY#meta_user_id#5550001", "CHKEY#meta_user_id#5550001", "conn1"},
		datamap.APIToken:          {"A#acc1", "APITOKEN#tok1"},
		datamap.Webhook:           {"A#acc1", "WEBHOOK#wh1"},
		datamap.Integration:       {"A#acc1", "INTEGRATION#int1"},
		datamap.Template:          {"A#acc1", "TEMPLATE#tpl1"},
		datamap.Tag:               {"A#acc1", "TAG#tag1"},
		datamap.AccountFile:       {"A#acc1", "FILE#f1"},
		datamap.ActivityLog:       {"L#acc1", "log1"},
		datamap.EndUserProfile:    {"U#eu1", "PROFILE", "BOTU#bot1", "2026-05-04T10:30:00.000Z#eu1", "CONNU#conn1", "eu1"},
		datamap.ChannelIdentity:   {"U#eu1", "IDENT#meta_asid#1234", "IDENT#meta_asid#1234", "bot1#eu1"},
		datamap.NameToken:         {"U#eu1", "NAME#иван", "NAME#bot1", "иван#eu1"},
		datamap.Conversation:      {"U#eu1", "CONV#cv1"},
		datamap.Message:           {"V#cv1", "m1"},
		datamap.InboxMessage:      {"I#im1", "MSG", "", "", "INBOX#eu1", "im1"},
		datamap.EndUserFile:       {"U#eu1", "FILE#uf1"},
		datamap.Contact:           {"U#eu1", "CONTACT#ct1"},
		datamap.EndUserTag:        {"U#eu1", "TAG#tag1"},
		datamap.Note:              {"U#eu1", "NOTE#n1"},
		datamap.Payment:           {"P#acc1", "p1"},
		datamap.Consent:           {"K#acc1", "k1"},
		datamap.LegalHold:         {"H#h1", "HOLD", "HOLDS#acc1", "h1", "ALLHOLDS", "h1"},
		datamap.AnalyticsCounter:  {"M#bot1#messages_in", "2026-05-04#telegram"},
	}
	seen := map[string]bool{}
	for _, r := range sampleRecords() {
		item, err := Encode(r, datamap.Policy{})
		if err != nil {
			t.Fatalf("%s: %v", r.Category(), err)
		}
		seen[r.Category()] = true
		got := [6]string{s(item, "pk"), s(item, "sk"), s(item, "gsi1pk"), s(item, "gsi1sk"), s(item, "gsi2pk"), s(item, "gsi2sk")}
		if got != want[r.Category()] {
			t.Errorf("%s: keys %q, want %q", r.Category(), got, want[r.Category()])
		}
		if s(item, AttrCategory) != r.Category() {
			t.Errorf("%s: cat attribute %q", r.Category(), s(item, AttrCategory))
		}
	}
	for _, c := range datamap.Categories {
		ledgerOwn := c.Name == datamap.Evidence || c.Name == datamap.DeletionRequest || c.Name == datamap.RequestSlot || c.Name == datamap.RequestReference ||
			c.Name == datamap.InboundMail || c.Owner == datamap.OwnerService
		if c.Location.Table != "" && !ledgerOwn && !seen[c.Name] { // the ledger's own records are tested there
			t.Errorf("no record type exercised for category %s", c.Name)
		}
	}
}

// Every write stamps the TTL the data map gives, and the retention anchor the data map names is an
// attribute of the stored item, so the retention sweep can recompute it from what is stored.
func TestEncodeStampsTTLFromTheDataMap(t *testing.T) {
	p := datamap.Policy{SafetyMargin: 72 * time.Hour}
	for _, r := range sampleRecords() {
		c := datamap.MustLookup(r.Category())
		item, err := Encode(r, p)
		if err != nil {
			t.Fatal(err)
		}
		wantExp, wantTTL := p.ExpiresAt(c, r.RetentionAnchor())
		n, hasTTL := item[AttrExpiresAt].(*types.AttributeValueMemberN)
		if hasTTL != wantTTL {
			t.Errorf("%s: TTL present %v, want %v", c.Name, hasTTL, wantTTL)
			continue
		}
		if c.Personal && c.Owner == datamap.OwnerEndUser && !hasTTL {
			t.Errorf("%s: personal end-user item without TTL", c.Name)
		}
		if hasTTL {
			if n.Value != strconv.FormatInt(wantExp.Unix(), 10) {
				t.Errorf("%s: expiresAt %s, want %d", c.Name, n.Value, wantExp.Unix())
			}
			if _, ok := item[c.Retention.Anchor]; !ok {
				t.Errorf("%s: anchor attribute %q not stored", c.Name, c.Retention.Anchor)
			}
		}
	}
}

func TestEncodeRefusesKeysWithHoles(t *testing.T) {
	_, err := Encode(Message{AccountID: "a", ConversationID: "", ID: "m", SentAt: t0}, datamap.Policy{})
	if err == nil || !strings.Contains(err.Error(), "conversation") {
		t.Fatalf("want an error naming the missing conversation id, got %v", err)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	u := EndUser{AccountID: "a", BotID: "b", ConnectionID: "c", ID: "u", DisplayName: "Семён Королёв",
		NormalizedName: NormalizeName("Семён Королёв"), FirstConversationAt: t0, LastActiveAt: t0.Add(time.Hour)}
	item, err := Encode(u, datamap.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode[EndUser](item)
	if err != nil {
		t.Fatal(err)
	}
	if got != u {
		t.Errorf("round trip: got %+v, want %+v", got, u)
	}
}

func TestExpired(t *testing.T) {
	item := map[string]types.AttributeValue{AttrExpiresAt: &types.AttributeValueMemberN{Value: strconv.FormatInt(t0.Unix(), 10)}}
	if Expired(item, t0.Add(-time.Second)) {
		t.Error("expired before its TTL")
	}
	if !Expired(item, t0) {
		t.Error("not expired at its TTL")
	}
	if Expired(map[string]types.AttributeValue{}, t0) {
		t.Error("item without TTL expired")
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Семён Королёв", "семен королев"},
		{"  АЛЕКСЕЙ   Й. Йогуртов ", "алексей й йогуртов"},
		{"José Müller-Lüdenscheidt", "jose muller ludenscheidt"},
		{"Ёлка", "елка"},
		{"O'Brien", "o brien"},
		{"Søren Łukasz Straße", "soren lukasz strasse"},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := strings.Join(NameTokens("Анна-Мария Анна"), ","); got != "анна,мария" {
		t.Errorf("NameTokens = %q", got)
	}
}

func TestIDsAreTimeOrderedAndBounded(t *testing.T) {
	a, b := NewID(t0), NewID(t0.Add(time.Millisecond))
	if !(a < b) {
		t.Errorf("ids not time-ordered: %s !< %s", a, b)
	}
	if lo, hi := IDLowerBound(t0), IDUpperBound(t0); !(lo <= a && a <= hi) {
		t.Errorf("id %s outside [%s, %s]", a, lo, hi)
	}
	same := []string{NewID(t0), NewID(t0), NewID(t0)}
	if !(same[0] < same[1] && same[1] < same[2]) {
		t.Errorf("ids of one millisecond out of order: %v", same)
	}
	if hi := IDUpperBound(t0); !(hi < b) {
		t.Errorf("upper bound of t0 %s not below an id of t0+1ms %s", hi, b)
	}
}
