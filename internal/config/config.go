// Package config reads Lethe's configuration from environment variables: the same names in
// production (set by template.yaml from its parameters) and locally (set by `lethe local` from the
// documented defaults, each overridable from the environment).
package config

import (
	"fmt"
	"net/url"
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
	// TelegramAPIBaseURL (TELEGRAM_API_BASE_URL, optional) is the Telegram Bot API the token sweep
	// asks getMe of; DefaultTelegramAPIBaseURL when unset or empty. Tests point it at a fake.
	TelegramAPIBaseURL string
}

// DefaultTelegramAPIBaseURL is Telegram's Bot API, what TELEGRAM_API_BASE_URL defaults to.
const DefaultTelegramAPIBaseURL = "https://api.telegram.org"

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
)

// Load reads the configuration through getenv (os.Getenv in production). Missing values are an
// error naming every one of them: a function must not start half-configured.
func Load(getenv func(string) string) (Config, error) {
	var missing []string
	req := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			missing = append(missing, name)
		}
		return v
	}
	c := Config{
		MetaAppSecret:         req(EnvMetaAppSecret),
		SlackSigningSecret:    req(EnvSlackSigningSecret),
		WhatsAppVerifyToken:   req(EnvWhatsAppVerifyToken),
		InfoAddress:           req(EnvInfoAddress),
		SenderAddress:         req(EnvSenderAddress),
		PrivacyOfficerAddress: req(EnvPrivacyOfficerAddress),
		ForwardAddress:        req(EnvForwardAddress),
		PublicBaseURL:         strings.TrimRight(req(EnvPublicBaseURL), "/"),
		PlatformTable:         req(EnvPlatformTable),
		LedgerTable:           req(EnvLedgerTable),
		AnalyticsTable:        req(EnvAnalyticsTable),
		FilesBucket:           req(EnvFilesBucket),
		InboundMailBucket:     req(EnvInboundMailBucket),
		TTLSafetyMargin:       datamap.DefaultSafetyMargin,
		OperatorName:          req(EnvOperatorName),
		OperatorAddress:       req(EnvOperatorAddress),
		OperatorINN:           strings.TrimSpace(getenv(EnvOperatorINN)),
		OperatorNameEN:        strings.TrimSpace(getenv(EnvOperatorNameEN)),
		OperatorAddressEN:     strings.TrimSpace(getenv(EnvOperatorAddressEN)),
		JWTIssuer:             strings.TrimSpace(getenv(EnvJWTIssuer)),
		JWTAudience:           strings.TrimSpace(getenv(EnvJWTAudience)),

		AccountDeletionMachine:    req(EnvAccountDeletionMachine),
		EndUserDeletionMachine:    req(EnvEndUserDeletionMachine),
		ConnectionWipeMachine:     req(EnvConnectionWipeMachine),
		EndCustomerRequestMachine: req(EnvEndCustomerRequestMachine),
		ExtraHolidays:             strings.TrimSpace(getenv(EnvExtraHolidays)),
		ExtraWorkdays:             strings.TrimSpace(getenv(EnvExtraWorkdays)),
	}
	if v := strings.TrimSpace(getenv(EnvTTLSafetyMargin)); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 30*24*time.Hour {
			return Config{}, fmt.Errorf("%s: %q is not a duration between 0 and 720h", EnvTTLSafetyMargin, v)
		}
		c.TTLSafetyMargin = d
	}
	tg, err := telegramBaseURL(getenv(EnvTelegramAPIBaseURL))
	if err != nil {
		return Config{}, err
	}
	c.TelegramAPIBaseURL = tg
	if len(missing) > 0 {
		sort.Strings(missing)
		return Config{}, fmt.Errorf("missing configuration: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// telegramBaseURL reads TELEGRAM_API_BASE_URL: empty means the default; anything else must be an
// absolute http(s) URL with no query, kept without its trailing slash. The sweep sends bot tokens
// there, so a value that is not plainly a URL is refused rather than guessed at.
func telegramBaseURL(v string) (string, error) {
	v = strings.TrimRight(strings.TrimSpace(v), "/")
	if v == "" {
		return DefaultTelegramAPIBaseURL, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// The value is not repeated: it may hold credentials.
		return "", fmt.Errorf("%s is not an http(s) base URL (scheme://host[:port][/path], no credentials or query)", EnvTelegramAPIBaseURL)
	}
	return v, nil
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
	}
}

// Names lists every variable Load reads.
func Names() []string {
	return []string{EnvMetaAppSecret, EnvSlackSigningSecret, EnvWhatsAppVerifyToken, EnvInfoAddress,
		EnvSenderAddress, EnvPrivacyOfficerAddress, EnvPublicBaseURL, EnvPlatformTable, EnvLedgerTable,
		EnvAnalyticsTable, EnvFilesBucket, EnvInboundMailBucket, EnvTTLSafetyMargin, EnvOperatorName, EnvOperatorAddress, EnvOperatorINN,
		EnvOperatorNameEN, EnvOperatorAddressEN, EnvJWTIssuer, EnvJWTAudience,
		EnvAccountDeletionMachine, EnvEndUserDeletionMachine, EnvConnectionWipeMachine, EnvEndCustomerRequestMachine,
		EnvExtraHolidays, EnvExtraWorkdays, EnvTelegramAPIBaseURL, EnvForwardAddress}
}
