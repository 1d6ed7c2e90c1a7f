package samtemplate

import (
	"reflect"
	"strings"
	"testing"
)

const resolveDoc = `
Parameters:
  Stage:
    Type: String
    Default: dev
  Secret:
    Type: String
    NoEcho: true
  Retention:
    Type: Number
    Default: 30
  Zones:
    Type: CommaDelimitedList
    Default: "a, b,c"
Mappings:
  Sizes:
    dev: {Memory: 128}
    prod: {Memory: 1024}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  NotProd: !Not [!Condition IsProd]
  ProdInEu: !And [!Condition IsProd, !Equals [!Ref AWS::Region, eu-west-1]]
  ProdOrEu: !Or [!Condition IsProd, !Equals [!Ref AWS::Region, eu-west-1]]
  Loop: !Not [!Condition Loop]
Resources:
  Named:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-named"
  Unnamed:
    Type: AWS::DynamoDB::Table
  Files:
    Type: AWS::S3::Bucket
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-fn"
  PlainFn:
    Type: AWS::Lambda::Function
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub "${AWS::StackName}-flow"
  CfnFlow:
    Type: AWS::StepFunctions::StateMachine
    Properties:
      StateMachineName: cfn-flow
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Join ["-", [!Ref AWS::StackName, q]]
  Topic:
    Type: AWS::SNS::Topic
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: r
  Api:
    Type: AWS::ApiGatewayV2::Api
    Properties:
      Name: my-api
  SelfNamed:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !GetAtt SelfNamed.QueueName
`

func TestResolve(t *testing.T) {
	tmpl, err := parse([]byte(resolveDoc))
	if err != nil {
		t.Fatal(err)
	}
	t1 := Env{StackName: "t1", Region: "eu-west-1", AccountID: "123456789012"}
	prod := Env{StackName: "t1", Parameters: map[string]string{"Stage": "prod", "Secret": "s3cr3t"}}
	tests := []struct {
		name    string
		in      any
		env     Env
		want    any
		wantErr string
	}{
		{name: "zero Env defaults", in: obj{"Fn::Sub": "${AWS::StackName}/${AWS::Region}/${AWS::AccountId}"}, want: "lethe-local/us-east-1/000000000000"},
		{name: "pseudo parameters", in: arr{obj{"Ref": "AWS::Partition"}, obj{"Ref": "AWS::URLSuffix"}, obj{"Ref": "AWS::StackName"}}, env: t1, want: arr{"aws", "amazonaws.com", "t1"}},
		{name: "partition of China", in: obj{"Ref": "AWS::Partition"}, env: Env{Region: "cn-north-1"}, want: "aws-cn"},
		{name: "parameter default", in: obj{"Ref": "Stage"}, want: "dev"},
		{name: "parameter override", in: obj{"Ref": "Stage"}, env: prod, want: "prod"},
		{name: "numeric default as text", in: obj{"Ref": "Retention"}, want: "30"},
		{name: "list parameter", in: obj{"Ref": "Zones"}, want: arr{"a", "b", "c"}},
		{name: "secret without value", in: obj{"Ref": "Secret"}, wantErr: `parameter "Secret" has no default`},
		{name: "secret given", in: obj{"Ref": "Secret"}, env: prod, want: "s3cr3t"},
		{name: "unknown Ref", in: obj{"Ref": "Nope"}, wantErr: `unknown parameter or resource "Nope"`},
		{name: "Ref table with name", in: obj{"Ref": "Named"}, env: t1, want: "t1-named"},
		{name: "Ref table without name", in: obj{"Ref": "Unnamed"}, env: t1, want: "t1-Unnamed"},
		{name: "Ref bucket without name is lower case", in: obj{"Ref": "Files"}, env: t1, want: "t1-files"},
		{name: "Ref function", in: obj{"Ref": "Fn"}, env: t1, want: "t1-fn"},
		{name: "Ref generic Name property", in: obj{"Ref": "Api"}, env: t1, want: "my-api"},
		{name: "Ref state machine is its ARN", in: obj{"Ref": "Flow"}, env: t1, want: "arn:aws:states:eu-west-1:123456789012:stateMachine:t1-flow"},
		{name: "Ref queue is its URL", in: obj{"Ref": "Queue"}, env: t1, want: "https://sqs.eu-west-1.amazonaws.com/123456789012/t1-q"},
		{name: "Ref topic is its ARN", in: obj{"Ref": "Topic"}, env: t1, want: "arn:aws:sns:eu-west-1:123456789012:t1-Topic"},
		{name: "GetAtt table Arn", in: obj{"Fn::GetAtt": arr{"Named", "Arn"}}, env: t1, want: "arn:aws:dynamodb:eu-west-1:123456789012:table/t1-named"},
		{name: "GetAtt scalar form", in: obj{"Fn::GetAtt": "Named.Arn"}, env: t1, want: "arn:aws:dynamodb:eu-west-1:123456789012:table/t1-named"},
		{name: "GetAtt bucket Arn", in: obj{"Fn::GetAtt": arr{"Files", "Arn"}}, env: t1, want: "arn:aws:s3:::t1-files"},
		{name: "GetAtt function Arn", in: obj{"Fn::GetAtt": arr{"Fn", "Arn"}}, env: t1, want: "arn:aws:lambda:eu-west-1:123456789012:function:t1-fn"},
		{name: "GetAtt unnamed Lambda Arn", in: obj{"Fn::GetAtt": arr{"PlainFn", "Arn"}}, env: t1, want: "arn:aws:lambda:eu-west-1:123456789012:function:t1-PlainFn"},
		{name: "GetAtt state machine Arn", in: obj{"Fn::GetAtt": arr{"CfnFlow", "Arn"}}, env: t1, want: "arn:aws:states:eu-west-1:123456789012:stateMachine:cfn-flow"},
		{name: "GetAtt state machine Name", in: obj{"Fn::GetAtt": arr{"Flow", "Name"}}, env: t1, want: "t1-flow"},
		{name: "GetAtt queue Arn", in: obj{"Fn::GetAtt": arr{"Queue", "Arn"}}, env: t1, want: "arn:aws:sqs:eu-west-1:123456789012:t1-q"},
		{name: "GetAtt topic", in: obj{"Fn::GetAtt": arr{"Topic", "TopicArn"}}, env: t1, want: "arn:aws:sns:eu-west-1:123456789012:t1-Topic"},
		{name: "GetAtt role Arn", in: obj{"Fn::GetAtt": arr{"Role", "Arn"}}, env: t1, want: "arn:aws:iam::123456789012:role/r"},
		{name: "GetAtt attribute by Ref", in: obj{"Fn::GetAtt": arr{"Named", obj{"Fn::Sub": "Arn"}}}, env: t1, want: "arn:aws:dynamodb:eu-west-1:123456789012:table/t1-named"},
		{name: "GetAtt unknown resource", in: obj{"Fn::GetAtt": arr{"Nope", "Arn"}}, wantErr: `unknown resource "Nope"`},
		{name: "GetAtt unknown attribute", in: obj{"Fn::GetAtt": arr{"Named", "Bogus"}}, wantErr: "attribute Bogus of Named"},
		{name: "self reference", in: obj{"Ref": "SelfNamed"}, wantErr: "reference cycle"},
		{name: "Sub names, attributes, escapes", in: obj{"Fn::Sub": "${Named}|${Files.Arn}|${!Literal}|${ Stage }|$plain"}, env: t1, want: "t1-named|arn:aws:s3:::t1-files|${Literal}|dev|$plain"},
		{name: "Sub with own variables", in: obj{"Fn::Sub": arr{"${Who}@${Domain}/${Stage}", obj{"Who": "info", "Domain": obj{"Ref": "AWS::URLSuffix"}}}}, want: "info@amazonaws.com/dev"},
		{name: "Sub variable shadows parameter", in: obj{"Fn::Sub": arr{"${Stage}", obj{"Stage": "mine"}}}, want: "mine"},
		{name: "Sub unknown name", in: obj{"Fn::Sub": "x-${Nope}"}, wantErr: `Fn::Sub ${Nope}: Ref: unknown parameter or resource "Nope"`},
		{name: "Sub unknown attribute", in: obj{"Fn::Sub": "${Files.Nope}"}, wantErr: "attribute Nope of Files"},
		{name: "Sub of a list", in: obj{"Fn::Sub": "${Zones}"}, wantErr: "is not a string"},
		{name: "Join", in: obj{"Fn::Join": arr{",", arr{"a", obj{"Ref": "Stage"}, 3}}}, want: "a,dev,3"},
		{name: "Join list parameter", in: obj{"Fn::Join": arr{"+", obj{"Ref": "Zones"}}}, want: "a+b+c"},
		{name: "Join of a map", in: obj{"Fn::Join": arr{",", arr{obj{"k": "v"}}}}, wantErr: "element 0"},
		{name: "Select", in: obj{"Fn::Select": arr{"1", obj{"Ref": "Zones"}}}, want: "b"},
		{name: "Select out of range", in: obj{"Fn::Select": arr{5, arr{"a"}}}, wantErr: "out of range"},
		{name: "Split", in: obj{"Fn::Split": arr{"-", obj{"Fn::Sub": "${AWS::StackName}-x"}}}, env: t1, want: arr{"t1", "x"}},
		{name: "Select of Split", in: obj{"Fn::Select": arr{0, obj{"Fn::Split": arr{":", "a:b"}}}}, want: "a"},
		{name: "If false", in: obj{"Fn::If": arr{"IsProd", "big", "small"}}, want: "small"},
		{name: "If true", in: obj{"Fn::If": arr{"IsProd", "big", "small"}}, env: prod, want: "big"},
		{name: "If Not", in: obj{"Fn::If": arr{"NotProd", "y", "n"}}, env: prod, want: "n"},
		{name: "If And", in: obj{"Fn::If": arr{"ProdInEu", "y", "n"}}, env: Env{Region: "eu-west-1", Parameters: map[string]string{"Stage": "prod"}}, want: "y"},
		{name: "If Or", in: obj{"Fn::If": arr{"ProdOrEu", "y", "n"}}, env: Env{Region: "eu-west-1"}, want: "y"},
		{name: "If NoValue drops the key", in: obj{"A": 1, "B": obj{"Fn::If": arr{"IsProd", 2, obj{"Ref": "AWS::NoValue"}}}}, want: obj{"A": 1}},
		{name: "NoValue drops the element", in: arr{"a", obj{"Ref": "AWS::NoValue"}}, want: arr{"a"}},
		{name: "If unknown condition", in: obj{"Fn::If": arr{"Nope", 1, 2}}, wantErr: `unknown condition "Nope"`},
		{name: "condition cycle", in: obj{"Fn::If": arr{"Loop", 1, 2}}, wantErr: "reference cycle"},
		{name: "Equals", in: obj{"Fn::Equals": arr{obj{"Ref": "Retention"}, 30}}, want: true},
		{name: "FindInMap", in: obj{"Fn::FindInMap": arr{"Sizes", obj{"Ref": "Stage"}, "Memory"}}, env: prod, want: 1024},
		{name: "FindInMap missing key", in: obj{"Fn::FindInMap": arr{"Sizes", "qa", "Memory"}}, wantErr: `mapping Sizes has no key "qa"`},
		{name: "Base64", in: obj{"Fn::Base64": obj{"Ref": "Stage"}}, want: "ZGV2"},
		{name: "ImportValue kept with resolved argument", in: obj{"Fn::ImportValue": obj{"Fn::Sub": "${AWS::StackName}-vpc"}}, env: t1, want: obj{"Fn::ImportValue": "t1-vpc"}},
		{name: "GetAZs kept", in: obj{"Fn::GetAZs": ""}, want: obj{"Fn::GetAZs": ""}},
		{name: "nested structures", in: obj{"Env": obj{"Variables": obj{"T": obj{"Ref": "Named"}, "N": 5}}}, env: t1, want: obj{"Env": obj{"Variables": obj{"T": "t1-named", "N": 5}}}},
		{name: "Condition attribute beside other keys is data", in: obj{"Type": "X", "Condition": "IsProd"}, want: obj{"Type": "X", "Condition": "IsProd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tmpl.Resolve(tt.in, tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %#v, error %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestResolveLeavesInputAlone(t *testing.T) {
	tmpl, err := parse([]byte(resolveDoc))
	if err != nil {
		t.Fatal(err)
	}
	in := obj{"A": obj{"Ref": "Stage"}, "B": obj{"Ref": "AWS::NoValue"}}
	if _, err := tmpl.Resolve(in, Env{}); err != nil {
		t.Fatal(err)
	}
	want := obj{"A": obj{"Ref": "Stage"}, "B": obj{"Ref": "AWS::NoValue"}}
	if !reflect.DeepEqual(in, want) {
		t.Errorf("input changed to %#v", in)
	}
}
