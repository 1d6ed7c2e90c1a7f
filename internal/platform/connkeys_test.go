package platform_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func connIDs(cs []platform.ChannelConnection) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	sort.Strings(out)
	return out
}

// keyItems lists the key items stored in a connection's partition, as "kind=value".
func keyItems(t *testing.T, store *platform.Store, connectionID string) []string {
	t.Helper()
	out := []string{}
	err := platform.EachOf(context.Background(), store, datamap.ConnectionKey, map[string]string{"connection": connectionID}, "",
		func(k platform.ConnectionKey) error {
			if k.ConnectionID != connectionID {
				t.Errorf("key item of %s in the partition of %s", k.ConnectionID, connectionID)
			}
			out = append(out, k.Kind+"="+k.Value)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// A connection put with Keys gets one key item per key, the lookups find it by each, and a rewrite
// with other keys leaves no item that finds it by a key it no longer has.
func TestConnectionKeysFollowTheConnection(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t)
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin},
		func() time.Time { return seedNow })
	conn := func(id, bot, channel, page string, keys map[string]string) platform.ChannelConnection {
		return platform.ChannelConnection{AccountID: "acc1", BotID: bot, ID: id, Channel: channel, ChannelKey: page,
			Status: platform.ConnectionActive, Keys: keys, CreatedAt: seedNow}
	}
	ig := conn("ig1", "bot1", platform.ChannelInstagram, "page-p", map[string]string{platform.ConnKeyInstagramAccountID: "17841400001", platform.ConnKeyMetaUserID: "admin-a"})
	ms := conn("ms1", "bot2", platform.ChannelMessenger, "page-p", map[string]string{platform.ConnKeyMetaUserID: "admin-b"})
	other := conn("ms2", "bot1", platform.ChannelMessenger, "page-q", map[string]string{platform.ConnKeyMetaUserID: "admin-a"})
	wa := conn("wa1", "bot1", platform.ChannelWhatsApp, "page-p", map[string]string{platform.ConnKeyPhoneNumberID: "1055501"})
	for _, c := range []platform.ChannelConnection{ig, ms, other, wa} {
		if err := store.Put(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyItems(t, store, "ig1"); !equal(got, []string{"instagram_account_id=17841400001", "meta_user_id=admin-a"}) {
		t.Errorf("key items of ig1: %v", got)
	}

	lookups := []struct {
		name string
		find func() ([]platform.ChannelConnection, error)
		want []string
	}{
		{"instagram account", func() ([]platform.ChannelConnection, error) {
			return store.ConnectionsByInstagramAccount(ctx, "17841400001")
		}, []string{"ig1"}},
		{"unknown instagram account", func() ([]platform.ChannelConnection, error) {
			return store.ConnectionsByInstagramAccount(ctx, "17841400002")
		}, []string{}},
		{"a page admin's id is no instagram account", func() ([]platform.ChannelConnection, error) {
			return store.ConnectionsByInstagramAccount(ctx, "admin-a")
		}, []string{}},
		{"page admin of two pages", func() ([]platform.ChannelConnection, error) { return store.ConnectionsByMetaUser(ctx, "admin-a") }, []string{"ig1", "ms2"}},
		{"page admin of one", func() ([]platform.ChannelConnection, error) { return store.ConnectionsByMetaUser(ctx, "admin-b") }, []string{"ms1"}},
		{"empty id", func() ([]platform.ChannelConnection, error) { return store.ConnectionsByMetaUser(ctx, "") }, []string{}},
		{"page: messenger and instagram only", func() ([]platform.ChannelConnection, error) { return store.PageConnections(ctx, "page-p") }, []string{"ig1", "ms1"}},
		{"other page", func() ([]platform.ChannelConnection, error) { return store.PageConnections(ctx, "page-q") }, []string{"ms2"}},
	}
	for _, l := range lookups {
		got, err := l.find()
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if !equal(connIDs(got), l.want) {
			t.Errorf("%s: %v, want %v", l.name, connIDs(got), l.want)
		}
	}

	// The page admin hands the connection to another admin; its Instagram account id goes.
	ig.Keys = map[string]string{platform.ConnKeyMetaUserID: "admin-c"}
	if err := store.Put(ctx, ig); err != nil {
		t.Fatal(err)
	}
	if got := keyItems(t, store, "ig1"); !equal(got, []string{"meta_user_id=admin-c"}) {
		t.Errorf("key items of ig1 after the rewrite: %v", got)
	}
	if got, err := store.ConnectionsByMetaUser(ctx, "admin-a"); err != nil || !equal(connIDs(got), []string{"ms2"}) {
		t.Errorf("the former admin still finds %v (%v)", connIDs(got), err)
	}
	if got, err := store.ConnectionsByInstagramAccount(ctx, "17841400001"); err != nil || len(got) != 0 {
		t.Errorf("the dropped instagram account still finds %v (%v)", connIDs(got), err)
	}
	if got, err := store.ConnectionsByMetaUser(ctx, "admin-c"); err != nil || !equal(connIDs(got), []string{"ig1"}) {
		t.Errorf("the new admin finds %v (%v)", connIDs(got), err)
	}
}

// The seed writes every connection's key items with it: each seeded Messenger and Instagram
// connection is found by its page admin, each Instagram one by its account id too.
func TestSeededConnectionsAreFoundByTheirKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	n := 0
	for _, a := range f.manifest.Accounts {
		for _, b := range a.Bots {
			for _, c := range b.Connections {
				if c.Channel != platform.ChannelMessenger && c.Channel != platform.ChannelInstagram {
					continue
				}
				n++
				byAdmin, err := f.store.ConnectionsByMetaUser(ctx, c.Keys[platform.ConnKeyMetaUserID])
				if err != nil || !contains(connIDs(byAdmin), c.ID) {
					t.Errorf("%s %s not found by its page admin (%v)", c.Channel, c.ID, err)
				}
				if c.Channel == platform.ChannelInstagram {
					byIG, err := f.store.ConnectionsByInstagramAccount(ctx, c.Keys[platform.ConnKeyInstagramAccountID])
					if err != nil || !equal(connIDs(byIG), []string{c.ID}) {
						t.Errorf("instagram %s found by its account id as %v (%v)", c.ID, connIDs(byIG), err)
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("the seed made no Messenger or Instagram connection")
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
