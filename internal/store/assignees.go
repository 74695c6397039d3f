package store

import (
	"context"
	"fmt"
	"time"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/model"
)

// AssigneesOf returns each task's assignees in the order they were assigned, then by user id
// (DESIGN §1), in one query whatever the number of tasks. The tasks must be visible.
func (s *Store) AssigneesOf(ctx context.Context, tasks []model.TaskID) (map[model.TaskID][]*model.User, error) {
	var rows []*struct {
		AssigneeTaskID model.TaskID
		model.User     `gorm:"embedded"`
	}
	err := s.q(ctx).Table("task_assignees").
		Select("task_assignees.task_id AS assignee_task_id, users.*").
		Joins("JOIN users ON users.id = task_assignees.user_id").
		Where("task_assignees.task_id IN ?", tasks).
		Order("task_assignees.task_id, task_assignees.assigned_at, task_assignees.user_id").
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("assignees of tasks: %w", err)
	}
	m := make(map[model.TaskID][]*model.User, len(tasks))
	for _, r := range rows {
		m[r.AssigneeTaskID] = append(m[r.AssigneeTaskID], &r.User)
	}
	return m, nil
}

// AssigneeIDs returns a task's assignees' ids in assignment order. Under the task's lock this is
// the set a change starts from.
func (s *Store) AssigneeIDs(ctx context.Context, task model.TaskID) ([]model.UserID, error) {
	var ids []model.UserID
	err := s.q(ctx).Model(&TaskAssignee{}).Where("task_id = ?", task).
		Order("assigned_at, user_id").Pluck("user_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("assignees of task %s: %w", task, err)
	}
	return ids, nil
}

// AddAssignees assigns users to a task at one time. A user already assigned is left as it was
// (ON CONFLICT DO NOTHING on the unique key), so a retried call is harmless.
func (s *Store) AddAssignees(ctx context.Context, task model.TaskID, users []model.UserID, at time.Time) error {
	if len(users) == 0 {
		return nil
	}
	rows := make([]TaskAssignee, len(users))
	for i, u := range users {
		rows[i] = TaskAssignee{TaskID: task, UserID: u, AssignedAt: at}
	}
	if err := s.q(ctx).Clauses(onConflictDoNothing).Create(&rows).Error; err != nil {
		return fmt.Errorf("add assignees to %s: %w", task, translate(err))
	}
	return nil
}

// RemoveAssignees unassigns users from a task.
func (s *Store) RemoveAssignees(ctx context.Context, task model.TaskID, users []model.UserID) error {
	if len(users) == 0 {
		return nil
	}
	err := s.q(ctx).Where("task_id = ? AND user_id IN ?", task, users).Delete(&TaskAssignee{}).Error
	if err != nil {
		return fmt.Errorf("remove assignees from %s: %w", task, err)
	}
	return nil
}

// TouchTask sets a task's modifiedAt to the time of the change and returns it. Under the task's
// lock, that time orders the changes to one task as they took effect (DESIGN §1): on PostgreSQL it
// is the database's clock_timestamp(), one clock for every server process, not now(), which is
// the transaction's start; SQLite serialises writers and is read by one machine's clock.
func (s *Store) TouchTask(ctx context.Context, task model.TaskID) (time.Time, error) {
	var at time.Time
	var err error
	if s.dialect == migrate.Postgres {
		err = s.q(ctx).Raw("UPDATE tasks SET modified_at = clock_timestamp() WHERE id = ? RETURNING modified_at", task).Row().Scan(&at)
	} else {
		at = now()
		err = s.q(ctx).Model(&model.Task{}).Where("id = ?", task).Update("modified_at", at).Error
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("touch task %s: %w", task, err)
	}
	return at.UTC(), nil
}
