package intake_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// putEndUser adds an end user to the bot with the channel ids given (channel → external id), last
// active at last.
func (r *rig) putEndUser(bot platform.Bot, channel, name, username string, last time.Time, idents map[string]string) platform.EndUser {
	r.t.Helper()
	conn := ""
	for _, b := range r.acct.Bots {
		if b.ID == bot.ID && len(b.Connections) > 0 {
			conn = b.Connections[0].ID
		}
	}
	first := last.Add(-30 * 24 * time.Hour)
	u := platform.EndUser{AccountID: bot.AccountID, BotID: bot.ID, ConnectionID: conn, ID: platform.NewID(first), Channel: channel,
		DisplayName: name, NormalizedName: platform.NormalizeName(name), Username: username, FirstConversationAt: first, LastActiveAt: last}
	recs := []platform.Record{u}
	for ch, ext := range idents {
		recs = append(recs, platform.ChannelIdentity{AccountID: u.AccountID, BotID: u.BotID, EndUserID: u.ID, Channel: ch, ExternalID: ext, LastActiveAt: last})
	}
	if err := r.sys.Store.PutAll(r.ctx, recs); err != nil {
		r.t.Fatal(err)
	}
	return u
}

// endCustomerRequestsFrom lists the end-customer requests made by mail from address.
func (r *rig) endCustomerRequestsFrom(address string) []request.Request {
	var out []request.Request
	for _, q := range r.requests() {
		if q.Kind == request.KindEndCustomerRequest && q.Requester == address {
			out = append(out, q)
		}
	}
	return out
}

// endCustomerMail is an end customer's mail naming the bot, an identifier and a day.
func endCustomerMail(from, bot, ident, day string) mail {
	return mail{From: from, Subject: "Data deletion — end customer",
		Body: fmt.Sprintf("Bot: %s\nYour username: %s\nDate of last message: %s\n", bot, ident, day)}
}

func TestEndCustomerIsFoundByEveryChannelsIdentifier(t *testing.T) {
	r := newRig(t)
	_, _, bot := r.endUser()
	last := time.Date(2026, 2, 25, 12, 0, 0, 0, time.UTC)
	day := last.In(msk).Format("02.01.2006")
	wa := r.putEndUser(bot, platform.ChannelWhatsApp, "Вера Полозова", "", last, map[string]string{platform.ChannelWhatsApp: "79121234567"})
	viber := r.putEndUser(bot, platform.ChannelViber, "Zoë Ünal", "", last,
		map[string]string{platform.ChannelViber: "a1b2c3d4e5f6g7h8i9j0kl==", platform.IdentityPhone: "+79031112233"})
	vk := r.putEndUser(bot, platform.ChannelVK, "Иван Крапивин", "ivan_krapivin", last, map[string]string{platform.ChannelVK: "700123456"})
	messenger := r.putEndUser(bot, platform.ChannelMessenger, "Алёна Звягинцева", "", last, map[string]string{platform.ChannelMessenger: "5550001112223334"})
	slack := r.putEndUser(bot, platform.ChannelSlack, "Jörg Müllerström", "", last, map[string]string{platform.ChannelSlack: "U0ABCDEF123"})
	tg := r.putEndUser(bot, platform.ChannelTelegram, "Пётр Ёлкин", "", last, map[string]string{platform.ChannelTelegram: "4400112233"})

	for i, c := range []struct {
		name, ident string
		want        platform.EndUser
	}{
		{"whatsapp +7 with spaces", "+7 912 123-45-67", wa},
		{"whatsapp 8 and brackets", "8 (912) 123-45-67", wa},
		{"whatsapp digits only", "79121234567", wa},
		{"viber phone", "+7 (903) 111 22 33", viber},
		{"viber phone with 8", "89031112233", viber},
		{"viber display name without accents", "zoe unal", viber},
		{"vk numeric id", "700123456", vk},
		{"vk id123", "id700123456", vk},
		{"vk link to id", "https://vk.com/id700123456", vk},
		{"vk link to screen name", "vk.com/ivan_krapivin", vk},
		{"vk screen name", "@ivan_krapivin", vk},
		{"messenger display name, е for ё", "алена звягинцева", messenger},
		{"slack display name in capitals", "JORG MULLERSTROM", slack},
		{"slack member id", "U0ABCDEF123", slack},
		{"telegram numeric id", "4400112233", tg},
	} {
		t.Run(c.name, func(t *testing.T) {
			from := fmt.Sprintf("customer%d@%s", i, r.env.MailDomain)
			r.mustSend(endCustomerMail(from, bot.Name, c.ident, day))
			got := r.endCustomerRequestsFrom(from)
			if len(got) != 1 {
				t.Fatalf("%d requests, want 1", len(got))
			}
			if got[0].Scope.EndUserID != c.want.ID || got[0].Scope.BotID != bot.ID || len(got[0].Candidates) != 0 {
				t.Fatalf("request names %s (candidates %v), want %s", got[0].Scope.EndUserID, got[0].Candidates, c.want.ID)
			}
		})
	}

	// The identifier of someone else's phone, or a day far from the last message: the neutral
	// answer, no request.
	for i, c := range []struct{ name, ident, day string }{
		{"unknown phone", "+7 912 000-00-00", day},
		{"known phone, a week off", "+7 912 123-45-67", last.AddDate(0, 0, -7).Format("02.01.2006")},
		{"known name, three days later", "zoe unal", last.AddDate(0, 0, 3).Format("02.01.2006")},
	} {
		t.Run(c.name, func(t *testing.T) {
			local := fmt.Sprintf("nomatch%d", i)
			r.mustSend(endCustomerMail(r.env.Address(local), bot.Name, c.ident, c.day))
			if got := r.endCustomerRequestsFrom(r.env.Address(local)); len(got) != 0 {
				t.Fatalf("%d requests, want none", len(got))
			}
			if n := r.templateCount(local, "intake_received"); n != 1 {
				t.Fatalf("%d neutral answers, want 1", n)
			}
		})
	}
}

// The day an end customer gives is a day of their own time zone, which the mail's Date header
// tells: late evening in UTC is already the next day in Vladivostok.
func TestEndCustomerDayIsReadInTheMailsTimeZone(t *testing.T) {
	r := newRig(t)
	_, _, bot := r.endUser()
	last := time.Date(2026, 2, 20, 22, 30, 0, 0, time.UTC) // 21 February 08:30 in Vladivostok
	u := r.putEndUser(bot, platform.ChannelWhatsApp, "Олег Приморский", "", last, map[string]string{platform.ChannelWhatsApp: "79241234567"})
	sent := r.eng.Clock().Now()
	for _, c := range []struct {
		local, zone string
		want        int
	}{
		{"vladivostok", sent.In(time.FixedZone("VLAT", 10*3600)).Format(time.RFC1123Z), 1},
		{"greenwich", sent.UTC().Format(time.RFC1123Z), 0},
	} {
		m := endCustomerMail(r.env.Address(c.local), bot.Name, "+7 924 123 45 67", "22.02.2026") // a day after the 21st
		m.Headers = map[string]string{"Date": c.zone}
		r.mustSend(m)
		got := r.endCustomerRequestsFrom(r.env.Address(c.local))
		if len(got) != c.want || c.want == 1 && got[0].Scope.EndUserID != u.ID {
			t.Fatalf("%s: %d requests, want %d", c.local, len(got), c.want)
		}
	}
}

// Two end users answer to the same name on the same day: the owner gets one request listing both,
// approves it only by picking one, and only that one's data goes.
func TestEndCustomerWithSeveralCandidatesGoesToTheOwnerAsOneRequest(t *testing.T) {
	r := newRig(t)
	_, _, bot := r.endUser()
	last := time.Date(2026, 2, 25, 12, 0, 0, 0, time.UTC)
	a := r.putEndUser(bot, platform.ChannelViber, "Алёна Звягинцева", "", last, map[string]string{platform.ChannelViber: "zz1=="})
	b := r.putEndUser(bot, platform.ChannelMessenger, "Алена Звягинцева", "", last.Add(3*time.Hour), map[string]string{platform.ChannelMessenger: "5550009990001112"})
	from := r.env.Address("twins")
	r.mustSend(endCustomerMail(from, bot.Name, "Алёна Звягинцева", last.In(msk).Format("02.01.2006")))
	got := r.endCustomerRequestsFrom(from)
	if len(got) != 1 {
		t.Fatalf("%d requests, want one for both candidates", len(got))
	}
	req := got[0]
	if len(req.Candidates) != 2 || req.Candidates[0] == req.Candidates[1] ||
		(req.Candidates[0] != a.ID && req.Candidates[0] != b.ID) || (req.Candidates[1] != a.ID && req.Candidates[1] != b.ID) {
		t.Fatalf("candidates %v, want %s and %s", req.Candidates, a.ID, b.ID)
	}
	if req.Status != request.StatusAwaitingVerification {
		t.Fatalf("status %s, want awaiting the owner", req.Status)
	}
	// The same mail delivered again makes no second request.
	if err := r.sys.Intake.Handle(r.ctx, r.lastEvent()); err != nil {
		t.Fatal(err)
	}
	if n := len(r.endCustomerRequestsFrom(from)); n != 1 {
		t.Fatalf("%d requests after a second delivery, want 1", n)
	}
	req = r.endCustomerRequestsFrom(from)[0]

	// Approving without picking, or picking someone else, is refused and changes nothing.
	if _, err := r.sys.Requests.Decide(r.ctx, req.AccountID, req.ID, "owner:test", true, ""); !errors.Is(err, requests.ErrPickCandidate) {
		t.Fatalf("approve without a pick: %v", err)
	}
	if _, err := r.sys.Requests.ApproveCandidate(r.ctx, req.AccountID, req.ID, "owner:test", true, "", r.acct.EndUsers[0].ID); !errors.Is(err, requests.ErrPickCandidate) {
		t.Fatalf("approve picking a non-candidate: %v", err)
	}
	if again, err := r.sys.Ledger.Get(r.ctx, req.ID); err != nil || again.Decision != nil || again.Version != req.Version {
		t.Fatalf("a refused approval changed the request: %+v, %v", again.Decision, err)
	}

	if _, err := r.sys.Requests.ApproveCandidate(r.ctx, req.AccountID, req.ID, "owner:test", true, "", b.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.eng.Settle(r.ctx); err != nil {
		t.Fatal(err)
	}
	done, err := r.sys.Ledger.Get(r.ctx, req.ID)
	if err != nil || done.Scope.EndUserID != b.ID || done.Status != request.StatusCompleted {
		t.Fatalf("request %s scope %s, %v; want completed on %s", done.Status, done.Scope.EndUserID, err, b.ID)
	}
	if _, err := r.sys.Store.EndUser(r.ctx, b.ID); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the picked end user is still there: %v", err)
	}
	if _, err := r.sys.Store.EndUser(r.ctx, a.ID); err != nil {
		t.Fatalf("the other candidate was touched: %v", err)
	}
}
