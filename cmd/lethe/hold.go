package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/local/localrun"
)

func init() {
	register(command{name: "hold", summary: "place, release and list legal holds (privacy officers, through the ops API)", run: holdCommand})
}

const holdUsage = `usage:
  lethe hold place   --account ID --scope account|bot|end_user [--id BOT_OR_END_USER] --reason TEXT --authority WHO --ref REFERENCE [--until YYYY-MM-DD]
  lethe hold release --hold ID --note TEXT
  lethe hold list    [--account ID] [--active]

Every action goes through the ops API (/v1/ops/holds) as the operator the token names, who is
recorded on the hold and in the history of the account's open requests. A hold keeps what it
covers from every deletion until it is released; releasing it hands the requests it held back to
their workflows, which finish them. Without --account, list prints the holds of every account
(every page), newest first.

  --api URL        the API (default: where make run serves it, http://127.0.0.1:$LETHE_API_PORT,
                   port 3000 when unset)
  --token TOKEN    an operator's bearer token (default $LETHE_OPS_TOKEN); without one, a local
                   token is asked of the local run's POST /_local/token for --operator-sub and
                   --operator-name (default: the first demo officer)
`

// EnvOpsToken is the operator token `lethe hold` sends when --token is not given.
const EnvOpsToken = "LETHE_OPS_TOKEN"

// holdVerbs are the actions of `lethe hold`.
var holdVerbs = map[string]bool{"place": true, "release": true, "list": true}

func holdCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && isHelp(args[0]):
		fmt.Fprint(stdout, holdUsage)
		return exitCode(0)
	case len(args) == 0:
		fmt.Fprint(stderr, "lethe hold: place, release or list?\n\n"+holdUsage)
		return exitCode(2)
	case !holdVerbs[args[0]]:
		fmt.Fprintf(stderr, "lethe hold: unknown action %q\n\n%s", args[0], holdUsage)
		return exitCode(2)
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet("hold "+verb, flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprint(fs.Output(), holdUsage) }
	apiURL := fs.String("api", "", "the API's base URL")
	token := fs.String("token", "", "an operator's bearer token (default $"+EnvOpsToken+")")
	opSub := fs.String("operator-sub", localrun.DemoOfficers[0].Sub, "local run only: the operator to ask a token for")
	opName := fs.String("operator-name", localrun.DemoOfficers[0].Name, "local run only: their name")
	account := fs.String("account", "", "account id")
	scope := fs.String("scope", "", "account, bot or end_user")
	id := fs.String("id", "", "the bot or end user id (scope bot or end_user)")
	reason := fs.String("reason", "", "why the data must be kept")
	authority := fs.String("authority", "", "who demands it (a court, an investigating authority)")
	ref := fs.String("ref", "", "the reference of the authority's request")
	until := fs.String("until", "", "the end date the authority stated, if any (informational: a hold lasts until released)")
	holdID := fs.String("hold", "", "hold id")
	note := fs.String("note", "", "why the hold is released")
	active := fs.Bool("active", false, "list only the holds not released")
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected arguments %q", fs.Args())
	}
	if *apiURL == "" {
		local, err := localrun.EndpointsFromEnv()
		if err != nil {
			return err
		}
		*apiURL = local.API
	}
	c := &opsClient{base: strings.TrimRight(*apiURL, "/"), token: cmp.Or(*token, os.Getenv(EnvOpsToken))}
	var (
		method, path string
		body         any
	)
	switch verb {
	case "place":
		method, path = http.MethodPost, "/v1/ops/holds"
		b := map[string]any{"accountId": *account, "scope": map[string]string{"kind": *scope, "id": *id},
			"reason": *reason, "authority": *authority, "authorityRef": *ref}
		if *until != "" {
			b["until"] = *until
		}
		body = b
	case "release":
		if *holdID == "" {
			return usageError(fs, stderr, "release needs --hold")
		}
		method, path, body = http.MethodPost, "/v1/ops/holds/"+url.PathEscape(*holdID)+"/release", map[string]string{"note": *note}
	case "list":
		q := url.Values{"active": {strconv.FormatBool(*active)}}
		if *account != "" {
			q.Set("account", *account)
		}
		method, path = http.MethodGet, "/v1/ops/holds?"+q.Encode()
	}
	if c.token == "" {
		if err := c.localToken(ctx, *opSub, *opName); err != nil {
			return err
		}
	}
	out, err := c.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	if verb == "list" && *account == "" {
		if out, err = c.allPages(ctx, path, out); err != nil {
			return err
		}
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "  "); err != nil {
		return fmt.Errorf("the API answered something other than JSON: %w", err)
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
}

// allPages follows the nextCursor of a listing whose first page is first and answers every
// page's items as one listing.
func (c *opsClient) allPages(ctx context.Context, path string, first []byte) ([]byte, error) {
	var all struct {
		Items []json.RawMessage `json:"items"`
	}
	page := first
	for {
		var p struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"nextCursor"`
		}
		if err := json.Unmarshal(page, &p); err != nil {
			return nil, fmt.Errorf("the API answered something other than a listing: %w", err)
		}
		all.Items = append(all.Items, p.Items...)
		if p.NextCursor == "" {
			if all.Items == nil {
				all.Items = []json.RawMessage{}
			}
			return json.Marshal(all)
		}
		var err error
		if page, err = c.do(ctx, http.MethodGet, path+"&cursor="+url.QueryEscape(p.NextCursor), nil); err != nil {
			return nil, err
		}
	}
}

// opsClient calls the ops API with an operator's token.
type opsClient struct {
	base, token string
	http        http.Client
}

// localToken asks the local run for an operator token (POST /_local/token): only a local run
// mints one; a deployed API has no such route and the caller must pass --token.
func (c *opsClient) localToken(ctx context.Context, sub, name string) error {
	out, err := c.do(ctx, http.MethodPost, "/_local/token", map[string]any{"sub": sub, "name": name, "operator": true})
	if err != nil {
		return fmt.Errorf("no --token or $%s, and no local token from %s: %w", EnvOpsToken, c.base, err)
	}
	var t struct{ Token string }
	if err := json.Unmarshal(out, &t); err != nil || t.Token == "" {
		return fmt.Errorf("no token in the local run's answer from %s", c.base)
	}
	c.token = t.Token
	return nil
}

// do sends one call and returns the answer's body; a problem+json answer is an error naming its
// status, title, detail and invalid fields.
func (c *opsClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var in io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		in = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, in)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 300 {
		return out, nil
	}
	var p struct {
		Title, Detail string
		Errors        []struct{ Field, Message string }
	}
	msg := strings.TrimSpace(string(out))
	if json.Unmarshal(out, &p) == nil && (p.Title != "" || p.Detail != "") {
		msg = strings.TrimSuffix(p.Title+": "+p.Detail, ": ")
		for _, f := range p.Errors {
			msg += "; " + f.Field + ": " + f.Message
		}
	}
	return nil, fmt.Errorf("%s %s: %d %s", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode, msg)
}
