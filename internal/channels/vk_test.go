package channels

import "testing"

func TestParseVK(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		want    VKCallback
		revokes bool
		err     error
	}{
		{"confirmation", `{"type":"confirmation","group_id":186648891}`,
			VKCallback{Type: "confirmation", GroupID: "186648891"}, false, nil},
		{"confirmation with secret", `{"type":"confirmation","group_id":186648891,"secret":"s3cr3t"}`,
			VKCallback{Type: "confirmation", GroupID: "186648891", Secret: "s3cr3t"}, false, nil},
		{"message_deny", `{"group_id":186648891,"type":"message_deny","event_id":"5e4b0f6c1a2b3c4d5e6f708192a3b4c5d6e7f809","v":"5.199","object":{"user_id":1234567},"secret":"s3cr3t"}`,
			VKCallback{Type: "message_deny", GroupID: "186648891", EventID: "5e4b0f6c1a2b3c4d5e6f708192a3b4c5d6e7f809", Secret: "s3cr3t", UserID: "1234567", Version: "5.199"}, true, nil},
		{"message_deny with string ids", `{"group_id":"186648891","type":"message_deny","object":{"user_id":"1234567"}}`,
			VKCallback{Type: "message_deny", GroupID: "186648891", UserID: "1234567"}, true, nil},
		{"message_allow", `{"group_id":1,"type":"message_allow","event_id":"e1","object":{"user_id":2,"key":"k"},"secret":"s"}`,
			VKCallback{Type: "message_allow", GroupID: "1", EventID: "e1", Secret: "s"}, false, nil},
		{"message_new", `{"group_id":1,"type":"message_new","event_id":"e2","object":{"message":{"from_id":2,"text":"message_deny"}}}`,
			VKCallback{Type: "message_new", GroupID: "1", EventID: "e2"}, false, nil},
		{"message_deny without object", `{"group_id":1,"type":"message_deny"}`, VKCallback{}, false, ErrMalformed},
		{"message_deny without user_id", `{"group_id":1,"type":"message_deny","object":{}}`, VKCallback{}, false, ErrMalformed},
		{"message_deny negative user_id", `{"group_id":1,"type":"message_deny","object":{"user_id":-2}}`, VKCallback{}, false, ErrMalformed},
		{"message_deny zero user_id", `{"group_id":1,"type":"message_deny","object":{"user_id":0}}`, VKCallback{}, false, ErrMalformed},
		{"group_id missing", `{"type":"confirmation"}`, VKCallback{}, false, ErrMalformed},
		{"group_id zero", `{"type":"confirmation","group_id":0}`, VKCallback{}, false, ErrMalformed},
		{"group_id negative", `{"type":"confirmation","group_id":-1}`, VKCallback{}, false, ErrMalformed},
		{"group_id text", `{"type":"confirmation","group_id":"club1"}`, VKCallback{}, false, ErrMalformed},
		{"group_id fraction", `{"type":"confirmation","group_id":1.5}`, VKCallback{}, false, ErrMalformed},
		{"type missing", `{"group_id":1}`, VKCallback{}, false, ErrMalformed},
		{"type empty", `{"type":"","group_id":1}`, VKCallback{}, false, ErrMalformed},
		{"type not a string", `{"type":1,"group_id":1}`, VKCallback{}, false, ErrMalformed},
		{"secret not a string", `{"type":"confirmation","group_id":1,"secret":1}`, VKCallback{}, false, ErrMalformed},
		{"event_id not a string", `{"type":"message_new","group_id":1,"event_id":1}`, VKCallback{}, false, ErrMalformed},
		{"not JSON", `type=confirmation`, VKCallback{}, false, ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseVK([]byte(c.body))
			wantErr(t, err, c.err)
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if got.Revokes() != c.revokes {
				t.Fatalf("Revokes() = %v, want %v", got.Revokes(), c.revokes)
			}
		})
	}
}

func TestVerifyVKSecret(t *testing.T) {
	cases := []struct {
		name, got, want string
		err             error
	}{
		{"match", "s3cr3t", "s3cr3t", nil},
		{"wrong secret", "s3cr3T", "s3cr3t", ErrForged},
		{"missing secret", "", "s3cr3t", ErrForged},
		{"prefix", "s3cr", "s3cr3t", ErrForged},
		{"no secret configured", "", "", ErrForged},
		{"no secret configured, one sent", "s3cr3t", "", ErrForged},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantErr(t, VerifyVKSecret(c.got, c.want), c.err)
		})
	}
	// parse then verify, as the handler will
	cb, err := ParseVK([]byte(`{"group_id":1,"type":"message_deny","object":{"user_id":2},"secret":"right"}`))
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, VerifyVKSecret(cb.Secret, "right"), nil)
	wantErr(t, VerifyVKSecret(cb.Secret, "wrong"), ErrForged)
}
