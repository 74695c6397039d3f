package rules

import (
	"sync"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Read-your-writes (DESIGN §11). With a streaming replica the store sends reads there unless their
// Scope is Fresh; a client must still read its own writes at once, through whichever process its
// next request reaches. So every process knows who wrote lately:
//
//   - the process that made a change marks its viewer as it commits, before it answers;
//   - the change's message on the bus (published in the transaction, delivered to every process
//     as it commits) names its actor, and every process marks the actor as it reads the message,
//     before it delivers any change: within milliseconds of the commit, sooner than a client can
//     send its next request to another process in practice.
//
// A marked viewer reads the primary for the window after its mark; the store reads the replica
// only while it is less than the window behind, so once the mark expires the replica holds the
// write. A mutation's own result is read in its transaction, on the primary.

// WithReadYourWrites makes a viewer's reads see its own writes for window after each, on every
// process (the store's replica must be at most window behind: store.WithReplica with the same
// window). Without it, no read asks for the primary: right when there is no replica.
func WithReadYourWrites(window time.Duration) Option {
	return func(s *Service) { s.writers = &writers{window: window, at: map[model.UserID]time.Time{}} }
}

// writers are the users who wrote lately, with when each was last marked.
type writers struct {
	window time.Duration
	mu     sync.Mutex
	at     map[model.UserID]time.Time
	pruned int // the size of at after the last pruning
}

// wrote marks a user who has just written.
func (w *writers) wrote(u model.UserID) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.at[u] = now
	if len(w.at) > 2*w.pruned+64 {
		for id, at := range w.at {
			if now.Sub(at) >= w.window {
				delete(w.at, id)
			}
		}
		w.pruned = len(w.at)
	}
}

// lately tells whether the user wrote within the window.
func (w *writers) lately(u model.UserID) bool {
	w.mu.Lock()
	at, ok := w.at[u]
	w.mu.Unlock()
	return ok && time.Since(at) < w.window
}

// scope is the viewer's Scope (visibility.go), Fresh when the viewer wrote lately.
func (s *Service) scope(v *model.Viewer) (store.Scope, error) {
	sc, err := scope(v)
	if err == nil && s.writers != nil {
		sc.Fresh = s.writers.lately(v.ID)
	}
	return sc, err
}

// wrote marks the viewer of a committed change, when the service keeps track.
func (s *Service) wrote(u model.UserID) {
	if s.writers != nil && u != "" {
		s.writers.wrote(u)
	}
}
