package store

import (
	"context"
	"fmt"

	"github.com/taskql/taskql/model"
)

// HasOrganizations reports whether any organization is stored; without one no other row can
// exist. The first start of the server loads the demo world into a database without any
// (DESIGN §6).
func (s *Store) HasOrganizations(ctx context.Context) (bool, error) {
	var n int64
	if err := s.q(ctx).Model(&model.Organization{}).Limit(1).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count organizations: %w", err)
	}
	return n > 0, nil
}

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
