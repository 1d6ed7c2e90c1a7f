package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/password"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Independent random streams of one seed: content, id entropy and the password salt. Keeping them
// apart means a change of texts leaves the salt alone, and Write's counting pass can skip the hash.
const (
	streamContent = 0x6c65746865636f6e // "lethecon"
	streamIDs     = 0x6c65746865696473 // "letheids"
	streamSalt    = 0x6c65746865736c74 // "letheslt"
)

const (
	day  = 24 * time.Hour
	week = 7 * day
	// personalSpan is how far back personal data reaches: well inside 13 months minus the TTL safety
	// margin, so nothing generated is already due for expiry.
	personalSpan = 360 * day
	// recentShare is the share of end users whose first conversation is in the last 7 days, the
	// Privacy module's default view.
	recentShare = 0.3
)

// entropy reads random bytes from a PCG stream: ULIDs, member subjects and the salt draw from it.
type entropy struct{ src *rand.PCG }

func (e entropy) Read(p []byte) (int, error) {
	for i := 0; i < len(p); i += 8 {
		v := e.src.Uint64()
		for j := 0; j < 8 && i+j < len(p); j++ {
			p[i+j] = byte(v >> (8 * j))
		}
	}
	return len(p), nil
}

// Analytics metrics, counted per bot and day from the generated data itself.
var metrics = [...]string{"messages_in", "messages_out", "conversations", "new_users"}

const (
	mIn = iota
	mOut
	mConversations
	mNewUsers
)

type gen struct {
	opts   Options
	size   Size
	now    time.Time
	today  time.Time // midnight UTC of now
	rng    *rand.Rand
	ids    entropy
	salt   entropy
	record func(platform.Record) error
	object func(Object) error
	err    error // the first callback error; every later emit is skipped
	m      Manifest

	// Scratch reused from end user to end user, so memory does not grow with the size.
	convs  []convPlan
	starts []time.Time
	times  []time.Time
	inbox  []time.Time
	counts [][len(metrics)]int64 // per day back from today
}

// convPlan is one planned conversation: its start and how many of gen.times are its messages.
type convPlan struct {
	start time.Time
	n     int
}

func newGen(opts Options, record func(platform.Record) error, object func(Object) error) *gen {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Millisecond)
	return &gen{
		opts: opts, size: opts.Size, now: now, today: now.Truncate(day),
		rng:    rand.New(rand.NewPCG(opts.Seed, streamContent)),
		ids:    entropy{rand.NewPCG(opts.Seed, streamIDs)},
		salt:   entropy{rand.NewPCG(opts.Seed, streamSalt)},
		record: record, object: object,
		m:      Manifest{Seed: opts.Seed, Now: now, Counts: map[string]int64{}, Accounts: []ManifestAccount{}},
		counts: make([][len(metrics)]int64, int(personalSpan/day)+2),
	}
}

// passwordHash hashes the demo password once per generation: argon2id is slow on purpose.
func (g *gen) passwordHash() (string, error) {
	salt := make([]byte, password.DefaultParams.SaltLength)
	g.salt.Read(salt)
	return password.HashWithSalt(g.opts.Password, salt, password.DefaultParams)
}

func (g *gen) run(passwordHash string) (Manifest, error) {
	g.m.MetaASIDShared = "1" + g.digits(16)
	for a := range g.size.Accounts {
		g.account(a, passwordHash)
		if g.err != nil {
			return Manifest{}, g.err
		}
	}
	return g.m, nil
}

func (g *gen) put(r platform.Record) {
	if g.err != nil {
		return
	}
	g.m.Counts[r.Category()]++
	g.err = g.record(r)
}

func (g *gen) putObject(o Object) {
	if g.err != nil {
		return
	}
	g.m.Objects++
	g.err = g.object(o)
}

// --- random helpers ---

func (g *gen) id(t time.Time) string { return platform.NewIDFrom(t, g.ids) }

func pick[T any](g *gen, s []T) T { return s[g.rng.IntN(len(s))] }

func (g *gen) chance(p float64) bool { return g.rng.Float64() < p }

// between is a millisecond-aligned time in [a, b]; a when b is not after a.
func (g *gen) between(a, b time.Time) time.Time {
	span := b.Sub(a).Milliseconds()
	if span <= 0 {
		return a
	}
	return a.Add(time.Duration(g.rng.Int64N(span+1)) * time.Millisecond)
}

// around is an integer spread uniformly over mean ± mean/div.
func (g *gen) around(mean, div int) int {
	if mean <= 0 {
		return 0
	}
	d := mean / div
	return mean - d + g.rng.IntN(2*d+1)
}

// upTo is an integer spread uniformly over 0 … 2·mean.
func (g *gen) upTo(mean int) int {
	if mean <= 0 {
		return 0
	}
	return g.rng.IntN(2*mean + 1)
}

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperNum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	urlSafe   = alnum + "-_"
	hexDigits = "0123456789abcdef"
	base64Std = alnum + "+/"
)

func (g *gen) str(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

// digits is n decimal digits, the first not zero.
func (g *gen) digits(n int) string {
	b := make([]byte, n)
	b[0] = byte('1' + g.rng.IntN(9))
	for i := 1; i < n; i++ {
		b[i] = byte('0' + g.rng.IntN(10))
	}
	return string(b)
}

func (g *gen) uuid() string {
	var b [16]byte
	g.ids.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// --- accounts ---

// acct is what the end users of an account need to know about it.
type acct struct {
	id        string
	co        *company
	loc       *locale
	slug      string
	operators []string // subs of the members who answer in the Inbox
	tagIDs    []string
	shared    bool // the shared Meta person is already among this account's end users
	manifest  *ManifestAccount
}

type botConns struct {
	bot   platform.Bot
	conns []platform.ChannelConnection
}

func (g *gen) account(a int, passwordHash string) {
	co := &companies[a%len(companies)]
	slug := co.slug
	if n := a / len(companies); n > 0 {
		slug += "-" + strconv.Itoa(n+1)
	}
	loc := co.loc
	domain := slug + ".example"
	created := g.now.AddDate(-4, -6, 0).Add(-time.Duration(10+g.rng.IntN(50)) * day)
	ac := &acct{id: g.id(created), co: co, loc: loc, slug: slug}
	g.m.Accounts = append(g.m.Accounts, ManifestAccount{ID: ac.id, Email: co.owner.mail + "@" + domain,
		Password: g.opts.Password, FullName: co.owner.name, Locale: loc.code,
		Members: []ManifestMember{}, Bots: []ManifestBot{}, EndUsers: []ManifestEndUser{}})
	ac.manifest = &g.m.Accounts[len(g.m.Accounts)-1]

	g.put(platform.Account{ID: ac.id, Email: ac.manifest.Email, FullName: co.owner.name, Locale: loc.code,
		PasswordHash: passwordHash, Status: platform.AccountActive,
		Settings: platform.AccountSettings{Timezone: co.timezone, Company: co.legal,
			DeleteOnBlock: loc.code == "en", WipeOnDeauthorize: true},
		CreatedAt: created, UpdatedAt: g.between(g.now.Add(-30*day), g.now)})

	bots := g.bots(ac, created)
	g.members(ac, created, domain, bots)
	g.accountSettings(ac, created)
	g.accountFiles(ac, created)
	g.activityLogs(ac, bots)
	g.payments(ac, created)
	perBot := g.endUserCounts(len(bots))
	for i := range bots {
		g.endUsersOfBot(ac, &bots[i], perBot[i])
		if g.err != nil {
			return
		}
	}
}

func (g *gen) bots(ac *acct, created time.Time) []botConns {
	n := g.size.BotsPerAccount
	bots := make([]botConns, n)
	for k := range bots {
		at := g.between(created.Add(7*day), g.now.Add(-400*day))
		name := ac.co.brand + " · " + ac.loc.botSuffixes[k%len(ac.loc.botSuffixes)]
		if r := k / len(ac.loc.botSuffixes); r > 0 {
			name += " " + strconv.Itoa(r+1)
		}
		bots[k].bot = platform.Bot{AccountID: ac.id, ID: g.id(at), Name: name, Status: "running", Locale: ac.loc.code, CreatedAt: at}
		g.put(bots[k].bot)
	}
	if n == 0 {
		return bots
	}
	order := channelOrder[ac.loc.code]
	for j := range max(len(order), n) {
		b := &bots[j%n]
		c := g.connection(ac, b.bot, order[j%len(order)], j)
		b.conns = append(b.conns, c)
		g.put(c)
		for _, k := range c.KeyRecords() {
			g.put(k) // what Store.Put writes with a connection, streamed as records of their own
		}
	}
	for _, b := range bots {
		mb := ManifestBot{ID: b.bot.ID, Name: b.bot.Name}
		for _, c := range b.conns {
			mb.Connections = append(mb.Connections, ManifestConnection{ID: c.ID, Channel: c.Channel, ChannelKey: c.ChannelKey, Secrets: c.Secrets, Keys: c.Keys})
		}
		ac.manifest.Bots = append(ac.manifest.Bots, mb)
	}
	return bots
}

// connection makes a connection with the channel's own kind of key and secrets.
func (g *gen) connection(ac *acct, bot platform.Bot, channel string, k int) platform.ChannelConnection {
	at := g.between(bot.CreatedAt, bot.CreatedAt.Add(14*day))
	c := platform.ChannelConnection{AccountID: ac.id, BotID: bot.ID, ID: g.id(at), Channel: channel,
		Status: "active", CreatedAt: at}
	handle := strings.ReplaceAll(ac.slug, "-", "_") + "_" + strconv.Itoa(k+1)
	switch channel {
	case platform.ChannelTelegram:
		c.ChannelKey = g.digits(10) // the bot's user id, the part of its token before the colon
		c.Name = "@" + handle + "_bot"
		c.Secrets = map[string]string{"bot_token": c.ChannelKey + ":AA" + g.str(urlSafe, 33), "secret_token": g.str(urlSafe, 32)}
	case platform.ChannelWhatsApp:
		c.ChannelKey = "1" + g.digits(14) // WhatsApp Business Account id
		c.Name = "+" + g.phone(ac.loc)
		c.Secrets = map[string]string{"access_token": "EAAG" + g.str(alnum, 180)}
	case platform.ChannelMessenger:
		c.ChannelKey = "1" + g.digits(14) // Facebook page id
		c.Name = ac.co.brand
		c.Secrets = map[string]string{"page_access_token": "EAAG" + g.str(alnum, 180)}
	case platform.ChannelInstagram:
		c.ChannelKey = "1" + g.digits(14) // the Facebook page the Instagram account is linked to
		c.Name = "@" + strings.ReplaceAll(ac.slug, "-", ".")
		c.Secrets = map[string]string{"page_access_token": "EAAG" + g.str(alnum, 180)}
	case platform.ChannelVK:
		c.ChannelKey = g.digits(9) // community (group) id
		c.Name = ac.co.brand
		c.Secrets = map[string]string{"access_token": "vk1.a." + g.str(urlSafe, 160), "secret": g.str(alnum, 20),
			"confirmation": g.str(hexDigits, 8)}
	case platform.ChannelViber:
		c.ChannelKey = strings.ReplaceAll(ac.slug, "-", "") + strconv.Itoa(k+1) // the bot's public URI
		c.Name = ac.co.brand
		c.Secrets = map[string]string{"auth_token": g.str(hexDigits, 16) + "-" + g.str(hexDigits, 16) + "-" + g.str(hexDigits, 16)}
	case platform.ChannelSlack:
		c.ChannelKey = "T0" + g.str(upperNum, 9) // workspace (team) id
		c.Name = ac.slug + ".slack.com"
		c.Secrets = map[string]string{"bot_token": "xoxb-" + g.digits(12) + "-" + g.digits(13) + "-" + g.str(alnum, 24)}
	}
	c.Keys = connectionKeys(c)
	return c
}

// connectionKeys gives a connection the other ids its channel knows it by. They are derived from
// the connection id rather than drawn from the generator, so that adding them changed nothing else
// the seed makes.
func connectionKeys(c platform.ChannelConnection) map[string]string {
	digits := func(label string, n int) string {
		sum := sha256.Sum256([]byte(label + "\x00" + c.ID))
		var b strings.Builder
		for i := 0; b.Len() < n; i++ {
			b.WriteByte('0' + sum[i%len(sum)]%10)
		}
		return b.String()
	}
	switch c.Channel {
	case platform.ChannelWhatsApp:
		return map[string]string{platform.ConnKeyPhoneNumberID: "1" + digits("phone_number_id", 14)}
	case platform.ChannelMessenger:
		return map[string]string{platform.ConnKeyMetaUserID: "1" + digits("meta_user_id", 15)}
	case platform.ChannelInstagram:
		return map[string]string{platform.ConnKeyInstagramAccountID: "178414" + digits("instagram_account_id", 11),
			platform.ConnKeyMetaUserID: "1" + digits("meta_user_id", 15)}
	}
	return nil
}

func (g *gen) members(ac *acct, created time.Time, domain string, bots []botConns) {
	roles := [4]string{platform.RoleOwner, platform.RoleAccountAdmin, platform.RoleBotAdmin, platform.RoleMember}
	people := [4]person{ac.co.owner, ac.co.team[0], ac.co.team[1], ac.co.team[2]}
	for i, role := range roles {
		at := created
		if i > 0 {
			at = g.between(created.Add(30*day), g.now.Add(-200*day))
		}
		m := platform.TeamMember{AccountID: ac.id, Sub: g.uuid(), Email: people[i].mail + "@" + domain,
			FullName: people[i].name, Role: role, CreatedAt: at}
		if role == platform.RoleBotAdmin {
			for k := 0; k < len(bots) && k < 2; k++ {
				m.BotIDs = append(m.BotIDs, bots[k].bot.ID)
			}
		}
		g.put(m)
		g.put(platform.Consent{AccountID: ac.id, ID: g.id(at), SubjectEmail: m.Email, Document: ac.loc.consentDoc, GivenAt: at})
		if role != platform.RoleOwner {
			ac.operators = append(ac.operators, m.Sub)
		}
		ac.manifest.Members = append(ac.manifest.Members, ManifestMember{Sub: m.Sub, Email: m.Email,
			FullName: m.FullName, Role: role, BotIDs: m.BotIDs})
	}
}

// accountSettings makes API tokens, webhooks, integrations, templates and tags.
func (g *gen) accountSettings(ac *acct, created time.Time) {
	later := func() time.Time { return g.between(created.Add(14*day), g.now.Add(-60*day)) }
	for _, name := range ac.loc.apiTokenNames[:2] {
		at := later()
		token := "lth_live_" + g.str(alnum, 32)
		sum := sha256.Sum256([]byte(token))
		g.put(platform.APIToken{AccountID: ac.id, ID: g.id(at), Name: name, Prefix: token[:13],
			TokenHash: hex.EncodeToString(sum[:]), CreatedAt: at})
	}
	at := later()
	g.put(platform.Webhook{AccountID: ac.id, ID: g.id(at), URL: "https://crm." + ac.slug + ".example/hooks/chatbot",
		Events: []string{"conversation.closed", "end_user.created", "message.received"},
		Secret: "whsec_" + g.str(alnum, 32), CreatedAt: at})
	at = later()
	crm := map[string]string{"access_token": g.str(alnum, 40)}
	if ac.loc.integrationCRM == "amocrm" {
		crm["subdomain"], crm["client_id"], crm["client_secret"] = ac.slug, g.uuid(), g.str(alnum, 50)
	} else {
		crm["portal_id"], crm["access_token"] = g.digits(8), "pat-eu1-"+g.uuid()
	}
	g.put(platform.Integration{AccountID: ac.id, ID: g.id(at), Kind: ac.loc.integrationCRM, Settings: crm, CreatedAt: at})
	at = later()
	g.put(platform.Integration{AccountID: ac.id, ID: g.id(at), Kind: "google_sheets", CreatedAt: at,
		Settings: map[string]string{"spreadsheet_id": g.str(urlSafe, 44),
			"service_account_email": "bots@" + ac.slug + "-sheets.iam.gserviceaccount.com"}})
	for _, t := range ac.loc.templates {
		at := later()
		g.put(platform.Template{AccountID: ac.id, ID: g.id(at), Name: t.name,
			Text: strings.ReplaceAll(t.text, "{brand}", ac.co.brand), Locale: ac.loc.code, CreatedAt: at})
	}
	for i, name := range ac.loc.tags {
		at := later()
		t := platform.Tag{AccountID: ac.id, ID: g.id(at), Name: name, Color: tagColors[i%len(tagColors)], CreatedAt: at}
		ac.tagIDs = append(ac.tagIDs, t.ID)
		g.put(t)
	}
}

var (
	accountFilePrefix = datamap.MustLookup(datamap.AccountFile).Location.Prefix
	endUserFilePrefix = datamap.MustLookup(datamap.EndUserFile).Location.Prefix
	inboxPrefix       = datamap.MustLookup(datamap.InboxMessage).Location.Prefix
	filesBucket       = datamap.MustLookup(datamap.EndUserFile).Location.Bucket
)

func (g *gen) fill(pattern string, vars map[string]string) string {
	s, err := datamap.Fill(pattern, vars)
	if err != nil && g.err == nil {
		g.err = err
	}
	return s
}

func (g *gen) accountFiles(ac *acct, created time.Time) {
	prefix := g.fill(accountFilePrefix, map[string]string{"account": ac.id})
	for _, f := range ac.loc.accountFiles {
		at := g.between(created.Add(7*day), g.now.Add(-30*day))
		id := g.id(at)
		body := bodyFor(f.ext)
		key := prefix + id + f.ext
		g.put(platform.AccountFile{AccountID: ac.id, ID: id, Name: f.name, ContentType: f.contentType,
			Size: int64(len(body)), S3Key: key, CreatedAt: at})
		g.putObject(Object{Bucket: filesBucket, Key: key, ContentType: f.contentType, Body: body})
	}
}

func (g *gen) activityLogs(ac *acct, bots []botConns) {
	n := g.size.ActivityLogsPerAccount
	times := make([]time.Time, n)
	for i := range times {
		times[i] = g.between(g.now.Add(-personalSpan), g.now)
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	members := ac.manifest.Members
	for _, at := range times {
		actor := members[g.rng.IntN(2)] // the owner or the account admin
		if g.chance(0.3) {
			actor = members[2+g.rng.IntN(2)]
		}
		action := pick(g, activityActions)
		target := "account:" + ac.id
		switch {
		case len(bots) > 0 && (strings.HasPrefix(action, "bot.") || strings.HasPrefix(action, "connection.")):
			b := pick(g, bots)
			target = "bot:" + b.bot.ID
		case strings.HasPrefix(action, "member."):
			target = "member:" + pick(g, members).Sub
		case strings.HasPrefix(action, "tag."):
			target = "tag:" + pick(g, ac.tagIDs)
		}
		var ip string
		switch g.rng.IntN(4) {
		case 0:
			ip = "203.0.113." + strconv.Itoa(1+g.rng.IntN(254))
		case 1:
			ip = "198.51.100." + strconv.Itoa(1+g.rng.IntN(254))
		case 2:
			ip = "192.0.2." + strconv.Itoa(1+g.rng.IntN(254))
		default:
			ip = "2001:db8::" + g.str(hexDigits, 4)
		}
		g.put(platform.ActivityLog{AccountID: ac.id, ID: g.id(at), At: at, ActorSub: actor.Sub, ActorName: actor.FullName,
			Action: action, Target: target, IP: ip})
	}
}

// payments spread over the last four and a half years: the older ones are past every personal-data
// limit but inside the five years accounting law keeps them.
func (g *gen) payments(ac *acct, created time.Time) {
	n := g.size.PaymentsPerAccount
	oldest := g.now.AddDate(-4, -6, 0).Add(2 * day)
	if oldest.Before(created) {
		oldest = created
	}
	newest := g.now.Add(-day)
	for i := range n {
		at := newest.Add(-10 * day)
		if n > 1 {
			at = oldest.Add(time.Duration(int64(newest.Sub(oldest)) / int64(n-1) * int64(i)))
		}
		at = at.Truncate(time.Hour).Add(time.Duration(g.rng.IntN(3600)) * time.Second)
		if at.After(g.now) {
			at = g.now
		}
		period := at.AddDate(0, -1, 0)
		doc := ac.loc.paymentDoc + strconv.Itoa(at.Year()) + "-" + pad4(i+1)
		g.put(platform.Payment{AccountID: ac.id, ID: g.id(at), PaidAt: at, AmountMinor: ac.co.price, Currency: ac.co.currency,
			Payer: ac.co.legal, Document: doc,
			Description: ac.loc.paymentDesc + ac.loc.months[period.Month()-1] + " " + strconv.Itoa(period.Year())})
	}
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// --- end users ---

// endUserCounts gives each bot EndUsersPerBot ± 25%, in pairs whose differences cancel, so an
// account's total is exact and SizeForMessages hits its target.
func (g *gen) endUserCounts(bots int) []int {
	n := g.size.EndUsersPerBot
	d := n / 4
	out := make([]int, bots)
	for k := range out {
		out[k] = n
	}
	for k := 0; k+1 < bots; k += 2 {
		r := g.rng.IntN(2*d+1) - d
		out[k] += r
		out[k+1] -= r
	}
	return out
}

func (g *gen) endUsersOfBot(ac *acct, b *botConns, n int) {
	clear(g.counts)
	listed := 0
	for j := range n {
		conn := b.conns[j%len(b.conns)]
		shared := !ac.shared && (conn.Channel == platform.ChannelMessenger || conn.Channel == platform.ChannelInstagram)
		if shared {
			ac.shared = true
		}
		eu := g.endUser(ac, b.bot, conn, shared)
		if listed < ManifestEndUsersPerBot || shared {
			ac.manifest.EndUsers = append(ac.manifest.EndUsers, eu)
			listed++
		}
		if g.err != nil {
			return
		}
	}
	for m, metric := range metrics {
		for back := len(g.counts) - 1; back >= 0; back-- {
			if c := g.counts[back][m]; c > 0 {
				g.put(platform.AnalyticsCounter{BotID: b.bot.ID, Metric: metric,
					Day: g.today.Add(-time.Duration(back) * day).Format("2006-01-02"), Channel: "all", Count: c})
			}
		}
	}
}

func (g *gen) count(t time.Time, metric int) {
	back := int(g.today.Sub(t.Truncate(day)) / day)
	if back >= 0 && back < len(g.counts) {
		g.counts[back][metric]++
	}
}

// personName is a display name with the first and last names it was made from.
type personName struct{ display, first, last, locale string }

// name draws a display name the way people set them: full, first name only, a short form, an
// initial, surname first, lower case, with an emoji. Most are in the account's language.
func (g *gen) name(l *locale) personName {
	src := l
	if g.chance(0.15) {
		src = &ru
		if l == &ru {
			src = &en
		}
	}
	female := g.rng.IntN(2) == 0
	first, short := pick(g, src.maleFirst), pick(g, src.maleShort)
	sur := pick(g, src.surnames)
	last := sur.male
	if female {
		first, short, last = pick(g, src.femaleFirst), pick(g, src.femaleShort), sur.female
	}
	n := personName{first: first, last: last, locale: src.code}
	switch r := g.rng.IntN(100); {
	case r < 50:
		n.display = first + " " + last
	case r < 62:
		n.display = first
	case r < 72:
		n.display, n.first = short, short
	case r < 82:
		n.display = first + " " + string([]rune(last)[:1]) + "."
	case r < 90:
		n.display = last + " " + first
	case r < 95:
		n.display = strings.ToLower(first)
	default:
		n.display = first + " " + last + " " + pick(g, []string{"🌸", "✨", "🚀", "☕"})
	}
	return n
}

func (g *gen) endUser(ac *acct, bot platform.Bot, conn platform.ChannelConnection, shared bool) ManifestEndUser {
	var first time.Time
	if g.chance(recentShare) {
		first = g.between(g.now.Add(-week), g.now.Add(-time.Hour))
	} else {
		first = g.between(g.now.Add(-personalSpan), g.now.Add(-week-time.Millisecond))
	}
	nm := g.name(ac.loc)
	if shared {
		nm = personName{display: sharedPerson, first: "Дарья", last: "Королёва", locale: "ru"}
	}
	last := g.plan(first)

	id := g.id(first)
	u := platform.EndUser{AccountID: ac.id, BotID: bot.ID, ConnectionID: conn.ID, ID: id, Channel: conn.Channel,
		DisplayName: nm.display, NormalizedName: platform.NormalizeName(nm.display), Locale: nm.locale,
		Blocked: g.chance(0.03), FirstConversationAt: first, LastActiveAt: last}
	words := latin(nm.first + " " + nm.last)
	idents := map[string]string{}
	switch conn.Channel {
	case platform.ChannelTelegram:
		idents[conn.Channel] = g.digits(9 + g.rng.IntN(2))
		if g.chance(0.7) && len(words) > 0 {
			u.Username = strings.Join(words, "_")
			if g.chance(0.5) {
				u.Username += strconv.Itoa(10 + g.rng.IntN(90))
			}
		}
	case platform.ChannelWhatsApp:
		idents[conn.Channel] = g.phone(ac.loc)
	case platform.ChannelMessenger:
		idents[conn.Channel] = g.digits(16) // page-scoped id
		idents[platform.IdentityMetaASID] = "1" + g.digits(16)
	case platform.ChannelInstagram:
		idents[conn.Channel] = g.digits(17) // Instagram-scoped id
		idents[platform.IdentityMetaASID] = "1" + g.digits(16)
		if len(words) > 0 {
			u.Username = strings.Join(words, ".")
		}
	case platform.ChannelVK:
		idents[conn.Channel] = g.digits(6 + g.rng.IntN(4))
		if len(words) > 0 {
			u.Username = strings.Join(words, "_") // the screen name of vk.com/<screen name>
		}
	case platform.ChannelViber:
		idents[conn.Channel] = g.str(base64Std, 22) + "=="
		// The number the user shared in the chat; derived from the id, not drawn, so that the
		// rest of the seed stays as it was.
		idents[platform.IdentityPhone] = "+" + derivedPhone(ac.loc, id)
	case platform.ChannelSlack:
		idents[conn.Channel] = "U0" + g.str(upperNum, 9)
	}
	if shared {
		idents[platform.IdentityMetaASID] = g.m.MetaASIDShared
	}

	g.put(u)
	for _, ch := range []string{conn.Channel, platform.IdentityMetaASID, platform.IdentityPhone} {
		if ext, ok := idents[ch]; ok {
			g.put(platform.ChannelIdentity{AccountID: ac.id, BotID: bot.ID, EndUserID: id, Channel: ch, ExternalID: ext, LastActiveAt: last})
		}
	}
	for _, tok := range platform.NameTokens(nm.display) {
		g.put(platform.NameToken{AccountID: ac.id, BotID: bot.ID, EndUserID: id, Token: tok, LastActiveAt: last})
	}
	g.count(first, mNewUsers)
	g.conversations(ac, u, nm.first)
	g.inboxMessages(ac, u)
	g.files(ac, u)
	g.aboutEndUser(ac, u, idents, words)
	return ManifestEndUser{ID: id, BotID: bot.ID, ConnectionID: conn.ID, Name: nm.display, Channel: conn.Channel,
		Identities: idents, FirstConversationAt: first}
}

// plan draws the times of an end user's conversations, messages and inbox messages, first
// conversation at first, and returns the last of them: when the person was last active.
func (g *gen) plan(first time.Time) time.Time {
	g.convs, g.times, g.inbox = g.convs[:0], g.times[:0], g.inbox[:0]
	latestStart := g.now.Add(-time.Hour)
	nc := max(1, g.around(g.size.ConversationsPerEndUser, 2))
	starts := append(g.starts[:0], first)
	for range nc - 1 {
		starts = append(starts, g.between(first, latestStart))
	}
	g.starts = starts
	slices.SortFunc(starts[1:], func(a, b time.Time) int { return a.Compare(b) })
	m := g.size.MessagesPerConversation
	lo, hi := max(1, m-m/2), min(MaxMessagesPerConversation, max(1, m+m/2))
	lo = min(lo, hi)
	last := first
	for _, start := range starts {
		n := lo + g.rng.IntN(hi-lo+1)
		// Messages 15 s – 4 min apart (never under a second: ULIDs within one millisecond do not sort).
		span := min(int64(n)*(15_000+g.rng.Int64N(225_000)), g.now.Sub(start).Milliseconds())
		slot := span / int64(n)
		for j := range n {
			t := start.Add(time.Duration(slot*int64(j)) * time.Millisecond)
			if j > 0 {
				t = t.Add(time.Duration(g.rng.Int64N(slot/2+1)) * time.Millisecond)
			}
			g.times = append(g.times, t)
		}
		last = maxTime(last, g.times[len(g.times)-1])
		g.convs = append(g.convs, convPlan{start: start, n: n})
	}
	for range g.upTo(g.size.InboxPerEndUser) {
		g.inbox = append(g.inbox, g.between(first, g.now))
	}
	slices.SortFunc(g.inbox, func(a, b time.Time) int { return a.Compare(b) })
	if len(g.inbox) > 0 {
		last = maxTime(last, g.inbox[len(g.inbox)-1])
	}
	return last
}

// phone is a mobile number in international form without "+": the WhatsApp id of a person.
func (g *gen) phone(l *locale) string {
	return l.phonePrefix + g.str("0123456789", l.phoneDigits-len(l.phonePrefix))
}

// derivedPhone is a phone number of the locale's range made from the digits of a hash of key.
func derivedPhone(l *locale, key string) string {
	sum := sha256.Sum256([]byte(key))
	var b strings.Builder
	b.WriteString(l.phonePrefix)
	for i := 0; b.Len() < l.phoneDigits; i++ {
		b.WriteByte('0' + sum[i%len(sum)]%10)
	}
	return b.String()
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (g *gen) conversations(ac *acct, u platform.EndUser, firstName string) {
	l := ac.loc
	off := 0
	for _, cp := range g.convs {
		times := g.times[off : off+cp.n]
		off += cp.n
		conv := platform.Conversation{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ID: g.id(cp.start),
			Channel: u.Channel, StartedAt: times[0], LastMessageAt: times[len(times)-1], MessageCount: len(times)}
		g.put(conv)
		g.count(cp.start, mConversations)
		in := g.chance(0.9)
		greeted := false
		for j, t := range times {
			msg := platform.Message{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ConversationID: conv.ID,
				ID: g.id(t), SentAt: t}
			if in {
				msg.Direction, msg.Text = "in", pick(g, l.msgIn)
				if j == 0 {
					msg.Text = l.msgIn[g.rng.IntN(l.openers)]
				}
				g.count(t, mIn)
			} else {
				msg.Direction, msg.Text = "out", pick(g, l.msgOut)
				if !greeted {
					msg.Text, greeted = l.greetA+firstName+l.greetB, true
				}
				g.count(t, mOut)
			}
			g.put(msg)
			if g.chance(0.75) {
				in = !in
			}
		}
	}
}

func (g *gen) inboxMessages(ac *acct, u platform.EndUser) {
	for _, at := range g.inbox {
		m := platform.InboxMessage{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ID: g.id(at), SentAt: at}
		if g.chance(0.6) {
			m.Direction, m.Text = "in", pick(g, ac.loc.inboxIn)
			if g.chance(0.35) {
				m.Text = pick(g, ac.loc.attachmentCaptions)
				prefix := g.fill(inboxPrefix, m.KeyVars())
				for k := range 1 + g.rng.IntN(2) {
					f := userFiles[g.rng.IntN(len(userFiles))]
					key := prefix + f.name + g.digits(4) + "_" + strconv.Itoa(k+1) + f.ext
					m.AttachmentKeys = append(m.AttachmentKeys, key)
					g.putObject(Object{Bucket: filesBucket, Key: key, ContentType: f.contentType, Body: bodyFor(f.ext),
						Tagging: datamap.LifecycleTagging(datamap.InboxMessage)})
				}
			}
		} else {
			m.Direction, m.Text, m.OperatorSub = "out", pick(g, ac.loc.inboxOut), pick(g, ac.operators)
		}
		g.put(m)
	}
}

func (g *gen) files(ac *acct, u platform.EndUser) {
	n := g.upTo(g.size.FilesPerEndUser)
	if n == 0 {
		return
	}
	prefix := g.fill(endUserFilePrefix, map[string]string{"account": ac.id, "bot": u.BotID, "endUser": u.ID})
	for range n {
		at := g.between(u.FirstConversationAt, u.LastActiveAt)
		f := userFiles[g.rng.IntN(len(userFiles))]
		id := g.id(at)
		body := bodyFor(f.ext)
		key := prefix + id + f.ext
		g.put(platform.EndUserFile{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ID: id,
			Name: f.name + at.Format("20060102_150405") + f.ext, ContentType: f.contentType, Size: int64(len(body)),
			S3Key: key, CreatedAt: at})
		g.putObject(Object{Bucket: filesBucket, Key: key, ContentType: f.contentType, Body: body,
			Tagging: datamap.LifecycleTagging(datamap.EndUserFile)})
	}
}

// aboutEndUser makes what the account's people record about an end user: contacts, tags, notes.
func (g *gen) aboutEndUser(ac *acct, u platform.EndUser, idents map[string]string, words []string) {
	when := func() time.Time { return g.between(u.FirstConversationAt, u.LastActiveAt) }
	contact := func(kind, value string) {
		at := when()
		g.put(platform.Contact{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ID: g.id(at), Kind: kind, Value: value, UpdatedAt: at})
	}
	switch {
	case u.Channel == platform.ChannelWhatsApp:
		contact("phone", "+"+idents[platform.ChannelWhatsApp])
	case !g.chance(0.6):
	case ac.loc.code == "ru":
		d := g.digits(9)
		contact("phone", "+7 9"+d[:2]+" "+d[2:5]+"-"+d[5:7]+"-"+d[7:])
	default:
		contact("phone", "+44 7700 900"+g.str("0123456789", 3))
	}
	if len(words) > 0 && g.chance(0.4) {
		local := strings.Join(words, ".")
		if g.chance(0.5) {
			local += strconv.Itoa(70 + g.rng.IntN(30))
		}
		contact("email", local+"@"+pick(g, contactDomains))
	}
	if len(ac.tagIDs) > 0 {
		first := g.rng.IntN(len(ac.tagIDs))
		for k := range g.rng.IntN(3) {
			at := when()
			g.put(platform.EndUserTag{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID,
				TagID: ac.tagIDs[(first+k)%len(ac.tagIDs)], UpdatedAt: at})
		}
	}
	if len(ac.operators) > 0 && g.chance(0.25) {
		at := when()
		g.put(platform.Note{AccountID: ac.id, BotID: u.BotID, EndUserID: u.ID, ID: g.id(at),
			AuthorSub: pick(g, ac.operators), Text: pick(g, ac.loc.notes), UpdatedAt: at})
	}
}
