package localaws

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// The local S3 keeps object tags as S3 does: set at upload or by PutObjectTagging, read by
// GetObjectTagging, and a tagging call never touches the object's content (gofakes3 alone would
// store the tag set as the object).
func TestLocalS3ObjectTagging(t *testing.T) {
	url, srv, closeBackend, err := serveS3(0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer closeBackend()
	defer srv.Close()
	ctx := context.Background()
	c := s3.New(s3.Options{Region: Region, Credentials: staticCreds, BaseEndpoint: aws.String(url), UsePathStyle: true})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("tags-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("tags-bucket"), Key: aws.String("a/k.txt"),
		Body: strings.NewReader("content"), Tagging: aws.String("lethe-retention=personal-13m")}); err != nil {
		t.Fatal(err)
	}
	tags := func() map[string]string {
		out, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags-bucket"), Key: aws.String("a/k.txt")})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if got := tags(); got["lethe-retention"] != "personal-13m" || len(got) != 1 {
		t.Errorf("tags at upload: %v", got)
	}
	if _, err := c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags-bucket"), Key: aws.String("a/k.txt"),
		Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("lethe-retention"), Value: aws.String("held")}}}}); err != nil {
		t.Fatal(err)
	}
	if got := tags(); got["lethe-retention"] != "held" {
		t.Errorf("tags after PutObjectTagging: %v", got)
	}
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("tags-bucket"), Key: aws.String("a/k.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	if string(body) != "content" {
		t.Errorf("the object's content became %q", body)
	}
	if _, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags-bucket"), Key: aws.String("missing")}); err == nil {
		t.Error("tags of a missing object")
	}
}
