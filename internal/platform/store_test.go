package platform_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/scopetest"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var seedNow = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// fixture is the demo data set written to a fresh set of tables, with the records kept as ground
// truth.
type fixture struct {
	store    *platform.Store
	records  []platform.Record
	manifest seed.Manifest
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	env := testenv.New(t)
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin},
		func() time.Time { return seedNow })
	var recs []platform.Record
	m, err := seed.Generate(seed.Options{Seed: 7, Now: seedNow, Size: seed.DemoSize()},
		func(r platform.Record) error { recs = append(recs, r); return nil },
		func(seed.Object) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutAll(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return fixture{store: store, records: recs, manifest: m}
}

func keyString(k platform.Key) string { return scopetest.KeyString(k) }

// expected computes, from the records alone, which stored items a scope must reach.
func (f fixture) expected(t *testing.T, ref platform.ScopeRef) map[string]string {
	t.Helper()
	want, err := scopetest.New(f.store, f.records).Items(ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func (f fixture) walk(t *testing.T, ref platform.ScopeRef) (items map[string]string, prefixes []string) {
	t.Helper()
	items = map[string]string{}
	err := f.store.Walk(context.Background(), ref, func(tg platform.Target) error {
		if tg.IsObjects() {
			prefixes = append(prefixes, tg.Prefix)
			return nil
		}
		if _, dup := items[keyString(tg.Key)]; dup {
			t.Errorf("%s: %s handed out twice", ref.Kind, keyString(tg.Key))
		}
		items[keyString(tg.Key)] = tg.Category
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return items, prefixes
}

// Every deletion scope of SPEC §3 reaches exactly what it must: nothing missing, nothing outside the
// scope, never a kept category — found with GetItem and Query alone (platform.DB has no Scan).
func TestEveryScopeIsReachableExactly(t *testing.T) {
	f := newFixture(t)
	acc := f.manifest.Accounts[0]
	other := f.manifest.Accounts[1]
	bot := acc.Bots[0]
	conn := bot.Connections[0]
	eu := acc.EndUsers[0]
	var inboxID string
	var logIDs []string
	for _, r := range f.records {
		switch v := r.(type) {
		case platform.InboxMessage:
			if inboxID == "" && v.AccountID == acc.ID {
				inboxID = v.ID
			}
		case platform.ActivityLog:
			if v.AccountID == acc.ID && len(logIDs) < 3 {
				logIDs = append(logIDs, v.ID)
			}
		}
	}
	if inboxID == "" || len(logIDs) < 3 {
		t.Fatal("demo data lacks inbox messages or activity logs")
	}
	week := platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: acc.ID, From: seedNow.AddDate(0, 0, -7), To: seedNow}
	cases := map[string]platform.ScopeRef{
		"account":                  {Kind: datamap.ScopeAccount, AccountID: acc.ID},
		"bot":                      {Kind: datamap.ScopeBot, AccountID: acc.ID, BotID: bot.ID},
		"connection":               {Kind: datamap.ScopeConnection, AccountID: acc.ID, ConnectionID: conn.ID},
		"privacy all bots":         week,
		"privacy one bot":          {Kind: datamap.ScopeEndUserFilter, AccountID: acc.ID, BotID: bot.ID, From: seedNow.AddDate(-1, 0, 0), To: seedNow},
		"one end user":             {Kind: datamap.ScopeEndUser, AccountID: acc.ID, BotID: eu.BotID, EndUserID: eu.ID},
		"meta identity":            {Kind: datamap.ScopeChannelIdentity, Channel: platform.IdentityMetaASID, ExternalID: f.manifest.MetaASIDShared},
		"inbox message":            {Kind: datamap.ScopeInboxMessage, AccountID: acc.ID, MessageID: inboxID},
		"activity logs":            {Kind: datamap.ScopeActivityLogs, AccountID: acc.ID, LogIDs: logIDs},
		"other account's bot":      {Kind: datamap.ScopeBot, AccountID: acc.ID, BotID: other.Bots[0].ID},
		"other account's end user": {Kind: datamap.ScopeEndUser, AccountID: acc.ID, EndUserID: other.EndUsers[0].ID},
		"other account's inbox":    {Kind: datamap.ScopeInboxMessage, AccountID: other.ID, MessageID: inboxID},
	}
	for name, ref := range cases {
		t.Run(name, func(t *testing.T) {
			got, _ := f.walk(t, ref)
			want := f.expected(t, ref)
			if len(want) == 0 && name[:5] != "other" {
				t.Fatalf("ground truth is empty: the fixture does not exercise this scope")
			}
			for k, c := range want {
				if _, ok := got[k]; !ok {
					t.Errorf("missed %s (%s)", k, c)
				}
			}
			for k, c := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("reached %s (%s) outside the scope", k, c)
				}
				if cat := datamap.MustLookup(c); cat.Kept() {
					t.Errorf("reached kept category %s", c)
				}
			}
		})
	}
}

// A Meta app-scoped id names one person across the platform: its scope reaches end users in both
// demo accounts.
func TestMetaIdentitySpansAccounts(t *testing.T) {
	f := newFixture(t)
	got, _ := f.walk(t, platform.ScopeRef{Kind: datamap.ScopeChannelIdentity, Channel: platform.IdentityMetaASID, ExternalID: f.manifest.MetaASIDShared})
	accounts := map[string]bool{}
	for _, r := range f.records {
		if u, ok := r.(platform.EndUser); ok {
			k, _ := f.store.KeyOf(u)
			if _, hit := got[keyString(k)]; hit {
				accounts[u.AccountID] = true
			}
		}
	}
	if len(accounts) < 2 {
		t.Fatalf("the shared Meta identity reached end users of %d account(s), want 2", len(accounts))
	}
}

// The end-user walk also hands out the S3 prefixes of the person's files and inbox attachments.
func TestEndUserWalkHandsOutTheirObjects(t *testing.T) {
	f := newFixture(t)
	acc := f.manifest.Accounts[0]
	eu := acc.EndUsers[0]
	_, prefixes := f.walk(t, platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: acc.ID, EndUserID: eu.ID})
	want, err := datamap.Fill(datamap.MustLookup(datamap.EndUserFile).Location.Prefix, map[string]string{"account": acc.ID, "bot": eu.BotID, "endUser": eu.ID})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range prefixes {
		found = found || p == want
	}
	if !found {
		t.Errorf("prefixes %v lack %s", prefixes, want)
	}
}

// An account's messages are spread over many partitions: one per conversation, none hot.
func TestMessagesSpreadOverManyPartitions(t *testing.T) {
	perPartition := map[string]int{}
	_, err := seed.Generate(seed.Options{Seed: 3, Now: seedNow, Size: seed.SizeForMessages(20_000)}, func(r platform.Record) error {
		if r.Category() == datamap.Message {
			item, err := platform.Encode(r, datamap.Policy{})
			if err != nil {
				return err
			}
			perPartition[item[platform.AttrPK].(*types.AttributeValueMemberS).Value]++
		}
		return nil
	}, func(seed.Object) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	total, largest := 0, 0
	for _, n := range perPartition {
		total += n
		largest = max(largest, n)
	}
	if len(perPartition) < total/60 {
		t.Errorf("%d messages in only %d partitions", total, len(perPartition))
	}
	if largest > 60 {
		t.Errorf("a partition holds %d of the account's %d messages", largest, total)
	}
}

// Expired items are never read, though DynamoDB may still store them.
func TestReadsNeverReturnExpiredItems(t *testing.T) {
	env := testenv.New(t)
	now := seedNow
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time { return now })
	ctx := context.Background()
	old := now.AddDate(0, -13, 0)
	recs := []platform.Record{
		platform.Message{AccountID: "a", BotID: "b", EndUserID: "u", ConversationID: "c", ID: platform.NewID(old), SentAt: old},
		platform.Message{AccountID: "a", BotID: "b", EndUserID: "u", ConversationID: "c", ID: platform.NewID(now), SentAt: now},
		platform.InboxMessage{AccountID: "a", BotID: "b", EndUserID: "u", ID: "old-inbox", SentAt: old},
	}
	if err := store.PutAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
	page, err := store.Messages(ctx, "c", platform.QuerySpec{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || !page.Items[0].SentAt.Equal(now) {
		t.Errorf("messages read: %+v, want only the recent one", page.Items)
	}
	if _, err := store.InboxMessage(ctx, "old-inbox"); err != platform.ErrNotFound {
		t.Errorf("expired inbox message read: %v", err)
	}
	// Still stored: DynamoDB's TTL has not run; only the read path keeps it out of sight.
	k, _ := store.KeyOf(recs[2])
	out, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.Table), Key: k.Attributes()})
	if err != nil || out.Item == nil {
		t.Fatalf("expired item should still be stored: %v", err)
	}
}

// The readers return what was written, scoped to the account they are asked about.
func TestReaders(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc := f.manifest.Accounts[0]
	a, err := f.store.Account(ctx, acc.ID)
	if err != nil || a.Email != acc.Email {
		t.Fatalf("Account = %+v, %v", a, err)
	}
	byEmail, err := f.store.AccountsByEmail(ctx, "  "+upper(acc.Email))
	if err != nil || len(byEmail) != 1 || byEmail[0].ID != acc.ID {
		t.Errorf("AccountsByEmail = %+v, %v", byEmail, err)
	}
	bots, err := f.store.Bots(ctx, acc.ID)
	if err != nil || len(bots) != len(acc.Bots) {
		t.Errorf("Bots = %d, %v; want %d", len(bots), err, len(acc.Bots))
	}
	if _, err := f.store.Bot(ctx, f.manifest.Accounts[1].ID, acc.Bots[0].ID); err != platform.ErrNotFound {
		t.Errorf("another account's bot: %v, want ErrNotFound", err)
	}
	conn := acc.Bots[0].Connections[0]
	c, err := f.store.Connection(ctx, conn.ID)
	if err != nil || c.ChannelKey != conn.ChannelKey || c.Secrets == nil {
		t.Errorf("Connection = %+v, %v", c, err)
	}
	byKey, err := f.store.ConnectionsByChannelKey(ctx, conn.Channel, conn.ChannelKey)
	if err != nil || len(byKey) != 1 || byKey[0].ID != conn.ID {
		t.Errorf("ConnectionsByChannelKey = %+v, %v", byKey, err)
	}
	// The Privacy module's default view: the last 7 days, all bots.
	var want []string
	for _, r := range f.records {
		if u, ok := r.(platform.EndUser); ok && u.AccountID == acc.ID && !u.FirstConversationAt.Before(seedNow.AddDate(0, 0, -7)) {
			want = append(want, u.ID)
		}
	}
	var got []string
	for _, b := range bots {
		q := platform.QuerySpec{Limit: 3} // small pages: pagination must neither skip nor repeat
		for {
			page, err := f.store.EndUsersByFirstConversation(ctx, b.ID, seedNow.AddDate(0, 0, -7), seedNow, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range page.Items {
				got = append(got, u.ID)
			}
			if page.Next == nil {
				break
			}
			q.Start = page.Next
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if len(want) == 0 || !equal(got, want) {
		t.Errorf("last-7-days end users: got %d %v, want %d %v", len(got), got, len(want), want)
	}
	// Conversations search: a name token prefix, accent- and ё-insensitive.
	eu := acc.EndUsers[0]
	tok := []rune(platform.NameTokens(eu.Name)[0])
	prefix := string(tok[:len(tok)/2+1])
	page, err := f.store.NameTokensWithPrefix(ctx, eu.BotID, prefix, platform.QuerySpec{})
	if err != nil {
		t.Fatal(err)
	}
	hit := false
	for _, n := range page.Items {
		hit = hit || n.EndUserID == eu.ID
	}
	if !hit {
		t.Errorf("search for %q did not find %s", prefix, eu.ID)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A nil projection reads whole items; an empty one only the keys, category and TTL — what a
// deletion needs of an item it does not read (the erasure engine's messages).
func TestQueryProjection(t *testing.T) {
	env := testenv.New(t)
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time { return seedNow })
	ctx := context.Background()
	m := platform.Message{AccountID: "a", BotID: "b", EndUserID: "u", ConversationID: "c", ID: platform.NewID(seedNow), SentAt: seedNow, Text: "hello"}
	if err := store.PutAll(ctx, []platform.Record{m}); err != nil {
		t.Fatal(err)
	}
	k, err := store.KeyOf(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name       string
		projection []string
		want       []string
	}{
		{"nil", nil, nil},
		{"empty", []string{}, []string{platform.AttrCategory, platform.AttrExpiresAt, platform.AttrPK, platform.AttrSK}},
		{"text", []string{"text"}, []string{platform.AttrCategory, platform.AttrExpiresAt, platform.AttrPK, platform.AttrSK, "text"}},
	} {
		items, _, err := store.QueryItems(ctx, platform.QuerySpec{Logical: datamap.PlatformTable, PK: k.PK, Projection: c.projection})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 1 {
			t.Fatalf("%s: %d items, want 1", c.name, len(items))
		}
		var got []string
		for a := range items[0] {
			got = append(got, a)
		}
		sort.Strings(got)
		if c.want == nil {
			if platform.AttrString(items[0]["text"]) != "hello" || platform.AttrString(items[0]["messageId"]) != m.ID {
				t.Errorf("nil projection read %v, want the whole item", got)
			}
			continue
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s projection read %v, want %v", c.name, got, c.want)
		}
	}
}
