// Package password hashes account owners' passwords with argon2id and verifies a password against a
// stored hash, argon2id (PHC string form) or bcrypt (accounts migrated from older systems). The owner
// re-enters the password to request account deletion (SPEC §4).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/lethe-dev/lethe/internal/lerr"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// DefaultParams follow OWASP's Password Storage Cheat Sheet (argon2id, m=19 MiB, t=2, p=1): about
// 20–40 ms per hash on one core, cheap enough for a login path and costly for an attacker.
var DefaultParams = Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Limits on parameters read from a stored hash, so a corrupted or planted hash cannot make Verify
// allocate gigabytes or run for minutes.
const (
	MaxMemory      = 256 * 1024 // KiB
	MaxIterations  = 16
	MaxParallelism = 16
	MinSaltLength  = 8
	MinKeyLength   = 16
	MaxKeyLength   = 128
	MaxBcryptCost  = 15
)

// Errors of Verify. A wrong password is not an error: Verify returns false and nil.
var (
	// ErrMalformedHash: the stored hash is not a well-formed argon2id PHC string or bcrypt hash.
	ErrMalformedHash = lerr.New(lerr.EINTERNAL, "password: malformed hash")
	// ErrUnsupportedAlgorithm: the hash names an algorithm other than argon2id and bcrypt (argon2i,
	// argon2d, scrypt, plain text …).
	ErrUnsupportedAlgorithm = lerr.New(lerr.EINTERNAL, "password: unsupported hash algorithm")
	// ErrIncompatibleVersion: an argon2id hash of a version other than 19 (0x13).
	ErrIncompatibleVersion = lerr.New(lerr.EINTERNAL, "password: incompatible argon2 version")
	// ErrParamsOutOfRange: the hash's cost parameters are beyond the limits above.
	ErrParamsOutOfRange = lerr.New(lerr.EINTERNAL, "password: hash parameters out of range")
)

const argon2idPrefix = "$argon2id$"

// Hash returns the argon2id PHC string of pw with DefaultParams and a random salt.
func Hash(pw string) (string, error) {
	salt := make([]byte, DefaultParams.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	return HashWithSalt(pw, salt, DefaultParams)
}

// HashWithSalt returns the argon2id PHC string of pw with the given salt and parameters (p's
// SaltLength is ignored: the salt is used as given). It exists for deterministic demo data and test
// vectors; real passwords take Hash's random salt.
func HashWithSalt(pw string, salt []byte, p Params) (string, error) {
	if err := p.check(uint32(len(salt))); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Iterations, p.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding

func (p Params) check(saltLen uint32) error {
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > MaxMemory,
		p.Iterations < 1 || p.Iterations > MaxIterations,
		p.Parallelism < 1 || p.Parallelism > MaxParallelism,
		saltLen < MinSaltLength,
		p.KeyLength < MinKeyLength || p.KeyLength > MaxKeyLength:
		return fmt.Errorf("%w: m=%d t=%d p=%d salt=%d key=%d", ErrParamsOutOfRange,
			p.Memory, p.Iterations, p.Parallelism, saltLen, p.KeyLength)
	}
	return nil
}

// Verify reports whether pw matches hash, an argon2id PHC string or a bcrypt hash ($2a$, $2b$,
// $2y$). The comparison takes constant time in the hash's bytes. bcrypt reads only the first 72
// bytes of a password, as every bcrypt implementation does.
func Verify(hash, pw string) (bool, error) {
	switch {
	case strings.HasPrefix(hash, argon2idPrefix):
		return verifyArgon2id(hash, pw)
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return verifyBcrypt(hash, pw)
	case strings.HasPrefix(hash, "$"):
		return false, ErrUnsupportedAlgorithm
	}
	return false, ErrMalformedHash
}

// verifyArgon2id checks "$argon2id$v=19$m=<KiB>,t=<iterations>,p=<lanes>$<salt>$<key>".
func verifyArgon2id(hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" {
		return false, fmt.Errorf("%w: argon2id hash has %d fields", ErrMalformedHash, len(parts)-1)
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok {
		return false, fmt.Errorf("%w: no version", ErrMalformedHash)
	}
	version, err := strconv.Atoi(v)
	if err != nil {
		return false, fmt.Errorf("%w: version %q", ErrMalformedHash, v)
	}
	if version != argon2.Version {
		return false, fmt.Errorf("%w: v=%d", ErrIncompatibleVersion, version)
	}
	p, err := parseParams(parts[3])
	if err != nil {
		return false, err
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	want, err := b64.Strict().DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("%w: key: %v", ErrMalformedHash, err)
	}
	p.KeyLength = uint32(len(want))
	if err := p.check(uint32(len(salt))); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parseParams reads "m=…,t=…,p=…" in that order, as the PHC format and the reference encoder write it.
func parseParams(s string) (Params, error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return Params{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, s)
	}
	var vals [3]uint64
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return Params{}, fmt.Errorf("%w: parameters %q", ErrMalformedHash, s)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return Params{}, fmt.Errorf("%w: parameter %s=%q", ErrMalformedHash, name, v)
		}
		vals[i] = n
	}
	if vals[2] > MaxParallelism {
		return Params{}, fmt.Errorf("%w: p=%d", ErrParamsOutOfRange, vals[2])
	}
	return Params{Memory: uint32(vals[0]), Iterations: uint32(vals[1]), Parallelism: uint8(vals[2])}, nil
}

func verifyBcrypt(hash, pw string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil {
		return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
	if cost > MaxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost %d", ErrParamsOutOfRange, cost)
	}
	// CompareHashAndPassword compares in constant time.
	switch err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)); {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
	}
}
