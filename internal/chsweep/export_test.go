package chsweep

import "context"

// SetWindow makes the sweep's window for checks the one window gives (a test closes it when it
// wants the run cut short, without waiting for a deadline).
func SetWindow(s *Sweep, window func(context.Context) (context.Context, context.CancelFunc)) {
	s.window = window
}
