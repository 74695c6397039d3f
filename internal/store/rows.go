package store

import (
	"context"
	"time"

	"github.com/taskql/taskql/model"
)

// ProjectMember is a row of the membership join table: the user may be assigned to the project's
// tasks (rule 2). It never reaches a client.
type ProjectMember struct {
	ProjectID model.ProjectID `gorm:"primaryKey"`
	UserID    model.UserID    `gorm:"primaryKey"`
}

// TaskAssignee is one assignee of a task, with the time its assignment took effect.
type TaskAssignee struct {
	TaskID     model.TaskID `gorm:"primaryKey"`
	UserID     model.UserID `gorm:"primaryKey"`
	AssignedAt time.Time
}

// Token is a bearer token, kept only as the hash of its text (DESIGN §2).
type Token struct {
	Hash      string `gorm:"primaryKey"`
	UserID    model.UserID
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Create inserts rows (a pointer to a struct or a slice of them) of any table, in batches.
// Seeding uses it; the rules have named methods for their writes.
func (s *Store) Create(ctx context.Context, rows any) error {
	return translate(s.q(ctx).CreateInBatches(rows, 500).Error)
}
