// Package verification proves that an end customer controls the chat identity their request names
// (issue 18 §1): at the bot owner's (or the privacy officer's) asking, the bot sends a one-time
// code into that chat through the connection's channel API (internal/chanapi), and the requester
// enters it on their status page. A request so verified says so to whoever decides it.
//
// The code is six digits from crypto/rand. Only its HMAC-SHA256 under VERIFICATION_SECRET over the
// request id and the code is kept, so the ledger alone cannot give it back by trying the million
// codes. It lives 15 minutes and five wrong tries spend it; a request gets at most three codes in
// 24 hours and one a minute; one source address gets 20 tries an hour whatever the request, and is
// kept only as an HMAC under the same secret. Neither the code nor its hash ever leaves this
// package: not in an answer, a history event, nor a log line.
package verification

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// The rules of the proof.
const (
	// CodeTTL is how long a code may be entered.
	CodeTTL = 15 * time.Minute
	// SendsPerDay is how many codes one request gets in 24 hours.
	SendsPerDay = 3
	// SendInterval is the least time between two codes of one request.
	SendInterval = time.Minute
	// AddressTriesPerHour is how many codes one source address may enter in an hour.
	AddressTriesPerHour = 20
	// codeDigits is the code's length.
	codeDigits = 6
)

// Errors the edges map: the coded ones by their code, the others by name.
var (
	// ErrNotAwaiting: the request is not an end-customer request that awaits a decision (409).
	ErrNotAwaiting = lerr.Errorf(lerr.ECONFLICT, "the request does not await a decision: no proof can be asked for")
	// ErrVerified: the requester has already proved it (409).
	ErrVerified = lerr.Errorf(lerr.ECONFLICT, "the requester has already proved they control the chat")
	// ErrNotCandidate: the end user named is not one the request matched (400).
	ErrNotCandidate = lerr.Errorf(lerr.EINVALID, "endUserId is not one of the end users the request matched")
	// ErrNoChat: the end user has no identity on their connection's channel, or that connection is
	// gone or not active: there is no chat to send a code to (422).
	ErrNoChat = errors.New("verification: the end user has no chat an active connection can write to")
	// ErrRefused: the channel refused to deliver to the chat (the end user blocked the bot, left,
	// or is outside the channel's window) (422).
	ErrRefused = errors.New("verification: the channel refused to deliver the code to the chat")
	// ErrUnavailable: the channel's API gave no definite answer (rate limit, 5xx): try later (503).
	ErrUnavailable = errors.New("verification: the channel's API is unavailable")
	// ErrNoCode: no code was ever sent for the request (409).
	ErrNoCode = lerr.Errorf(lerr.ECONFLICT, "no code was sent for this request")
	// ErrExpired: the code's 15 minutes are over (410).
	ErrExpired = errors.New("verification: the code has expired")
	// ErrSpent: the code took its five wrong tries (410).
	ErrSpent = errors.New("verification: the code was spent by wrong tries")
)

// LimitError is a limit reached: a request's codes, or an address's tries (429 with Retry-After).
type LimitError struct {
	// At is when the limit was met, Until when it lifts.
	At, Until time.Time
	What      string
}

func (e *LimitError) Error() string { return "verification: " + e.What }

// Unwrap makes a limit an ELOCKED error (429).
func (e *LimitError) Unwrap() error { return lerr.Errorf(lerr.ELOCKED, "%s", e.What) }

// WrongCodeError is a wrong code; TriesLeft more may be made on it (422).
type WrongCodeError struct{ TriesLeft int }

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("verification: wrong code, %d tries left", e.TriesLeft)
}

// Service sends and checks the codes. Build it once and share it.
type Service struct {
	Ledger *ledger.Ledger
	Store  *platform.Store
	// Channels sends the code (nil in a function that only checks codes).
	Channels chanapi.Client
	// Tries counts an address's tries (nil in a function that only sends codes).
	Tries  *ledger.CodeTries
	Secret []byte
	Now    func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// codeHash is the HMAC of a request's code.
func (s *Service) codeHash(requestID, code string) string {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("code\x00" + requestID + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// addressHash is the HMAC of a source address: the counter's key, never the address.
func (s *Service) addressHash(addr string) string {
	m := hmac.New(sha256.New, s.Secret)
	m.Write([]byte("address\x00" + addr))
	return hex.EncodeToString(m.Sum(nil))
}

func newCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("draw a code: %w", err)
	}
	return fmt.Sprintf("%0*d", codeDigits, n.Int64()), nil
}

// Sent is what the asker is told of a code sent: to whom (an end user's id), through which
// channel, and until when it may be entered. Never the code.
type Sent struct {
	EndUserID string    `json:"endUserId"`
	Channel   string    `json:"channel"`
	SentAt    time.Time `json:"sentAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Send sends a new code for the request r (already authorised by the caller) into the chat of
// endUserID ("" for the scope's end user, else one of its candidates) and records its hash;
// actor is who asked. The record is written first, conditionally on the request's version, so two
// asks at once send one code: the second finds the first's within SendInterval. A code the
// channel did not take is withdrawn again (the previous state comes back), and does not count.
func (s *Service) Send(ctx context.Context, r request.Request, endUserID, actor string) (Sent, error) {
	if r.Kind != request.KindEndCustomerRequest {
		return Sent{}, ErrNotAwaiting
	}
	if endUserID == "" {
		endUserID = r.Scope.EndUserID
	}
	if endUserID != r.Scope.EndUserID && !slices.Contains(r.Candidates, endUserID) {
		return Sent{}, ErrNotCandidate
	}
	if err := awaits(&r); err != nil {
		return Sent{}, err
	}
	conn, to, err := s.chat(ctx, r, endUserID)
	if err != nil {
		return Sent{}, err
	}
	code, err := newCode()
	if err != nil {
		return Sent{}, err
	}
	hash := s.codeHash(r.ID, code)
	now := s.now()
	var prev *request.Verification
	out, err := s.Ledger.Update(ctx, r.ID, func(q *request.Request) error {
		if err := awaits(q); err != nil {
			return err
		}
		if !slices.Contains(append([]string{q.Scope.EndUserID}, q.Candidates...), endUserID) {
			return ErrNotCandidate
		}
		v := request.Verification{}
		if q.Verification != nil {
			c := *q.Verification
			prev, v = &c, c
		}
		v.Sends = slices.DeleteFunc(slices.Clone(v.Sends), func(t time.Time) bool { return !now.Before(t.Add(24 * time.Hour)) })
		if len(v.Sends) >= SendsPerDay {
			return &LimitError{At: now, Until: v.Sends[0].Add(24 * time.Hour), What: fmt.Sprintf("at most %d codes a request in 24 hours", SendsPerDay)}
		}
		if n := len(v.Sends); n > 0 && now.Before(v.Sends[n-1].Add(SendInterval)) {
			return &LimitError{At: now, Until: v.Sends[n-1].Add(SendInterval), What: "one code a minute"}
		}
		v.EndUserID, v.Channel, v.ConnectionID = endUserID, conn.Channel, conn.ID
		v.CodeHash, v.SentAt, v.ExpiresAt, v.Attempts = hash, now, now.Add(CodeTTL), 0
		v.Sends = append(v.Sends, now)
		q.Verification = &v
		q.History = append(q.History, request.Event{At: now, Status: q.Status, Actor: actor,
			Note: request.NoteVerificationSent + ": a one-time code to the end user's " + conn.Channel + " chat"})
		return nil
	})
	if err != nil {
		return Sent{}, err
	}
	if err := s.Channels.SendCode(ctx, conn, to, code, out.Locale); err != nil {
		werr := s.withdraw(ctx, r.ID, hash, prev, now)
		switch {
		case errors.Is(err, chanapi.ErrRecipientRefused):
			err = fmt.Errorf("%w (%s)", ErrRefused, conn.Channel)
		case errors.Is(err, chanapi.ErrNoCredential), errors.Is(err, chanapi.ErrUnsupported):
			err = fmt.Errorf("%w: %w", ErrNoChat, err)
		default:
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return Sent{}, errors.Join(err, werr)
	}
	return Sent{EndUserID: endUserID, Channel: conn.Channel, SentAt: now, ExpiresAt: now.Add(CodeTTL)}, nil
}

// withdraw takes back a code the channel did not deliver, if it is still the current one: the
// verification is as it was before, and a note says the send failed.
func (s *Service) withdraw(ctx context.Context, id, hash string, prev *request.Verification, at time.Time) error {
	_, err := s.Ledger.Update(ctx, id, func(q *request.Request) error {
		if q.Verification == nil || q.Verification.CodeHash != hash {
			return errStale
		}
		q.Verification = prev
		q.History = append(q.History, request.Event{At: s.now(), Status: q.Status, Actor: "system",
			Note: request.NoteVerificationSent + ": the channel did not deliver the code sent at " + at.Format(time.RFC3339)})
		return nil
	})
	if errors.Is(err, errStale) {
		return nil
	}
	return err
}

var errStale = errors.New("verification: the code is no longer the current one")

// awaits refuses a request that does not await a decision or is already verified.
func awaits(r *request.Request) error {
	if r.Kind != request.KindEndCustomerRequest || r.Status != request.StatusAwaitingVerification || r.Decision != nil {
		return ErrNotAwaiting
	}
	if r.Verification != nil && r.Verification.VerifiedAt != nil {
		return ErrVerified
	}
	return nil
}

// chat is the connection the end user talks to the bot through (active) and the id their channel
// knows them by on it.
func (s *Service) chat(ctx context.Context, r request.Request, endUserID string) (platform.ChannelConnection, string, error) {
	u, err := s.Store.EndUser(ctx, endUserID)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (u.AccountID != r.AccountID || u.BotID != r.Scope.BotID) {
		return platform.ChannelConnection{}, "", ErrNoChat
	}
	if err != nil {
		return platform.ChannelConnection{}, "", fmt.Errorf("read end user %s: %w", endUserID, err)
	}
	conn, err := s.Store.Connection(ctx, u.ConnectionID)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (conn.AccountID != r.AccountID || conn.Status != platform.ConnectionActive) {
		return platform.ChannelConnection{}, "", ErrNoChat
	}
	if err != nil {
		return platform.ChannelConnection{}, "", fmt.Errorf("read connection %s: %w", u.ConnectionID, err)
	}
	ids, err := s.Store.Identities(ctx, endUserID)
	if err != nil {
		return platform.ChannelConnection{}, "", fmt.Errorf("read the identities of %s: %w", endUserID, err)
	}
	var best *platform.ChannelIdentity
	for i := range ids {
		if ids[i].Channel == conn.Channel && (best == nil || ids[i].LastActiveAt.After(best.LastActiveAt)) {
			best = &ids[i]
		}
	}
	if best == nil {
		return platform.ChannelConnection{}, "", ErrNoChat
	}
	return conn, best.ExternalID, nil
}

// Entered is the outcome of a right code.
type Entered struct {
	VerifiedAt time.Time
}

// Enter checks a code entered on the request's status page from the source address addr: counted
// against the address first (LimitError past AddressTriesPerHour), then compared in constant time
// with the current code's hash. A right code verifies the request (entering it again is no
// error); a wrong one counts against the code (WrongCodeError, ErrSpent with the last try); an
// expired or spent code is ErrExpired or ErrSpent, and no code ErrNoCode.
func (s *Service) Enter(ctx context.Context, requestID, code, addr string) (Entered, error) {
	now := s.now()
	n, err := s.Tries.Count(ctx, s.addressHash(addr), now)
	if err != nil {
		return Entered{}, err
	}
	if n > AddressTriesPerHour {
		return Entered{}, &LimitError{At: now, Until: ledger.HourEnds(now), What: fmt.Sprintf("at most %d codes an hour from one address", AddressTriesPerHour)}
	}
	code = strings.TrimSpace(code)
	var outcome error
	var at time.Time
	_, err = s.Ledger.Update(ctx, requestID, func(q *request.Request) error {
		outcome = nil
		v := q.Verification
		switch {
		case v != nil && v.VerifiedAt != nil:
			at = *v.VerifiedAt
			return errDone
		case q.Kind != request.KindEndCustomerRequest || q.Status != request.StatusAwaitingVerification || q.Decision != nil:
			return ErrNotAwaiting
		case v == nil || v.SentAt.IsZero():
			return ErrNoCode
		case v.CodeHash == "" || v.Attempts >= request.MaxCodeTries:
			return ErrSpent
		case !now.Before(v.ExpiresAt):
			return ErrExpired
		}
		c := *v
		if hmac.Equal([]byte(s.codeHash(q.ID, code)), []byte(c.CodeHash)) {
			c.CodeHash, at = "", now
			c.VerifiedAt = &at
			q.History = append(q.History, request.Event{At: now, Status: q.Status, Actor: "end_customer",
				Note: request.NoteVerified + ": the requester entered the code sent to the end user's " + c.Channel + " chat"})
		} else {
			c.Attempts++
			outcome = &WrongCodeError{TriesLeft: request.MaxCodeTries - c.Attempts}
			if c.Attempts >= request.MaxCodeTries {
				c.CodeHash, outcome = "", ErrSpent
			}
		}
		q.Verification = &c
		return nil
	})
	switch {
	case errors.Is(err, errDone):
		return Entered{VerifiedAt: at}, nil
	case err != nil:
		return Entered{}, err
	case outcome != nil:
		return Entered{}, outcome
	}
	return Entered{VerifiedAt: at}, nil
}

var errDone = errors.New("verification: already verified")
