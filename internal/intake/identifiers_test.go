package intake

import (
	"slices"
	"testing"

	"github.com/lethe-dev/lethe/internal/platform"
)

func TestPhoneNumbersReadInEveryFormatAreOneE164Number(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"+7 912 123-45-67", "+79121234567"},
		{"8 (912) 123-45-67", "+79121234567"},
		{"79121234567", "+79121234567"},
		{"+7(912)1234567", "+79121234567"},
		{"8.912.123.45.67", "+79121234567"},
		{"+44 7911 123456", "+447911123456"},
		{"447911123456", "+447911123456"},
		{"12345", ""},
		{"ivan_petrov", ""},
		{"+7 912", ""},
	} {
		got, ok := phoneE164(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("phoneE164(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestAClaimIsReadAsEachChannelsIdentifier(t *testing.T) {
	vk := func(id string) identKey { return identKey{platform.ChannelVK, id} }
	for _, c := range []struct {
		in, username, name string
		has                []identKey
		hasNot             []identKey
	}{
		{in: "vk.com/id123", has: []identKey{vk("123")}},
		{in: "https://m.vk.com/id123/", has: []identKey{vk("123")}},
		{in: "id123", username: "id123", has: []identKey{vk("123")}},
		{in: "123", username: "123", has: []identKey{vk("123"), {platform.ChannelTelegram, "123"}}},
		{in: "https://vk.com/durov", username: "durov", hasNot: []identKey{vk("durov")}},
		{in: "@durov", username: "durov", name: "durov"},
		{in: "u0abcdef123", username: "u0abcdef123", has: []identKey{{platform.ChannelSlack, "U0ABCDEF123"}}},
		{in: "Алёна Звягинцева", username: "Алёна Звягинцева", name: "алена звягинцева"},
		{in: "8 912 123 45 67", username: "8 912 123 45 67", has: []identKey{{platform.ChannelWhatsApp, "79121234567"},
			{platform.ChannelWhatsApp, "+79121234567"}, {platform.IdentityPhone, "+79121234567"}}},
	} {
		got := readClaim(c.in)
		if got.username != c.username {
			t.Errorf("%q: username %q, want %q", c.in, got.username, c.username)
		}
		if c.name != "" && got.name != c.name {
			t.Errorf("%q: name %q, want %q", c.in, got.name, c.name)
		}
		for _, k := range c.has {
			if !slices.Contains(got.idents, k) {
				t.Errorf("%q: %v lacks %v", c.in, got.idents, k)
			}
		}
		for _, k := range c.hasNot {
			if slices.Contains(got.idents, k) {
				t.Errorf("%q: %v has %v", c.in, got.idents, k)
			}
		}
	}
}
