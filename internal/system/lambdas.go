package system

import (
	"github.com/lethe-dev/lethe/internal/system/apiedge"
	"github.com/lethe-dev/lethe/internal/system/chsweepedge"
	"github.com/lethe-dev/lethe/internal/system/intakeedge"
	"github.com/lethe-dev/lethe/internal/system/retentionedge"
	"github.com/lethe-dev/lethe/internal/system/slaedge"
	"github.com/lethe-dev/lethe/internal/system/webhookedge"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// Lambdas lists every Lambda's builder by its name, the one functions/*/main.go calls: a workflow
// task's in wiring (wiring.EraseSlice(g)), an edge's in that edge's own package (apiedge.API(g),
// intakeedge.InboundEmail(g) …), each returning its handler as the runtime takes it. An edge's
// builder lives apart from the others so that its Lambda links no other edge: Go initialises every
// package a binary links at each cold start. Only tests call Lambdas, so no Lambda links another's
// builder.
func Lambdas() map[string]func(*wiring.Graph) any {
	return map[string]func(*wiring.Graph) any{
		"API":              func(g *wiring.Graph) any { return apiedge.API(g) },
		"ChannelWebhook":   func(g *wiring.Graph) any { return webhookedge.ChannelWebhook(g) },
		"InboundEmail":     func(g *wiring.Graph) any { return intakeedge.InboundEmail(g) },
		"RetentionStream":  func(g *wiring.Graph) any { return retentionedge.RetentionStream(g) },
		"RetentionSweep":   func(g *wiring.Graph) any { return retentionedge.RetentionSweep(g) },
		"SLASweep":         func(g *wiring.Graph) any { return slaedge.SLASweep(g) },
		"ChannelSweep":     func(g *wiring.Graph) any { return chsweepedge.ChannelSweep(g) },
		"OpenRequest":      func(g *wiring.Graph) any { return wiring.OpenRequest(g) },
		"BeginHardDelete":  func(g *wiring.Graph) any { return wiring.BeginHardDelete(g) },
		"EraseSlice":       func(g *wiring.Graph) any { return wiring.EraseSlice(g) },
		"CompleteDeletion": func(g *wiring.Graph) any { return wiring.CompleteDeletion(g) },
		"FinishRequest":    func(g *wiring.Graph) any { return wiring.FinishRequest(g) },
		"AwaitDecision":    func(g *wiring.Graph) any { return wiring.AwaitDecision(g) },
		"NotifyDeclined":   func(g *wiring.Graph) any { return wiring.NotifyDeclined(g) },
	}
}
