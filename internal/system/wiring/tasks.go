package wiring

import (
	"context"

	"github.com/lethe-dev/lethe/internal/workflow"
)

// The workflow task functions' builders: functions/<folder>/main.go calls its own on
// FromEnvironment's Graph.

// OpenRequest is the workflows' Open task (functions/open-request).
func OpenRequest(g *Graph) func(context.Context, workflow.State) (workflow.Opened, error) {
	return workflow.Lambda(g.Tasks().Open)
}

// BeginHardDelete is the workflows' BeginHardDelete task (functions/begin-hard-delete).
func BeginHardDelete(g *Graph) func(context.Context, workflow.State) (workflow.Began, error) {
	return workflow.Lambda(g.Tasks().BeginHardDelete)
}

// EraseSlice is the workflows' EraseSlice task (functions/erase-slice).
func EraseSlice(g *Graph) func(context.Context, workflow.State) (workflow.Erase, error) {
	return workflow.Lambda(g.Tasks().EraseSlice)
}

// CompleteDeletion is the workflows' Complete task (functions/complete-deletion).
func CompleteDeletion(g *Graph) func(context.Context, workflow.State) (workflow.Completed, error) {
	return workflow.Lambda(g.Tasks().Complete)
}

// FinishRequest is the workflows' Finish task (functions/finish-request).
func FinishRequest(g *Graph) func(context.Context, workflow.State) (workflow.Done, error) {
	return workflow.Lambda(g.FinalMailTasks().Finish)
}

// AwaitDecision is the workflows' AwaitDecision task (functions/await-decision).
func AwaitDecision(g *Graph) func(context.Context, workflow.Await) (workflow.Done, error) {
	return workflow.Lambda(g.Tasks().AwaitDecision)
}

// NotifyDeclined is the workflows' NotifyDeclined task (functions/notify-declined).
func NotifyDeclined(g *Graph) func(context.Context, workflow.State) (workflow.Done, error) {
	return workflow.Lambda(g.Tasks().NotifyDeclined)
}
