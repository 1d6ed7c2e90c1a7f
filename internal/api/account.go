package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

func (a *API) accountRoutes() {
	owner := []string{platform.RoleOwner}
	a.add(&route{method: http.MethodPost, path: "/v1/account/deletion", roles: owner, whileSuspended: true, idempotent: true, h: a.requestAccountDeletion})
	a.add(&route{method: http.MethodGet, path: "/v1/account/deletion", roles: []string{platform.RoleOwner, platform.RoleAccountAdmin}, whileSuspended: true, h: a.getAccountDeletion})
	a.add(&route{method: http.MethodPost, path: "/v1/account/deletion/cancel", roles: owner, whileSuspended: true, idempotent: true, h: a.cancelAccountDeletion})
}

// requestAccountDeletion: the owner re-enters the password (5 failures lock it for 15 minutes),
// then the request is recorded and its workflow started; asking again answers the open request.
func (a *API) requestAccountDeletion(ctx context.Context, c *Call) (Response, error) {
	var in struct {
		Password string `json:"password"`
	}
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if in.Password == "" || len(in.Password) > 1024 {
		return Response{}, badRequest("password", "the current password, re-entered")
	}
	acct, err := a.s.Store.Account(ctx, c.Acct)
	if err != nil {
		return Response{}, fmt.Errorf("read account %s: %w", c.Acct, err)
	}
	if err := a.s.Reauth.Check(ctx, c.Acct, reauth.ActionAccountDeletion, in.Password, acct.PasswordHash); err != nil {
		var locked *reauth.LockedError
		if errors.As(err, &locked) {
			r := problemFor(http.StatusTooManyRequests, "too many wrong passwords: try again later")
			r.Headers = map[string]string{"retry-after": strconv.Itoa(max(1, int(locked.Until.Sub(a.s.Now()).Seconds())))}
			return r, nil
		}
		return Response{}, fmt.Errorf("check the password of account %s: %w", c.Acct, err)
	}
	req, _, err := a.s.Requests.RequestAccountDeletion(ctx, requests.AccountDeletion{AccountID: c.Acct, Source: "dashboard",
		Actor: "owner:" + c.Sub, RequestedBy: c.Sub})
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: a.accountDeletionView(req), Headers: map[string]string{"location": "/v1/deletion-requests/" + req.ID}}, nil
}

func (a *API) getAccountDeletion(ctx context.Context, c *Call) (Response, error) {
	req, err := a.s.Requests.CurrentAccountDeletion(ctx, c.Acct)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: a.accountDeletionView(req)}, nil
}

func (a *API) cancelAccountDeletion(ctx context.Context, c *Call) (Response, error) {
	req, err := a.s.Requests.CancelAccountDeletion(ctx, c.Acct, "owner:"+c.Sub)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: a.accountDeletionView(req)}, nil
}

// accountDeletionView is an account deletion with its three clocks (api/openapi.yaml
// AccountDeletion): the end of the soft-delete window, the hard delete's deadline and the backups'
// rotation, in that order, each with the calendar days left.
type accountDeletionView struct {
	requestView
	Clocks []clockView `json:"clocks"`
}

// clockView is one deadline of the timeline as the owner reads it.
type clockView struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
	// DaysLeft counts the calendar days until At, a part day as a whole one; 0 once it has passed.
	DaysLeft int  `json:"daysLeft"`
	Passed   bool `json:"passed"`
}

// accountClocks are the account deletion's deadlines in the order they fall.
var accountClocks = []string{request.DeadlineSoftDeleteEnds, request.DeadlineHardDeleteBy, request.DeadlineBackupsRotatedBy}

func (a *API) accountDeletionView(r request.Request) accountDeletionView {
	v := accountDeletionView{requestView: viewOf(r), Clocks: []clockView{}}
	now := a.s.Now()
	for _, name := range accountClocks {
		at, ok := r.Deadlines[name]
		if !ok {
			continue
		}
		c := clockView{Name: name, At: at, Passed: !now.Before(at)}
		if !c.Passed {
			c.DaysLeft = int((at.Sub(now) + 24*time.Hour - 1) / (24 * time.Hour))
		}
		v.Clocks = append(v.Clocks, c)
	}
	return v
}
