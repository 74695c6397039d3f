package store

import (
	"context"
	"fmt"
)

// ExistingByID returns the rows of T's table (a model struct such as model.User) whose id is
// among ids, in no particular order; an id without a row is left out. It applies no Scope and
// crosses organizations: it is for the fixture loader (DESIGN §5), which checks that what a
// fixture refers to and does not define is already in the database.
func ExistingByID[T any, ID ~string](ctx context.Context, s *Store, ids []ID) ([]T, error) {
	var (
		rows []T
		zero T
	)
	// Chunks keep the statement under SQLite's limit on bound parameters.
	const chunk = 500
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		var part []T
		if err := s.q(ctx).Where("id IN ?", ids[:n]).Find(&part).Error; err != nil {
			return nil, fmt.Errorf("find existing %T rows: %w", zero, translate(err))
		}
		rows = append(rows, part...)
		ids = ids[n:]
	}
	return rows, nil
}
