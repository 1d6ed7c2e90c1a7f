package chsweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// wipeAll requests the wipe of every connection refused twice.
func (s *Sweep) wipeAll(ctx context.Context, t *tally, found []confirmed) {
	g := s.group()
	for _, f := range found {
		g.Go(func() { s.wipe(ctx, t, f) })
	}
	g.Wait()
}

// wipe requests the wipe of a connection refused twice, once the connection, read again, is still
// the active connection holding the credential refused; a Meta page's token takes the page's other
// Messenger and Instagram connections with it. The suspicion goes once the wipe is requested, or
// when the connection changed; it stays when the request failed, so the next run tries again (the
// request id is the connection's: a retry makes no second request).
func (s *Sweep) wipe(ctx context.Context, t *tally, f confirmed) {
	conn, err := s.Store.Connection(ctx, f.id)
	switch {
	case errors.Is(err, platform.ErrNotFound):
		s.clear(ctx, t, ledger.Suspicion{ConnectionID: f.id, Channel: f.channel}, "the connection is gone")
		return
	case err != nil:
		t.count(f.channel, func(c *Counts) { c.Errors++ })
		s.log().Error("channel sweep: could not read the connection to wipe; the next run tries again", "connection", f.id, "err", err)
		return
	case conn.Status != platform.ConnectionActive || conn.Channel != f.channel || credentialSum(conn) != f.sum:
		// Disabled, revoked or given a new credential since the check: what was checked is gone.
		s.clear(ctx, t, ledger.Suspicion{ConnectionID: f.id, Channel: f.channel}, "the connection changed since its check; not wiped")
		return
	}
	if err := s.request(ctx, t, conn); err != nil {
		t.count(conn.Channel, func(c *Counts) { c.Errors++ })
		s.log().Error("channel sweep: could not request the connection wipe; the next run tries again",
			"connection", conn.ID, "channel", conn.Channel, "err", err)
		return
	}
	if conn.Channel == platform.ChannelMessenger || conn.Channel == platform.ChannelInstagram {
		s.wipePage(ctx, t, conn, f.firstSeen)
	}
	s.clear(ctx, t, ledger.Suspicion{ConnectionID: conn.ID, Channel: conn.Channel}, "the connection wipe was requested")
}

// wipePage requests the wipe of the other active Messenger and Instagram connections of the page
// whose token was refused twice (the ChannelKey of both is the page id): the page access token is
// the page's, and Meta refusing it is the page taken away from the app. A connection made after the
// refusal was first seen is a reconnection with a new token, and is left alone.
func (s *Sweep) wipePage(ctx context.Context, t *tally, refused platform.ChannelConnection, firstSeen time.Time) {
	if refused.ChannelKey == "" {
		return
	}
	for _, ch := range []string{platform.ChannelMessenger, platform.ChannelInstagram} {
		conns, err := s.Store.ConnectionsByChannelKey(ctx, ch, refused.ChannelKey)
		if err != nil {
			t.count(ch, func(c *Counts) { c.Errors++ })
			s.log().Error("channel sweep: could not find the page's other connections; the next run tries again",
				"connection", refused.ID, "channel", ch, "err", err)
			continue
		}
		for _, c := range conns {
			if c.ID == refused.ID || c.Status != platform.ConnectionActive {
				continue
			}
			if c.CreatedAt.After(firstSeen) {
				s.log().Info("channel sweep: a connection of the page made after its token was refused; not wiped",
					"connection", c.ID, "channel", c.Channel, "page_of", refused.ID)
				continue
			}
			if err := s.request(ctx, t, c); err != nil {
				t.count(c.Channel, func(n *Counts) { n.Errors++ })
				s.log().Error("channel sweep: could not request the wipe of the page's other connection",
					"connection", c.ID, "channel", c.Channel, "page_of", refused.ID, "err", err)
				continue
			}
			if err := s.Checks.DropSuspicion(ctx, c.ID); err != nil {
				s.log().Warn("channel sweep: could not remove a suspicion", "connection", c.ID, "err", err)
			}
		}
	}
}

// request makes the connection's wipe request (one per connection however many runs ask) and
// marks the connection revoked, so that later runs skip it while the wipe runs.
func (s *Sweep) request(ctx context.Context, t *tally, conn platform.ChannelConnection) error {
	src := Source(conn.Channel)
	req, created, err := s.Requests.RequestDeletion(ctx, requests.Deletion{
		ID: RequestID(conn), Kind: request.KindConnectionWipe, Source: src, Actor: src,
		Scope: platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: conn.AccountID, BotID: conn.BotID,
			ConnectionID: conn.ID, Channel: conn.Channel}})
	if created {
		t.count(conn.Channel, func(c *Counts) { c.Requested++ })
	}
	if err != nil {
		return fmt.Errorf("request the connection wipe: %w", err)
	}
	s.log().Info("channel sweep: connection wipe requested", "connection", conn.ID, "channel", conn.Channel,
		"request", req.ID, "new", created)
	// A conditional update, never a put: the wipe just started may already have deleted the item,
	// and a put would bring it back, credential and all. Already wiped or no longer active: left.
	if err := s.Store.SetConnectionStatus(ctx, s.DB, conn, platform.ConnectionActive, platform.ConnectionRevoked); err != nil {
		return fmt.Errorf("mark the connection revoked: %w", err)
	}
	return nil
}
