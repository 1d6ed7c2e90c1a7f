package intake

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/inmail"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
)

// endUserPage bounds one read of a bot's end users while looking for a username or a name.
const endUserPage = 500

// endCustomer handles "Data deletion — end customer" mail: the end customer names a bot, their
// username (or phone number, channel id, display name) and the date of their last message. The
// request goes to the bot's owner, who decides, and picks when several of the bot's end users
// match; outcomes are mailed to the sender, so the sender must have authenticated. When nobody
// matches, the sender gets the neutral answer, which does not say whether anyone matched.
func (s *Service) endCustomer(ctx context.Context, in *mailIn) (Result, error) {
	c := in.class
	res := Result{Kind: string(inmail.KindEndCustomer)}
	if !in.auth || in.msg.From.Email == "" {
		res.Outcome = OutcomeIgnoredUntrusted
		return res, nil
	}
	var zone *time.Location
	if !in.msg.Date.IsZero() {
		zone = in.msg.Date.Location()
	}
	matches, err := s.findEndUsers(ctx, c.BotName, c.Username, c.LastMessage, zone)
	if err != nil {
		return res, err
	}
	if len(matches) == 0 {
		res.Outcome = OutcomeNoMatch
		return s.neutral(ctx, in, res)
	}
	// One request per bot: its owner decides, and picks when several of its end users match.
	var order []string
	byBot := map[string][]platform.EndUser{}
	for _, u := range matches {
		if _, ok := byBot[u.BotID]; !ok {
			order = append(order, u.BotID)
		}
		byBot[u.BotID] = append(byBot[u.BotID], u)
	}
	res.Outcome = OutcomeRequestExists
	for _, botID := range order {
		us := byBot[botID]
		ec := requests.EndCustomer{ID: in.requestID("end_user#" + us[0].ID), AccountID: us[0].AccountID, BotID: botID,
			EndUserID: us[0].ID, Requester: in.msg.From.Email, Locale: in.locale}
		if len(us) > 1 {
			ec.ID = in.requestID("end_users#" + botID)
			for _, u := range us {
				ec.Candidates = append(ec.Candidates, u.ID)
			}
		}
		req, created, err := s.Requests.SubmitEndCustomer(ctx, ec)
		if err != nil {
			return res, err
		}
		res.Requests = append(res.Requests, req.ID)
		if created {
			res.Outcome = OutcomeRequestCreated
		}
	}
	return res, nil
}

// lastMessageWindow is when an end user whose last message was on the day the end customer gives
// may have last been active: that day in the customer's time zone (the mail's, else UTC), a day
// either side.
func lastMessageWindow(day time.Time, zone *time.Location) (from, to time.Time) {
	if zone == nil {
		zone = time.UTC
	}
	y, m, d := day.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, zone)
	return start.AddDate(0, 0, -1), start.AddDate(0, 0, 2)
}

// findEndUsers lists the end users of a bot of that name whom the end customer's identifier names
// (a channel username or VK screen name, a display name, a phone number, a VK, Slack or Telegram
// id) and who were last active around the day given, in the zone the mail was written in.
func (s *Service) findEndUsers(ctx context.Context, botName, identifier string, last time.Time, zone *time.Location) ([]platform.EndUser, error) {
	c := readClaim(identifier)
	if c.username == "" && c.name == "" && len(c.idents) == 0 || strings.TrimSpace(botName) == "" {
		return nil, nil
	}
	bots, err := s.Store.BotsByName(ctx, botName)
	if err != nil {
		return nil, err
	}
	var from, until time.Time
	until = s.now()
	if !last.IsZero() {
		from, until = lastMessageWindow(last, zone)
	}
	inWindow := func(u platform.EndUser) bool {
		return last.IsZero() || !u.LastActiveAt.Before(from) && u.LastActiveAt.Before(until)
	}
	owner := map[string]string{} // bot id → account id
	for _, bot := range bots {
		owner[bot.ID] = bot.AccountID
	}
	seen := map[string]bool{}
	var found []platform.EndUser
	add := func(u platform.EndUser) {
		if !seen[u.ID] && owner[u.BotID] == u.AccountID && u.AccountID != "" && inWindow(u) {
			seen[u.ID] = true
			found = append(found, u)
		}
	}
	for _, k := range c.idents {
		idents, err := s.Store.IdentitiesOf(ctx, k.channel, k.externalID)
		if err != nil {
			return nil, err
		}
		for _, id := range idents {
			if owner[id.BotID] != id.AccountID || seen[id.EndUserID] {
				continue
			}
			u, err := s.Store.EndUser(ctx, id.EndUserID)
			if errors.Is(err, platform.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			add(u)
		}
	}
	// Usernames and display names: a bot's end users whose first conversation is before the end
	// of the window (nobody's first conversation is after their last message).
	for _, bot := range bots {
		q := platform.QuerySpec{Limit: endUserPage}
		for {
			page, err := s.Store.EndUsersByFirstConversation(ctx, bot.ID, time.Time{}, until, q)
			if err != nil {
				return nil, err
			}
			for _, u := range page.Items {
				if c.username != "" && strings.EqualFold(strings.TrimPrefix(u.Username, "@"), c.username) ||
					c.name != "" && u.NormalizedName == c.name {
					add(u)
				}
			}
			if page.Next == nil {
				break
			}
			q.Start = page.Next
		}
	}
	return found, nil
}
