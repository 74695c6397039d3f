package rules

import (
	"context"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Relations names what a reader wants read along with tasks, because it will show it for each of
// them: then the relations come with the tasks, and need no read, and no wait for a batch, of
// their own.
type Relations struct{ Phase, Assignees bool }

// Related holds the relations read along with tasks.
type Related struct {
	// Phases holds each task's phase, by id, when Relations.Phase.
	Phases map[model.PhaseID]*model.Phase
	// Assignees holds each task's assignees in assignment order, when Relations.Assignees: a task
	// without assignees has none, and an entry all the same.
	Assignees map[model.TaskID][]*model.User
}

// related reads the relations wanted of tasks already read through sc; phases, when wanted,
// came with them.
func (s *Service) related(ctx context.Context, sc store.Scope, tasks []*model.Task, phases map[model.PhaseID]*model.Phase, want Relations) (Related, error) {
	r := Related{Phases: phases}
	if want.Phase && r.Phases == nil {
		ids := make([]model.PhaseID, len(tasks))
		for i, t := range tasks {
			ids[i] = t.PhaseID
		}
		var err error
		if r.Phases, err = s.store.PhasesByID(ctx, sc, ids); err != nil {
			return Related{}, err
		}
	}
	if want.Assignees && len(tasks) > 0 {
		ids := make([]model.TaskID, len(tasks))
		for i, t := range tasks {
			ids[i] = t.ID
		}
		m, err := s.store.AssigneesOf(ctx, sc, ids)
		if err != nil {
			return Related{}, err
		}
		for _, id := range ids {
			if _, ok := m[id]; !ok {
				m[id] = nil
			}
		}
		r.Assignees = m
	}
	return r, nil
}
