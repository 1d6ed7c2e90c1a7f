package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

func (a *API) meRoutes() {
	// The owner of a soft-deleted account still opens the console, to see and cancel the deletion.
	a.add(&route{method: http.MethodGet, path: "/v1/me", whileSuspended: true, h: a.me})
	a.add(&route{method: http.MethodGet, path: "/v1/bots/{botId}/end-users/{endUserId}/messages", roles: botRoles, h: a.endUserMessages})
}

type meView struct {
	Sub     string        `json:"sub"`
	Name    string        `json:"name"`
	Email   string        `json:"email"`
	Role    string        `json:"role"`
	Account meAccountView `json:"account"`
	Bots    []meBotView   `json:"bots"`
}

type meAccountView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Status   string `json:"status"`
}

type meBotView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Channel string `json:"channel"`
	// CanDelete: the caller may delete this bot's end users and messages (owner and account admins
	// on every bot, a bot admin on the bots of their record).
	CanDelete bool `json:"canDelete"`
}

// me answers who the caller is in their account: what the console needs to pick its language and
// to show each person only the screens and buttons their role may use.
func (a *API) me(ctx context.Context, c *Call) (Response, error) {
	acct, err := a.s.Store.Account(ctx, c.Acct)
	if err != nil {
		return Response{}, fmt.Errorf("read account %s: %w", c.Acct, err)
	}
	bots, err := a.s.Store.Bots(ctx, c.Acct)
	if err != nil {
		return Response{}, fmt.Errorf("read bots of %s: %w", c.Acct, err)
	}
	out := meView{Sub: c.Sub, Name: c.Member.FullName, Email: c.Member.Email, Role: c.Member.Role,
		Account: meAccountView{ID: acct.ID, Name: acct.FullName, Language: acct.Locale, Status: acct.Status},
		Bots:    make([]meBotView, 0, len(bots))}
	for _, b := range bots {
		conns, err := a.s.Store.Connections(ctx, c.Acct, b.ID)
		if err != nil {
			return Response{}, fmt.Errorf("read connections of bot %s: %w", b.ID, err)
		}
		var channels []string
		for _, cn := range conns {
			if !slices.Contains(channels, cn.Channel) {
				channels = append(channels, cn.Channel)
			}
		}
		slices.Sort(channels)
		out.Bots = append(out.Bots, meBotView{ID: b.ID, Name: b.Name, Channel: strings.Join(channels, ", "),
			CanDelete: canAdminBot(c.Member, b.ID)})
	}
	slices.SortFunc(out.Bots, func(x, y meBotView) int { return strings.Compare(x.Name, y.Name) })
	return Response{Status: http.StatusOK, Body: out}, nil
}

type inboxMessageView struct {
	ID          string    `json:"id"`
	Direction   string    `json:"direction"`
	Text        string    `json:"text"`
	Attachments int       `json:"attachments"`
	SentAt      time.Time `json:"sentAt"`
}

// endUserMessages lists one end user's inbox messages, newest first, a page at a time, for the
// Inbox screen: the bot must be the account's and the caller its admin; an end user of another bot
// is not found. The cursor holds the last message shown (its time and id) and is bound to the end
// user and the caller's account.
func (a *API) endUserMessages(ctx context.Context, c *Call) (Response, error) {
	b, err := a.bot(ctx, c)
	if err != nil {
		return Response{}, err
	}
	q := c.Req.QueryStringParameters
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	id := c.Req.PathParameters["endUserId"]
	partition := "inbox-of/" + c.Acct + "/" + id
	cur, err := platform.DecodeCursor(q["cursor"], partition)
	if err != nil {
		return Response{}, badRequest("cursor", "not a cursor of this list")
	}
	eu, err := a.s.Store.EndUser(ctx, id)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (eu.AccountID != c.Acct || eu.BotID != b.ID) {
		return Response{}, notFound("no such end user on this bot")
	}
	if err != nil {
		return Response{}, fmt.Errorf("read end user %s: %w", id, err)
	}
	msgs, err := a.s.Store.InboxMessages(ctx, id)
	if err != nil {
		return Response{}, fmt.Errorf("read inbox of %s: %w", id, err)
	}
	// Newest first; the position is the time (fixed width, so it sorts as text) and the id.
	pos := func(m platform.InboxMessage) string {
		return m.SentAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "|" + m.ID
	}
	slices.SortFunc(msgs, func(x, y platform.InboxMessage) int { return strings.Compare(pos(y), pos(x)) })
	out := page[inboxMessageView]{Items: []inboxMessageView{}}
	last := ""
	for _, m := range msgs {
		if m.AccountID != c.Acct || m.BotID != b.ID || cur.After != "" && pos(m) >= cur.After {
			continue
		}
		if len(out.Items) == limit {
			out.NextCursor = platform.Cursor{Partition: partition, After: last}.Encode()
			break
		}
		out.Items = append(out.Items, inboxMessageView{ID: m.ID, Direction: m.Direction, Text: m.Text,
			Attachments: len(m.AttachmentKeys), SentAt: m.SentAt})
		last = pos(m)
	}
	return Response{Status: http.StatusOK, Body: out}, nil
}
