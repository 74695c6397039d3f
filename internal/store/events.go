package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/taskql/taskql/model"
)

// events are visible exactly when their task is (DESIGN §1): the task they are about, or the task
// they triggered.
func (s *Store) events(ctx context.Context, sc Scope) *gorm.DB {
	cond, args := sc.visibleTask("et")
	return s.q(ctx).Model(&model.Event{}).
		Where("events.organization_id = ?", sc.OrganizationID).
		Where("(EXISTS (SELECT 1 FROM tasks et WHERE et.id = events.entity_id AND "+cond+
			") OR EXISTS (SELECT 1 FROM tasks et WHERE et.trigger_event_id = events.id AND "+cond+"))",
			append(append([]any{}, args...), args...)...)
}

// eventsOf are the events about one visible task: those whose entityId is the task.
func (s *Store) eventsOf(ctx context.Context, sc Scope, task model.TaskID) *gorm.DB {
	cond, args := sc.visibleTask("et")
	return s.q(ctx).Model(&model.Event{}).
		Where("events.organization_id = ? AND events.entity_id = ?", sc.OrganizationID, task).
		Where("EXISTS (SELECT 1 FROM tasks et WHERE et.id = events.entity_id AND "+cond+")", args...)
}

// EventsOf lists the events about a visible task, oldest first; none for a task the scope does
// not see.
func (s *Store) EventsOf(ctx context.Context, sc Scope, task model.TaskID, p Page) (List[model.Event], error) {
	return routed(ctx, s, sc, func(s *Store) (List[model.Event], error) {
		q := s.eventsOf(ctx, sc, task)
		if p.AfterID != "" {
			q = q.Where("(events.timestamp > ? OR (events.timestamp = ? AND events.id > ?))", p.AfterTime, p.AfterTime, p.AfterID)
		}
		l, err := fetchPage[model.Event](q.Order("events.timestamp, events.id"), p)
		if err != nil {
			return l, fmt.Errorf("events of task %s: %w", task, err)
		}
		return l, nil
	})
}

// CountEventsOf counts the events about a visible task.
func (s *Store) CountEventsOf(ctx context.Context, sc Scope, task model.TaskID) (int, error) {
	return routed(ctx, s, sc, func(s *Store) (int, error) {
		n, err := count(ctx, s.eventsOf(ctx, sc, task))
		if err != nil {
			return 0, fmt.Errorf("count events: %w", err)
		}
		return n, nil
	})
}

// EventsByID returns the visible events among ids, keyed by id.
func (s *Store) EventsByID(ctx context.Context, sc Scope, ids []model.EventID) (map[model.EventID]*model.Event, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.EventID]*model.Event, error) {
		var rows []*model.Event
		if err := s.events(ctx, sc).Where("events.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("events by id: %w", err)
		}
		return byKey(rows, func(e *model.Event) model.EventID { return e.ID }), nil
	})
}

// TaskDataOf returns the data entries of each visible task among ids, by id.
func (s *Store) TaskDataOf(ctx context.Context, sc Scope, tasks []model.TaskID) (map[model.TaskID][]*model.TaskData, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.TaskID][]*model.TaskData, error) {
		cond, args := sc.visibleTask("dt")
		var rows []*model.TaskData
		err := s.q(ctx).Where("task_id IN ?", tasks).
			Where("EXISTS (SELECT 1 FROM tasks dt WHERE dt.id = task_data.task_id AND "+cond+")", args...).
			Order("task_id, id").Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("task data: %w", err)
		}
		return groupBy(rows, func(d *model.TaskData) model.TaskID { return d.TaskID }), nil
	})
}

// TaskDataByID returns the visible task data entries among ids, keyed by id.
func (s *Store) TaskDataByID(ctx context.Context, sc Scope, ids []model.TaskDataID) (map[model.TaskDataID]*model.TaskData, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.TaskDataID]*model.TaskData, error) {
		cond, args := sc.visibleTask("dt")
		var rows []*model.TaskData
		err := s.q(ctx).Where("id IN ?", ids).
			Where("EXISTS (SELECT 1 FROM tasks dt WHERE dt.id = task_data.task_id AND "+cond+")", args...).
			Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("task data by id: %w", err)
		}
		return byKey(rows, func(d *model.TaskData) model.TaskDataID { return d.ID }), nil
	})
}
