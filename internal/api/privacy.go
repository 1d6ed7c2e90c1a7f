package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// The Privacy module (SPEC §3 "end-user deletion by filters"): list the end users whose first
// conversation falls in a range, on one bot or on every bot the caller may administer; preview
// what a deletion by those filters would destroy; start it with the preview's token.
//
// The filters mean exactly what the erasure engine's ScopeEndUserFilter means (internal/erasure
// subjects.go filterBots/botEndUsers, platform.Store.Walk): GSI1 `BOTU#{bot}`, sort key
// `{firstConversationAt}#{endUser}` BETWEEN from (KeyTime) and to (KeyTime) + "#\U0010FFFF", both
// ends inclusive at millisecond precision, end users of the caller's account only; with no bot,
// every bot of the account. Times are truncated to the millisecond on input so that what the API
// shows and what the key range selects are the same thing.

func (a *API) privacyRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/privacy/end-users", roles: botRoles, h: a.listPrivacyEndUsers})
	a.add(&route{method: http.MethodPost, path: "/v1/privacy/deletions/preview", roles: botRoles, idempotent: true, h: a.previewPrivacyDeletion})
	a.add(&route{method: http.MethodPost, path: "/v1/privacy/deletions", roles: botRoles, idempotent: true, h: a.startPrivacyDeletion})
}

const (
	// defaultPrivacyWindow is the Privacy module's default view: the last 7 days.
	defaultPrivacyWindow = 7 * 24 * time.Hour
	// previewValidity is how long a preview token starts its deletion (by the service clock).
	previewValidity = 15 * time.Minute
)

// endUserSummary is api/openapi.yaml EndUserSummary: no channel identifiers, no locale, no
// normalized name.
type endUserSummary struct {
	ID                  string    `json:"id"`
	BotID               string    `json:"botId"`
	ConnectionID        string    `json:"connectionId"`
	Channel             string    `json:"channel"`
	DisplayName         string    `json:"displayName"`
	Username            string    `json:"username,omitempty"`
	Blocked             bool      `json:"blocked"`
	FirstConversationAt time.Time `json:"firstConversationAt"`
	LastActiveAt        time.Time `json:"lastActiveAt"`
}

// summaryAttrs are the attributes a listing reads: what the summary shows, and the account to
// check it against.
var summaryAttrs = []string{"accountId", "botId", "connectionId", "endUserId", "channel", "displayName", "username",
	"blocked", "firstConversationAt", "lastActiveAt"}

// parseTime reads an RFC 3339 time of a field, truncated to the millisecond of the keys.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, badRequest(field, "an RFC 3339 date-time, such as 2026-03-01T00:00:00Z")
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 1970 || t.Year() > 9999 {
		return time.Time{}, badRequest(field, "a date-time between the years 1970 and 9999")
	}
	return t, nil
}

// window reads the from/to filters; an absent end defaults to the last 7 days up to now (or up to
// to). from must be before to.
func (a *API) window(fromS, toS string) (from, to time.Time, err error) {
	if toS == "" {
		to = a.s.Now().UTC().Truncate(time.Millisecond)
	} else if to, err = parseTime("to", toS); err != nil {
		return from, to, err
	}
	if fromS == "" {
		from = to.Add(-defaultPrivacyWindow)
	} else if from, err = parseTime("from", fromS); err != nil {
		return from, to, err
	}
	if !from.Before(to) {
		return from, to, badRequest("to", "must be after from")
	}
	return from, to, nil
}

// accountBots lists the account's bots, by id: the order a listing walks them in.
func (a *API) accountBots(ctx context.Context, acct string) ([]platform.Bot, error) {
	bots, err := a.s.Store.Bots(ctx, acct)
	if err != nil {
		return nil, fmt.Errorf("list the bots of account %s: %w", acct, err)
	}
	sort.Slice(bots, func(i, j int) bool { return bots[i].ID < bots[j].ID })
	return bots, nil
}

// oneBotOf checks a bot of the filters: it must be the account's (404 otherwise, as if it did not
// exist, whoever's it is) and the caller must administer it (403).
func (a *API) oneBotOf(ctx context.Context, c *Call, botID string) (platform.Bot, error) {
	if !idPattern.MatchString(botID) {
		return platform.Bot{}, badRequest("botId", "a bot id")
	}
	b, err := a.s.Store.Bot(ctx, c.Acct, botID)
	if errors.Is(err, platform.ErrNotFound) {
		return b, notFound("no such bot")
	}
	if err != nil {
		return b, fmt.Errorf("read bot %s: %w", botID, err)
	}
	if !canAdminBot(c.Member, b.ID) {
		return b, lerr.Errorf(lerr.EFORBIDDEN, "only an admin of this bot may do this")
	}
	return b, nil
}

// visibleBots are the bots a listing without botId walks: every bot of the account for the owner
// and account admins, the bots of their record for a bot admin.
func (a *API) visibleBots(ctx context.Context, c *Call) ([]platform.Bot, error) {
	all, err := a.accountBots(ctx, c.Acct)
	if err != nil {
		return nil, err
	}
	out := all[:0:0]
	for _, b := range all {
		if canAdminBot(c.Member, b.ID) {
			out = append(out, b)
		}
	}
	return out, nil
}

// privacyCursor is where a Privacy listing stands, opaque to clients: the bot being walked and the
// GSI1 sort key and end user of the last item shown, plus the filters the listing was started with
// (the default window is fixed by the first page, so that "now" moving does not shift the pages).
// It travels as a platform.Cursor bound to the caller's account; the bot must be one the caller
// may list, so a cursor cannot reach another account's or another bot's data.
type privacyCursor struct {
	Bot     string
	Key     string
	EndUser string
	BotID   string // the botId filter
	From    string
	To      string
}

func (pc privacyCursor) encode(acct string) string {
	part, _ := platform.AccountPartition(acct)
	return platform.Cursor{Partition: part, After: pc.Key,
		State: map[string]string{"b": pc.Bot, "q": pc.BotID, "f": pc.From, "t": pc.To}}.Encode()
}

func parsePrivacyCursor(s, acct string) (*privacyCursor, error) {
	if s == "" {
		return nil, nil
	}
	part, err := platform.AccountPartition(acct)
	if err != nil {
		return nil, err
	}
	c, err := platform.DecodeCursor(s, part)
	if err != nil {
		return nil, err
	}
	pc := privacyCursor{Bot: c.State["b"], Key: c.After, BotID: c.State["q"], From: c.State["f"], To: c.State["t"]}
	if i := strings.LastIndexByte(pc.Key, '#'); i >= 0 {
		pc.EndUser = pc.Key[i+1:]
	}
	if !idPattern.MatchString(pc.Bot) || pc.EndUser == "" || (pc.BotID != "" && pc.BotID != pc.Bot) {
		return nil, platform.ErrBadCursor
	}
	return &pc, nil
}

// listPrivacyEndUsers pages through the end users whose first conversation falls in [from, to], bot
// after bot (by id), oldest first within a bot. Readers never see an item whose TTL has passed.
func (a *API) listPrivacyEndUsers(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	cur, err := parsePrivacyCursor(q["cursor"], c.Acct)
	if err != nil {
		return Response{}, err
	}
	fromS, toS := q["from"], q["to"]
	if cur != nil {
		// The cursor's window holds; filters given again must be the same.
		if q["botId"] != cur.BotID {
			return Response{}, badRequest("cursor", "the cursor is of a listing with other filters")
		}
		if fromS == "" && toS == "" {
			fromS, toS = cur.From, cur.To
		}
	}
	from, to, err := a.window(fromS, toS)
	if err != nil {
		return Response{}, err
	}
	if cur != nil && (from.Format(time.RFC3339Nano) != cur.From || to.Format(time.RFC3339Nano) != cur.To) {
		return Response{}, badRequest("cursor", "the cursor is of a listing with other filters")
	}
	var bots []platform.Bot
	if id := q["botId"]; id != "" {
		b, err := a.oneBotOf(ctx, c, id)
		if err != nil {
			return Response{}, err
		}
		bots = []platform.Bot{b}
	} else if bots, err = a.visibleBots(ctx, c); err != nil {
		return Response{}, err
	}
	first, spec := 0, platform.QuerySpec{Projection: summaryAttrs}
	if cur != nil {
		first = slices.IndexFunc(bots, func(b platform.Bot) bool { return b.ID == cur.Bot })
		if first < 0 {
			return Response{}, badRequest("cursor", "the cursor is of a listing with other filters")
		}
		if spec.Start, err = platform.StartAfter(datamap.EndUserProfile, "GSI1", map[string]string{"endUser": cur.EndUser, "bot": cur.Bot,
			"firstConversationAt": strings.TrimSuffix(cur.Key, "#"+cur.EndUser)}); err != nil {
			return Response{}, platform.ErrBadCursor
		}
	}
	out := page[endUserSummary]{Items: []endUserSummary{}}
	var last platform.EndUser
	for i := first; i < len(bots); i++ {
		bot := bots[i].ID
		for {
			spec.Limit = int32(limit - len(out.Items) + 1)
			p, err := a.s.Store.EndUsersByFirstConversation(ctx, bot, from, to, spec)
			if err != nil {
				return Response{}, fmt.Errorf("list the end users of bot %s: %w", bot, err)
			}
			for _, u := range p.Items {
				if u.AccountID != c.Acct || u.BotID != bot {
					continue
				}
				if len(out.Items) == limit {
					out.NextCursor = privacyCursor{Bot: last.BotID, EndUser: last.ID,
						Key: last.FirstConversationAt.UTC().Format(platform.KeyTime) + "#" + last.ID, BotID: q["botId"],
						From: from.Format(time.RFC3339Nano), To: to.Format(time.RFC3339Nano)}.encode(c.Acct)
					return Response{Status: http.StatusOK, Body: out}, nil
				}
				out.Items = append(out.Items, endUserSummary{ID: u.ID, BotID: u.BotID, ConnectionID: u.ConnectionID, Channel: u.Channel,
					DisplayName: u.DisplayName, Username: u.Username, Blocked: u.Blocked,
					FirstConversationAt: u.FirstConversationAt.UTC(), LastActiveAt: u.LastActiveAt.UTC()})
				last = u
			}
			if p.Next == nil {
				break
			}
			spec.Start = p.Next
		}
		spec.Start = nil
	}
	return Response{Status: http.StatusOK, Body: out}, nil
}

// previewRecord is a Privacy preview (data map PreviewToken): the SHA-256 of its token, never the
// token; the filters it counted, which the deletion it authorizes takes as they were; who made it.
type previewRecord struct {
	TokenHash     string    `dynamodbav:"tokenHash"`
	AccountID     string    `dynamodbav:"accountId"`
	Sub           string    `dynamodbav:"sub"`
	BotID         string    `dynamodbav:"botId,omitempty"` // "" = every bot of the account
	From          time.Time `dynamodbav:"from"`
	To            time.Time `dynamodbav:"to"`
	EndUsers      int64     `dynamodbav:"endUsers"`
	Conversations int64     `dynamodbav:"conversations"`
	Messages      int64     `dynamodbav:"messages"`
	// ValidUntil ends the token's use (15 minutes); the item itself expires by the data map's
	// TwoDays rule ("expiresAt" is the store's TTL attribute).
	ValidUntil time.Time `dynamodbav:"validUntil"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
}

func (previewRecord) Category() string { return datamap.PreviewToken }
func (r previewRecord) KeyVars() map[string]string {
	return map[string]string{"token": r.TokenHash}
}
func (r previewRecord) RetentionAnchor() time.Time { return r.CreatedAt }

type previewView struct {
	EndUsers      int64     `json:"endUsers"`
	Conversations int64     `json:"conversations"`
	Messages      int64     `json:"messages"`
	PreviewToken  string    `json:"previewToken"`
	ExpiresAt     time.Time `json:"expiresAt"`
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// scopeBot decides which bots a deletion by filters reaches for this caller: botId given, that bot
// (checked as oneBotOf does); absent, every bot the caller administers. A ScopeEndUserFilter reaches
// one bot or every bot of the account, so a bot admin of some bots but not all must choose one.
func (a *API) scopeBot(ctx context.Context, c *Call, botID string) (string, error) {
	if botID != "" {
		b, err := a.oneBotOf(ctx, c, botID)
		return b.ID, err
	}
	if c.Member.Role != platform.RoleBotAdmin {
		return "", nil
	}
	all, err := a.accountBots(ctx, c.Acct)
	if err != nil {
		return "", err
	}
	var mine []string
	for _, b := range all {
		if canAdminBot(c.Member, b.ID) {
			mine = append(mine, b.ID)
		}
	}
	switch {
	case len(mine) == 0:
		return "", lerr.Errorf(lerr.EFORBIDDEN, "you administer none of the account's bots")
	case len(mine) == len(all):
		return "", nil
	case len(mine) == 1:
		return mine[0], nil
	}
	return "", badRequest("botId", "choose one bot: a deletion reaches one bot or every bot of the account, and you administer some of them")
}

// mayDeleteScope reports whether the caller may (still) delete what a preview's scope reaches: its
// bot, or, for every bot of the account, every bot the account has now.
func (a *API) mayDeleteScope(ctx context.Context, c *Call, botID string) error {
	forbidden := lerr.Errorf(lerr.EFORBIDDEN, "only an admin of the preview's bots may start this deletion")
	if botID != "" {
		if _, err := a.s.Store.Bot(ctx, c.Acct, botID); errors.Is(err, platform.ErrNotFound) {
			return lerr.Errorf(lerr.ECONFLICT, "the preview's bot is gone: preview again")
		} else if err != nil {
			return fmt.Errorf("read the preview's bot %s: %w", botID, err)
		}
		if !canAdminBot(c.Member, botID) {
			return forbidden
		}
		return nil
	}
	if c.Member.Role != platform.RoleBotAdmin {
		return nil
	}
	all, err := a.accountBots(ctx, c.Acct)
	if err != nil {
		return err
	}
	for _, b := range all {
		if !canAdminBot(c.Member, b.ID) {
			return forbidden
		}
	}
	return nil
}

// previewPrivacyDeletion counts what a deletion by these filters would destroy and hands out a
// token that starts exactly that deletion for 15 minutes. It deletes nothing.
func (a *API) previewPrivacyDeletion(ctx context.Context, c *Call) (Response, error) {
	var in struct {
		BotID *string `json:"botId"`
		From  *string `json:"from"`
		To    *string `json:"to"`
	}
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if in.From == nil || *in.From == "" {
		return Response{}, badRequest("from", "required: an RFC 3339 date-time")
	}
	if in.To == nil || *in.To == "" {
		return Response{}, badRequest("to", "required: an RFC 3339 date-time")
	}
	from, to, err := a.window(*in.From, *in.To)
	if err != nil {
		return Response{}, err
	}
	botID := ""
	if in.BotID != nil {
		if *in.BotID == "" {
			return Response{}, badRequest("botId", "a bot id, or leave it out for every bot")
		}
		botID = *in.BotID
	}
	scopeBot, err := a.scopeBot(ctx, c, botID)
	if err != nil {
		return Response{}, err
	}
	// The counts are the erasure engine's own plan for this scope, run without deleting: the same
	// bots, key range, account check, expired-but-stored items and legal-hold skips as the deletion
	// the token starts (erasure.Engine.Count). They describe the scope when the preview ran: end users
	// whose first conversation falls in the range later are deleted too.
	counts, err := a.s.Deletion.Engine.Count(ctx, platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: c.Acct, BotID: scopeBot, From: from, To: to})
	if err != nil {
		return Response{}, fmt.Errorf("count the privacy deletion of account %s: %w", c.Acct, err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Response{}, fmt.Errorf("draw a preview token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := a.s.Now().UTC()
	rec := previewRecord{TokenHash: hashToken(token), AccountID: c.Acct, Sub: c.Sub, BotID: scopeBot, From: from, To: to,
		EndUsers: counts[datamap.EndUserProfile], Conversations: counts[datamap.Conversation], Messages: counts[datamap.Message],
		ValidUntil: now.Add(previewValidity), CreatedAt: now}
	if err := a.s.Store.Put(ctx, rec); err != nil {
		return Response{}, fmt.Errorf("store the preview of account %s: %w", c.Acct, err)
	}
	return Response{Status: http.StatusOK, Body: previewView{EndUsers: rec.EndUsers, Conversations: rec.Conversations,
		Messages: rec.Messages, PreviewToken: token, ExpiresAt: rec.ValidUntil}}, nil
}

// startPrivacyDeletion starts the deletion a preview described. The request is named after the
// token's hash, so the same token twice makes one request. An unknown token, another account's,
// or an expired one is a 409 (api/openapi.yaml: preview again) — the same answer for all three, so
// a token of another account reveals nothing and touches nothing.
func (a *API) startPrivacyDeletion(ctx context.Context, c *Call) (Response, error) {
	var in struct {
		PreviewToken string `json:"previewToken"`
	}
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if in.PreviewToken == "" || len(in.PreviewToken) > 512 {
		return Response{}, badRequest("previewToken", "the previewToken of a preview")
	}
	unknown := lerr.Errorf(lerr.ECONFLICT, "no such preview, or it has expired: preview again")
	hash := hashToken(in.PreviewToken)
	now := a.s.Now()
	rec, err := platform.Get(ctx, a.s.Store, previewRecord{TokenHash: hash})
	if errors.Is(err, platform.ErrNotFound) {
		return Response{}, unknown
	}
	if err != nil {
		return Response{}, fmt.Errorf("read a preview: %w", err)
	}
	if rec.AccountID != c.Acct || rec.TokenHash != hash {
		return Response{}, unknown
	}
	if err := a.mayDeleteScope(ctx, c, rec.BotID); err != nil {
		return Response{}, err
	}
	id := privacyRequestID(hash)
	// The same token again (a retry, a double click) answers the request it started, even once the
	// token's 15 minutes are over.
	if existing, err := a.s.Ledger.Get(ctx, id); err == nil && existing.AccountID == c.Acct {
		return accepted(existing), nil
	} else if err != nil && !errors.Is(err, ledger.ErrNotFound) {
		return Response{}, fmt.Errorf("read request %s: %w", id, err)
	}
	if !now.Before(rec.ValidUntil) {
		return Response{}, unknown
	}
	acct, err := a.s.Store.Account(ctx, c.Acct)
	if err != nil {
		return Response{}, fmt.Errorf("read account %s: %w", c.Acct, err)
	}
	req, _, err := a.s.Requests.RequestDeletion(ctx, requests.Deletion{ID: id, Kind: request.KindEndUserFilter,
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: c.Acct, BotID: rec.BotID,
			From: rec.From.UTC(), To: rec.To.UTC()},
		Source: "dashboard", Actor: c.Member.Role + ":" + c.Sub, RequestedBy: c.Sub, Locale: acct.Locale})
	if err != nil {
		return Response{}, err
	}
	return accepted(req), nil
}

// privacyRequestID names the request a preview token starts: derived from the token's hash (not
// the hash itself, which keys the preview record).
func privacyRequestID(tokenHash string) string {
	sum := sha256.Sum256([]byte("privacy-deletion\n" + tokenHash))
	return "privacy-" + hex.EncodeToString(sum[:16])
}
