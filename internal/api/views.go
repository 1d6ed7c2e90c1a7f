package api

import (
	"slices"
	"strconv"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// requestView is a deletion request as the API shows it (api/openapi.yaml DeletionRequest): no
// execution ARN, no hold ids, no requester address, no channel identifier of a person.
type requestView struct {
	ID        string               `json:"id"`
	Kind      request.Kind         `json:"kind"`
	Source    string               `json:"source"`
	Scope     scopeView            `json:"scope"`
	Status    request.Status       `json:"status"`
	History   []request.Event      `json:"history"`
	Deadlines map[string]time.Time `json:"deadlines"`
	Progress  map[string]int64     `json:"progress"`
	Planned   map[string]int64     `json:"planned"`
	Evidence  []string             `json:"evidence"`
	Decision  *request.Decision    `json:"decision,omitempty"`
	CreatedAt time.Time            `json:"createdAt"`
	UpdatedAt time.Time            `json:"updatedAt"`
	ClosedAt  *time.Time           `json:"closedAt,omitempty"`
	// Verification is an end-customer request's proof that the requester controls the chat, where
	// the answer shows it (the queue, the request's detail); set with API.verificationOf.
	Verification *verificationView `json:"verification,omitempty"`
	// verification is the request's stored proof, for Verification.
	verification *request.Verification
	// candidates are the end users an end-customer request matched (request.Request.Candidates),
	// which the queue shows by name.
	candidates []string
}

type scopeView struct {
	Kind         string     `json:"kind"`
	BotID        string     `json:"botId,omitempty"`
	ConnectionID string     `json:"connectionId,omitempty"`
	EndUserID    string     `json:"endUserId,omitempty"`
	Channel      string     `json:"channel,omitempty"`
	MessageID    string     `json:"messageId,omitempty"`
	From         *time.Time `json:"from,omitempty"`
	To           *time.Time `json:"to,omitempty"`
	LogIDs       []string   `json:"logIds,omitempty"`
}

func viewOf(r request.Request) requestView {
	v := requestView{ID: r.ID, Kind: r.Kind, Source: r.Source, Status: r.Status, History: r.History,
		Deadlines: r.Deadlines, Progress: r.Progress, Planned: r.Planned, Evidence: r.Evidence, Decision: r.Decision,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ClosedAt: r.ClosedAt, candidates: r.Candidates, verification: r.Verification,
		Scope: scopeView{Kind: string(r.Scope.Kind), BotID: r.Scope.BotID, ConnectionID: r.Scope.ConnectionID,
			EndUserID: r.Scope.EndUserID, Channel: r.Scope.Channel, MessageID: r.Scope.MessageID, LogIDs: r.Scope.LogIDs}}
	if !r.Scope.From.IsZero() {
		v.Scope.From = &r.Scope.From
	}
	if !r.Scope.To.IsZero() {
		v.Scope.To = &r.Scope.To
	}
	if v.History == nil {
		v.History = []request.Event{}
	}
	if v.Deadlines == nil {
		v.Deadlines = map[string]time.Time{}
	}
	if v.Progress == nil {
		v.Progress = map[string]int64{}
	}
	if v.Planned == nil {
		v.Planned = map[string]int64{}
	}
	if v.Evidence == nil {
		v.Evidence = []string{}
	}
	return v
}

// page is a list answer.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty"`
}

// pageOf is one page of rows held in memory, sorted ascending by key: the rows after the cursor's
// position (the key of the last row shown, so a page starts after it even when rows came or went in
// between), at most limit, and a cursor bound to partition when more follow.
func pageOf[T any](rows []T, key func(T) string, cur platform.Cursor, partition string, limit int) page[T] {
	start := 0
	if cur.After != "" {
		start, _ = slices.BinarySearchFunc(rows, cur.After, func(row T, after string) int {
			if key(row) <= after {
				return -1
			}
			return 1
		})
	}
	out := page[T]{Items: rows[start:min(start+limit, len(rows))]}
	if start+limit < len(rows) {
		out.NextCursor = platform.Cursor{Partition: partition, After: key(out.Items[len(out.Items)-1])}.Encode()
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, badRequest("limit", "an integer from 1 to 100")
	}
	return n, nil
}
