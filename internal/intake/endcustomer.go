package intake

import (
	"context"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/inmail"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
)

// endUserPage bounds one read of a bot's end users while looking for a username.
const endUserPage = 500

// dateSlack is how far the date of the last message an end customer remembers may be from the one
// the platform recorded (time zones, memory).
const dateSlack = 3 * 24 * time.Hour

// endCustomer handles "Data deletion — end customer" mail: the end customer names a bot, their
// username and the date of their last message. The request goes to the bot's owner, who decides;
// outcomes are mailed to the sender, so the sender must have authenticated. When no single end user
// matches, the sender gets the neutral answer, which does not say whether anyone matched.
func (s *Service) endCustomer(ctx context.Context, in *mailIn) (Result, error) {
	c := in.class
	res := Result{Kind: string(inmail.KindEndCustomer)}
	if !in.auth || in.msg.From.Email == "" {
		res.Outcome = OutcomeIgnoredUntrusted
		return res, nil
	}
	match, err := s.findEndUser(ctx, c.BotName, c.Username, c.LastMessage)
	if err != nil {
		return res, err
	}
	if match == nil {
		res.Outcome = OutcomeNoMatch
		return s.neutral(ctx, in, res)
	}
	req, created, err := s.Requests.SubmitEndCustomer(ctx, requests.EndCustomer{ID: in.requestID("end_user#" + match.ID),
		AccountID: match.AccountID, BotID: match.BotID, EndUserID: match.ID, Requester: in.msg.From.Email, Locale: in.locale})
	if err != nil {
		return res, err
	}
	res.Requests = []string{req.ID}
	res.Outcome = OutcomeRequestExists
	if created {
		res.Outcome = OutcomeRequestCreated
	}
	return res, nil
}

// findEndUser is the one end user of a bot of that name whose username it is and who was active
// around the date given; nil when none or several match.
func (s *Service) findEndUser(ctx context.Context, botName, username string, last time.Time) (*platform.EndUser, error) {
	username = strings.TrimPrefix(strings.TrimSpace(username), "@")
	if username == "" || strings.TrimSpace(botName) == "" {
		return nil, nil
	}
	bots, err := s.Store.BotsByName(ctx, botName)
	if err != nil {
		return nil, err
	}
	// Nobody's first conversation is after their last message.
	until := s.now()
	if !last.IsZero() {
		until = last.Add(24*time.Hour + dateSlack)
	}
	var found []platform.EndUser
	for _, bot := range bots {
		q := platform.QuerySpec{Limit: endUserPage}
		for {
			page, err := s.Store.EndUsersByFirstConversation(ctx, bot.ID, time.Time{}, until, q)
			if err != nil {
				return nil, err
			}
			for _, u := range page.Items {
				if u.AccountID != bot.AccountID || !strings.EqualFold(strings.TrimPrefix(u.Username, "@"), username) {
					continue
				}
				if !last.IsZero() && (u.LastActiveAt.Before(last.Add(-dateSlack)) || u.LastActiveAt.After(last.Add(24*time.Hour+dateSlack))) {
					continue
				}
				found = append(found, u)
			}
			if page.Next == nil {
				break
			}
			q.Start = page.Next
		}
	}
	if len(found) != 1 {
		return nil, nil
	}
	return &found[0], nil
}
