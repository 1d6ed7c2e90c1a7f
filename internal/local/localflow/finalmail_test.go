package localflow_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/system"
)

// rejecting is an HTTP transport in front of the SES emulator that answers SendEmail to one address
// as SES does when it refuses a message (400 MessageRejected), while on is set.
type rejecting struct {
	to string
	on atomic.Bool
}

func (r *rejecting) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.on.Load() && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		if strings.Contains(string(body), r.to) {
			return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Request: req,
				Header: http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"MessageRejected"}},
				Body:   io.NopCloser(strings.NewReader(`{"message":"Email address is on the suppression list."}`))}, nil
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// An account deletion whose final mail (the act) cannot be sent is still completed: the execution
// succeeds, the request records that its outcome mail is pending, the SLA sweep sends it again
// every run, alerts the privacy officer once the mail is overdue, and sends it when SES takes it.
func TestFinalMailThatFailsIsSentAgainBySweep(t *testing.T) {
	var ses *rejecting
	w := newWorld(t, lateNovember2025, func(s *system.System) { s.Tasks.SliceItems = 150 })
	a := w.seedDemo(smallDemo())
	ses = &rejecting{to: w.env.Address("owner")}
	w.sys.Mailer.SES = sesv2.New(w.env.SES.Options(), func(o *sesv2.Options) { o.HTTPClient = &http.Client{Transport: ses} })

	req, _, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.advance(30*24*time.Hour + time.Second)
	if r := w.request(req.ID); r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("status %s after the window, want awaiting_backup_rotation", r.Status)
	}
	ses.on.Store(true)
	w.advance(30 * 24 * time.Hour)
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted {
		t.Fatalf("status %s once backups rotated, want completed; history %+v", r.Status, r.History)
	}
	due, pending := r.Deadlines[request.DeadlineFinalMailBy]
	if !pending || r.Requester == "" {
		t.Fatalf("final mail pending %v, requester kept %v: want both", pending, r.Requester != "")
	}
	if e := w.execution(r.ExecutionARN); e.Status != "SUCCEEDED" {
		t.Fatalf("execution %s %s: the deletion is done, want SUCCEEDED", e.Status, e.Error)
	}
	if n := len(w.mailTo("owner")); n != 2 {
		t.Fatalf("%d mails to the owner, want confirmation and deleted only", n)
	}

	sweep := func() (rep struct{ sent, pending, escalated int }) {
		t.Helper()
		got, err := w.sys.SLASweep.Run(w.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return struct{ sent, pending, escalated int }{got.FinalMails, got.FinalMailsPending, got.Escalated}
	}
	w.advance(time.Hour)
	if got := sweep(); got.pending != 1 || got.sent != 0 || got.escalated != 0 {
		t.Errorf("first sweep %+v, want the mail tried and still pending, no alert yet", got)
	}
	if n := len(w.mailTo("privacy")); n != 0 {
		t.Errorf("%d mails to the privacy officer before the mail is overdue", n)
	}
	// Still failing after its deadline (and the sweep's grace): the privacy officer is told, once.
	w.advance(due.Sub(w.eng.Clock().Now()) + 2*time.Hour)
	if got := sweep(); got.pending != 1 || got.escalated != 1 {
		t.Errorf("overdue sweep %+v, want the mail still pending and one alert", got)
	}
	w.advance(time.Hour)
	sweep()
	alerts := w.mailTo("privacy")
	if len(alerts) != 1 || !strings.Contains(alerts[0].Text+alerts[0].Subject, req.ID) {
		t.Fatalf("%d alerts to the privacy officer, want one naming the request", len(alerts))
	}
	// SES takes the mail again: the next run sends it, and only once.
	ses.on.Store(false)
	w.advance(time.Hour)
	if got := sweep(); got.sent != 1 || got.pending != 0 {
		t.Errorf("sweep %+v, want the mail sent", got)
	}
	w.advance(time.Hour)
	sweep()
	mails := w.mailTo("owner")
	if len(mails) != 3 || len(mails[2].Attachments) != 1 {
		t.Fatalf("%d mails to the owner, want the final one with the act", len(mails))
	}
	r = w.request(req.ID)
	if _, still := r.Deadlines[request.DeadlineFinalMailBy]; still || r.Requester != "" || r.Status != request.StatusCompleted {
		t.Errorf("after the mail: pending %v, requester kept %v, status %s", still, r.Requester != "", r.Status)
	}
}

// The outcome mail of an end-customer request (approved: the erase is done; declined: the reason)
// that SES refuses leaves the request closed and the execution succeeded; the SLA sweep sends it
// once SES takes it, then forgets the requester's address.
func TestOutcomeMailOfAnEndCustomerRequestIsSentAgain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		approved bool
		status   request.Status
	}{{"approved", true, request.StatusCompleted}, {"declined", false, request.StatusDeclined}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, lastOfApril2026, nil)
			w.seedDemo(smallDemo())
			ses := &rejecting{to: w.env.Address("customer")}
			w.sys.Mailer.SES = sesv2.New(w.env.SES.Options(), func(o *sesv2.Options) { o.HTTPClient = &http.Client{Transport: ses} })
			r, _ := submitEndCustomer(t, w)
			ses.on.Store(true)
			if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", tc.approved, "the account holds a contract with this customer"); err != nil {
				t.Fatal(err)
			}
			w.settle()
			r = w.request(r.ID)
			if _, pending := r.Deadlines[request.DeadlineFinalMailBy]; r.Status != tc.status || !pending || r.Requester == "" {
				t.Fatalf("status %s, mail pending %v, requester kept %v: want %s, pending, kept", r.Status, pending, r.Requester != "", tc.status)
			}
			if e := w.execution(r.ExecutionARN); e.Status != "SUCCEEDED" {
				t.Fatalf("execution %s %s, want SUCCEEDED", e.Status, e.Error)
			}
			w.advance(time.Hour)
			if rep, err := w.sys.SLASweep.Run(w.ctx); err != nil || rep.FinalMailsPending != 1 {
				t.Fatalf("sweep %+v %v, want the mail still pending", rep, err)
			}
			ses.on.Store(false)
			w.advance(time.Hour)
			if rep, err := w.sys.SLASweep.Run(w.ctx); err != nil || rep.FinalMails != 1 {
				t.Fatalf("sweep %+v %v, want the mail sent", rep, err)
			}
			if n := len(w.mailTo("customer")); n != 2 {
				t.Fatalf("%d mails to the requester, want received and the outcome", n)
			}
			r = w.request(r.ID)
			if _, pending := r.Deadlines[request.DeadlineFinalMailBy]; pending || r.Requester != "" || r.Status != tc.status {
				t.Errorf("after the mail: pending %v, requester kept %v, status %s", pending, r.Requester != "", r.Status)
			}
		})
	}
}
