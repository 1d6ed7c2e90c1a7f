// Package request is the deletion request of the domain: its kinds, its statuses with a timestamped
// history, its deadlines and the decision on an end-customer request (SPEC §3). The ledger stores it.
package request

import (
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// Status is a request's state (SPEC §3).
type Status string

const (
	StatusReceived               Status = "received"
	StatusAwaitingVerification   Status = "awaiting_verification"
	StatusScheduled              Status = "scheduled"
	StatusSoftDeleted            Status = "soft_deleted"
	StatusCancelled              Status = "cancelled"
	StatusHardDeleting           Status = "hard_deleting"
	StatusAwaitingBackupRotation Status = "awaiting_backup_rotation"
	StatusCompleted              Status = "completed"
	StatusHeld                   Status = "held"
	StatusDeclined               Status = "declined"
	StatusFailed                 Status = "failed"
)

// Closed reports whether nothing more will happen to a request in this status.
func (s Status) Closed() bool {
	return s == StatusCompleted || s == StatusCancelled || s == StatusDeclined
}

// Kind is what a request asks for.
type Kind string

const (
	KindAccountDeletion    Kind = "account_deletion"
	KindBotDeletion        Kind = "bot_deletion"
	KindConnectionWipe     Kind = "connection_wipe"
	KindEndUserFilter      Kind = "end_user_filter"
	KindEndUserDeletion    Kind = "end_user_deletion"
	KindChannelIdentity    Kind = "channel_identity_deletion"
	KindInboxMessage       Kind = "inbox_message_deletion"
	KindActivityLogs       Kind = "activity_log_deletion"
	KindEndCustomerRequest Kind = "end_customer_request"
)

// Kinds lists every request kind.
var Kinds = []Kind{KindAccountDeletion, KindBotDeletion, KindConnectionWipe, KindEndUserFilter, KindEndUserDeletion,
	KindChannelIdentity, KindInboxMessage, KindActivityLogs, KindEndCustomerRequest}

// Decision is the answer to an end-customer request.
type Decision struct {
	Approved bool      `dynamodbav:"approved" json:"approved"`
	By       string    `dynamodbav:"by" json:"by"` // "<role>:<sub>" (the bot owner or an admin), "operator:<sub> (<name>)" (the privacy officer)
	At       time.Time `dynamodbav:"at" json:"at"`
	Reason   string    `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
}

// Event is one entry of a request's history.
type Event struct {
	At     time.Time `dynamodbav:"at" json:"at"`
	Status Status    `dynamodbav:"status" json:"status"`
	Actor  string    `dynamodbav:"actor" json:"actor"` // "owner:<sub>", "system", "operator:<name>", "email", "webhook:meta" …
	Note   string    `dynamodbav:"note,omitempty" json:"note,omitempty"`
}

// Request is one deletion request.
type Request struct {
	ID        string            `dynamodbav:"requestId"`
	AccountID string            `dynamodbav:"accountId"`
	Kind      Kind              `dynamodbav:"kind"`
	Source    string            `dynamodbav:"source"` // dashboard, email, webhook:<channel>, retention, operator
	Scope     platform.ScopeRef `dynamodbav:"scope"`
	Status    Status            `dynamodbav:"status"`
	History   []Event           `dynamodbav:"history"`
	// Deadlines by name (start, soft_delete_ends, hard_delete_by, backups_rotated_by, …).
	Deadlines    map[string]time.Time `dynamodbav:"deadlines,omitempty"`
	ExecutionARN string               `dynamodbav:"executionArn,omitempty"`
	// Progress counts destroyed items per data-map category.
	Progress map[string]int64 `dynamodbav:"progress,omitempty"`
	// Planned counts, per data-map category, the items the scope held when its hard delete started
	// (the erasure plan run dry), so that progress can be shown as done of total. It is absent when
	// the count did not finish within the first slice's share of the budget; S3 objects are not
	// counted.
	Planned map[string]int64 `dynamodbav:"planned,omitempty"`
	// Checkpoint is where the erase loop of the current round stands (an erasure checkpoint as JSON,
	// written with every slice, cleared when the round completes): an execution started again after a
	// failure resumes from it, so the act counts everything the round destroyed.
	Checkpoint string `dynamodbav:"checkpoint,omitempty"`
	// HeldBy lists the legal holds that keep part of the scope.
	HeldBy []string `dynamodbav:"heldBy,omitempty,stringset"`
	// Evidence lists the ids the evidence of each round of destruction is stored under (a request a
	// hold paused is finished in a second round after the release).
	Evidence []string `dynamodbav:"evidence,omitempty"`
	Locale   string   `dynamodbav:"locale,omitempty"`
	// RequestedBy is the dashboard user (token sub) who asked, for the mail that says it is done.
	RequestedBy string `dynamodbav:"requestedBy,omitempty"`
	// Requester is the address an end customer or an emailed request wrote from: the one piece of
	// contact data the ledger keeps, to tell them each outcome.
	Requester string `dynamodbav:"requester,omitempty"`
	// TaskToken is the Step Functions token of the decision the workflow waits for.
	TaskToken string `dynamodbav:"taskToken,omitempty"`
	// Decision records the bot owner's or privacy officer's answer to an end-customer request.
	Decision *Decision `dynamodbav:"decision,omitempty"`
	// Candidates lists the end users an end customer's identifier matched when more than one did
	// (same display name, same phone number on two channels): the bot owner picks one when approving,
	// and it becomes the scope's end user. Until then the scope names the first.
	Candidates []string `dynamodbav:"candidates,omitempty"`
	// Verification is the one-time code the owner (or the officer) asked the end customer to enter,
	// proving they control the chat identity the request names; nil until one is asked for.
	Verification *Verification `dynamodbav:"verification,omitempty"`
	// Mail holds, per mail template, the SES message id of what was sent, so that a second delivery of
	// a task sends nothing and replies can be matched by In-Reply-To.
	Mail      map[string]string `dynamodbav:"mail,omitempty"`
	CreatedAt time.Time         `dynamodbav:"createdAt"`
	UpdatedAt time.Time         `dynamodbav:"updatedAt"`
	ClosedAt  *time.Time        `dynamodbav:"closedAt,omitempty"`
	Version   int64             `dynamodbav:"version"` // incremented by every write
}

func (Request) Category() string { return datamap.DeletionRequest }
func (r Request) KeyVars() map[string]string {
	return map[string]string{"request": r.ID, "account": r.AccountID, "status": string(r.Status),
		"createdAt": r.CreatedAt.UTC().Format(platform.KeyTime), "updatedAt": r.UpdatedAt.UTC().Format(platform.KeyTime)}
}
func (r Request) RetentionAnchor() time.Time {
	if r.ClosedAt == nil {
		return time.Time{}
	}
	return *r.ClosedAt
}
