package chanapi

import (
	"context"
	"net/http"

	"github.com/lethe-dev/lethe/internal/platform"
)

// Clients is the Client of every channel, choosing by the connection's channel.
// PLACEHOLDER: the per-channel implementations replace these bodies.
type Clients struct {
	Endpoints Endpoints
	HTTP      *http.Client
}

// New returns the Client of every channel at the given endpoints; hc nil means a client with a
// timeout that follows no redirect.
func New(e Endpoints, hc *http.Client) *Clients { return &Clients{Endpoints: e, HTTP: hc} }

func (c *Clients) Check(ctx context.Context, conn platform.ChannelConnection) (Result, error) {
	return Result{}, ErrUnsupported
}

func (c *Clients) SendCode(ctx context.Context, conn platform.ChannelConnection, to, code, locale string) error {
	return ErrUnsupported
}
