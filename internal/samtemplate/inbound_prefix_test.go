// An external test package, so that importing the intake and the local SMTP receiver can never make
// an import cycle with samtemplate.
package samtemplate_test

import (
	"testing"

	"github.com/lethe-dev/lethe/internal/intake"
	"github.com/lethe-dev/lethe/internal/local/localsmtp"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// TestInboundObjectPrefixIsShared: the receipt rule's S3 action, the function reading the mail and
// the local SMTP receiver all name a stored message <prefix><SES messageId> with the same prefix.
func TestInboundObjectPrefixIsShared(t *testing.T) {
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := tmpl.Raw()["Resources"].(map[string]any)["InboundReceiptRule"].(map[string]any)
	props, _ := rule["Properties"].(map[string]any)
	r, _ := props["Rule"].(map[string]any)
	actions, _ := r["Actions"].([]any)
	var prefix any
	for _, a := range actions {
		if s3, ok := a.(map[string]any)["S3Action"].(map[string]any); ok {
			prefix = s3["ObjectKeyPrefix"]
		}
	}
	if prefix != intake.ObjectPrefix {
		t.Errorf("receipt rule ObjectKeyPrefix = %v, but the function reads %q+<messageId>", prefix, intake.ObjectPrefix)
	}
	if prefix != localsmtp.DefaultPrefix {
		t.Errorf("receipt rule ObjectKeyPrefix = %v, but the local SMTP receiver stores under %q", prefix, localsmtp.DefaultPrefix)
	}
}
