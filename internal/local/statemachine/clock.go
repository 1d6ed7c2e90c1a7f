package statemachine

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the virtual time the engine runs on. A test clock moves only when advanced; a clock that
// follows the wall moves with real time plus whatever it has been advanced by, and fires due timers
// as real time passes.
type Clock struct {
	mu         sync.Mutex
	followWall bool
	now        time.Time     // the time, when not following the wall
	offset     time.Duration // added to the wall time, when following it
	timers     timerHeap
	seq        uint64
	stop       chan struct{}
	stopOnce   sync.Once
}

// wallTick is how often a wall-following clock looks for due timers.
const wallTick = 20 * time.Millisecond

// NewClock returns a clock reading start. With followWall it keeps moving with real time (and
// fires due timers as it does) until Stop; without, it moves only by Advance.
func NewClock(start time.Time, followWall bool) *Clock {
	c := &Clock{followWall: followWall, now: start.UTC(), stop: make(chan struct{})}
	if followWall {
		c.offset = time.Until(start)
		go c.tick()
	}
	return c
}

func (c *Clock) tick() {
	t := time.NewTicker(wallTick)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			for c.fireOne(c.Now()) {
			}
		}
	}
}

// Stop ends a wall-following clock's background ticker; the clock still reads the time.
func (c *Clock) Stop() { c.stopOnce.Do(func() { close(c.stop) }) }

// Offset is how far the virtual time is ahead of the wall: what a process that reads the wall
// clock must add to read this one (constant between advances of a wall-following clock).
func (c *Clock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.followWall {
		return c.offset
	}
	return time.Until(c.now)
}

// Now is the current virtual time, in UTC.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked()
}

func (c *Clock) nowLocked() time.Time {
	if c.followWall {
		return time.Now().UTC().Add(c.offset).Round(0)
	}
	return c.now
}

// setAtLeast moves the clock forward to t; it never moves back.
func (c *Clock) setAtLeast(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.After(c.nowLocked()) {
		return
	}
	if c.followWall {
		c.offset = t.Sub(time.Now().UTC())
	} else {
		c.now = t.UTC()
	}
}

// timer is a callback due at a virtual time.
type timer struct {
	at    time.Time
	seq   uint64 // orders timers due at the same instant by creation
	fn    func()
	index int // in the heap; -1 once fired or stopped
	c     *Clock
}

// afterFunc schedules fn to run (on whichever goroutine advances the clock) once the clock reaches at.
func (c *Clock) afterFunc(at time.Time, fn func()) *timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &timer{at: at, seq: c.seq, fn: fn, c: c}
	heap.Push(&c.timers, t)
	return t
}

// stopTimer cancels t; it reports whether t had not fired yet.
func (t *timer) stopTimer() bool {
	if t == nil {
		return false
	}
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.index < 0 {
		return false
	}
	heap.Remove(&c.timers, t.index)
	return true
}

// nextDue is the time of the earliest pending timer.
func (c *Clock) nextDue() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return time.Time{}, false
	}
	return c.timers[0].at, true
}

// fireOne runs the earliest timer if it is due at now; it reports whether one ran.
func (c *Clock) fireOne(now time.Time) bool {
	c.mu.Lock()
	if len(c.timers) == 0 || c.timers[0].at.After(now) {
		c.mu.Unlock()
		return false
	}
	t := heap.Pop(&c.timers).(*timer)
	c.mu.Unlock()
	t.fn()
	return true
}

type timerHeap []*timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}
