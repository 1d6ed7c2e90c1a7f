package seed

import (
	"errors"
	"reflect"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/password"
	"github.com/lethe-dev/lethe/internal/platform"
)

var testNow = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

var policy = datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}

// generated is one Generate run kept whole: the records, the objects and the manifest.
type generated struct {
	records  []platform.Record
	objects  []Object
	manifest Manifest
}

func generateAll(t *testing.T, opts Options) generated {
	t.Helper()
	var g generated
	m, err := Generate(opts, func(r platform.Record) error {
		g.records = append(g.records, r)
		return nil
	}, func(o Object) error {
		g.objects = append(g.objects, o)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	g.manifest = m
	return g
}

func encodeAll(t *testing.T, rs []platform.Record) []map[string]types.AttributeValue {
	t.Helper()
	items := make([]map[string]types.AttributeValue, len(rs))
	for i, r := range rs {
		item, err := platform.Encode(r, policy)
		if err != nil {
			t.Fatalf("encode %s: %v", r.Category(), err)
		}
		items[i] = item
	}
	return items
}

func demo(seed uint64) Options { return Options{Seed: seed, Now: testNow, Size: DemoSize()} }

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := generateAll(t, demo(1)), generateAll(t, demo(1))
	if len(a.records) == 0 || len(a.records) != len(b.records) {
		t.Fatalf("record counts %d and %d", len(a.records), len(b.records))
	}
	ia, ib := encodeAll(t, a.records), encodeAll(t, b.records)
	for i := range ia {
		if !reflect.DeepEqual(ia[i], ib[i]) {
			t.Fatalf("record %d differs:\n%v\n%v", i, a.records[i], b.records[i])
		}
	}
	if !reflect.DeepEqual(a.objects, b.objects) {
		t.Error("objects differ between two runs")
	}
	if !reflect.DeepEqual(a.manifest, b.manifest) {
		t.Error("manifests differ between two runs")
	}

	c := generateAll(t, demo(2))
	if reflect.DeepEqual(a.manifest.Accounts, c.manifest.Accounts) {
		t.Error("seeds 1 and 2 gave the same accounts")
	}
	ic := encodeAll(t, c.records)
	same := 0
	for i := range min(len(ia), len(ic)) {
		if reflect.DeepEqual(ia[i], ic[i]) {
			same++
		}
	}
	if same > 0 {
		t.Errorf("seeds 1 and 2 gave %d identical records", same)
	}
}

// The demo set exercises every category, channel and role, in both languages, at every age the
// Privacy module filters by.
func TestDemoCoversTheDataMap(t *testing.T) {
	g := generateAll(t, demo(1))
	cats := map[string]int{}
	channels := map[string]bool{}
	endUserChannels := map[string]bool{}
	roles := map[string]bool{}
	var russian, english, yo, recent, older int
	for _, r := range g.records {
		cats[r.Category()]++
		switch v := r.(type) {
		case platform.ChannelConnection:
			channels[v.Channel] = true
		case platform.TeamMember:
			roles[v.Role] = true
			if v.Role == platform.RoleBotAdmin && len(v.BotIDs) == 0 {
				t.Error("a bot_admin administers no bot")
			}
		case platform.EndUser:
			endUserChannels[v.Channel] = true
			if hasScript(v.DisplayName, unicode.Cyrillic) {
				russian++
			}
			if hasScript(v.DisplayName, unicode.Latin) {
				english++
			}
			if strings.ContainsRune(v.DisplayName, 'ё') {
				yo++
			}
			if v.FirstConversationAt.Before(testNow.AddDate(0, 0, -7)) {
				older++
			} else {
				recent++
			}
		}
	}
	for _, c := range datamap.Categories {
		if c.Name == datamap.LegalHold || c.Name == datamap.Evidence || c.Name == datamap.DeletionRequest ||
			c.Name == datamap.RequestSlot || c.Name == datamap.RequestReference || c.Name == datamap.InboundMail || c.Owner == datamap.OwnerService { // Lethe's own records
			if cats[c.Name] > 0 {
				t.Errorf("generated %d %s records: those are Lethe's own", cats[c.Name], c.Name)
			}
			continue
		}
		if cats[c.Name] == 0 {
			t.Errorf("no %s record", c.Name)
		}
		if int64(cats[c.Name]) != g.manifest.Counts[c.Name] {
			t.Errorf("manifest counts %d %s, generated %d", g.manifest.Counts[c.Name], c.Name, cats[c.Name])
		}
	}
	for _, ch := range platform.Channels {
		if !channels[ch] || !endUserChannels[ch] {
			t.Errorf("channel %s: connection %v, end users %v", ch, channels[ch], endUserChannels[ch])
		}
	}
	for _, role := range []string{platform.RoleOwner, platform.RoleAccountAdmin, platform.RoleBotAdmin, platform.RoleMember} {
		if !roles[role] {
			t.Errorf("no team member with role %s", role)
		}
	}
	if russian == 0 || english == 0 || yo == 0 {
		t.Errorf("names: %d Russian, %d English, %d with ё", russian, english, yo)
	}
	if recent == 0 || older == 0 {
		t.Errorf("end users: %d first seen in the last 7 days, %d before", recent, older)
	}

	m := g.manifest
	if len(m.Accounts) != 2 || m.Accounts[0].Locale != "ru" || m.Accounts[1].Locale != "en" {
		t.Fatalf("demo accounts: %+v", m.Accounts)
	}
	for _, a := range m.Accounts {
		if len(a.Bots) < 2 || len(a.Bots) > 3 || len(a.Members) != 4 || len(a.EndUsers) == 0 || a.Password != DefaultPassword {
			t.Errorf("account %s: %d bots, %d members, %d end users listed, password %q", a.Email, len(a.Bots), len(a.Members), len(a.EndUsers), a.Password)
		}
	}
}

func hasScript(s string, script *unicode.RangeTable) bool {
	for _, r := range s {
		if unicode.Is(script, r) {
			return true
		}
	}
	return false
}

// Files and attachments are S3 objects under their category's data-map prefix, each named by
// exactly one record.
func TestObjectsLiveUnderTheirPrefixes(t *testing.T) {
	g := generateAll(t, demo(1))
	objects := map[string]Object{}
	for _, o := range g.objects {
		if o.Bucket != datamap.FilesBucket || len(o.Body) == 0 || o.ContentType == "" {
			t.Errorf("object %+v: want bucket %s, a body and a type", o.Key, datamap.FilesBucket)
		}
		if _, dup := objects[o.Key]; dup {
			t.Errorf("object %s written twice", o.Key)
		}
		objects[o.Key] = o
	}
	named := map[string]string{}
	check := func(category, key string, vars map[string]string) {
		t.Helper()
		prefix, err := datamap.Fill(datamap.MustLookup(category).Location.Prefix, vars)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, prefix) || len(key) == len(prefix) {
			t.Errorf("%s key %s is not under %s", category, key, prefix)
		}
		if _, ok := objects[key]; !ok {
			t.Errorf("%s names %s, which was not written", category, key)
		}
		named[key] = category
	}
	for _, r := range g.records {
		switch v := r.(type) {
		case platform.AccountFile:
			check(datamap.AccountFile, v.S3Key, v.KeyVars())
			if v.Size != int64(len(objects[v.S3Key].Body)) {
				t.Errorf("account file %s: size %d, body %d bytes", v.ID, v.Size, len(objects[v.S3Key].Body))
			}
		case platform.EndUserFile:
			check(datamap.EndUserFile, v.S3Key, v.KeyVars())
		case platform.InboxMessage:
			for _, k := range v.AttachmentKeys {
				check(datamap.InboxMessage, k, v.KeyVars())
			}
		}
	}
	kinds := map[string]int{}
	for _, c := range named {
		kinds[c]++
	}
	for _, c := range []string{datamap.AccountFile, datamap.EndUserFile, datamap.InboxMessage} {
		if kinds[c] == 0 {
			t.Errorf("no objects of %s", c)
		}
	}
	if len(named) != len(objects) || int64(len(objects)) != g.manifest.Objects {
		t.Errorf("%d objects written, %d named by records, manifest says %d", len(objects), len(named), g.manifest.Objects)
	}
}

// Every record encodes; no time is after Now; personal data is recent enough that its TTL is still
// ahead; kept data is old enough to matter.
func TestRecordsEncodeWithinTheirRetention(t *testing.T) {
	g := generateAll(t, demo(3))
	var paymentsOver4Years int
	lastSent := map[string]platform.Message{}
	tokens := map[string]int{}
	users := map[string]platform.EndUser{}
	for _, r := range g.records {
		item, err := platform.Encode(r, policy)
		if err != nil {
			t.Fatalf("encode %s: %v", r.Category(), err)
		}
		c := datamap.MustLookup(r.Category())
		anchor := r.RetentionAnchor()
		if anchor.After(testNow) {
			t.Errorf("%s: anchor %s is after now", c.Name, anchor)
		}
		exp, hasTTL := item[platform.AttrExpiresAt].(*types.AttributeValueMemberN)
		switch {
		case c.Owner == datamap.OwnerEndUser || c.Retention.Kind == datamap.Personal13Months:
			if !hasTTL {
				t.Fatalf("%s has no expiresAt", c.Name)
			}
			at, _ := strconv.ParseInt(exp.Value, 10, 64)
			if at <= testNow.Unix() {
				t.Errorf("%s expires at %s, not after now", c.Name, time.Unix(at, 0).UTC())
			}
			if anchor.Before(testNow.AddDate(-1, 0, 0)) {
				t.Errorf("%s: personal data from %s, over 12 months old", c.Name, anchor)
			}
		case c.Kept():
			if c.Name == datamap.Payment {
				if !hasTTL {
					t.Errorf("payment without expiresAt")
				}
				if anchor.Before(testNow.AddDate(-4, 0, 0)) {
					paymentsOver4Years++
				}
				if anchor.Before(testNow.AddDate(-4, -6, 0)) {
					t.Errorf("payment from %s, over 4.5 years old", anchor)
				}
			}
		}
		switch v := r.(type) {
		case platform.EndUser:
			users[v.ID] = v
			if v.NormalizedName != platform.NormalizeName(v.DisplayName) || v.LastActiveAt.Before(v.FirstConversationAt) {
				t.Errorf("end user %+v", v)
			}
		case platform.NameToken:
			tokens[v.EndUserID]++
		case platform.Message:
			if prev, ok := lastSent[v.ConversationID]; ok && (!v.SentAt.After(prev.SentAt) || v.ID <= prev.ID) {
				t.Errorf("conversation %s: message %s at %s after %s at %s", v.ConversationID, v.ID, v.SentAt, prev.ID, prev.SentAt)
			}
			lastSent[v.ConversationID] = v
		case platform.Consent:
			if v.WithdrawnAt != nil {
				t.Errorf("consent %s withdrawn", v.ID)
			}
		case platform.AnalyticsCounter:
			for attr := range item {
				switch attr {
				case platform.AttrPK, platform.AttrSK, platform.AttrCategory, "botId", "metric", "day", "channel", "count":
				default:
					t.Errorf("analytics counter carries %s", attr)
				}
			}
		case platform.Account:
			ok, err := password.Verify(v.PasswordHash, DefaultPassword)
			if err != nil || !ok {
				t.Errorf("owner password does not verify against %q: %v", v.PasswordHash, err)
			}
		}
	}
	if paymentsOver4Years == 0 {
		t.Error("no payment older than 4 years")
	}
	for id, u := range users {
		if want := len(platform.NameTokens(u.DisplayName)); tokens[id] != want || want == 0 {
			t.Errorf("end user %q: %d name tokens, want %d", u.DisplayName, tokens[id], want)
		}
	}
}

// A Meta app-scoped id names one person on bots of both demo accounts.
func TestSharedMetaIdentitySpansAccounts(t *testing.T) {
	g := generateAll(t, demo(1))
	accounts := map[string]bool{}
	for _, r := range g.records {
		if v, ok := r.(platform.ChannelIdentity); ok && v.Channel == platform.IdentityMetaASID && v.ExternalID == g.manifest.MetaASIDShared {
			accounts[v.AccountID] = true
		}
	}
	if g.manifest.MetaASIDShared == "" || len(accounts) != 2 {
		t.Fatalf("shared ASID %q is on end users of %d accounts, want 2", g.manifest.MetaASIDShared, len(accounts))
	}
	for _, a := range g.manifest.Accounts {
		listed := false
		for _, u := range a.EndUsers {
			listed = listed || u.Identities[platform.IdentityMetaASID] == g.manifest.MetaASIDShared
		}
		if !listed {
			t.Errorf("account %s: the manifest does not list its end user with the shared ASID", a.Email)
		}
	}
}

// Each connection carries the key and secrets its channel's webhooks are verified with.
func TestConnectionSecretsPerChannel(t *testing.T) {
	want := map[string][]string{
		platform.ChannelTelegram:  {"bot_token", "secret_token"},
		platform.ChannelWhatsApp:  {"access_token"},
		platform.ChannelMessenger: {"page_access_token"},
		platform.ChannelInstagram: {"page_access_token"},
		platform.ChannelVK:        {"access_token", "secret", "confirmation"},
		platform.ChannelViber:     {"auth_token"},
		platform.ChannelSlack:     {"bot_token"},
	}
	g := generateAll(t, demo(1))
	keys := map[string]bool{}
	for _, a := range g.manifest.Accounts {
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				if c.ChannelKey == "" || keys[c.Channel+"#"+c.ChannelKey] {
					t.Errorf("%s connection %s: channel key %q empty or repeated", c.Channel, c.ID, c.ChannelKey)
				}
				keys[c.Channel+"#"+c.ChannelKey] = true
				for _, s := range want[c.Channel] {
					if c.Secrets[s] == "" {
						t.Errorf("%s connection lacks %s", c.Channel, s)
					}
				}
				if c.Channel == platform.ChannelTelegram && !strings.HasPrefix(c.Secrets["bot_token"], c.ChannelKey+":") {
					t.Errorf("telegram bot token %q does not start with the bot id %s", c.Secrets["bot_token"], c.ChannelKey)
				}
				if c.Channel == platform.ChannelSlack && !strings.HasPrefix(c.Secrets["bot_token"], "xoxb-") {
					t.Errorf("slack bot token %q", c.Secrets["bot_token"])
				}
			}
		}
	}
}

func countMessages(t *testing.T, n int64) (total, largest, conversations int64) {
	t.Helper()
	perConv := map[string]int64{}
	_, err := Generate(Options{Seed: 5, Now: testNow, Size: SizeForMessages(n)}, func(r platform.Record) error {
		if m, ok := r.(platform.Message); ok {
			perConv[m.ConversationID]++
		}
		return nil
	}, func(Object) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range perConv {
		total += c
		largest = max(largest, c)
	}
	return total, largest, int64(len(perConv))
}

func TestSizeForMessages(t *testing.T) {
	for _, n := range []int64{10_000, 100_000} {
		total, largest, convs := countMessages(t, n)
		if total < n*9/10 || total > n*11/10 {
			t.Errorf("SizeForMessages(%d): %d messages", n, total)
		}
		if largest > 60 {
			t.Errorf("SizeForMessages(%d): a conversation of %d messages", n, largest)
		}
		if s := SizeForMessages(n); s.Accounts != 1 || convs < n/60 {
			t.Errorf("SizeForMessages(%d) = %+v: %d conversations", n, s, convs)
		}
	}
}

// Generation streams: a million messages need no more memory than a few.
func TestGenerateMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a million messages")
	}
	const limit = 100 << 20 // streaming peaks near 30 MB; keeping every record passes 250 MB
	var n, peak uint64
	var ms runtime.MemStats
	runtime.GC()
	m, err := Generate(Options{Seed: 1, Now: testNow, Size: SizeForMessages(1_000_000)}, func(platform.Record) error {
		if n++; n%50_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	}, func(Object) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Counts[datamap.Message]; got < 900_000 || got > 1_100_000 {
		t.Errorf("%d messages", got)
	}
	if peak == 0 || peak > limit {
		t.Errorf("heap in use peaked at %d MB over %d records, limit %d MB", peak>>20, n, limit>>20)
	}
	t.Logf("%d records, heap in use peaked at %d MB", n, peak>>20)
}

func TestGenerateStopsAtTheFirstCallbackError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Generate(demo(1), func(platform.Record) error {
		if calls++; calls == 100 {
			return boom
		}
		return nil
	}, func(Object) error { return nil })
	if !errors.Is(err, boom) || calls != 100 {
		t.Errorf("err = %v after %d calls; want boom after 100", err, calls)
	}
	_, err = Generate(demo(1), func(platform.Record) error { return nil }, func(Object) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("object callback error: %v", err)
	}
}

func TestGenerateRejectsNegativeSizes(t *testing.T) {
	s := DemoSize()
	s.EndUsersPerBot = -1
	if _, err := Generate(Options{Size: s}, func(platform.Record) error { return nil }, func(Object) error { return nil }); err == nil {
		t.Error("negative size accepted")
	}
}

func BenchmarkGenerate(b *testing.B) {
	opts := Options{Seed: 1, Now: testNow, Size: SizeForMessages(100_000)}
	var n int64
	for b.Loop() {
		if _, err := Generate(opts, func(platform.Record) error { n++; return nil }, func(Object) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// Demo end users carry what an end customer would give to be found on each channel: a WhatsApp
// number, a Viber user's shared phone number in E.164, a VK numeric id and screen name, a Slack
// member id, a display name.
func TestEndUsersCarryTheirChannelsIdentifiers(t *testing.T) {
	g := generateAll(t, demo(1))
	idents := map[string]map[string]string{} // end user → channel → external id
	for _, r := range g.records {
		if v, ok := r.(platform.ChannelIdentity); ok {
			if idents[v.EndUserID] == nil {
				idents[v.EndUserID] = map[string]string{}
			}
			idents[v.EndUserID][v.Channel] = v.ExternalID
		}
	}
	e164 := regexp.MustCompile(`^\+[1-9][0-9]{9,14}$`)
	digits := regexp.MustCompile(`^[0-9]{6,15}$`)
	seen := map[string]int{}
	for _, r := range g.records {
		u, ok := r.(platform.EndUser)
		if !ok {
			continue
		}
		seen[u.Channel]++
		id := idents[u.ID]
		var bad bool
		switch u.Channel {
		case platform.ChannelWhatsApp:
			bad = !digits.MatchString(id[platform.ChannelWhatsApp])
		case platform.ChannelViber:
			bad = !e164.MatchString(id[platform.IdentityPhone]) || id[platform.ChannelViber] == ""
		case platform.ChannelVK:
			bad = !digits.MatchString(id[platform.ChannelVK]) || u.Username == ""
		case platform.ChannelSlack:
			bad = !strings.HasPrefix(id[platform.ChannelSlack], "U")
		}
		if bad || u.NormalizedName == "" {
			t.Errorf("%s end user %s: identities %v, username %q", u.Channel, u.ID, id, u.Username)
		}
	}
	for _, ch := range []string{platform.ChannelWhatsApp, platform.ChannelViber, platform.ChannelVK, platform.ChannelSlack} {
		if seen[ch] == 0 {
			t.Errorf("the demo has no %s end user", ch)
		}
	}
}
