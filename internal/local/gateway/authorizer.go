package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lethe-dev/lethe/internal/local/localauth"
)

// Authorizer validates a bearer token as a route's JWT authorizer would and returns the token's claims
// rendered as the authorizer hands them to the integration: every claim, each value a string.
type Authorizer interface {
	Verify(token string) (claims map[string]string, err error)
}

// JWTAuthorizer adapts the local token issuer to the authorizer: the issuer checks what API Gateway
// checks (RS256 signature, iss, aud, exp, nbf), then every claim of the token is passed on, as the
// real authorizer passes them all and not only the ones the dashboard reads.
func JWTAuthorizer(iss *localauth.Issuer) Authorizer {
	return issuerAuthorizer{iss: iss}
}

type issuerAuthorizer struct{ iss *localauth.Issuer }

func (a issuerAuthorizer) Verify(token string) (map[string]string, error) {
	if _, err := a.iss.Verify(token); err != nil {
		return nil, err
	}
	// The signature is good, so the payload segment can be read as it stands.
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("token payload: %w", err)
	}
	return stringClaims(payload)
}

// stringClaims renders a JWT payload the way the HTTP API JWT authorizer puts it in
// requestContext.authorizer.jwt.claims: strings as they are, numbers and booleans as their JSON text,
// arrays as "[a b]" (space-separated in brackets), objects as JSON text, null claims left out.
func stringClaims(payload []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("token payload: %w", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		v = bytes.TrimSpace(v)
		switch {
		case bytes.Equal(v, []byte("null")):
			continue
		case len(v) > 0 && v[0] == '[':
			var items []json.RawMessage
			if err := json.Unmarshal(v, &items); err != nil {
				return nil, fmt.Errorf("claim %s: %w", k, err)
			}
			strs := make([]string, 0, len(items))
			for _, it := range items {
				strs = append(strs, scalarClaim(it))
			}
			out[k] = "[" + strings.Join(strs, " ") + "]"
		default:
			out[k] = scalarClaim(v)
		}
	}
	return out, nil
}

func scalarClaim(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	var s string
	if len(v) > 0 && v[0] == '"' && json.Unmarshal(v, &s) == nil {
		return s
	}
	if len(v) > 0 && v[0] == '{' {
		var buf bytes.Buffer
		if json.Compact(&buf, v) == nil {
			return buf.String()
		}
	}
	return string(v)
}

// tokenScopes reads the scopes a token grants from its rendered claims: "scope" is a space-separated
// string; "scp" may have been an array, which the claims carry as "[a b]".
func tokenScopes(claims map[string]string) []string {
	set := map[string]bool{}
	for _, name := range []string{"scope", "scp"} {
		v := strings.TrimSuffix(strings.TrimPrefix(claims[name], "["), "]")
		for _, s := range strings.Fields(v) {
			set[s] = true
		}
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// bearerToken reads the identity source $request.header.Authorization, which API Gateway accepts as
// the bare token or the token prefixed with "Bearer ".
func bearerToken(header string) (string, error) {
	tok := strings.TrimSpace(header)
	if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
		tok = strings.TrimSpace(tok[7:])
	}
	if tok == "" {
		return "", errors.New("no token")
	}
	return tok, nil
}
