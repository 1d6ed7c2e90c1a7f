// Package localauth stands in for the API Gateway JWT authorizer's identity provider on a developer's
// machine: it keeps a local RS256 signing key, mints bearer tokens with the claims the dashboard API
// reads (sub, account_id), and verifies them exactly as the authorizer would (signature, issuer,
// audience, expiry). It is never deployed.
package localauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Issuer mints and verifies local tokens.
type Issuer struct {
	key      *rsa.PrivateKey
	issuer   string
	audience string
	now      func() time.Time
}

// Claims are the claims the dashboard API reads from the authorizer's context: an account member's
// token names their account; an operator's names them (name) and their groups (in the claim
// OPS_GROUP_CLAIM names, "cognito:groups" by default, kept in Extra).
type Claims struct {
	AccountID string `json:"account_id,omitempty"`
	Name      string `json:"name,omitempty"`
	jwt.RegisteredClaims
}

// LoadOrCreate reads the PEM key at path, or makes and saves one (0600) when there is none, so tokens
// printed by one `make run` keep working after a restart.
func LoadOrCreate(path, issuer, audience string, now func() time.Time) (*Issuer, error) {
	if now == nil {
		now = time.Now
	}
	var key *rsa.PrivateKey
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("local signing key %s: no PEM block", path)
		}
		if key, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			return nil, fmt.Errorf("local signing key %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		out := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
		if err := os.WriteFile(path, out, 0o600); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	return &Issuer{key: key, issuer: issuer, audience: audience, now: now}, nil
}

// New makes an issuer with a fresh in-memory key (tests).
func New(issuer, audience string, now func() time.Time) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Issuer{key: key, issuer: issuer, audience: audience, now: now}, nil
}

// Mint returns a signed token for a team member of an account, valid for ttl.
func (i *Issuer) Mint(sub, accountID string, ttl time.Duration) (string, error) {
	if sub == "" || accountID == "" {
		return "", errors.New("a token needs sub and account_id")
	}
	now := i.now()
	c := Claims{AccountID: accountID, RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, Issuer: i.issuer, Audience: jwt.ClaimStrings{i.audience},
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "local"
	return tok.SignedString(i.key)
}

// MintOperator returns a signed token for an operator (the privacy officer's team): no account, a
// display name, and the groups under groupClaim (the claim OPS_GROUP_CLAIM names), as Cognito puts a
// user's groups in "cognito:groups".
func (i *Issuer) MintOperator(sub, name, groupClaim string, groups []string, ttl time.Duration) (string, error) {
	if sub == "" || groupClaim == "" || len(groups) == 0 {
		return "", errors.New("an operator token needs sub, the group claim and a group")
	}
	now := i.now()
	c := jwt.MapClaims{"sub": sub, "iss": i.issuer, "aud": []string{i.audience}, "iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(ttl).Unix(), groupClaim: groups}
	if name != "" {
		c["name"] = name
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "local"
	return tok.SignedString(i.key)
}

// Verify checks a token as the API Gateway JWT authorizer does and returns its claims. Like the
// authorizer it requires a subject but no account: the API refuses a token without account_id on
// an account's routes, and one without the operator group on the operator routes.
func (i *Issuer) Verify(token string) (Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return &i.key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(i.issuer), jwt.WithAudience(i.audience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(i.now))
	if err != nil {
		return Claims{}, err
	}
	if c.Subject == "" {
		return Claims{}, errors.New("token lacks sub")
	}
	return c, nil
}
