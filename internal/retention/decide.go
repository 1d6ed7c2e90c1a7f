package retention

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// action is what the sweep does with one scanned item.
type action int

const (
	// skip: not personal, unknown, or kept without limit (account lifetime, analytics, an open
	// request, a consent that stands): the sweep does not look further.
	skip action = iota
	// keep: personal, dated, within its retention: counted towards the oldest remaining item.
	keep
	// remove: past its retention: deleted, with its S3 objects.
	remove
	// repair: within its retention but without the TTL its rule gives (or with one earlier than the
	// law allows for retained data): expiresAt is set from the rule.
	repair
	// unrepairable: personal data with a limited retention whose anchor attribute is missing or
	// unreadable: it cannot be dated, so it is neither deleted nor given a TTL; logged and counted.
	unrepairable
)

// decision is the verdict on one item.
type decision struct {
	action   action
	category datamap.Category
	anchor   time.Time // the retention anchor, when the item has one
	expires  time.Time // repair: the TTL to set
	stored   string    // repair: the expiresAt the item holds ("" when none)
}

// optionalAnchor reports whether an item of the category may lack its anchor and then carries no
// expiry yet: a consent not withdrawn, a hold not released, a request not closed.
func optionalAnchor(c datamap.Category) bool {
	switch {
	case c.Retention.Kind == datamap.FiveYearsAfterWithdrawal, c.Retention.Kind == datamap.UntilReleased:
		return true
	case c.Name == datamap.DeletionRequest:
		return true
	}
	return false
}

// decide judges one scanned item at now by the data map alone.
//
// Personal 13-month data goes when its stored TTL or the rule's own expiry (anchor + 13 months −
// safety margin) has passed, whichever comes first. Retained and evidence categories go only when
// the rule's expiry computed from their anchor has passed: a stored TTL alone never removes them,
// so a wrong TTL cannot destroy payments, consents or evidence early (it is corrected instead).
func decide(p datamap.Policy, item map[string]types.AttributeValue, now time.Time) decision {
	cat, _ := item[platform.AttrCategory].(*types.AttributeValueMemberS)
	if cat == nil {
		return decision{action: skip}
	}
	c, ok := datamap.Lookup(cat.Value)
	if !ok || !c.Personal {
		return decision{action: skip, category: c}
	}
	if _, limited := datamap.Limit(c.Retention.Kind, now); !limited {
		return decision{action: skip, category: c}
	}
	d := decision{category: c}
	anchor, hasAnchor := timeAttr(item, c.Retention.Anchor)
	if hasAnchor {
		d.anchor = anchor
	}
	computed, dated := p.ExpiresAt(c, anchor)
	stored, hasStored := numAttr(item, platform.AttrExpiresAt)
	if hasStored {
		d.stored = strconv.FormatInt(stored, 10)
	}
	nowUnix := now.Unix()
	if c.Retention.Kind == datamap.Personal13Months {
		switch {
		case hasStored && stored <= nowUnix, dated && computed.Unix() <= nowUnix:
			d.action = remove
		case !dated:
			// The TTL, if any, still runs; but the item cannot be dated by its rule.
			if hasStored {
				d.action = keep
			} else {
				d.action = unrepairable
			}
		case !hasStored:
			d.action, d.expires = repair, computed
		default:
			d.action = keep
		}
		return d
	}
	// Retained (payments, consents), evidence and the request ledger.
	switch {
	case !dated && !hasAnchor && optionalAnchor(c):
		d.action = skip // no clock running yet
	case !dated:
		d.action = unrepairable
	case computed.Unix() <= nowUnix:
		d.action = remove
	case !hasStored || stored <= nowUnix || stored < computed.Unix():
		// Missing, or earlier than the law's own limit: DynamoDB would destroy it too early.
		d.action, d.expires = repair, computed
	default:
		d.action = keep
	}
	return d
}

// timeAttr reads a time attribute as the SDK marshals time.Time (an RFC 3339 string); a number is
// taken for Unix seconds.
func timeAttr(item map[string]types.AttributeValue, name string) (time.Time, bool) {
	if name == "" {
		return time.Time{}, false
	}
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		t, err := time.Parse(time.RFC3339Nano, v.Value)
		if err != nil || t.IsZero() || t.Year() < 1971 {
			return time.Time{}, false
		}
		return t, true
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

func numAttr(item map[string]types.AttributeValue, name string) (int64, bool) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	return v, err == nil
}

// ObjectKeys are the S3 objects an item points at: a file's s3Key, an inbox message's attachments.
func ObjectKeys(item map[string]types.AttributeValue) []string {
	var keys []string
	if v, ok := item["s3Key"].(*types.AttributeValueMemberS); ok && v.Value != "" {
		keys = append(keys, v.Value)
	}
	switch v := item["attachmentKeys"].(type) {
	case *types.AttributeValueMemberSS:
		keys = append(keys, v.Value...)
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			if s, ok := e.(*types.AttributeValueMemberS); ok && s.Value != "" {
				keys = append(keys, s.Value)
			}
		}
	}
	return keys
}
