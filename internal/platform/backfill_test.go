package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// Connections stored before GSI3 existed get their slot keys from the backfill, and are then found
// by their slot's Query with their data whole; other items get none; a second run changes
// nothing.
func TestBackfillPlacesOldConnectionsInTheirSlots(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	store := platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin},
		func() time.Time { return now })
	table := env.Tables[datamap.PlatformTable]
	var old []platform.ChannelConnection
	for i := range 30 {
		c := platform.ChannelConnection{AccountID: "acc1", BotID: "bot1", ID: platform.NewID(now.Add(-time.Duration(i) * time.Hour)),
			Channel: platform.ChannelSlack, ChannelKey: "T0001", Status: platform.ConnectionActive,
			Secrets: map[string]string{"bot_token": "xoxb-1"}, CreatedAt: now.Add(-time.Duration(i) * time.Hour)}
		item, err := platform.Encode(c, store.Policy())
		if err != nil {
			t.Fatal(err)
		}
		delete(item, "gsi3pk") // as written before the index existed
		delete(item, "gsi3sk")
		if _, err := env.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
		old = append(old, c)
	}
	// Other categories are never touched.
	if err := store.Put(ctx, platform.Bot{AccountID: "acc1", ID: "bot1", Name: "Support", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	inSlot := func(c platform.ChannelConnection) bool {
		t.Helper()
		after := ""
		for {
			entries, next, err := store.ConnectionsInSlot(ctx, platform.ConnectionSlot(c.ID), after, 5)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Conn.ID == c.ID {
					return true
				}
			}
			if next == "" {
				return false
			}
			after = next
		}
	}
	if inSlot(old[0]) {
		t.Fatal("a connection without GSI3 keys is found in its slot")
	}
	n, err := platform.BackfillConnectionSlots(ctx, env.DynamoDB, table)
	if err != nil || n != len(old) {
		t.Fatalf("backfill: %d, %v; want %d", n, err, len(old))
	}
	for _, c := range old {
		if !inSlot(c) {
			t.Errorf("connection %s is not in its slot %s after the backfill", c.ID, platform.ConnectionSlot(c.ID))
		}
		got, err := store.Connection(ctx, c.ID)
		if err != nil || got.Secrets["bot_token"] != "xoxb-1" || got.Status != platform.ConnectionActive {
			t.Errorf("connection %s after the backfill: %+v, %v", c.ID, got, err)
		}
	}
	if n, err := platform.BackfillConnectionSlots(ctx, env.DynamoDB, table); err != nil || n != 0 {
		t.Fatalf("second backfill: %d, %v; want nothing to do", n, err)
	}
	bot, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: platform.Key{PK: "A#acc1", SK: "BOT#bot1"}.Attributes()})
	if err != nil || bot.Item["gsi3pk"] != nil {
		t.Fatalf("the bot item: %v, %v", bot.Item, err)
	}
}
