package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/model"
)

// AssigneesOf returns the assignees of each visible task among ids, in the order they were
// assigned, then by user id (DESIGN §1), in one query whatever the number of tasks.
func (s *Store) AssigneesOf(ctx context.Context, sc Scope, tasks []model.TaskID) (map[model.TaskID][]*model.User, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.TaskID][]*model.User, error) {
		cond, args := sc.visibleTask("at")
		rows, err := s.q(ctx).Table("task_assignees").
			Select("task_assignees.task_id, "+userSelect).
			Joins("JOIN users ON users.id = task_assignees.user_id").
			Joins("JOIN tasks at ON at.id = task_assignees.task_id AND "+cond, args...).
			Where("task_assignees.task_id IN ?", tasks).
			Order("task_assignees.task_id, task_assignees.assigned_at, task_assignees.user_id").
			Rows()
		if err != nil {
			return nil, fmt.Errorf("assignees of tasks: %w", err)
		}
		defer rows.Close()
		m := make(map[model.TaskID][]*model.User, len(tasks))
		var task model.TaskID
		for rows.Next() {
			u := new(model.User)
			if err := rows.Scan(append([]any{(*string)(&task)}, userDest(u)...)...); err != nil {
				return nil, fmt.Errorf("assignees of tasks: %w", err)
			}
			m[task] = append(m[task], u)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("assignees of tasks: %w", err)
		}
		return m, nil
	})
}

// WriteChange applies a net change of a task's assignees under the task's lock and records its
// event, all at one time, which it returns and sets as the event's timestamp. Under the lock that
// time orders the changes to one task as they took effect (DESIGN §1): on PostgreSQL it is the
// database's clock_timestamp() (one clock for every server process; now() would be the
// transaction's start), and the whole write is one statement; SQLite serialises writers and takes
// this machine's clock. An added user already assigned is left as it was (ON CONFLICT DO NOTHING
// on the unique key), so a retried write is harmless. The event enters the webhook outbox, one
// row per webhook of its organization, in the same statement on PostgreSQL, in the same
// transaction on SQLite (DESIGN §10): it is delivered exactly when the change commits.
func (s *Store) WriteChange(ctx context.Context, task model.TaskID, added, removed []model.UserID, e *model.Event) (time.Time, error) {
	var at time.Time
	var err error
	switch s.dialect {
	case migrate.Postgres:
		err = s.q(ctx).Raw(`WITH touched AS (
				UPDATE tasks SET modified_at = clock_timestamp() WHERE id = ? RETURNING modified_at
			), removed AS (
				DELETE FROM task_assignees WHERE task_id = ? AND user_id = ANY (?::text[])
			), added AS (
				INSERT INTO task_assignees (task_id, user_id, assigned_at)
				SELECT ?, u, touched.modified_at FROM touched, unnest(?::text[]) AS u
				ON CONFLICT DO NOTHING
			), event AS (
				INSERT INTO events (id, organization_id, name, actor_id, entity, entity_id, message, data, timestamp)
				SELECT ?, ?, ?, ?, ?, ?, ?, ?::json, touched.modified_at FROM touched
			), outbox AS (
				INSERT INTO webhook_outbox (webhook_id, event_id, next_attempt_at, created_at)
				SELECT w.id, ?, touched.modified_at, touched.modified_at FROM touched, webhooks w WHERE w.organization_id = ?
			)
			SELECT modified_at FROM touched`,
			task, task, textArray(removed), task, textArray(added),
			e.ID, e.OrganizationID, e.Name, e.ActorID, e.Entity, e.EntityID, e.Message, e.Data,
			e.ID, e.OrganizationID,
		).Row().Scan(&at)
	default:
		at = now()
		e.Timestamp = at
		err = s.writeChangeStepByStep(ctx, task, added, removed, e)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("write change of %s: %w", task, translate(err))
	}
	at = at.UTC()
	e.Timestamp = at
	return at, nil
}

func (s *Store) writeChangeStepByStep(ctx context.Context, task model.TaskID, added, removed []model.UserID, e *model.Event) error {
	if err := s.q(ctx).Model(&model.Task{}).Where("id = ?", task).Update("modified_at", e.Timestamp).Error; err != nil {
		return err
	}
	if len(removed) > 0 {
		if err := s.q(ctx).Where("task_id = ? AND user_id IN ?", task, removed).Delete(&TaskAssignee{}).Error; err != nil {
			return err
		}
	}
	if len(added) > 0 {
		rows := make([]TaskAssignee, len(added))
		for i, u := range added {
			rows[i] = TaskAssignee{TaskID: task, UserID: u, AssignedAt: e.Timestamp}
		}
		if err := s.q(ctx).Clauses(onConflictDoNothing).Create(&rows).Error; err != nil {
			return err
		}
	}
	if err := s.q(ctx).Create(e).Error; err != nil {
		return err
	}
	return s.q(ctx).Exec(`INSERT INTO webhook_outbox (webhook_id, event_id, next_attempt_at, created_at)
		SELECT id, ?, ?, ? FROM webhooks WHERE organization_id = ?`, e.ID, e.Timestamp, e.Timestamp, e.OrganizationID).Error
}

// textArray passes ids as one PostgreSQL text[] parameter (GORM would spread a slice into a list).
// Ids hold only [0-9A-Za-z_], so the array literal needs no quoting.
type textArray []model.UserID

// Value writes the array literal.
func (a textArray) Value() (driver.Value, error) {
	ids := make([]string, len(a))
	for i, id := range a {
		ids[i] = string(id)
	}
	return "{" + strings.Join(ids, ",") + "}", nil
}
