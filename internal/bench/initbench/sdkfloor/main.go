// Command sdkfloor is the minimal aws-lambda-go binary (../minimal) plus what every Lethe Lambda
// does with the AWS SDK at init: it builds the AWS configuration from the environment by hand
// (internal/system/awsenv), as wiring.FromEnvironment does, links the four service clients
// internal/system/wiring links (DynamoDB, S3, SES v2, Step Functions), and makes a DynamoDB client.
// The init benchmark shows it beside the minimal binary: the part of every function's init that is
// the SDK's, whatever Lethe does.
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/system/awsenv"
)

func main() {
	cfg, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	// The other clients are made on first use, as wiring makes them; an empty event makes none.
	clients := map[string]func() any{
		"s3":    func() any { return s3.NewFromConfig(cfg) },
		"sesv2": func() any { return sesv2.NewFromConfig(cfg) },
		"sfn":   func() any { return sfn.NewFromConfig(cfg) },
	}
	lambda.Start(func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var ask struct{ Client string }
		if json.Unmarshal(in, &ask) == nil && clients[ask.Client] != nil {
			_ = clients[ask.Client]()
		}
		_ = db
		return in, nil
	})
}
