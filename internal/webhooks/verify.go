package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/verification"
)

// verifyCode serves POST /deletion-status/{code}/verification: the requester enters the one-time
// code the bot sent into their chat (a form's field "code", or JSON {"code"}). A right code
// verifies the request: a person's browser is sent back to the page (303), which then says so;
// JSON gets the status (200). A wrong one is 422 with the tries left, an expired or spent one
// 410, too many tries from the address 429; all in the request's language, and nothing about the
// end user. The source address counts tries across requests; only its HMAC is stored.
func (s *Service) verifyCode(ctx context.Context, c *call) (answer, error) {
	a, err := s.verify(ctx, c)
	if a.headers == nil {
		a.headers = map[string]string{}
	}
	a.headers["cache-control"], a.headers["referrer-policy"] = "no-store", "no-referrer"
	return a, err
}

func (s *Service) verify(ctx context.Context, c *call) (answer, error) {
	code := strings.ToLower(c.req.PathParameters["confirmationCode"])
	mt, _, _ := mime.ParseMediaType(c.header("Content-Type"))
	wantsJSON := mt == "application/json" || strings.Contains(c.header("Accept"), "application/json")
	var entered string
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := form(c.body)
		if err != nil {
			return errAnswer(err), nil
		}
		entered = v.Get("code")
	case "application/json":
		var in struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(c.body, &in); err != nil {
			return problem(http.StatusBadRequest, "the body is not the expected JSON object {\"code\"}"), nil
		}
		entered = in.Code
	default:
		return problem(http.StatusUnsupportedMediaType, "send the code as a form (application/x-www-form-urlencoded) or as JSON"), nil
	}
	if len(entered) > 64 {
		entered = entered[:64] // wrong whatever it is; a long one is not hashed whole
	}
	ref, req, found, err := s.lookupStatus(ctx, code)
	if err != nil || !found {
		return statusNotFound(wantsJSON), err
	}
	if req.Kind != request.KindEndCustomerRequest {
		return statusNotFound(wantsJSON), nil
	}
	_, err = s.Verification.Enter(ctx, req.ID, entered, c.req.RequestContext.HTTP.SourceIP)
	if err == nil {
		if !wantsJSON {
			return answer{status: http.StatusSeeOther, headers: map[string]string{"location": "/deletion-status/" + code}}, nil
		}
		if req, err = s.Ledger.Get(ctx, req.ID); err != nil {
			return answer{}, err
		}
		return s.render(code, ref, req, true, http.StatusOK, ""), nil
	}
	w := customerWords[customerLang(req)]
	var status int
	var notice string
	var headers map[string]string
	var wrong *verification.WrongCodeError
	var limit *verification.LimitError
	switch {
	case errors.As(err, &wrong):
		status, notice = http.StatusUnprocessableEntity, fmt.Sprintf(w["wrong"], wrong.TriesLeft)
	case errors.Is(err, verification.ErrExpired), errors.Is(err, verification.ErrSpent):
		status, notice = http.StatusGone, w["spent"]
	case errors.As(err, &limit):
		secs := max(1, int(limit.Until.Sub(limit.At).Round(time.Second)/time.Second))
		status, notice, headers = http.StatusTooManyRequests, w["tooMany"], map[string]string{"retry-after": strconv.Itoa(secs)}
	case errors.Is(err, verification.ErrNoCode), errors.Is(err, verification.ErrNotAwaiting):
		status, notice = http.StatusConflict, w["noCode"]
	default:
		return answer{}, err
	}
	// The request as it now stands (a wrong try counted, a code spent).
	if now, gerr := s.Ledger.Get(ctx, req.ID); gerr == nil {
		req = now
	}
	var a answer
	if wantsJSON {
		a = problem(status, notice)
	} else {
		a = s.render(code, ref, req, false, status, notice)
	}
	a.headers = headers
	return a, nil
}
