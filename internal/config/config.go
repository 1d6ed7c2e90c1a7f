// Package config reads Lethe's configuration from environment variables: the same names in
// production (set by template.yaml from its parameters) and locally (set by `lethe local` from the
// documented defaults, each overridable from the environment).
package config

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// Config is everything a Lethe function may need. Handlers take the parts they use.
type Config struct {
	MetaAppSecret         string // META_APP_SECRET: verifies Meta signed_request
	SlackSigningSecret    string // SLACK_SIGNING_SECRET
	WhatsAppVerifyToken   string // WHATSAPP_VERIFY_TOKEN: the hub.challenge handshake
	InfoAddress           string // INFO_ADDRESS: where people write (info@)
	SenderAddress         string // SENDER_ADDRESS: From of every mail Lethe sends
	PrivacyOfficerAddress string // PRIVACY_OFFICER_ADDRESS: escalations and reports
	PublicBaseURL         string // PUBLIC_BASE_URL: links in mail and the Meta status URL

	// ForwardAddress (FORWARD_ADDRESS) is the company mailbox people read: mail to info@ that is not
	// about deletion (a sales question, an invoice) is forwarded there, never dropped.
	ForwardAddress string

	PlatformTable     string // PLATFORM_TABLE
	LedgerTable       string // LEDGER_TABLE
	AnalyticsTable    string // ANALYTICS_TABLE
	FilesBucket       string // FILES_BUCKET
	InboundMailBucket string // INBOUND_MAIL_BUCKET

	// TTLSafetyMargin (TTL_SAFETY_MARGIN) is taken off 13-month expiry so DynamoDB's lag in removing
	// expired items never keeps personal data past 13 months.
	TTLSafetyMargin time.Duration

	// The personal-data operator named in every act of destruction (OPERATOR_NAME, OPERATOR_ADDRESS,
	// OPERATOR_INN; the INN may be empty), and the English forms of its name and address that English
	// acts state (OPERATOR_NAME_EN, OPERATOR_ADDRESS_EN; empty: the registered ones).
	OperatorName, OperatorAddress, OperatorINN string
	OperatorNameEN, OperatorAddressEN          string

	// JWTIssuer and JWTAudience (JWT_ISSUER, JWT_AUDIENCE) are what the API Gateway authorizer
	// accepts; only the local gateway reads them, to verify tokens the same way.
	JWTIssuer, JWTAudience string
	// The deletion state machines (ACCOUNT_DELETION_STATE_MACHINE_ARN, END_USER_DELETION_…,
	// CONNECTION_WIPE_…, END_CUSTOMER_REQUEST_…): what intake starts.
	AccountDeletionMachine, EndUserDeletionMachine, ConnectionWipeMachine, EndCustomerRequestMachine string
	// Business-calendar adjustments on top of the built-in decrees (BUSINESS_CALENDAR_EXTRA_HOLIDAYS,
	// BUSINESS_CALENDAR_EXTRA_WORKDAYS: comma-separated YYYY-MM-DD), parsed by internal/calendar.
	ExtraHolidays, ExtraWorkdays string
	// TelegramAPIBaseURL (TELEGRAM_API_BASE_URL, optional) is the Telegram Bot API the
	// connection-health sweep asks getMe of (internal/chanapi); DefaultTelegramAPIBaseURL when unset
	// or empty. Tests point it at a fake.
	TelegramAPIBaseURL string
	// MetaGraphBaseURL, SlackAPIBaseURL, VKAPIBaseURL and ViberAPIBaseURL (META_GRAPH_BASE_URL,
	// SLACK_API_BASE_URL, VK_API_BASE_URL, VIBER_API_BASE_URL, optional) are the other channels' APIs
	// the connection-health sweep and the one-time codes speak to (internal/chanapi); the real ones
	// when unset or empty. `make run` points them at its local stand-ins.
	MetaGraphBaseURL, SlackAPIBaseURL, VKAPIBaseURL, ViberAPIBaseURL string
	// OpsGroupClaim and OpsGroup (OPS_GROUP_CLAIM, OPS_GROUP) say who is an operator (the privacy
	// officer's team): a token whose OpsGroupClaim claim (a list, as "cognito:groups" is, or one name)
	// contains OpsGroup may use /v1/ops/…; DefaultOpsGroupClaim and DefaultOpsGroup when unset.
	OpsGroupClaim, OpsGroup string
	// ActLinkSecret (ACT_LINK_SECRET) keys the HMAC of the public, expiring links to an act of
	// destruction that the final mail carries (evidence.ActLinks): set for the functions that sign
	// them (the final mail: finish-request, the SLA sweep) and the API that verifies them.
	ActLinkSecret string
	// VerificationSecret (VERIFICATION_SECRET) keys the HMACs of the one-time codes an end customer
	// enters to prove they control a chat (over the request id and the code, so the ledger cannot
	// give a six-digit code back) and of the source addresses their tries are counted by: set for
	// the API (which sends codes) and the channel-webhook function (which serves the status page
	// they are entered on).
	VerificationSecret string
	// ConsoleOIDC* (CONSOLE_OIDC_AUTHORIZE_URL, CONSOLE_OIDC_TOKEN_URL, CONSOLE_OIDC_CLIENT_ID,
	// CONSOLE_OIDC_SCOPE, all optional) are how the web console signs people in: Authorization Code
	// with PKCE against the provider that issues the dashboard's JWTs. Without an authorize URL the
	// console offers no sign-in but the local demo's.
	ConsoleOIDCAuthorizeURL, ConsoleOIDCTokenURL, ConsoleOIDCClientID, ConsoleOIDCScope string
	// ConsoleDemoSignIn (CONSOLE_DEMO_SIGN_IN) is the path of the local run's demo identities
	// (/_local/demo); only `make run` sets it, and the console then offers a one-click sign-in.
	ConsoleDemoSignIn string
}

// The operator group a token must carry for /v1/ops/… when OPS_GROUP_CLAIM / OPS_GROUP are unset.
const (
	DefaultOpsGroupClaim = "cognito:groups"
	DefaultOpsGroup      = "privacy-officers"
)

// The channels' real APIs, what TELEGRAM_API_BASE_URL, META_GRAPH_BASE_URL, SLACK_API_BASE_URL,
// VK_API_BASE_URL and VIBER_API_BASE_URL default to.
const (
	DefaultTelegramAPIBaseURL = "https://api.telegram.org"
	DefaultMetaGraphBaseURL   = "https://graph.facebook.com/v21.0"
	DefaultSlackAPIBaseURL    = "https://slack.com/api"
	DefaultVKAPIBaseURL       = "https://api.vk.com/method"
	DefaultViberAPIBaseURL    = "https://chatapi.viber.com/pa"
)

// Names of the variables, in one place so the template test can check each is set.
const (
	EnvMetaAppSecret         = "META_APP_SECRET"
	EnvSlackSigningSecret    = "SLACK_SIGNING_SECRET"
	EnvWhatsAppVerifyToken   = "WHATSAPP_VERIFY_TOKEN"
	EnvInfoAddress           = "INFO_ADDRESS"
	EnvSenderAddress         = "SENDER_ADDRESS"
	EnvPrivacyOfficerAddress = "PRIVACY_OFFICER_ADDRESS"
	EnvForwardAddress        = "FORWARD_ADDRESS"
	EnvPublicBaseURL         = "PUBLIC_BASE_URL"
	EnvPlatformTable         = "PLATFORM_TABLE"
	EnvLedgerTable           = "LEDGER_TABLE"
	EnvAnalyticsTable        = "ANALYTICS_TABLE"
	EnvFilesBucket           = "FILES_BUCKET"
	EnvInboundMailBucket     = "INBOUND_MAIL_BUCKET"
	EnvTTLSafetyMargin       = "TTL_SAFETY_MARGIN"
	EnvOperatorName          = "OPERATOR_NAME"
	EnvOperatorAddress       = "OPERATOR_ADDRESS"
	EnvOperatorINN           = "OPERATOR_INN"
	EnvOperatorNameEN        = "OPERATOR_NAME_EN"
	EnvOperatorAddressEN     = "OPERATOR_ADDRESS_EN"
	EnvJWTIssuer             = "JWT_ISSUER"
	EnvJWTAudience           = "JWT_AUDIENCE"

	EnvAccountDeletionMachine    = "ACCOUNT_DELETION_STATE_MACHINE_ARN"
	EnvEndUserDeletionMachine    = "END_USER_DELETION_STATE_MACHINE_ARN"
	EnvConnectionWipeMachine     = "CONNECTION_WIPE_STATE_MACHINE_ARN"
	EnvEndCustomerRequestMachine = "END_CUSTOMER_REQUEST_STATE_MACHINE_ARN"
	EnvExtraHolidays             = "BUSINESS_CALENDAR_EXTRA_HOLIDAYS"
	EnvExtraWorkdays             = "BUSINESS_CALENDAR_EXTRA_WORKDAYS"
	EnvTelegramAPIBaseURL        = "TELEGRAM_API_BASE_URL"
	EnvMetaGraphBaseURL          = "META_GRAPH_BASE_URL"
	EnvSlackAPIBaseURL           = "SLACK_API_BASE_URL"
	EnvVKAPIBaseURL              = "VK_API_BASE_URL"
	EnvViberAPIBaseURL           = "VIBER_API_BASE_URL"
	EnvOpsGroupClaim             = "OPS_GROUP_CLAIM"
	EnvOpsGroup                  = "OPS_GROUP"
	EnvActLinkSecret             = "ACT_LINK_SECRET"
	EnvVerificationSecret        = "VERIFICATION_SECRET"
	EnvConsoleOIDCAuthorizeURL   = "CONSOLE_OIDC_AUTHORIZE_URL"
	EnvConsoleOIDCTokenURL       = "CONSOLE_OIDC_TOKEN_URL"
	EnvConsoleOIDCClientID       = "CONSOLE_OIDC_CLIENT_ID"
	EnvConsoleOIDCScope          = "CONSOLE_OIDC_SCOPE"
	EnvConsoleDemoSignIn         = "CONSOLE_DEMO_SIGN_IN"
)

// Load reads the whole configuration through getenv (os.Getenv in production). Missing values are
// an error naming every one of them: a function must not start half-configured.
func Load(getenv func(string) string) (Config, error) {
	l := NewLoader(getenv)
	c := l.Need(Names()...)
	if err := l.Err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// variable is how one environment variable sets its part of a Config: required ones must not be
// empty; set gets the value with surrounding space trimmed ("" for an unset optional one).
type variable struct {
	required bool
	set      func(c *Config, v string) error
}

// text is a variable copied as it is.
func text(required bool, field func(*Config) *string) variable {
	return variable{required: required, set: func(c *Config, v string) error { *field(c) = v; return nil }}
}

// variables are every variable a Config is read from, by name.
var variables = map[string]variable{
	EnvMetaAppSecret:         text(true, func(c *Config) *string { return &c.MetaAppSecret }),
	EnvSlackSigningSecret:    text(true, func(c *Config) *string { return &c.SlackSigningSecret }),
	EnvWhatsAppVerifyToken:   text(true, func(c *Config) *string { return &c.WhatsAppVerifyToken }),
	EnvInfoAddress:           text(true, func(c *Config) *string { return &c.InfoAddress }),
	EnvSenderAddress:         text(true, func(c *Config) *string { return &c.SenderAddress }),
	EnvPrivacyOfficerAddress: text(true, func(c *Config) *string { return &c.PrivacyOfficerAddress }),
	EnvForwardAddress:        text(true, func(c *Config) *string { return &c.ForwardAddress }),
	EnvPublicBaseURL: {required: true, set: func(c *Config, v string) error {
		c.PublicBaseURL = strings.TrimRight(v, "/")
		return nil
	}},
	EnvPlatformTable:     text(true, func(c *Config) *string { return &c.PlatformTable }),
	EnvLedgerTable:       text(true, func(c *Config) *string { return &c.LedgerTable }),
	EnvAnalyticsTable:    text(true, func(c *Config) *string { return &c.AnalyticsTable }),
	EnvFilesBucket:       text(true, func(c *Config) *string { return &c.FilesBucket }),
	EnvInboundMailBucket: text(true, func(c *Config) *string { return &c.InboundMailBucket }),
	EnvTTLSafetyMargin: {set: func(c *Config, v string) error {
		c.TTLSafetyMargin = datamap.DefaultSafetyMargin
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 30*24*time.Hour {
			return fmt.Errorf("%s: %q is not a duration between 0 and 720h", EnvTTLSafetyMargin, v)
		}
		c.TTLSafetyMargin = d
		return nil
	}},
	EnvOperatorName:      text(true, func(c *Config) *string { return &c.OperatorName }),
	EnvOperatorAddress:   text(true, func(c *Config) *string { return &c.OperatorAddress }),
	EnvOperatorINN:       text(false, func(c *Config) *string { return &c.OperatorINN }),
	EnvOperatorNameEN:    text(false, func(c *Config) *string { return &c.OperatorNameEN }),
	EnvOperatorAddressEN: text(false, func(c *Config) *string { return &c.OperatorAddressEN }),
	EnvJWTIssuer:         text(false, func(c *Config) *string { return &c.JWTIssuer }),
	EnvJWTAudience:       text(false, func(c *Config) *string { return &c.JWTAudience }),

	EnvAccountDeletionMachine:    text(true, func(c *Config) *string { return &c.AccountDeletionMachine }),
	EnvEndUserDeletionMachine:    text(true, func(c *Config) *string { return &c.EndUserDeletionMachine }),
	EnvConnectionWipeMachine:     text(true, func(c *Config) *string { return &c.ConnectionWipeMachine }),
	EnvEndCustomerRequestMachine: text(true, func(c *Config) *string { return &c.EndCustomerRequestMachine }),
	EnvExtraHolidays:             text(false, func(c *Config) *string { return &c.ExtraHolidays }),
	EnvActLinkSecret: {required: true, set: func(c *Config, v string) error {
		if len(v) < 32 {
			// The value is not repeated: it is a secret.
			return fmt.Errorf("%s must be at least 32 characters", EnvActLinkSecret)
		}
		c.ActLinkSecret = v
		return nil
	}},
	EnvVerificationSecret: {required: true, set: func(c *Config, v string) error {
		if len(v) < 32 {
			// The value is not repeated: it is a secret.
			return fmt.Errorf("%s must be at least 32 characters", EnvVerificationSecret)
		}
		c.VerificationSecret = v
		return nil
	}},
	EnvExtraWorkdays: text(false, func(c *Config) *string { return &c.ExtraWorkdays }),
	EnvOpsGroupClaim: {set: func(c *Config, v string) error {
		c.OpsGroupClaim = cmp.Or(v, DefaultOpsGroupClaim)
		return nil
	}},
	EnvOpsGroup: {set: func(c *Config, v string) error {
		c.OpsGroup = cmp.Or(v, DefaultOpsGroup)
		return nil
	}},
	EnvConsoleOIDCAuthorizeURL: optionalURL(EnvConsoleOIDCAuthorizeURL, func(c *Config) *string { return &c.ConsoleOIDCAuthorizeURL }),
	EnvConsoleOIDCTokenURL:     optionalURL(EnvConsoleOIDCTokenURL, func(c *Config) *string { return &c.ConsoleOIDCTokenURL }),
	EnvConsoleOIDCClientID:     text(false, func(c *Config) *string { return &c.ConsoleOIDCClientID }),
	EnvConsoleOIDCScope:        text(false, func(c *Config) *string { return &c.ConsoleOIDCScope }),
	EnvConsoleDemoSignIn: {set: func(c *Config, v string) error {
		if v != "" && (!strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//")) {
			return fmt.Errorf("%s is not a path on the API's own origin", EnvConsoleDemoSignIn)
		}
		c.ConsoleDemoSignIn = v
		return nil
	}},
	EnvTelegramAPIBaseURL: channelBaseURL(EnvTelegramAPIBaseURL, DefaultTelegramAPIBaseURL, func(c *Config) *string { return &c.TelegramAPIBaseURL }),
	EnvMetaGraphBaseURL:   channelBaseURL(EnvMetaGraphBaseURL, DefaultMetaGraphBaseURL, func(c *Config) *string { return &c.MetaGraphBaseURL }),
	EnvSlackAPIBaseURL:    channelBaseURL(EnvSlackAPIBaseURL, DefaultSlackAPIBaseURL, func(c *Config) *string { return &c.SlackAPIBaseURL }),
	EnvVKAPIBaseURL:       channelBaseURL(EnvVKAPIBaseURL, DefaultVKAPIBaseURL, func(c *Config) *string { return &c.VKAPIBaseURL }),
	EnvViberAPIBaseURL:    channelBaseURL(EnvViberAPIBaseURL, DefaultViberAPIBaseURL, func(c *Config) *string { return &c.ViberAPIBaseURL }),
}

// A Loader reads the configuration variable by variable, as the services a function builds ask for
// it, so a function reads — and cannot fail to start for — only what it uses. It remembers every
// variable asked for (the template test compares them with each function's environment), and every
// one that was missing or malformed, for Err.
type Loader struct {
	getenv  func(string) string
	whole   bool // the Config was loaded whole already: Need reads nothing
	cfg     Config
	asked   map[string]bool
	missing []string
	bad     error
}

// NewLoader reads through getenv (os.Getenv in production).
func NewLoader(getenv func(string) string) *Loader {
	return &Loader{getenv: getenv, asked: map[string]bool{}}
}

// Loaded is a Loader over a configuration already loaded whole (the local run, tests).
func Loaded(c Config) *Loader { return &Loader{whole: true, cfg: c, asked: map[string]bool{}} }

// Need reads the named variables not read yet, and returns the configuration read so far.
func (l *Loader) Need(names ...string) Config {
	for _, name := range names {
		if l.whole || l.asked[name] {
			continue
		}
		v, ok := variables[name]
		if !ok {
			panic("config: no variable " + name) // a programming error, found by any test of the caller
		}
		l.asked[name] = true
		raw := strings.TrimSpace(l.getenv(name))
		if raw == "" && v.required {
			l.missing = append(l.missing, name)
			continue
		}
		if err := v.set(&l.cfg, raw); err != nil && l.bad == nil {
			l.bad = err
		}
	}
	return l.cfg
}

// Asked lists, sorted, every variable Need has read.
func (l *Loader) Asked() []string {
	names := make([]string, 0, len(l.asked))
	for n := range l.asked {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Err is the first malformed variable, or else every missing one by name; nil when all were read.
func (l *Loader) Err() error {
	if l.bad != nil {
		return l.bad
	}
	if len(l.missing) > 0 {
		missing := slices.Clone(l.missing)
		sort.Strings(missing)
		return fmt.Errorf("missing configuration: %s", strings.Join(missing, ", "))
	}
	return nil
}

// optionalURL is a variable that is empty or an absolute http(s) URL with a host.
func optionalURL(name string, field func(*Config) *string) variable {
	return variable{set: func(c *Config, v string) error {
		v = strings.TrimSpace(v)
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
				return fmt.Errorf("%s is not an http(s) URL", name)
			}
		}
		*field(c) = v
		return nil
	}}
}

// channelBaseURL reads a channel API's base URL: empty means the default; anything else must be an
// absolute http(s) URL with no query, kept without its trailing slash. Credentials are sent there,
// so a value that is not plainly a URL is refused rather than guessed at.
func channelBaseURL(name, def string, field func(*Config) *string) variable {
	return variable{set: func(c *Config, v string) error {
		v = strings.TrimRight(strings.TrimSpace(v), "/")
		if v == "" {
			*field(c) = def
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			// The value is not repeated: it may hold credentials.
			return fmt.Errorf("%s is not an http(s) base URL (scheme://host[:port][/path], no credentials or query)", name)
		}
		*field(c) = v
		return nil
	}}
}

// Policy is the retention policy this configuration gives.
func (c Config) Policy() datamap.Policy { return datamap.Policy{SafetyMargin: c.TTLSafetyMargin} }

// LocalDefaults are the values `make run` uses for whatever the environment does not set. The
// secrets are local-only demo values, shown by GET /_local/demo so webhook calls can be signed.
func LocalDefaults(apiPort int) map[string]string {
	return map[string]string{
		EnvMetaAppSecret:         "local-meta-app-secret",
		EnvSlackSigningSecret:    "local-slack-signing-secret",
		EnvWhatsAppVerifyToken:   "local-whatsapp-verify-token",
		EnvInfoAddress:           "info@lethe.localhost",
		EnvSenderAddress:         "no-reply@lethe.localhost",
		EnvPrivacyOfficerAddress: "privacy-officer@lethe.localhost",
		EnvForwardAddress:        "office@lethe.localhost",
		EnvPublicBaseURL:         fmt.Sprintf("http://127.0.0.1:%d", apiPort),
		EnvTTLSafetyMargin:       datamap.DefaultSafetyMargin.String(),
		EnvOperatorName:          "ООО «Демо Боты» (local demo operator)",
		EnvOperatorAddress:       "127001, Москва, ул. Локальная, д. 1",
		EnvOperatorINN:           "7700000000",
		EnvOperatorNameEN:        "Demo Bots LLC (local demo operator)",
		EnvOperatorAddressEN:     "1 Lokalnaya St., Moscow 127001, Russia",
		EnvJWTIssuer:             fmt.Sprintf("http://127.0.0.1:%d/_local", apiPort),
		EnvJWTAudience:           "lethe-dashboard",
		// The real Bot API: `make run` has no sweep schedule, and tests start their own fake.
		EnvTelegramAPIBaseURL: DefaultTelegramAPIBaseURL,
		EnvMetaGraphBaseURL:   DefaultMetaGraphBaseURL,
		EnvSlackAPIBaseURL:    DefaultSlackAPIBaseURL,
		EnvVKAPIBaseURL:       DefaultVKAPIBaseURL,
		EnvViberAPIBaseURL:    DefaultViberAPIBaseURL,
		EnvOpsGroupClaim:      DefaultOpsGroupClaim,
		EnvOpsGroup:           DefaultOpsGroup,
		EnvActLinkSecret:      "local-act-link-secret-for-make-run-only",
		EnvVerificationSecret: "local-verification-secret-for-make-run-only",
	}
}

// Names lists every variable Load reads.
func Names() []string {
	return []string{EnvMetaAppSecret, EnvSlackSigningSecret, EnvWhatsAppVerifyToken, EnvInfoAddress,
		EnvSenderAddress, EnvPrivacyOfficerAddress, EnvPublicBaseURL, EnvPlatformTable, EnvLedgerTable,
		EnvAnalyticsTable, EnvFilesBucket, EnvInboundMailBucket, EnvTTLSafetyMargin, EnvOperatorName, EnvOperatorAddress, EnvOperatorINN,
		EnvOperatorNameEN, EnvOperatorAddressEN, EnvJWTIssuer, EnvJWTAudience,
		EnvAccountDeletionMachine, EnvEndUserDeletionMachine, EnvConnectionWipeMachine, EnvEndCustomerRequestMachine,
		EnvExtraHolidays, EnvExtraWorkdays, EnvTelegramAPIBaseURL, EnvForwardAddress, EnvOpsGroupClaim, EnvOpsGroup,
		EnvActLinkSecret, EnvConsoleOIDCAuthorizeURL, EnvConsoleOIDCTokenURL, EnvConsoleOIDCClientID, EnvConsoleOIDCScope,
		EnvConsoleDemoSignIn, EnvMetaGraphBaseURL, EnvSlackAPIBaseURL, EnvVKAPIBaseURL, EnvViberAPIBaseURL,
		EnvVerificationSecret}
}
