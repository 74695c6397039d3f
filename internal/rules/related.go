package rules

import (
	"github.com/taskql/taskql/internal/store"
)

// Relations names what a reader wants read along with tasks, because it will show it for each of
// them: then the relations come with the tasks, in the same statement, and need no read, and no
// wait for a batch, of their own.
type Relations struct{ Phase, Assignees bool }

func (r Relations) with() store.With { return store.With{Phases: r.Phase, Assignees: r.Assignees} }

// Related holds the relations read along with tasks: each task's phase by id, and each task's
// assignees in assignment order (an entry for every task read, with or without assignees).
type Related = store.Related
