package platform_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// nonIdentifying are the only attributes an analytics item may have: none names a person.
var nonIdentifying = map[string]bool{
	platform.AttrPK: true, platform.AttrSK: true, platform.AttrCategory: true,
	"botId": true, "metric": true, "day": true, "channel": true, "count": true,
}

// A new field on the counter type must be judged non-identifying here before it can be stored.
func TestAnalyticsCounterTypeHasNoIdentifierField(t *testing.T) {
	typ := reflect.TypeOf(platform.AnalyticsCounter{})
	for i := range typ.NumField() {
		name := strings.Split(typ.Field(i).Tag.Get("dynamodbav"), ",")[0]
		if !nonIdentifying[name] {
			t.Errorf("AnalyticsCounter.%s (%q) is not a known non-identifying attribute", typ.Field(i).Name, name)
		}
	}
}

// The analytics table, as stored after seeding, holds no attribute but the allowed ones and no value
// that equals or contains any identifier of a person in the data set (ids, names, usernames, channel
// ids, contact details, emails). A test may Scan: the product code cannot.
func TestAnalyticsTableHoldsNoPersonalIdentifier(t *testing.T) {
	f := newFixture(t)
	var personal []string
	add := func(vs ...string) {
		for _, v := range vs {
			if len(v) >= 4 {
				personal = append(personal, strings.ToLower(v))
			}
		}
	}
	for _, r := range f.records {
		switch v := r.(type) {
		case platform.Account:
			add(v.ID, v.Email, v.FullName)
		case platform.TeamMember:
			add(v.Sub, v.Email, v.FullName)
		case platform.EndUser:
			add(v.ID, v.DisplayName, v.NormalizedName, v.Username)
		case platform.ChannelIdentity:
			add(v.ExternalID)
		case platform.Contact:
			add(v.Value)
		case platform.Conversation:
			add(v.ID)
		}
	}
	out, err := f.store.DB().(*dynamodb.Client).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(f.store.Table(datamap.AnalyticsTable))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) == 0 {
		t.Fatal("no analytics stored: the test proves nothing")
	}
	for _, item := range out.Items {
		var flat map[string]any
		if err := attributevalue.UnmarshalMap(item, &flat); err != nil {
			t.Fatal(err)
		}
		for attr, v := range flat {
			if !nonIdentifying[attr] {
				t.Errorf("analytics item carries attribute %q", attr)
			}
			s, ok := v.(string)
			if !ok {
				continue
			}
			s = strings.ToLower(s)
			for _, p := range personal {
				if strings.Contains(s, p) {
					t.Errorf("analytics attribute %s = %q contains personal identifier %q", attr, s, p)
				}
			}
		}
	}
}
