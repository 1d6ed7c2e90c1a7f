package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// botRoles may act on a bot's end users: the owner and account admins on every bot, a bot admin on
// the bots of their record.
var botRoles = []string{platform.RoleOwner, platform.RoleAccountAdmin, platform.RoleBotAdmin}

func (a *API) conversationRoutes() {
	a.add(&route{method: http.MethodDelete, path: "/v1/bots/{botId}/end-users/{endUserId}", roles: botRoles, h: a.deleteEndUser})
	a.add(&route{method: http.MethodDelete, path: "/v1/bots/{botId}/inbox/messages/{messageId}", roles: botRoles, h: a.deleteInboxMessage})
}

func canAdminBot(m platform.TeamMember, botID string) bool {
	return m.Role == platform.RoleOwner || m.Role == platform.RoleAccountAdmin ||
		m.Role == platform.RoleBotAdmin && slices.Contains(m.BotIDs, botID)
}

// bot checks the path's bot is the account's (404 otherwise, as if it did not exist) and that the
// caller administers it (403).
func (a *API) bot(ctx context.Context, c *Call) (platform.Bot, error) {
	id := c.Req.PathParameters["botId"]
	b, err := a.s.Store.Bot(ctx, c.Acct, id)
	if errors.Is(err, platform.ErrNotFound) {
		return b, notFound("no such bot")
	}
	if err != nil {
		return b, fmt.Errorf("read bot %s: %w", id, err)
	}
	if !canAdminBot(c.Member, id) {
		return b, lerr.Errorf(lerr.EFORBIDDEN, "only an admin of this bot may do this")
	}
	return b, nil
}

// deleteEndUser starts the asynchronous deletion of one end user of a bot. The request is named
// after the end user, so deleting them again answers the same request.
func (a *API) deleteEndUser(ctx context.Context, c *Call) (Response, error) {
	b, err := a.bot(ctx, c)
	if err != nil {
		return Response{}, err
	}
	id := c.Req.PathParameters["endUserId"]
	if existing, err := a.s.Ledger.Get(ctx, "end-user-"+id); err == nil && existing.AccountID == c.Acct {
		return accepted(existing), nil
	}
	eu, err := a.s.Store.EndUser(ctx, id)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (eu.AccountID != c.Acct || eu.BotID != b.ID) {
		return Response{}, notFound("no such end user on this bot")
	}
	if err != nil {
		return Response{}, fmt.Errorf("read end user %s: %w", id, err)
	}
	req, _, err := a.s.Requests.RequestDeletion(ctx, requests.Deletion{ID: "end-user-" + id, Kind: request.KindEndUserDeletion,
		Scope:  platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: c.Acct, BotID: b.ID, EndUserID: id},
		Source: "dashboard", Actor: c.Member.Role + ":" + c.Sub, RequestedBy: c.Sub})
	if err != nil {
		return Response{}, err
	}
	return accepted(req), nil
}

func accepted(r request.Request) Response {
	return Response{Status: http.StatusAccepted, Body: viewOf(r), Headers: map[string]string{"location": "/v1/deletion-requests/" + r.ID}}
}

// deleteInboxMessage deletes one inbox message and its attachments before it answers, and keeps
// the evidence like any other destruction.
func (a *API) deleteInboxMessage(ctx context.Context, c *Call) (Response, error) {
	b, err := a.bot(ctx, c)
	if err != nil {
		return Response{}, err
	}
	id := c.Req.PathParameters["messageId"]
	if prev, err := a.s.Ledger.Get(ctx, "inbox-"+id); err == nil && prev.AccountID == c.Acct && prev.Scope.BotID == b.ID &&
		prev.Status == request.StatusHardDeleting {
		// A deletion of this message that did not finish (its answer was an error): finish it.
		if _, err := a.s.Deletion.Run(ctx, prev.ID, erasure.Budget{}); err != nil {
			return Response{}, fmt.Errorf("finish deletion %s: %w", prev.ID, err)
		}
		return Response{Status: http.StatusNoContent}, nil
	}
	msg, err := a.s.Store.InboxMessage(ctx, id)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (msg.AccountID != c.Acct || msg.BotID != b.ID) {
		return Response{}, notFound("no such inbox message on this bot")
	}
	if err != nil {
		return Response{}, fmt.Errorf("read inbox message %s: %w", id, err)
	}
	now := a.s.Now().UTC()
	req, err := a.s.Ledger.Create(ctx, request.Request{ID: "inbox-" + id, AccountID: c.Acct, Kind: request.KindInboxMessage,
		Source: "dashboard", Status: request.StatusHardDeleting, RequestedBy: c.Sub,
		Scope:   platform.ScopeRef{Kind: datamap.ScopeInboxMessage, AccountID: c.Acct, BotID: b.ID, EndUserID: msg.EndUserID, MessageID: id},
		History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: c.Member.Role + ":" + c.Sub, Note: "inbox message deletion"}}})
	if errors.Is(err, ledger.ErrExists) {
		// A retry of a deletion that did not finish: finish it.
		req, err = a.s.Ledger.Get(ctx, "inbox-"+id)
	}
	if err != nil {
		return Response{}, fmt.Errorf("record the deletion of inbox message %s: %w", id, err)
	}
	if req.Status == request.StatusHardDeleting {
		if _, err := a.s.Deletion.Run(ctx, req.ID, erasure.Budget{}); err != nil {
			return Response{}, fmt.Errorf("delete inbox message %s: %w", id, err)
		}
	}
	return Response{Status: http.StatusNoContent}, nil
}
