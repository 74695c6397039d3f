package webhook

import (
	"math/rand/v2"
	"time"
)

// Backoff schedules the attempts after a failed one: the n-th retry waits Base·2^(n-1), at most
// Max, of which a random half (equal jitter: between half the delay and all of it), so that the
// events of an endpoint that was down do not all come back at once. No attempt starts later than
// Horizon after the event entered the outbox: then the event is given up.
type Backoff struct {
	Base    time.Duration
	Max     time.Duration
	Horizon time.Duration
	// Jitter returns a number in [0, 1); nil is math/rand/v2's Float64. Tests make it fixed.
	Jitter func() float64
}

// DefaultBackoff retries after about 5 s, 10 s, 20 s … up to an hour between attempts, for 24 h
// (DESIGN §10): some 35 attempts in all.
var DefaultBackoff = Backoff{Base: 5 * time.Second, Max: time.Hour, Horizon: 24 * time.Hour}

// Next is when to make the next attempt after attempt number attempt (from 1) failed at now, for
// an event that entered the outbox at first; false when it is to be given up.
func (b Backoff) Next(attempt int, first, now time.Time) (time.Time, bool) {
	delay := b.Max
	if attempt < 40 { // past that, 2^n overflows long before it matters: Max holds
		delay = min(b.Base<<(attempt-1), b.Max)
		if delay <= 0 {
			delay = b.Max
		}
	}
	jitter := b.Jitter
	if jitter == nil {
		jitter = rand.Float64
	}
	next := now.Add(delay/2 + time.Duration(jitter()*float64(delay/2)))
	if next.Sub(first) > b.Horizon {
		return time.Time{}, false
	}
	return next, true
}
