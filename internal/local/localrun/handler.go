package localrun

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/local/gateway"
	"github.com/lethe-dev/lethe/internal/seed"
)

// demoTokenTTL is how long the tokens /_local/demo hands out stay valid.
const demoTokenTTL = 12 * time.Hour

// Handler serves the local-only control routes. Later capabilities mount the API and webhooks beside
// them.
func (s *System) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_local/health", s.health)
	mux.HandleFunc("GET /_local/demo", s.demo)
	mux.HandleFunc("POST /_local/token", s.token)
	mux.HandleFunc("GET /_local/clock", s.clock)
	mux.HandleFunc("POST /_local/clock/advance", s.advanceClock)
	mux.HandleFunc("GET /_local/executions", s.executions)
	mux.HandleFunc("POST /_local/sweeps/{name}", s.runSweep)
	mux.HandleFunc("GET /_local/sweeps", s.listSweeps)
	s.channels.Register(mux, localChannelsPath)
	mux.HandleFunc("POST /_local/channels/{connectionId}/revoke", s.revokeConnection)
	mux.HandleFunc("GET /_local/channels/{connectionId}/messages", s.connectionMessages)
	mux.HandleFunc("/_local/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound,
			fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	// Everything else goes through the local API Gateway, to the handlers the Lambdas run.
	api, hooks := s.Workflows.System.API().Routes(), s.Workflows.System.Webhooks.Routes()
	if s.lambdas != nil { // LETHE_LAMBDA_RUNTIME=rie: each route's proxy event to its function's binary
		api, hooks = routesOver(api, s.lambdas.http("ApiFunction")), routesOver(hooks, s.lambdas.http("ChannelWebhookFunction"))
	}
	routes := append(api, hooks...)
	mux.Handle("/", &gateway.Gateway{Routes: routes, Authorizer: gateway.JWTAuthorizer(s.Issuer),
		Now: s.Workflows.Engine.Clock().Now})
	return mux
}

type componentHealth struct {
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// health checks each emulator for real: a table Lethe needs, the SES emulator's own health check, a
// bucket Lethe needs.
func (s *System) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]func(context.Context) error{
		"dynamodb": func(ctx context.Context) error {
			_, err := s.Stack.DynamoDB().DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.Tables[datamap.PlatformTable])})
			return err
		},
		"s3": func(ctx context.Context) error {
			_, err := s.Stack.S3().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.Buckets[datamap.FilesBucket])})
			return err
		},
		"ses": func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Stack.SESEndpoint+"/health-check", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("health check answered %d", resp.StatusCode)
			}
			return nil
		},
	}
	out := struct {
		Status     string                     `json:"status"`
		Components map[string]componentHealth `json:"components"`
	}{Status: "ok", Components: map[string]componentHealth{}}
	code := http.StatusOK
	for name, check := range checks {
		if err := check(ctx); err != nil {
			out.Components[name] = componentHealth{Status: "down", Detail: err.Error()}
			out.Status, code = "degraded", http.StatusServiceUnavailable
			continue
		}
		out.Components[name] = componentHealth{Status: "ok"}
	}
	writeJSON(w, code, out)
}

type demoMember struct {
	seed.ManifestMember
	Token string `json:"token"`
}

type demoAccount struct {
	seed.ManifestAccount
	Members []demoMember `json:"members"`
	// Tokens is a ready bearer token per role of this account.
	Tokens map[string]string `json:"tokens"`
	// Inbox lists a few inbox messages (no dashboard route lists them) to try the Inbox deletion on.
	Inbox []demoInboxMessage `json:"inbox"`
}

// demoOfficer is an operator identity: a member of the privacy officer's team, who signs in to the
// console's officer side and may call /v1/ops/….
type demoOfficer struct {
	Sub   string `json:"sub"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Token string `json:"token"`
}

// DemoOfficers are the local operator identities /_local/demo lists (the demo data has one privacy
// officer; the second shows that every action names who took it).
var DemoOfficers = []demoOfficer{
	{Sub: "officer-1", Name: "Ирина Смирнова", Email: "privacy-officer@lethe.localhost"},
	{Sub: "officer-2", Name: "Pavel Orlov", Email: "privacy-deputy@lethe.localhost"},
}

// OperatorToken mints a local operator token carrying the configured operator group.
func (s *System) OperatorToken(sub, name string) (string, error) {
	return s.Issuer.MintOperator(sub, name, cmp.Or(s.Config.OpsGroupClaim, config.DefaultOpsGroupClaim),
		[]string{cmp.Or(s.Config.OpsGroup, config.DefaultOpsGroup)}, demoTokenTTL)
}

type demoInboxMessage struct {
	ID        string `json:"id"`
	BotID     string `json:"botId"`
	EndUserID string `json:"endUserId"`
}

// demoInboxLimit bounds the inbox messages /_local/demo lists per account.
const demoInboxLimit = 5

// demo lists the seeded data a person needs to try Lethe by hand: accounts with their owner's email
// and password, a bearer token per role, bots with connections and their webhook secrets, end users,
// and the local values of the secrets of SPEC §8.
func (s *System) demo(w http.ResponseWriter, r *http.Request) {
	out := struct {
		APIURL         string            `json:"apiUrl"`
		SESUIURL       string            `json:"sesUiUrl"`
		SMTP           string            `json:"smtp"`        // host:port of the local SMTP receiver
		InfoAddress    string            `json:"infoAddress"` // where deletion requests are mailed
		Seed           uint64            `json:"seed"`
		Now            time.Time         `json:"now"`
		Accounts       []demoAccount     `json:"accounts"`
		Officers       []demoOfficer     `json:"officers"` // operator identities (/v1/ops/…)
		MetaASIDShared string            `json:"metaAsidShared"`
		Secrets        map[string]string `json:"secrets"`
		Config         map[string]string `json:"config"`
	}{APIURL: s.APIURL, SESUIURL: s.Stack.SESEndpoint, SMTP: s.SMTPAddr, InfoAddress: s.Config.InfoAddress, Seed: s.Manifest.Seed, Now: s.Manifest.Now,
		MetaASIDShared: s.Manifest.MetaASIDShared, Secrets: map[string]string{}, Config: map[string]string{}}
	for _, a := range s.Manifest.Accounts {
		da := demoAccount{ManifestAccount: a, Tokens: map[string]string{}, Inbox: []demoInboxMessage{}}
		for _, eu := range a.EndUsers {
			if len(da.Inbox) >= demoInboxLimit {
				break
			}
			msgs, _ := s.Store.InboxMessages(r.Context(), eu.ID) // an end user deleted meanwhile has none
			for _, m := range msgs {
				if len(da.Inbox) < demoInboxLimit {
					da.Inbox = append(da.Inbox, demoInboxMessage{ID: m.ID, BotID: m.BotID, EndUserID: m.EndUserID})
				}
			}
		}
		for _, m := range a.Members {
			tok, err := s.Issuer.Mint(m.Sub, a.ID, demoTokenTTL)
			if err != nil {
				writeProblem(w, http.StatusInternalServerError, "could not mint a demo token")
				return
			}
			da.Members = append(da.Members, demoMember{ManifestMember: m, Token: tok})
			if _, ok := da.Tokens[m.Role]; !ok {
				da.Tokens[m.Role] = tok
			}
		}
		out.Accounts = append(out.Accounts, da)
	}
	for _, o := range DemoOfficers {
		tok, err := s.OperatorToken(o.Sub, o.Name)
		if err != nil {
			writeProblem(w, http.StatusInternalServerError, "could not mint a demo token")
			return
		}
		o.Token = tok
		out.Officers = append(out.Officers, o)
	}
	secret := map[string]bool{config.EnvMetaAppSecret: true, config.EnvSlackSigningSecret: true, config.EnvWhatsAppVerifyToken: true}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if secret[k] {
			out.Secrets[k] = s.Env[k]
		} else {
			out.Config[k] = s.Env[k]
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeProblem answers with an RFC 9457 problem document, as the API's handlers write it.
func writeProblem(w http.ResponseWriter, code int, detail string) {
	p := httpapi.NewProblem(code, detail)
	w.Header().Set("Content-Type", httpapi.ProblemContentType)
	w.WriteHeader(p.Status)
	_, _ = w.Write(p.JSON())
}

// token mints a token as the authorizer would accept it: {"sub","account_id"} → a team member's
// {"token"}; {"sub","name","operator":true} → an operator's, carrying the operator group.
func (s *System) token(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Sub       string `json:"sub"`
		AccountID string `json:"account_id"`
		Name      string `json:"name"`
		Operator  bool   `json:"operator"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil || in.Sub == "" || in.AccountID == "" && !in.Operator {
		writeProblem(w, http.StatusBadRequest, `send {"sub": "...", "account_id": "..."} or {"sub": "...", "name": "...", "operator": true}`)
		return
	}
	var tok string
	var err error
	if in.Operator {
		tok, err = s.OperatorToken(in.Sub, in.Name)
	} else {
		tok, err = s.Issuer.Mint(in.Sub, in.AccountID, demoTokenTTL)
	}
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "could not mint a token")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// maxAdvance bounds one clock step: a year covers every timeline of SPEC §3.
const maxAdvance = 366 * 24 * time.Hour

// clock answers the service's (virtual) time, which every deadline, token and signature window is
// judged by: a client signing a webhook (Slack's 5-minute window) takes its timestamp from here
// once the clock has been advanced.
func (s *System) clock(w http.ResponseWriter, _ *http.Request) {
	now := s.Workflows.Engine.Clock().Now()
	writeJSON(w, http.StatusOK, map[string]any{"now": now, "unix": now.Unix()})
}

// advanceClock moves the virtual clock on ({"duration":"720h"}): every Wait, timeout and retry due
// in between happens, in time order, before it answers with the new time.
func (s *System) advanceClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Duration string `json:"duration"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		writeProblem(w, http.StatusBadRequest, `send {"duration": "720h"}`)
		return
	}
	d, err := time.ParseDuration(in.Duration)
	if err != nil || d <= 0 || d > maxAdvance {
		writeProblem(w, http.StatusBadRequest,
			fmt.Sprintf("duration %q: want a positive Go duration up to %s", in.Duration, maxAdvance))
		return
	}
	now, err := s.Workflows.Engine.Advance(r.Context(), d)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": now, "advancedBy": d.String()})
}

// executions lists every execution with its state, transitions and estimated AWS cost.
func (s *System) executions(w http.ResponseWriter, r *http.Request) {
	execs := s.Workflows.Engine.Executions()
	total := struct {
		Executions  int     `json:"executions"`
		Transitions int     `json:"transitions"`
		CostUSD     float64 `json:"costUsd"`
	}{Executions: len(execs)}
	for _, e := range execs {
		total.Transitions += e.Transitions
		total.CostUSD += e.CostUSD
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": s.Workflows.Engine.Clock().Now(), "executions": execs, "total": total})
}
