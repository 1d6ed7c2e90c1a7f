package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
)

// idempotency keeps the first answer to a mutating call made with an Idempotency-Key, so that a
// retry gets it again and starts nothing new. Records live two days (the data map's TwoDays).
type idempotency struct {
	ledger *ledger.Ledger
	store  *platform.Store
	now    func() time.Time
}

type idemRecord struct {
	AccountID   string    `dynamodbav:"accountId"`
	Key         string    `dynamodbav:"key"`
	RequestHash string    `dynamodbav:"requestHash"`
	State       string    `dynamodbav:"state"` // pending, done
	Response    string    `dynamodbav:"response,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

func (idemRecord) Category() string { return datamap.IdempotencyRecord }
func (r idemRecord) KeyVars() map[string]string {
	return map[string]string{"account": r.AccountID, "key": r.Key}
}
func (r idemRecord) RetentionAnchor() time.Time { return r.CreatedAt }

const maxIdempotencyKey = 255

func (i *idempotency) do(ctx context.Context, acct, key string, req events.APIGatewayV2HTTPRequest, run func() events.APIGatewayV2HTTPResponse) (events.APIGatewayV2HTTPResponse, error) {
	if len(key) > maxIdempotencyKey {
		return render(problemFor(http.StatusBadRequest, "the request is invalid", FieldError{Field: "Idempotency-Key", Message: "at most 255 characters"})), nil
	}
	sum := sha256.Sum256([]byte(req.RouteKey + "\n" + req.RawPath + "\n" + req.Body))
	rec := idemRecord{AccountID: acct, Key: key, RequestHash: hex.EncodeToString(sum[:]), State: "pending", CreatedAt: i.now().UTC()}
	err := i.store.Claim(ctx, rec, "state", "abandoned")
	switch {
	case errors.Is(err, platform.ErrTaken):
		return i.replay(ctx, rec)
	case err != nil:
		return render(problemOf(err)), nil
	}
	resp := run()
	if resp.StatusCode >= 500 {
		// Nothing was decided: let a retry run again (the record is marked abandoned; the store
		// offers no delete).
		abandoned := rec
		abandoned.State = "abandoned"
		_ = i.store.Put(ctx, abandoned)
		return resp, nil
	}
	b, err := json.Marshal(resp)
	if err != nil {
		return resp, nil
	}
	rec.State, rec.Response = "done", string(b)
	_ = i.store.Put(ctx, rec)
	return resp, nil
}

func (i *idempotency) replay(ctx context.Context, rec idemRecord) (events.APIGatewayV2HTTPResponse, error) {
	prev, err := platform.Stored(ctx, i.store, rec)
	if err != nil && !errors.Is(err, platform.ErrNotFound) { // gone since: answered as another request's key
		return render(problemOf(err)), nil
	}
	switch {
	case prev.RequestHash != rec.RequestHash:
		return render(problemFor(http.StatusConflict, "this Idempotency-Key was used for another request")), nil
	case prev.State == "done":
		var resp events.APIGatewayV2HTTPResponse
		if err := json.Unmarshal([]byte(prev.Response), &resp); err != nil {
			return render(problemOf(err)), nil
		}
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		resp.Headers["idempotent-replayed"] = "true"
		return resp, nil
	}
	return render(problemFor(http.StatusConflict, "a request with this Idempotency-Key is still being processed")), nil
}
