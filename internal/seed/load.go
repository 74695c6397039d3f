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
	return LoadAt(ctx, st, w, time.Now())
}

// LoadAt is Load with the time of loading given, for tests that compare timestamps: every row is
// created and modified at at (in UTC, to the microsecond), the assignees of the world at, at+1µs,
// at+2µs and so on, in the order the world lists them.
func LoadAt(ctx context.Context, st *store.Store, w *World, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return st.WithTx(ctx, func(tx *store.Store) error {
		r, err := check(ctx, tx, w, at)
		if err != nil {
			return err
		}
		return r.insert(ctx, tx)
	})
}

// Empty reports whether st holds no organization, and so no row of any world: the server loads
// the demo world into an empty database on its first start (DESIGN §6).
func Empty(ctx context.Context, st *store.Store) (bool, error) {
	has, err := st.HasOrganizations(ctx)
	return !has, err
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
