package faults

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// SDKRetryer is the SDK's standard retryer, as production clients have it, for a test whose faults
// are crashes only: a connection that drops under the emulator's load (a read on a connection the
// HTTP stack closed) is retried as it would be on AWS, while the crash is not — a dead process
// retries nothing. Backoff is 1 ms and there is no retry quota, to keep tests fast and independent of
// one another.
func SDKRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		o.RateLimiter = ratelimit.None
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, ErrCrashed) {
				return aws.FalseTernary
			}
			return aws.UnknownTernary
		})}, o.Retryables...)
	})
}
