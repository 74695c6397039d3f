package rules

import (
	"slices"

	"github.com/taskql/taskql/model"
)

// Condition is what a write asks of its task before it changes anything (DESIGN §10); the zero
// Condition asks nothing.
type Condition struct {
	// versions, when ifVersion, are the task's versions the write accepts: the one the client
	// saw (GraphQL's ifVersion), or each strong entity tag of an If-Match (none may match).
	versions  []string
	ifVersion bool
}

// IfVersion makes a write conditional: it changes nothing and fails with a *ConflictError unless
// the task's version (model.Task.Version) is one of versions when the write holds the task's
// lock. Versions are opaque: any other string, well formed or not, is a version the task does not
// have, a conflict that tells the client the current one.
func IfVersion(versions ...string) Condition { return Condition{versions: versions, ifVersion: true} }

// conditions are the conditions of one write: a task must pass each.
type conditions []Condition

// check refuses a locked task that no longer is as a condition expects.
func (cs conditions) check(t *model.Task) error {
	for _, c := range cs {
		if c.ifVersion && !slices.Contains(c.versions, t.Version()) {
			return &ConflictError{Task: t.ID, Version: t.Version()}
		}
	}
	return nil
}
