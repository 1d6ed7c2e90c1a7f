package system

import (
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

// A Lambda starts with the configuration its handler uses and no more: the erase task starts
// without the channels' secrets, the inbound bucket or the state machines, which it never uses;
// the channel webhook, which verifies signatures with the secrets, does not.
func TestLambdaNeedsOnlyItsOwnConfiguration(t *testing.T) {
	env := config.LocalDefaults(3000)
	for _, n := range []string{config.EnvPlatformTable, config.EnvLedgerTable, config.EnvAnalyticsTable, config.EnvFilesBucket} {
		env[n] = strings.ToLower(n)
	}
	for _, n := range []string{config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken} {
		delete(env, n)
	}
	build := func(name string) (*config.Loader, error) {
		l := config.NewLoader(func(k string) string { return env[k] })
		g := wiring.NewGraph(l, Clients{}, nil)
		if Lambdas()[name](g) == nil {
			t.Fatalf("%s made no handler", name)
		}
		return l, g.Err()
	}
	for _, name := range []string{"EraseSlice", "OpenRequest", "RetentionSweep", "RetentionStream"} {
		l, err := build(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, n := range l.Asked() {
			if n == config.EnvMetaAppSecret || n == config.EnvInboundMailBucket || n == config.EnvAccountDeletionMachine {
				t.Errorf("%s reads %s", name, n)
			}
		}
	}
	if _, err := build("ChannelWebhook"); err == nil || !strings.Contains(err.Error(), config.EnvMetaAppSecret) {
		t.Errorf("ChannelWebhook without META_APP_SECRET: %v, want it named missing", err)
	}
	if len(Lambdas()) != 14 {
		t.Errorf("%d builders, want one per function (14)", len(Lambdas()))
	}
}
