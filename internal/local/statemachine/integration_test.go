package statemachine

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lethe-dev/lethe/internal/testenv"
)

func localEngine(t *testing.T, env *testenv.Env) *Engine {
	e := New(Options{Clock: NewClock(t0, false), AccountID: testAccount, Seed: 1,
		DynamoDBEndpoint: env.DynamoDBEndpoint, SESEndpoint: env.SESEndpoint})
	t.Cleanup(e.Close)
	return e
}

func TestDynamoDBIntegration(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	if table == "" {
		for _, name := range env.Tables {
			table = name
			break
		}
	}
	e := localEngine(t, env)
	def := `{"StartAt":"Put","States":{
		"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"` + table + `",
			"Item":{"pk":{"S.$":"$.id"},"sk":{"S":"profile"},"name":{"S.$":"$.name"}},"ConditionExpression":"attribute_not_exists(pk)"},
			"ResultPath":null,"Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"` + table + `",
			"Key":{"pk":{"S.$":"$.id"},"sk":{"S":"profile"}}},"ResultSelector":{"name.$":"$.Item.name.S"},"ResultPath":"$.got","Next":"Update"},
		"Update":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:updateItem","Parameters":{"TableName":"` + table + `",
			"Key":{"pk":{"S.$":"$.id"},"sk":{"S":"profile"}},"UpdateExpression":"SET #n = :n","ExpressionAttributeNames":{"#n":"name"},
			"ExpressionAttributeValues":{":n":{"S":"renamed"}},"ReturnValues":"ALL_NEW"},"ResultSelector":{"name.$":"$.Attributes.name.S"},"ResultPath":"$.updated","Next":"Query"},
		"Query":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:query","Parameters":{"TableName":"` + table + `",
			"KeyConditionExpression":"pk = :pk","ExpressionAttributeValues":{":pk":{"S.$":"$.id"}}},"ResultSelector":{"count.$":"$.Count"},"ResultPath":"$.query","Next":"Delete"},
		"Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","Parameters":{"TableName":"` + table + `",
			"Key":{"pk":{"S.$":"$.id"},"sk":{"S":"profile"}}},"ResultPath":null,"End":true}}}`
	d := runMachine(t, e, def, `{"id":"user#1","name":"Ada"}`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	jsonEq(t, str(d.Output), `{"id":"user#1","name":"Ada","got":{"name":"Ada"},"updated":{"name":"renamed"},"query":{"count":1}}`)
	got, err := env.DynamoDB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: &table,
		Key: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "user#1"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "profile"}}})
	if err != nil || got.Item != nil {
		t.Errorf("item not deleted: %v %v", got, err)
	}
	events := strings.Join(eventTypes(t, e, str(d.ExecutionArn)), ",")
	if !strings.Contains(events, "TaskStateEntered,TaskScheduled,TaskStarted,TaskSucceeded,TaskStateExited") {
		t.Errorf("events %s", events)
	}

	// Error names: DynamoDB. for the optimized integration, DynamoDb. for the AWS SDK one.
	if _, err := env.DynamoDB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: &table,
		Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "taken"}, "sk": &ddbtypes.AttributeValueMemberS{Value: "x"}}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ resource, want string }{
		{"arn:aws:states:::dynamodb:putItem", "DynamoDB.ConditionalCheckFailedException"},
		{"arn:aws:states:::aws-sdk:dynamodb:putItem", "DynamoDb.ConditionalCheckFailedException"},
	} {
		d := runMachine(t, e, `{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"`+tt.resource+`","Parameters":{"TableName":"`+table+`",
			"Item":{"pk":{"S":"taken"},"sk":{"S":"x"}},"ConditionExpression":"attribute_not_exists(pk)"},
			"Catch":[{"ErrorEquals":["`+tt.want+`"],"Next":"Caught"}],"End":true},"Caught":{"Type":"Pass","End":true}}}`, `{}`)
		var out struct{ Error, Cause string }
		if err := json.Unmarshal([]byte(str(d.Output)), &out); err != nil || out.Error != tt.want || !strings.Contains(out.Cause, "conditional request failed") {
			t.Errorf("%s: output %s (%s %s %s)", tt.resource, str(d.Output), d.Status, str(d.Error), str(d.Cause))
		}
	}
	d = runMachine(t, e, `{"StartAt":"Get","States":{"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:getItem",
		"Parameters":{"TableName":"no-such-table","Key":{"pk":{"S":"x"}}},"End":true}}}`, `{}`)
	if str(d.Error) != "DynamoDb.ResourceNotFoundException" {
		t.Errorf("missing table: %s %s", str(d.Error), str(d.Cause))
	}
}

func TestSESIntegration(t *testing.T) {
	env := testenv.New(t)
	e := localEngine(t, env)
	to := env.Address("alice")
	def := `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sesv2:sendEmail",
		"Parameters":{"FromEmailAddress":"` + env.Address("noreply") + `","Destination":{"ToAddresses.$":"States.Array($.to)"},
			"Content":{"Simple":{"Subject":{"Data.$":"States.Format('Deletion {}', $.id)"},"Body":{"Text":{"Data":"Your data was deleted."}}}}},
		"ResultPath":"$.sent","End":true}}}`
	d := runMachine(t, e, def, `{"to":"`+to+`","id":"r-1"}`)
	if d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("status %s: %s %s", d.Status, str(d.Error), str(d.Cause))
	}
	var out struct{ Sent struct{ MessageId string } }
	if err := json.Unmarshal([]byte(str(d.Output)), &out); err != nil || out.Sent.MessageId == "" {
		t.Fatalf("output %s", str(d.Output))
	}
	mails := env.SentMail(t)
	if len(mails) != 1 || mails[0].Subject != "Deletion r-1" || mails[0].To[0] != to || !strings.Contains(mails[0].Text, "deleted") {
		t.Fatalf("mail %+v", mails)
	}
	if mails[0].MessageID != out.Sent.MessageId {
		t.Errorf("message id %s vs %s", mails[0].MessageID, out.Sent.MessageId)
	}

	// A request the emulator rejects fails with an SesV2. error.
	d = runMachine(t, e, `{"StartAt":"Send","States":{"Send":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sesv2:sendEmail",
		"Parameters":{"Destination":{"ToAddresses":["`+to+`"]}},"End":true}}}`, `{}`)
	if d.Status != types.ExecutionStatusFailed || str(d.Error) != "SesV2.BadRequestException" {
		t.Errorf("bad request: %s %s %s", d.Status, str(d.Error), str(d.Cause))
	}
}
