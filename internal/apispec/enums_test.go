package apispec

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

var ledgerStatuses = []request.Status{
	request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled,
	request.StatusSoftDeleted, request.StatusCancelled, request.StatusHardDeleting,
	request.StatusAwaitingBackupRotation, request.StatusCompleted, request.StatusHeld,
	request.StatusDeclined, request.StatusFailed,
}

var ledgerKinds = []request.Kind{
	request.KindAccountDeletion, request.KindBotDeletion, request.KindConnectionWipe,
	request.KindEndUserFilter, request.KindEndUserDeletion, request.KindChannelIdentity,
	request.KindInboxMessage, request.KindActivityLogs, request.KindEndCustomerRequest,
}

func strs[S ~string](xs []S) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return out
}

func enumStrings(t *testing.T, s *openapi3.Schema, name string) []string {
	t.Helper()
	var out []string
	for _, v := range s.Enum {
		str, ok := v.(string)
		if !ok {
			t.Fatalf("%s: enum value %v is not a string", name, v)
		}
		out = append(out, str)
	}
	return out
}

func schema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	ref := document(t).Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("no components.schemas.%s", name)
	}
	return ref.Value
}

// ledgerConstants scans internal/request's source for every constant of the named type, so a status
// or kind added to the request but not to the lists above fails the test.
func ledgerConstants(t *testing.T, typeName string) []string {
	t.Helper()
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "internal", "request")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []string
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typeName {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("ledger: a %s constant that is not a string literal", typeName)
					}
					s, _ := strconv.Unquote(lit.Value)
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func TestEnumsMatchCode(t *testing.T) {
	var deadlines []string
	for name := range schema(t, "Deadlines").Properties {
		deadlines = append(deadlines, name)
	}
	act := schema(t, "Act")
	tests := []struct {
		name      string
		got, want []string
	}{
		{"RequestStatus", enumStrings(t, schema(t, "RequestStatus"), "RequestStatus"), strs(ledgerStatuses)},
		{"RequestKind", enumStrings(t, schema(t, "RequestKind"), "RequestKind"), strs(ledgerKinds)},
		{"ScopeKind", enumStrings(t, schema(t, "ScopeKind"), "ScopeKind"), strs(datamap.AllScopes)},
		{"Channel", enumStrings(t, schema(t, "Channel"), "Channel"), platform.Channels},
		{"Deadlines", deadlines, []string{request.DeadlineStartBy, request.DeadlineSoftDeleteEnds,
			request.DeadlineHardDeleteBy, request.DeadlineBackupsRotatedBy, request.DeadlineCompleteBy,
			request.DeadlineEscalateAt, request.DeadlineFinalMailBy}},
		{"Act.reason", enumStrings(t, act.Properties["reason"].Value, "Act.reason"), []string{
			evidence.ReasonSubjectRequest, evidence.ReasonAccountOwnerRequest, evidence.ReasonChannelRevoked,
			evidence.ReasonRetentionExpired, evidence.ReasonEndCustomerRequest, evidence.ReasonAccountInstruction}},
		{"Act.locale", enumStrings(t, act.Properties["locale"].Value, "Act.locale"), evidence.Locales},
		{"Act.method", enumStrings(t, act.Properties["method"].Value, "Act.method"), []string{evidence.MethodLogicalErasure}},
		{"ActSubject.kind", enumStrings(t, schema(t, "ActSubject").Properties["kind"].Value, "ActSubject.kind"), []string{
			evidence.SubjectAccountOwner, evidence.SubjectEndUser, evidence.SubjectTeamMember}},
		{"KeptCount.reason", enumStrings(t, schema(t, "KeptCount").Properties["reason"].Value, "KeptCount.reason"), []string{
			evidence.KeptLawAccounting5y, evidence.KeptConsentWithdrawal5y, evidence.KeptLegalHold, evidence.KeptAnalyticsAnonymous}},
	}
	for _, tc := range tests {
		if got, want := sorted(tc.got), sorted(tc.want); !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", tc.name, got, want)
		}
	}
}

// TestLedgerListsComplete keeps the lists above equal to every constant the ledger declares.
func TestLedgerListsComplete(t *testing.T) {
	for _, tc := range []struct {
		typeName string
		listed   []string
	}{
		{"Status", strs(ledgerStatuses)},
		{"Kind", strs(ledgerKinds)},
	} {
		if got, want := sorted(ledgerConstants(t, tc.typeName)), sorted(tc.listed); !slices.Equal(got, want) {
			t.Errorf("ledger %s constants = %v, the test lists %v", tc.typeName, got, want)
		}
	}
}
