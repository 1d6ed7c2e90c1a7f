package password

import (
	"errors"
	"strings"
	"testing"
)

// Known hashes. The first argon2id vector is the reference implementation's own (phc-winner-argon2
// src/test.c); the DefaultParams ones were computed here once and pinned so a change of encoding or
// parameters shows. The bcrypt vectors are Openwall crypt_blowfish's test vectors.
var vectors = []struct {
	name, hash, pw string
}{
	{"argon2id reference", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", "password"},
	{"argon2id default params", "$argon2id$v=19$m=19456,t=2,p=1$bGV0aGUtc2VlZC1zYWx0IQ$xDWCMoJF2iKhcCycUUmVOD9R5XfLlS7HDvbhmd2DhBQ", "lethe-demo-password"},
	{"argon2id cyrillic password", "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gZ5M3V7d+UOB69uHH/n5LAOf0AhlpId979wg9TAg0FI", "Пароль-ёжик"},
	{"bcrypt 2a U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
	{"bcrypt 2a U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"},
	{"bcrypt 2a U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
	{"bcrypt 2y", "$2y$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
	{"bcrypt 2b", "$2b$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
	{"bcrypt past 72 bytes", "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui",
		"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored"},
}

func TestVerifyKnownVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := Verify(v.hash, v.pw)
			if err != nil || !got {
				t.Fatalf("Verify(right password) = %v, %v; want true, nil", got, err)
			}
			for _, wrong := range []string{"", "x" + v.pw, "?" + v.pw[1:], "Пароль-ежик"} {
				if wrong == v.pw {
					continue
				}
				got, err := Verify(v.hash, wrong)
				if err != nil || got {
					t.Errorf("Verify(%q) = %v, %v; want false, nil", wrong, got, err)
				}
			}
		})
	}
}

// bcrypt reads 72 bytes of a password; a legacy bcrypt hash keeps that property.
func TestVerifyBcryptIgnoresPast72Bytes(t *testing.T) {
	v := vectors[len(vectors)-1]
	if ok, err := Verify(v.hash, v.pw[:72]+"something else"); err != nil || !ok {
		t.Errorf("Verify(same 72 bytes) = %v, %v; want true", ok, err)
	}
	if ok, err := Verify(v.hash, v.pw[:71]); err != nil || ok {
		t.Errorf("Verify(71 bytes) = %v, %v; want false", ok, err)
	}
}

func TestHashWithSaltReproducesVectors(t *testing.T) {
	tests := []struct {
		pw, salt string
		p        Params
		want     string
	}{
		{"password", "somesalt", Params{Memory: 65536, Iterations: 2, Parallelism: 1, KeyLength: 32}, vectors[0].hash},
		{"lethe-demo-password", "lethe-seed-salt!", DefaultParams, vectors[1].hash},
		{"Пароль-ёжик", "0123456789abcdef", DefaultParams, vectors[2].hash},
	}
	for _, tt := range tests {
		got, err := HashWithSalt(tt.pw, []byte(tt.salt), tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("HashWithSalt(%q, %q) = %s, want %s", tt.pw, tt.salt, got, tt.want)
		}
	}
}

func TestHashRoundTrip(t *testing.T) {
	pw := "correct horse battery staple"
	h1, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h1, want) {
		t.Errorf("Hash = %s, want prefix %s", h1, want)
	}
	for _, h := range []string{h1, h2} {
		if ok, err := Verify(h, pw); err != nil || !ok {
			t.Errorf("Verify(own hash) = %v, %v", ok, err)
		}
		if ok, err := Verify(h, pw+" "); err != nil || ok {
			t.Errorf("Verify(wrong) = %v, %v", ok, err)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	const good = "$argon2id$v=19$m=19456,t=2,p=1$bGV0aGUtc2VlZC1zYWx0IQ$xDWCMoJF2iKhcCycUUmVOD9R5XfLlS7HDvbhmd2DhBQ"
	tests := []struct {
		name, hash string
		want       error
	}{
		{"empty", "", ErrMalformedHash},
		{"plain text", "lethe-demo-password", ErrMalformedHash},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrUnsupportedAlgorithm},
		{"argon2d", "$argon2d$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrUnsupportedAlgorithm},
		{"scrypt", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrUnsupportedAlgorithm},
		{"bcrypt 2x", "$2x$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", ErrUnsupportedAlgorithm},
		{"argon2id v=16", strings.Replace(good, "v=19", "v=16", 1), ErrIncompatibleVersion},
		{"argon2id no version", strings.Replace(good, "v=19$", "", 1), ErrMalformedHash},
		{"argon2id version not a number", strings.Replace(good, "v=19", "v=x", 1), ErrMalformedHash},
		{"argon2id missing key", good[:strings.LastIndexByte(good, '$')], ErrMalformedHash},
		{"argon2id extra field", good + "$AAAA", ErrMalformedHash},
		{"argon2id params reordered", strings.Replace(good, "m=19456,t=2", "t=2,m=19456", 1), ErrMalformedHash},
		{"argon2id param not a number", strings.Replace(good, "t=2", "t=two", 1), ErrMalformedHash},
		{"argon2id param negative", strings.Replace(good, "t=2", "t=-2", 1), ErrMalformedHash},
		{"argon2id two params", strings.Replace(good, ",p=1", "", 1), ErrMalformedHash},
		{"argon2id padded salt", strings.Replace(good, "IQ$", "IQ==$", 1), ErrMalformedHash},
		{"argon2id bad base64 key", good[:len(good)-4] + "!!!!", ErrMalformedHash},
		{"argon2id huge memory", strings.Replace(good, "m=19456", "m=4194304", 1), ErrParamsOutOfRange},
		{"argon2id zero memory", strings.Replace(good, "m=19456", "m=0", 1), ErrParamsOutOfRange},
		{"argon2id zero iterations", strings.Replace(good, "t=2", "t=0", 1), ErrParamsOutOfRange},
		{"argon2id many iterations", strings.Replace(good, "t=2", "t=1000", 1), ErrParamsOutOfRange},
		{"argon2id zero lanes", strings.Replace(good, "p=1", "p=0", 1), ErrParamsOutOfRange},
		{"argon2id 300 lanes", strings.Replace(good, "p=1", "p=300", 1), ErrParamsOutOfRange},
		{"argon2id short salt", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$xDWCMoJF2iKhcCycUUmVOD9R5XfLlS7HDvbhmd2DhBQ", ErrParamsOutOfRange},
		{"argon2id short key", "$argon2id$v=19$m=19456,t=2,p=1$bGV0aGUtc2VlZC1zYWx0IQ$xDWCMoJF", ErrParamsOutOfRange},
		{"bcrypt truncated", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9", ErrMalformedHash},
		{"bcrypt bad cost", "$2a$xx$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrMalformedHash},
		{"bcrypt cost 31", "$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrParamsOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.hash, "lethe-demo-password")
			if got {
				t.Error("Verify = true on a malformed hash")
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Verify error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestHashWithSaltRejectsBadParams(t *testing.T) {
	tests := []struct {
		name string
		salt []byte
		p    Params
	}{
		{"short salt", []byte("salt"), DefaultParams},
		{"no iterations", []byte("0123456789abcdef"), Params{Memory: 19456, Parallelism: 1, KeyLength: 32}},
		{"too much memory", []byte("0123456789abcdef"), Params{Memory: MaxMemory + 1, Iterations: 1, Parallelism: 1, KeyLength: 32}},
		{"short key", []byte("0123456789abcdef"), Params{Memory: 19456, Iterations: 1, Parallelism: 1, KeyLength: 8}},
	}
	for _, tt := range tests {
		if _, err := HashWithSalt("pw", tt.salt, tt.p); !errors.Is(err, ErrParamsOutOfRange) {
			t.Errorf("%s: error = %v, want ErrParamsOutOfRange", tt.name, err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("lethe-demo-password"); err != nil {
			b.Fatal(err)
		}
	}
}
