package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// searchRoutes registers the Conversations module's search of a bot's end users by name.
func (a *API) searchRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/bots/{botId}/end-users", roles: botRoles, h: a.searchEndUsers})
}

const (
	// searchNameMax is the document's maxLength of the name parameter, in characters.
	searchNameMax = 200
	// searchScanBudget bounds the index entries one call reads, so a short, common prefix whose
	// candidates the other words reject cannot make a call run long: past it, the page ends early
	// with a cursor to carry on from.
	searchScanBudget = 500
)

// foundEndUser is an end user as the search lists them (api/openapi.yaml EndUserSummary).
type foundEndUser struct {
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

// searchEndUsers finds the bot's end users whose name has, for every word of the query, a word
// starting with it; case, accents and ё/е do not matter (platform.NormalizeName).
//
// It walks the bot's name-token index from the longest query word, which narrows most. An end user
// with several words starting with it is listed once, at the first of them in index order, so a
// page never repeats one listed before. The cursor is the index position of the last entry read;
// the index partition is always the path's bot, which a.bot has checked is the caller's.
func (a *API) searchEndUsers(ctx context.Context, c *Call) (Response, error) {
	b, err := a.bot(ctx, c)
	if err != nil {
		return Response{}, err
	}
	q := c.Req.QueryStringParameters
	name := q["name"]
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(name):
		return Response{}, badRequest("name", "not valid UTF-8")
	case strings.TrimSpace(name) == "":
		return Response{}, badRequest("name", "required: the name, or the start of a word of it")
	case n > searchNameMax:
		return Response{}, badRequest("name", "at most 200 characters")
	}
	words := platform.NameTokens(name)
	if len(words) == 0 {
		return Response{}, badRequest("name", "needs at least one letter or digit")
	}
	lead := words[0]
	for _, w := range words[1:] {
		if len(w) > len(lead) {
			lead = w
		}
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	ix := datamap.MustLookup(datamap.NameToken).Location.Indexes[0]
	pk, err := datamap.Fill(ix.PK, map[string]string{"bot": b.ID})
	if err != nil {
		return Response{}, err
	}
	// The cursor is bound to the bot's index partition (a.bot has checked the bot is the
	// caller's); its position must lie in this query's key range, "{token}#{endUser}" with the
	// token starting with the lead word: one of another query is refused.
	cur, err := platform.DecodeCursor(q["cursor"], pk)
	if err != nil {
		return Response{}, err
	}
	if i := strings.LastIndexByte(cur.After, '#'); cur.After != "" && (!strings.HasPrefix(cur.After, lead) || i < 0 || i == len(cur.After)-1) {
		return Response{}, badRequest("cursor", "not a cursor of this search")
	}

	spec := platform.QuerySpec{Logical: datamap.PlatformTable, Index: ix.Name, PK: pk,
		SKFrom: lead, SKTo: lead + "\U0010FFFF", Limit: 100}
	if cur.After != "" {
		spec.SKFrom = cur.After // inclusive: the entry itself is skipped below
	}
	out := page[foundEndUser]{Items: []foundEndUser{}}
	var last platform.Cursor // the last index entry read
	read := 0
	for {
		items, next, err := a.s.Store.QueryItems(ctx, spec)
		if err != nil {
			return Response{}, fmt.Errorf("search the name index of bot %s: %w", b.ID, err)
		}
		for _, it := range items {
			tok, err := platform.Decode[platform.NameToken](it)
			if err != nil {
				return Response{}, fmt.Errorf("decode a name token of bot %s: %w", b.ID, err)
			}
			pos := platform.Cursor{Partition: pk, After: tok.Token + "#" + tok.EndUserID}
			if pos.After == cur.After {
				continue
			}
			if read == searchScanBudget {
				out.NextCursor = last.Encode()
				return Response{Status: http.StatusOK, Body: out}, nil
			}
			hit, ok, err := a.searchHit(ctx, c, b.ID, tok, words, lead)
			if err != nil {
				return Response{}, err
			}
			if ok {
				if len(out.Items) == limit {
					out.NextCursor = last.Encode()
					return Response{Status: http.StatusOK, Body: out}, nil
				}
				out.Items = append(out.Items, hit)
			}
			last = pos
			read++
		}
		if next == nil {
			return Response{Status: http.StatusOK, Body: out}, nil
		}
		spec.Start = next
	}
}

// searchHit decides whether the index entry tok lists its end user: the end user is of this
// account and bot, every query word starts one of their name tokens, and tok is the first of their
// tokens starting with the lead word (so that they are listed once).
func (a *API) searchHit(ctx context.Context, c *Call, botID string, tok platform.NameToken, words []string, lead string) (foundEndUser, bool, error) {
	if tok.AccountID != c.Acct || tok.BotID != botID || tok.EndUserID == "" {
		return foundEndUser{}, false, nil
	}
	tokens, err := a.nameTokensOf(ctx, tok.EndUserID)
	if err != nil {
		return foundEndUser{}, false, err
	}
	first := ""
	for _, t := range tokens {
		if strings.HasPrefix(t, lead) && (first == "" || t < first) {
			first = t
		}
	}
	if first != tok.Token {
		return foundEndUser{}, false, nil
	}
	for _, w := range words {
		if !hasTokenWithPrefix(tokens, w) {
			return foundEndUser{}, false, nil
		}
	}
	eu, err := a.s.Store.EndUser(ctx, tok.EndUserID)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (eu.AccountID != c.Acct || eu.BotID != botID) {
		return foundEndUser{}, false, nil
	}
	if err != nil {
		return foundEndUser{}, false, fmt.Errorf("read end user %s: %w", tok.EndUserID, err)
	}
	return foundEndUser{ID: eu.ID, BotID: eu.BotID, ConnectionID: eu.ConnectionID, Channel: eu.Channel,
		DisplayName: eu.DisplayName, Username: eu.Username, Blocked: eu.Blocked,
		FirstConversationAt: eu.FirstConversationAt.UTC(), LastActiveAt: eu.LastActiveAt.UTC()}, true, nil
}

// nameTokensOf reads an end user's name tokens from their own partition: the records the index is
// built from.
func (a *API) nameTokensOf(ctx context.Context, endUserID string) ([]string, error) {
	toks, err := a.s.Store.NameTokensOf(ctx, endUserID)
	if err != nil {
		return nil, fmt.Errorf("read the name tokens of end user %s: %w", endUserID, err)
	}
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		out = append(out, t.Token)
	}
	return out, nil
}

func hasTokenWithPrefix(tokens []string, prefix string) bool {
	for _, t := range tokens {
		if strings.HasPrefix(t, prefix) {
			return true
		}
	}
	return false
}
