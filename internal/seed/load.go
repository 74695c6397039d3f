package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/taskql/taskql/internal/store"
)

// Load writes the world w into st, all or nothing (DESIGN §5). It first checks every id and
// every reference, each of which may name a row of w or one already in the database, and
// returns an *Error listing every problem; only then does it insert the rows, in the same
// transaction, so that nothing is written on any error, also when the database itself refuses
// a row. Every row's createdAt and modifiedAt is the time of loading; tokens are stored hashed;
// a task's assignees are stored as assigned in the order w lists them.
func Load(ctx context.Context, st *store.Store, w *World) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	err := st.WithTx(ctx, func(tx *store.Store) error {
		r, err := check(ctx, tx, w, now)
		if err != nil {
			return err
		}
		return r.insert(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}

// insert writes the rows in the order of their foreign keys.
func (r *rows) insert(ctx context.Context, tx *store.Store) error {
	for _, t := range []struct {
		name string
		rows any
		n    int
	}{
		{"organizations", r.organizations, len(r.organizations)},
		{"companies", r.companies, len(r.companies)},
		{"users", r.users, len(r.users)},
		{"tokens", r.tokens, len(r.tokens)},
		{"projects", r.projects, len(r.projects)},
		{"project members", r.members, len(r.members)},
		{"phases", r.phases, len(r.phases)},
		{"events", r.events, len(r.events)},
		{"tasks", r.tasks, len(r.tasks)},
		{"task data", r.taskData, len(r.taskData)},
		{"task assignees", r.assignees, len(r.assignees)},
	} {
		if t.n == 0 {
			continue
		}
		if err := tx.Create(ctx, t.rows); err != nil {
			return fmt.Errorf("insert %s: %w", t.name, err)
		}
	}
	return nil
}
