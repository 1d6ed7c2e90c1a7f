package erasure

import (
	"context"
	"fmt"
)

// run executes the plan's stages from the checkpoint until they are all done or the budget is spent.
func (s *slice) run(ctx context.Context, plan []stage) error {
	for s.cp.Stage < len(plan) {
		if s.exhausted() {
			return nil
		}
		finished, err := plan[s.cp.Stage].step(ctx, s)
		if err != nil {
			return fmt.Errorf("%s stage: %w", plan[s.cp.Stage].name, err)
		}
		if finished && s.cp.Stage < len(plan) {
			s.cp.Stage++
			s.cp.Source, s.cp.Cursor, s.cp.Sources = 0, nil, nil
		}
	}
	s.cp.Done = true
	return nil
}
