package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

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

// Change is one task's net change of assignees, to be written under the task's lock, and the
// event that records it.
type Change struct {
	Task model.TaskID
	// Last is the task's modifiedAt as locked.
	Last           time.Time
	Added, Removed []model.UserID
	Event          *model.Event
}

// WriteChanges applies the net changes of several tasks' assignees under their locks and records
// one event for each, in a number of statements that does not grow with the tasks or the users:
// one on PostgreSQL, at most five on SQLite. Each change takes effect at one time, set as its
// event's timestamp, its task's modifiedAt and the assignment time of the users it adds. Under the
// lock that time orders the changes to one task as they took effect (DESIGN §1): on PostgreSQL it
// is the database's clock_timestamp() (one clock for every server process; now() would be the
// transaction's start); SQLite serialises writers and takes this machine's clock. Either way it is
// at least a microsecond after the task's last modifiedAt, so that every change gives the task a
// new version (model.VersionOf) even when a clock steps back. An added user already assigned is
// left as it was (ON CONFLICT DO NOTHING on the unique key), so a retried write is harmless. Each
// event enters the webhook outbox, one row per webhook of its organization, in the same statement on
// PostgreSQL and the same transaction on SQLite (DESIGN §10): it is delivered exactly when the
// change commits.
func (s *Store) WriteChanges(ctx context.Context, changes []*Change) error {
	if len(changes) == 0 {
		return nil
	}
	var err error
	switch s.dialect {
	case migrate.Postgres:
		err = s.writeChangesAtOnce(ctx, changes)
	default:
		at := now()
		for _, c := range changes {
			c.Event.Timestamp = after(at, c.Last)
		}
		err = s.writeChangesStepByStep(ctx, changes)
	}
	if err != nil {
		return fmt.Errorf("write changes: %w", translate(err))
	}
	return nil
}

// writeChangesAtOnce is WriteChanges on PostgreSQL: one statement, the arrays of every change
// unnested.
func (s *Store) writeChangesAtOnce(ctx context.Context, changes []*Change) error {
	c := changeColumnsOf(changes)
	rows, err := s.q(ctx).Raw(`WITH touched AS (
			UPDATE tasks SET modified_at = GREATEST(clock_timestamp(), tasks.modified_at + interval '1 microsecond')
			WHERE tasks.id = ANY (?::text[]) RETURNING tasks.id, tasks.modified_at
		), removed AS (
			DELETE FROM task_assignees ta USING unnest(?::text[], ?::text[]) AS r(task_id, user_id)
			WHERE ta.task_id = r.task_id AND ta.user_id = r.user_id
		), added AS (
			INSERT INTO task_assignees (task_id, user_id, assigned_at)
			SELECT a.task_id, a.user_id, touched.modified_at
			FROM unnest(?::text[], ?::text[]) AS a(task_id, user_id) JOIN touched ON touched.id = a.task_id
			ON CONFLICT DO NOTHING
		), event AS (
			INSERT INTO events (id, organization_id, name, actor_id, entity, entity_id, message, data, timestamp)
			SELECT e.id, e.organization_id, e.name, e.actor_id, e.entity, e.entity_id, e.message, e.data::json, touched.modified_at
			FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
				AS e(id, organization_id, name, actor_id, entity, entity_id, message, data)
			JOIN touched ON touched.id = e.entity_id
		), outbox AS (
			INSERT INTO webhook_outbox (webhook_id, event_id, next_attempt_at, created_at)
			SELECT w.id, e.id, touched.modified_at, touched.modified_at
			FROM unnest(?::text[], ?::text[], ?::text[]) AS e(id, organization_id, entity_id)
			JOIN touched ON touched.id = e.entity_id JOIN webhooks w ON w.organization_id = e.organization_id
		)
		SELECT id, modified_at FROM touched`,
		c.tasks, c.removedTask, c.removedUser, c.addedTask, c.addedUser,
		c.events, c.orgs, c.names, c.actors, c.entities, c.entityIDs, c.messages, c.data,
		c.events, c.orgs, c.entityIDs,
	).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	at := make(map[model.TaskID]time.Time, len(changes))
	for rows.Next() {
		var (
			id model.TaskID
			t  time.Time
		)
		if err := rows.Scan(&id, &t); err != nil {
			return err
		}
		at[id] = t.UTC()
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		t, ok := at[c.Task]
		if !ok {
			return fmt.Errorf("task %s was not written", c.Task)
		}
		c.Event.Timestamp = t
	}
	return nil
}

// after is now, or a microsecond after last when now is not later.
func after(now, last time.Time) time.Time {
	if next := last.Truncate(time.Microsecond).Add(time.Microsecond); now.Before(next) {
		return next
	}
	return now
}

// writeChangesStepByStep is WriteChanges on SQLite, each change's time already on its event: the
// tasks touched, the assignees removed, those added and the events, one statement each.
func (s *Store) writeChangesStepByStep(ctx context.Context, changes []*Change) error {
	var (
		when     strings.Builder
		args     []any
		ids      []model.TaskID
		removed  []string
		pairs    []any
		added    []TaskAssignee
		recorded []*model.Event
	)
	when.WriteString("CASE id")
	for _, c := range changes {
		when.WriteString(" WHEN ? THEN ?")
		args = append(args, c.Task, c.Event.Timestamp)
		ids = append(ids, c.Task)
		for _, u := range c.Removed {
			removed, pairs = append(removed, "(?, ?)"), append(pairs, c.Task, u)
		}
		for _, u := range c.Added {
			added = append(added, TaskAssignee{TaskID: c.Task, UserID: u, AssignedAt: c.Event.Timestamp})
		}
		recorded = append(recorded, c.Event)
	}
	when.WriteString(" END")
	if err := s.q(ctx).Model(&model.Task{}).Where("id IN ?", ids).Update("modified_at", gorm.Expr(when.String(), args...)).Error; err != nil {
		return err
	}
	if len(removed) > 0 {
		err := s.q(ctx).Exec("DELETE FROM task_assignees WHERE (task_id, user_id) IN (VALUES "+strings.Join(removed, ", ")+")", pairs...).Error
		if err != nil {
			return err
		}
	}
	if len(added) > 0 {
		if err := s.q(ctx).Clauses(onConflictDoNothing).Create(&added).Error; err != nil {
			return err
		}
	}
	if err := s.q(ctx).Create(&recorded).Error; err != nil {
		return err
	}
	eventIDs := make([]model.EventID, len(recorded))
	for i, e := range recorded {
		eventIDs[i] = e.ID
	}
	return s.q(ctx).Exec(`INSERT INTO webhook_outbox (webhook_id, event_id, next_attempt_at, created_at)
		SELECT w.id, e.id, e.timestamp, e.timestamp FROM events e JOIN webhooks w ON w.organization_id = e.organization_id
		WHERE e.id IN ?`, eventIDs).Error
}

// changeColumns are the changes of WriteChanges as PostgreSQL arrays, a column each, for unnest.
type changeColumns struct {
	tasks, events, orgs, names, actors, entities, entityIDs, messages, data texts
	removedTask, removedUser, addedTask, addedUser                          texts
}

func changeColumnsOf(changes []*Change) changeColumns {
	var c changeColumns
	for _, ch := range changes {
		e, task := ch.Event, text(string(ch.Task))
		c.tasks = append(c.tasks, task)
		for _, u := range ch.Removed {
			c.removedTask, c.removedUser = append(c.removedTask, task), append(c.removedUser, text(string(u)))
		}
		for _, u := range ch.Added {
			c.addedTask, c.addedUser = append(c.addedTask, task), append(c.addedUser, text(string(u)))
		}
		var actor *string
		if e.ActorID != nil {
			actor = text(string(*e.ActorID))
		}
		c.events, c.orgs, c.names = append(c.events, text(string(e.ID))), append(c.orgs, text(string(e.OrganizationID))), append(c.names, text(e.Name))
		c.actors, c.entities, c.entityIDs = append(c.actors, actor), append(c.entities, text(e.Entity)), append(c.entityIDs, text(e.EntityID))
		c.messages, c.data = append(c.messages, e.Message), append(c.data, text(string(e.Data)))
	}
	return c
}

// texts passes strings as one PostgreSQL text[] parameter (GORM would spread a slice into a
// list), each element quoted, a nil one NULL.
type texts []*string

func text(s string) *string { return &s }

// Value writes the array literal.
func (a texts) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if s == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		b.WriteString(arrayEscaper.Replace(*s))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// arrayEscaper escapes what a quoted element of an array literal cannot hold as it is.
var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
