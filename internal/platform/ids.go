package platform

import (
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/oklog/ulid/v2"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// NewID returns a new time-ordered id (a ULID): ids sort by creation time, so a time range of
// activity logs or messages is a key range. Ids made in the same millisecond still sort in the order
// they were made (monotonic entropy).
func NewID(t time.Time) string {
	return ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String()
}

// NewIDFrom returns a time-ordered id drawing its randomness from r (deterministic seeding); pass a
// ulid.Monotonic reader to keep order within one millisecond.
func NewIDFrom(t time.Time, r io.Reader) string {
	return ulid.MustNew(ulid.Timestamp(t), r).String()
}

// IDLowerBound is the smallest id created at or after t.
func IDLowerBound(t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t))
	return id.String()
}

// IDUpperBound is the largest id created at or before t.
func IDUpperBound(t time.Time) string {
	var id ulid.ULID
	_ = id.SetTime(ulid.Timestamp(t))
	for i := 6; i < len(id); i++ {
		id[i] = 0xff
	}
	return id.String()
}

var latinFold = strings.NewReplacer("ø", "o", "ł", "l", "đ", "d", "ß", "ss", "æ", "ae", "œ", "oe", "þ", "th", "ı", "i")

// foldMarks removes combining marks. A transform.Chain keeps state between calls and must not be
// shared by goroutines (names are normalized concurrently, by parallel writers): a new one each time.
func foldMarks() transform.Transformer {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}

// NormalizeName folds a name for search: lower case, accents removed, Russian ё read as е, every
// run of non-letters and non-digits one space.
func NormalizeName(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "ё", "е")
	// Letters that are not a base letter plus a mark, so NFD does not fold them.
	s = latinFold.Replace(s)
	// Keep й: removing its breve would make it и, a different letter in Russian.
	s = strings.ReplaceAll(s, "й", "\x00")
	s, _, _ = transform.String(foldMarks(), s)
	s = strings.ReplaceAll(s, "\x00", "й")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// NameTokens are the search tokens of a name: each word of its normalized form.
func NameTokens(name string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range strings.Fields(NormalizeName(name)) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// NormalizeEmail is the form addresses are compared and indexed in: trimmed and lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
