package intake

import (
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/lethe-dev/lethe/internal/platform"
)

// phoneRegion is the region a phone number written without its country code is read in
// ("8 (912) 123-45-67").
const phoneRegion = "RU"

// identKey is one entry of the channel identity index: a channel and the id it knows a person by.
type identKey struct{ channel, externalID string }

// claim is what an end customer wrote as "your username", read every way a channel stores an
// identifier: a channel username or VK screen name, a display name, and the channel ids it may be
// (phone numbers, VK ids, Slack member ids, Telegram ids).
type claim struct {
	username string     // without @: Telegram and Instagram usernames, VK screen names
	name     string     // normalized as the name search normalizes names
	idents   []identKey // to look up in the channel identity index
}

var (
	vkLink     = lazyRegexp(`(?i)^(?:https?://)?(?:m\.|www\.)?vk\.(?:com|ru)/([A-Za-z0-9_.]+)/?$`)
	vkID       = lazyRegexp(`(?i)^id([0-9]{1,12})$`)
	digitsOnly = lazyRegexp(`^[0-9]{1,15}$`)
	slackID    = lazyRegexp(`(?i)^[UW][A-Z0-9]{6,14}$`)
	phoneLike  = lazyRegexp(`^\+?[0-9 ()\-.]{7,24}$`)
	nonDigit   = lazyRegexp(`[^0-9]`)
)

// readClaim reads what an end customer gave as their username.
func readClaim(s string) claim {
	s = strings.TrimSpace(s)
	var c claim
	if s == "" {
		return c
	}
	c.name = platform.NormalizeName(s)
	if m := vkLink().FindStringSubmatch(s); m != nil {
		s = m[1] // vk.com/id123 or vk.com/screen_name
		if id := vkID().FindStringSubmatch(s); id != nil {
			c.idents = append(c.idents, identKey{platform.ChannelVK, id[1]})
			return c
		}
		c.username = s
		return c
	}
	c.username = strings.TrimPrefix(s, "@")
	if id := vkID().FindStringSubmatch(s); id != nil {
		c.idents = append(c.idents, identKey{platform.ChannelVK, id[1]})
	}
	if slackID().MatchString(s) {
		c.idents = append(c.idents, identKey{platform.ChannelSlack, strings.ToUpper(s)})
	}
	if digitsOnly().MatchString(s) {
		// A bare number is a VK or Telegram id as much as a phone number.
		c.idents = append(c.idents, identKey{platform.ChannelVK, s}, identKey{platform.ChannelTelegram, s})
	}
	if e164, ok := phoneE164(s); ok {
		// WhatsApp's id is the number without its +; a number shared in a chat is stored in E.164.
		for _, ch := range []string{platform.ChannelWhatsApp, platform.IdentityPhone} {
			c.idents = append(c.idents, identKey{ch, e164}, identKey{ch, strings.TrimPrefix(e164, "+")})
		}
	}
	return c
}

// phoneE164 reads s as a phone number, in any of the ways people write one ("+7 912 123-45-67",
// "8 (912) 123-45-67", "79121234567"), and returns it in E.164.
func phoneE164(s string) (string, bool) {
	if !phoneLike().MatchString(s) {
		return "", false
	}
	digits := nonDigit().ReplaceAllString(s, "")
	if len(digits) < 10 || len(digits) > 15 {
		return "", false
	}
	tries := []string{s}
	if !strings.HasPrefix(s, "+") {
		// "79121234567": the country code without its +.
		tries = append(tries, "+"+digits)
	}
	for _, t := range tries {
		n, err := phonenumbers.Parse(t, phoneRegion)
		if err == nil && phonenumbers.IsValidNumber(n) {
			return phonenumbers.Format(n, phonenumbers.E164), true
		}
	}
	return "", false
}
