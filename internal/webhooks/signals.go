package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/lethe-dev/lethe/internal/channels"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

func bodyHash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// deliveryID is the channel's own delivery id, or, when a delivery carries none, its body: a
// redelivery is the same body.
func deliveryID(id string, body []byte) string {
	if id != "" {
		return id
	}
	return bodyHash(body)
}

// codeEncoding spells confirmation codes in lower-case letters and digits.
var codeEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ConfirmationCode is the code Meta's data-deletion answer carries: an HMAC of the signed request
// under the app secret, so it cannot be guessed without the secret, and a redelivery of the same
// callback gets the same code without the code being stored anywhere (only its hash opens the page).
func (s *Service) ConfirmationCode(signed string) string {
	m := hmac.New(sha256.New, []byte(s.MetaAppSecret))
	m.Write([]byte("lethe-status\x00" + signed))
	return codeEncoding.EncodeToString(m.Sum(nil)[:20])
}

func (s *Service) statusURL(code string) string {
	return strings.TrimRight(s.PublicBaseURL, "/") + "/deletion-status/" + url.PathEscape(code)
}

// signedRequest reads and verifies the form body of both Meta callbacks.
func (s *Service) signedRequest(c *call) (string, channels.SignedRequest, error) {
	f, err := form(c.body)
	if err != nil {
		return "", channels.SignedRequest{}, err
	}
	signed := f.Get("signed_request")
	if signed == "" {
		return "", channels.SignedRequest{}, fmt.Errorf("%w: no signed_request", channels.ErrMalformed)
	}
	sr, err := channels.ParseSignedRequest(signed, s.MetaAppSecret)
	return signed, sr, err
}

// metaDataDeletion: a person asked Meta to delete what this app holds about them. Every end user
// tied to their app-scoped id, on every bot of the platform, is deleted; the answer says where to
// follow it. When nothing matches, the request still completes (with nothing destroyed) and the
// status page says so.
func (s *Service) metaDataDeletion(ctx context.Context, c *call) (answer, error) {
	signed, sr, err := s.signedRequest(c)
	if err != nil {
		return errAnswer(err), nil
	}
	code := s.ConfirmationCode(signed)
	ok := jsonAnswer(http.StatusOK, map[string]string{"url": s.statusURL(code), "confirmation_code": code})
	return s.once(ctx, "meta", "deletion:"+bodyHash([]byte(signed)), ok, func(d delivery) error {
		req, _, err := s.Requests.RequestDeletion(ctx, requests.Deletion{ID: d.requestID("meta_asid"), Kind: request.KindChannelIdentity,
			Scope:  platform.ScopeRef{Kind: datamap.ScopeChannelIdentity, Channel: platform.IdentityMetaASID, ExternalID: sr.UserID},
			Source: "webhook:meta", Actor: "webhook:meta"})
		if err != nil && req.ID == "" {
			return err
		}
		return errors.Join(err, s.Ledger.PutReference(ctx, ledger.RefStatus, code, req.ID, "status"))
	})
}

// metaDeauthorize: a person removed the app. It is recorded on their end users (blocked), and
// accounts that enable it wipe those end users' data. When the person is a page admin who connected
// a page (or the id is an Instagram account's), the app has lost that page: every Messenger and
// Instagram connection of the page is wiped, as a channel's revocation is.
func (s *Service) metaDeauthorize(ctx context.Context, c *call) (answer, error) {
	signed, sr, err := s.signedRequest(c)
	if err != nil {
		return errAnswer(err), nil
	}
	return s.once(ctx, "meta", "deauthorize:"+bodyHash([]byte(signed)), answer{status: http.StatusOK}, func(d delivery) error {
		if err := s.deauthorizeEndUsers(ctx, d, sr.UserID); err != nil {
			return err
		}
		conns, err := s.removedPages(ctx, sr.UserID)
		if err != nil {
			return err
		}
		for _, conn := range conns {
			if err := s.wipeConnection(ctx, d, conn, "webhook:meta", "webhook:meta-deauthorize"); err != nil {
				return err
			}
		}
		return nil
	})
}

// deauthorizeEndUsers marks blocked every end user Meta knows by the app-scoped id, and wipes them in
// the accounts that enable it.
func (s *Service) deauthorizeEndUsers(ctx context.Context, d delivery, asid string) error {
	idents, err := s.Store.IdentitiesOf(ctx, platform.IdentityMetaASID, asid)
	if err != nil {
		return err
	}
	wipe := map[string]bool{}
	for _, id := range idents {
		acct, err := s.markBlocked(ctx, id)
		if err != nil {
			return err
		}
		if acct.Settings.WipeOnDeauthorize {
			wipe[acct.ID] = true
		}
	}
	for acct := range wipe {
		if _, _, err := s.Requests.RequestDeletion(ctx, requests.Deletion{ID: d.requestID("account#" + acct), Kind: request.KindChannelIdentity,
			Scope:  platform.ScopeRef{Kind: datamap.ScopeChannelIdentity, AccountID: acct, Channel: platform.IdentityMetaASID, ExternalID: asid},
			Source: "webhook:meta", Actor: "webhook:meta-deauthorize"}); err != nil {
			return err
		}
	}
	return nil
}

// removedPages is what a deauthorize for id takes away: the Messenger and Instagram connections id
// connected as a page admin or is the Instagram account of, and every other Messenger and Instagram
// connection of their pages (on any bot or account: the page's token went for all of them). Each
// connection once, in id order.
func (s *Service) removedPages(ctx context.Context, id string) ([]platform.ChannelConnection, error) {
	byAdmin, err := s.Store.ConnectionsByMetaUser(ctx, id)
	if err != nil {
		return nil, err
	}
	byIG, err := s.Store.ConnectionsByInstagramAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	found := map[string]platform.ChannelConnection{}
	pages := map[string]bool{}
	for _, c := range append(byAdmin, byIG...) {
		if c.Channel != platform.ChannelMessenger && c.Channel != platform.ChannelInstagram {
			continue // not a page's connection
		}
		found[c.ID] = c
		pages[c.ChannelKey] = true
	}
	for page := range pages {
		cs, err := s.Store.PageConnections(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			found[c.ID] = c
		}
	}
	out := make([]platform.ChannelConnection, 0, len(found))
	for _, c := range found {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// markBlocked records on an end user that they cut the channel off (blocked the bot, removed the
// app), and returns their account.
func (s *Service) markBlocked(ctx context.Context, id platform.ChannelIdentity) (platform.Account, error) {
	u, err := s.Store.EndUser(ctx, id.EndUserID)
	if err != nil && !errors.Is(err, platform.ErrNotFound) {
		return platform.Account{}, err
	}
	if err == nil && !u.Blocked {
		u.Blocked = true
		if err := s.Store.Put(ctx, u); err != nil {
			return platform.Account{}, err
		}
	}
	acct, err := s.Store.Account(ctx, id.AccountID)
	if errors.Is(err, platform.ErrNotFound) {
		return platform.Account{ID: id.AccountID}, nil
	}
	return acct, err
}

// blocked handles an end user blocking a connection's bot (Telegram kicked, VK message_deny, Viber
// unsubscribed): recorded, and deleted when the account enables it.
func (s *Service) blocked(ctx context.Context, d delivery, conn platform.ChannelConnection, externalID string) error {
	if externalID == "" {
		return nil
	}
	idents, err := s.Store.IdentitiesOf(ctx, conn.Channel, externalID)
	if err != nil {
		return err
	}
	for _, id := range idents {
		if id.AccountID != conn.AccountID || id.BotID != conn.BotID {
			continue // the same person on another bot or account: not this signal's business
		}
		acct, err := s.markBlocked(ctx, id)
		if err != nil {
			return err
		}
		if !acct.Settings.DeleteOnBlock {
			continue
		}
		if _, _, err := s.Requests.RequestDeletion(ctx, requests.Deletion{ID: d.requestID("end_user#" + id.EndUserID), Kind: request.KindEndUserDeletion,
			Scope:  platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: id.AccountID, BotID: id.BotID, EndUserID: id.EndUserID},
			Source: "webhook:" + conn.Channel, Actor: "webhook:" + conn.Channel, Locale: acct.Locale}); err != nil {
			return err
		}
	}
	return nil
}

// wipe requests the connection wipe of every connection a channel's own id names.
func (s *Service) wipe(ctx context.Context, d delivery, channel, channelKey string) error {
	if channelKey == "" {
		return nil
	}
	conns, err := s.Store.ConnectionsByChannelKey(ctx, channel, channelKey)
	if err != nil {
		return err
	}
	for _, conn := range conns {
		if err := s.wipeConnection(ctx, d, conn, "webhook:"+channel, "webhook:"+channel); err != nil {
			return err
		}
	}
	return nil
}

// wipeConnection requests one connection's wipe, its id derived from the delivery and the
// connection: a redelivery asks for the same request again, which makes nothing new.
func (s *Service) wipeConnection(ctx context.Context, d delivery, conn platform.ChannelConnection, source, actor string) error {
	_, _, err := s.Requests.RequestDeletion(ctx, requests.Deletion{ID: d.requestID("connection#" + conn.ID), Kind: request.KindConnectionWipe,
		Scope:  platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: conn.AccountID, BotID: conn.BotID, ConnectionID: conn.ID, Channel: conn.Channel},
		Source: source, Actor: actor})
	return err
}

func (s *Service) whatsappHandshake(_ context.Context, c *call) (answer, error) {
	q := url.Values{}
	for k, v := range c.req.QueryStringParameters {
		q.Set(k, v)
	}
	challenge, err := channels.WhatsAppHandshake(q, s.WhatsAppVerifyToken)
	if errors.Is(err, channels.ErrForged) {
		return problem(http.StatusForbidden, "the verify token does not match"), nil
	}
	if err != nil {
		return errAnswer(err), nil
	}
	return text(http.StatusOK, challenge), nil
}

func (s *Service) whatsappEvents(ctx context.Context, c *call) (answer, error) {
	if err := channels.VerifyHubSignature(c.header("X-Hub-Signature-256"), c.body, []byte(s.MetaAppSecret)); err != nil {
		return errAnswer(err), nil
	}
	revs, err := channels.ParseWhatsApp(c.body)
	if err != nil {
		return errAnswer(err), nil
	}
	if len(revs) == 0 {
		return answer{status: http.StatusOK}, nil
	}
	// WhatsApp gives no delivery id: a redelivery is the same body.
	return s.once(ctx, "whatsapp", bodyHash(c.body), answer{status: http.StatusOK}, func(d delivery) error {
		for _, r := range revs {
			if err := s.wipe(ctx, d, platform.ChannelWhatsApp, r.AccountID); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) slackEvents(ctx context.Context, c *call) (answer, error) {
	if err := channels.VerifySlack(c.header("X-Slack-Signature"), c.header("X-Slack-Request-Timestamp"), c.body, s.SlackSigningSecret, s.now()); err != nil {
		return errAnswer(err), nil
	}
	env, err := channels.ParseSlack(c.body)
	if err != nil {
		return errAnswer(err), nil
	}
	if env.Type == "url_verification" {
		return jsonAnswer(http.StatusOK, map[string]string{"challenge": env.Challenge}), nil
	}
	ok := jsonAnswer(http.StatusOK, map[string]string{})
	if !env.Revokes() {
		return ok, nil
	}
	return s.once(ctx, "slack", deliveryID(env.EventID, c.body), ok, func(d delivery) error {
		return s.wipe(ctx, d, platform.ChannelSlack, env.TeamID)
	})
}

func (s *Service) telegramUpdate(ctx context.Context, c *call) (answer, error) {
	conn, found, err := s.connection(ctx, c, platform.ChannelTelegram)
	if err != nil || !found {
		return problem(http.StatusUnauthorized, ""), err
	}
	if err := channels.VerifyTelegramSecret(c.header("X-Telegram-Bot-Api-Secret-Token"), conn.Secrets["secret_token"]); err != nil {
		return errAnswer(err), nil
	}
	upd, err := channels.ParseTelegram(c.body)
	if err != nil {
		return errAnswer(err), nil
	}
	ok := answer{status: http.StatusOK}
	if !upd.Blocked {
		return ok, nil
	}
	return s.once(ctx, "telegram", conn.ID+":"+strconv.FormatInt(upd.UpdateID, 10), ok, func(d delivery) error {
		return s.blocked(ctx, d, conn, upd.UserID)
	})
}

func (s *Service) vkCallback(ctx context.Context, c *call) (answer, error) {
	conn, found, err := s.connection(ctx, c, platform.ChannelVK)
	if err != nil || !found {
		return problem(http.StatusUnauthorized, ""), err
	}
	cb, err := channels.ParseVK(c.body)
	if err != nil {
		return errAnswer(err), nil
	}
	if cb.GroupID != conn.ChannelKey {
		return problem(http.StatusUnauthorized, ""), nil
	}
	if cb.Type == "confirmation" {
		// VK may send the confirmation call before the secret is set on its side (its own SDK takes
		// the secret as optional there): a secret given must match; none is accepted, since the
		// answer only proves to VK that this server is the community's and changes nothing.
		if cb.Secret != "" {
			if err := channels.VerifyVKSecret(cb.Secret, conn.Secrets["secret"]); err != nil {
				return errAnswer(err), nil
			}
		}
		return text(http.StatusOK, conn.Secrets["confirmation"]), nil
	}
	if err := channels.VerifyVKSecret(cb.Secret, conn.Secrets["secret"]); err != nil {
		return errAnswer(err), nil
	}
	ok := text(http.StatusOK, "ok")
	if !cb.Revokes() {
		return ok, nil
	}
	return s.once(ctx, "vk", conn.ID+":"+deliveryID(cb.EventID, c.body), ok, func(d delivery) error {
		return s.blocked(ctx, d, conn, cb.UserID)
	})
}

func (s *Service) viberCallback(ctx context.Context, c *call) (answer, error) {
	conn, found, err := s.connection(ctx, c, platform.ChannelViber)
	if err != nil || !found {
		return problem(http.StatusUnauthorized, ""), err
	}
	if err := channels.VerifyViber(c.header("X-Viber-Content-Signature"), c.body, conn.Secrets["auth_token"]); err != nil {
		return errAnswer(err), nil
	}
	ev, err := channels.ParseViber(c.body)
	if err != nil {
		return errAnswer(err), nil
	}
	ok := answer{status: http.StatusOK}
	if !ev.Revokes() {
		return ok, nil
	}
	return s.once(ctx, "viber", conn.ID+":"+deliveryID(ev.MessageToken, c.body), ok, func(d delivery) error {
		return s.blocked(ctx, d, conn, ev.UserID)
	})
}
