package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// The repository-level guarantee of 13-month expiry, category by category: for every personal
// category with the 13-month rule, each reader the store has for it returns the item written now
// and never the one written 13 months ago (whose TTL has passed but which DynamoDB may still store).
// A 13-month category the data map gains without a reader checked here fails the test.
func TestEveryReaderHidesExpiredItemsOfEveryCategory(t *testing.T) {
	env := testenv.New(t)
	now := seedNow
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time { return now })
	ctx := context.Background()
	old := now.AddDate(0, -13, 0)
	id := func(prefix string, at time.Time) string { return prefix + "-" + at.Format("2006") }

	// One end user of each age, each with one item of every category.
	var recs []platform.Record
	for _, at := range []time.Time{old, now} {
		u := id("u", at)
		recs = append(recs,
			platform.EndUser{AccountID: "a", BotID: "b", ConnectionID: "c", ID: u, Channel: "telegram", DisplayName: "Ivan " + u,
				NormalizedName: "ivan", FirstConversationAt: at, LastActiveAt: at},
			platform.ChannelIdentity{AccountID: "a", BotID: "b", EndUserID: u, Channel: "telegram", ExternalID: "42", LastActiveAt: at},
			platform.NameToken{AccountID: "a", BotID: "b", EndUserID: u, Token: "ivan", LastActiveAt: at},
			platform.Conversation{AccountID: "a", BotID: "b", EndUserID: u, ID: id("cv", at), Channel: "telegram", StartedAt: at, LastMessageAt: at},
			platform.Message{AccountID: "a", BotID: "b", EndUserID: u, ConversationID: "cv", ID: platform.NewID(at), SentAt: at},
			platform.InboxMessage{AccountID: "a", BotID: "b", EndUserID: u, ID: id("im", at), SentAt: at},
			platform.EndUserFile{AccountID: "a", BotID: "b", EndUserID: u, ID: id("f", at), Name: "x.png", S3Key: "k", CreatedAt: at},
			platform.Contact{AccountID: "a", BotID: "b", EndUserID: u, ID: id("ct", at), UpdatedAt: at},
			platform.EndUserTag{AccountID: "a", BotID: "b", EndUserID: u, TagID: id("t", at), UpdatedAt: at},
			platform.Note{AccountID: "a", BotID: "b", EndUserID: u, ID: id("n", at), UpdatedAt: at},
			platform.ActivityLog{AccountID: "a", ID: platform.NewID(at), At: at, Action: "login"},
		)
	}
	if err := store.PutAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
	oldU, newU := id("u", old), id("u", now)
	all := time.Time{}

	// Each reader: how many items it returns of the old end user's and of the new one's.
	readers := map[string]func() (oldN, newN int, err error){
		datamap.EndUserProfile: func() (int, int, error) {
			var o, n int
			if _, err := store.EndUser(ctx, oldU); err == nil {
				o++
			} else if err != platform.ErrNotFound {
				return 0, 0, err
			}
			if _, err := store.EndUser(ctx, newU); err == nil {
				n++
			}
			page, err := store.EndUsersByFirstConversation(ctx, "b", all, now, platform.QuerySpec{})
			if err != nil {
				return 0, 0, err
			}
			byConn, err := store.EndUsersByConnection(ctx, "c")
			if err != nil {
				return 0, 0, err
			}
			for _, u := range append(page.Items, byConn...) {
				if u.ID == oldU {
					o++
				} else {
					n++
				}
			}
			return o, n, nil
		},
		datamap.ChannelIdentity: func() (int, int, error) {
			ids, err := store.IdentitiesOf(ctx, "telegram", "42")
			return count(ids, func(i platform.ChannelIdentity) bool { return i.EndUserID == oldU }), count(ids, func(i platform.ChannelIdentity) bool { return i.EndUserID == newU }), err
		},
		datamap.NameToken: func() (int, int, error) {
			page, err := store.NameTokensWithPrefix(ctx, "b", "iv", platform.QuerySpec{})
			return count(page.Items, func(x platform.NameToken) bool { return x.EndUserID == oldU }), count(page.Items, func(x platform.NameToken) bool { return x.EndUserID == newU }), err
		},
		datamap.Conversation: func() (int, int, error) {
			o, err := store.Conversations(ctx, oldU)
			if err != nil {
				return 0, 0, err
			}
			n, err := store.Conversations(ctx, newU)
			return len(o), len(n), err
		},
		datamap.Message: func() (int, int, error) {
			page, err := store.Messages(ctx, "cv", platform.QuerySpec{})
			return count(page.Items, func(m platform.Message) bool { return m.EndUserID == oldU }), count(page.Items, func(m platform.Message) bool { return m.EndUserID == newU }), err
		},
		datamap.InboxMessage: func() (int, int, error) {
			o, err := store.InboxMessages(ctx, oldU)
			if err != nil {
				return 0, 0, err
			}
			n, err := store.InboxMessages(ctx, newU)
			if err != nil {
				return 0, 0, err
			}
			one, oneErr := 0, error(nil)
			if _, oneErr = store.InboxMessage(ctx, id("im", old)); oneErr == nil {
				one = 1
			}
			return len(o) + one, len(n), nil
		},
		datamap.EndUserFile: func() (int, int, error) {
			o, err := store.EndUserFiles(ctx, oldU)
			if err != nil {
				return 0, 0, err
			}
			n, err := store.EndUserFiles(ctx, newU)
			return len(o), len(n), err
		},
		datamap.ActivityLog: func() (int, int, error) {
			page, err := store.ActivityLogs(ctx, "a", old.AddDate(0, -1, 0), now.Add(time.Hour), platform.QuerySpec{})
			return count(page.Items, func(l platform.ActivityLog) bool { return l.At.Equal(old) }), count(page.Items, func(l platform.ActivityLog) bool { return l.At.Equal(now) }), err
		},
	}
	// Categories the store has no reader for: only the erasure engine reaches them, through the
	// scope walk, which must see expired items to destroy them.
	noReader := map[string]bool{datamap.Contact: true, datamap.EndUserTag: true, datamap.Note: true}

	for _, c := range datamap.Categories {
		if c.Retention.Kind != datamap.Personal13Months {
			continue
		}
		read, ok := readers[c.Name]
		if !ok {
			if !noReader[c.Name] {
				t.Errorf("13-month category %s has no reader checked here", c.Name)
			}
			continue
		}
		o, n, err := read()
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if o != 0 {
			t.Errorf("%s: %d expired items read", c.Name, o)
		}
		if n == 0 {
			t.Errorf("%s: the fresh item was not read (the check would pass vacuously)", c.Name)
		}
	}
}

func count[T any](items []T, match func(T) bool) int {
	n := 0
	for _, it := range items {
		if match(it) {
			n++
		}
	}
	return n
}
