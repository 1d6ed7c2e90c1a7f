package rietest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// stepFunctions stands in for the Step Functions API the functions start workflows with: it speaks
// the service's JSON 1.0 protocol (POST /, X-Amz-Target: AWSStepFunctions.<Operation>), answers
// StartExecution as the service does ({"executionArn", "startDate"} in epoch seconds) and records
// every call, so that the calls a binary made can be compared with those its in-process handler
// made. Any other operation is refused with the protocol's error document.
type stepFunctions struct {
	URL   string
	mu    sync.Mutex
	calls []string // "Operation body"
}

func newStepFunctions(t *testing.T) *stepFunctions {
	t.Helper()
	s := &stepFunctions{}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *stepFunctions) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.calls = append(s.calls, op+" "+string(body))
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if !ok || op != "StartExecution" {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#UnknownOperationException",
			"message": "not served by the test's Step Functions: " + op})
		return
	}
	var in struct{ StateMachineArn, Name string }
	if err := json.Unmarshal(body, &in); err != nil || in.StateMachineArn == "" {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#InvalidArn", "message": "Invalid Arn"})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{
		"executionArn": strings.Replace(in.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + in.Name,
		"startDate":    float64(time.Now().UnixMilli()) / 1000})
}

// Calls are the calls made so far, each "Operation body".
func (s *stepFunctions) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}
