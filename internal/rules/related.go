package rules

import (
	"github.com/taskql/taskql/internal/store"
)

// Relations names what a reader wants read along with tasks, because it will show it for each of
// them: then the relations come with the tasks, in the same statement, recorded on each task
// (model.Task.Phase, Assignees), and need no read, no resolver and no wait for a batch of their own.
//
// Lean says the reader shows of the tasks and their assignees only what their lean columns give
// (store.With.Lean): their other fields are then left zero.
type Relations struct{ Phase, Assignees, Lean bool }

func (r Relations) with() store.With {
	return store.With{Phases: r.Phase, Assignees: r.Assignees, Lean: r.Lean}
}
