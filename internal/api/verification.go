package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/verification"
)

// verificationView is where an end-customer request's proof stands (api/openapi.yaml
// Verification): whether the requester entered the one-time code sent into the end user's chat.
// Never the code, its hash, nor the chat's id.
type verificationView struct {
	Status     request.VerificationStatus `json:"status"`
	EndUserID  string                     `json:"endUserId,omitempty"`
	Channel    string                     `json:"channel,omitempty"`
	SentAt     *time.Time                 `json:"sentAt,omitempty"`
	ExpiresAt  *time.Time                 `json:"expiresAt,omitempty"`
	VerifiedAt *time.Time                 `json:"verifiedAt,omitempty"`
}

// verificationOf is the request's proof as the owner and the officer see it; nil for a request
// that is not an end customer's.
func (a *API) verificationOf(kind request.Kind, v *request.Verification) *verificationView {
	if kind != request.KindEndCustomerRequest {
		return nil
	}
	out := &verificationView{Status: request.Request{Verification: v}.VerificationStatus(a.s.Now().UTC())}
	if v != nil && !v.SentAt.IsZero() {
		sent, exp := v.SentAt, v.ExpiresAt
		out.EndUserID, out.Channel, out.SentAt, out.ExpiresAt, out.VerifiedAt = v.EndUserID, v.Channel, &sent, &exp, v.VerifiedAt
	}
	return out
}

// askVerification: the bot owner asks the requester of an end-customer request for proof that
// they control the chat: a one-time code goes into the chat of the end user (the scope's, or the
// candidate named), to be entered on the status page.
func (a *API) askVerification(ctx context.Context, c *Call) (Response, error) {
	endUserID, err := verificationBody(c)
	if err != nil {
		return Response{}, err
	}
	r, err := a.endCustomerRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	return a.sendCode(ctx, r, endUserID, c.Member.Role+":"+c.Sub)
}

// opsAskVerification: the privacy officer asks for the proof once the request is escalated to them,
// as the owner could before.
func (a *API) opsAskVerification(ctx context.Context, c *Call) (Response, error) {
	endUserID, err := verificationBody(c)
	if err != nil {
		return Response{}, err
	}
	r, err := a.anyRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	if r.Kind != request.KindEndCustomerRequest {
		return Response{}, notFound("no such end-customer request")
	}
	if r.Status == request.StatusAwaitingVerification && r.Decision == nil {
		now := a.s.Now().UTC()
		if by, ok := r.Deadlines[request.DeadlineCompleteBy]; ok && now.After(by) {
			return Response{}, requests.ErrPastDeadline
		}
		if at, ok := r.Deadlines[request.DeadlineEscalateAt]; !r.Escalated() && (!ok || now.Before(at)) {
			return Response{}, requests.ErrNotEscalated
		}
	}
	return a.sendCode(ctx, r, endUserID, c.Operator.Actor())
}

func verificationBody(c *Call) (string, error) {
	var in struct {
		EndUserID string `json:"endUserId"`
	}
	if strings.TrimSpace(c.Req.Body) != "" {
		if err := decode(c.Req, &in); err != nil {
			return "", err
		}
	}
	return in.EndUserID, nil
}

func (a *API) sendCode(ctx context.Context, r request.Request, endUserID, actor string) (Response, error) {
	sent, err := a.s.Verification.Send(ctx, r, endUserID, actor)
	switch {
	case errors.Is(err, verification.ErrNoChat):
		return problemFor(http.StatusUnprocessableEntity, "the end user has no chat an active connection of the bot can write to"), nil
	case errors.Is(err, verification.ErrRefused):
		return problemFor(http.StatusUnprocessableEntity, "the channel refused to deliver to the end user's chat (they may have blocked the bot or left)"), nil
	case errors.Is(err, verification.ErrUnavailable):
		resp := problemFor(http.StatusServiceUnavailable, "the channel's API did not answer; try again later")
		resp.Headers = map[string]string{"retry-after": "60"}
		return resp, nil
	case err != nil:
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: sent}, nil
}

// retryAfter is the Retry-After of a limit, in whole seconds from now, at least 1.
func retryAfter(until, now time.Time) string {
	return strconv.Itoa(max(1, int(until.Sub(now).Round(time.Second)/time.Second)))
}
