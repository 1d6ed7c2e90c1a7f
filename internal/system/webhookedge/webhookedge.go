// Package webhookedge builds the channel-webhook Lambda (functions/channel-webhook): the channels'
// public routes and the deletion status page, on the shared services of internal/system/wiring,
// linking no other edge (see internal/system/apiedge).
package webhookedge

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/system/wiring"
	"github.com/lethe-dev/lethe/internal/webhooks"
)

// ChannelWebhook serves the channels' public routes (functions/channel-webhook).
func ChannelWebhook(g *wiring.Graph) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return Webhooks(g).Handle
}

// Webhooks serves the channels' public routes. The status page only checks one-time codes: this
// function speaks to no channel.
func Webhooks(g *wiring.Graph) *webhooks.Service {
	c := g.Need(config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken,
		config.EnvPublicBaseURL)
	return &webhooks.Service{Ledger: g.Ledger(), Store: g.Store(), Requests: g.Requests(),
		MetaAppSecret: c.MetaAppSecret, SlackSigningSecret: c.SlackSigningSecret,
		WhatsAppVerifyToken: c.WhatsAppVerifyToken, PublicBaseURL: c.PublicBaseURL, Now: g.Now(),
		Verification: g.Verification(false)}
}
