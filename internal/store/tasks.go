package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm/clause"

	"github.com/taskql/taskql/model"
)

// TaskFilter narrows a task list (DESIGN §4 TaskFilter), applied in SQL before the page is cut.
type TaskFilter struct {
	ProjectID  *model.ProjectID
	PhaseID    *model.PhaseID
	Statuses   []model.TaskStatus
	Types      []model.TaskType
	AssigneeID *model.UserID
	Unassigned *bool
}

// taskWhere is a condition on the tasks table (alias tasks), with its arguments: the hot reads
// write their statements themselves rather than have GORM build them anew for each request.
type taskWhere struct {
	conds []string
	args  []any
}

func (w *taskWhere) and(cond string, args ...any) {
	w.conds = append(w.conds, "("+cond+")")
	w.args = append(w.args, args...)
}

func (w *taskWhere) sql() string { return strings.Join(w.conds, " AND ") }

// visibleTasks is the condition that a task is visible in the scope.
func visibleTasks(sc Scope) *taskWhere {
	w := &taskWhere{}
	cond, args := sc.visibleTask("tasks")
	w.and(cond, args...)
	return w
}

// filteredTasks is the condition that a task is visible and passes the filter.
func filteredTasks(sc Scope, f TaskFilter) *taskWhere {
	w := visibleTasks(sc)
	if f.ProjectID != nil {
		w.and("tasks.project_id = ?", *f.ProjectID)
	}
	if f.PhaseID != nil {
		w.and("tasks.phase_id = ?", *f.PhaseID)
	}
	if len(f.Statuses) > 0 {
		w.and("tasks.status IN ?", f.Statuses)
	}
	if len(f.Types) > 0 {
		w.and("tasks.type IN ?", f.Types)
	}
	if f.AssigneeID != nil {
		w.and("EXISTS (SELECT 1 FROM task_assignees fa WHERE fa.task_id = tasks.id AND fa.user_id = ?)", *f.AssigneeID)
	}
	if f.Unassigned != nil {
		exists := "EXISTS (SELECT 1 FROM task_assignees fa WHERE fa.task_id = tasks.id)"
		if *f.Unassigned {
			exists = "NOT " + exists
		}
		w.and(exists)
	}
	return w
}

// With names what a read of tasks reads along with each task, in the same statement, and records
// on it (model.Task.SetPhase, SetAssignees), and whether it reads only the lean columns of the
// tasks and their assignees (leanTaskColumns, leanUserColumns), leaving the other fields zero:
// for a reader that shows nothing else of them.
type With struct{ Phases, Assignees, Lean bool }

// Everything is With both.
var Everything = With{Phases: true, Assignees: true}

// Tasks lists the visible tasks that pass the filter, by id (that is, oldest first), with what
// with asks for read along.
func (s *Store) Tasks(ctx context.Context, sc Scope, f TaskFilter, p Page, with With) (List[model.Task], error) {
	return routed(ctx, s, sc, func(s *Store) (List[model.Task], error) {
		w := filteredTasks(sc, f)
		if p.AfterID != "" {
			w.and("tasks.id > ?", p.AfterID)
		}
		tasks, err := s.readTasks(ctx, w, with, p.Limit+1)
		if err != nil {
			return List[model.Task]{}, fmt.Errorf("list tasks: %w", err)
		}
		l := List[model.Task]{Items: tasks}
		if len(tasks) > p.Limit {
			l.Items, l.HasNext = tasks[:p.Limit], true
		}
		return l, nil
	})
}

// readTasks reads the tasks q selects, at most limit of them (0: all) in id order, with what with
// asks for, in one statement: the phase joined to each task, the assignees joined to the tasks (a
// task then comes once per assignee, on consecutive rows, in assignment order) — to the page of
// them when there is a limit, which must cut tasks, not rows.
func (s *Store) readTasks(ctx context.Context, w *taskWhere, with With, limit int) ([]*model.Task, error) {
	key := w.sql() + "|" + strconv.FormatBool(with.Phases) + "|" + strconv.FormatBool(with.Assignees) + "|" +
		strconv.FormatBool(with.Lean) + "|" + strconv.Itoa(limit)
	query := statement(key, func() string { return taskQuery(w, with, limit) })
	r := newTaskReader(with)
	if ok, err := s.readNative(ctx, key, query, w.args, r.scanNative); ok {
		return r.tasks, err
	}
	rows, err := s.q(ctx).Raw(query, w.args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dest := r.dest(false)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.add(r.repeats(string(r.row.ID)))
	}
	return r.tasks, rows.Err()
}

// taskReader gathers the rows of readTasks into tasks.
type taskReader struct {
	with     With
	tasks    []*model.Task
	phases   map[model.PhaseID]*model.Phase
	row      model.Task // each row is scanned here, the same destinations for every row
	phase    model.Phase
	assignee nullUser
	users    []*model.User // the assignees of the last task
	full     []any         // the destinations of a row
	again    []any         // those of a row that repeats the last task: its assignee's only
}

func newTaskReader(with With) *taskReader {
	r := &taskReader{with: with, phases: map[model.PhaseID]*model.Phase{}}
	r.full = taskDest(&r.row)
	if with.Lean {
		r.full = pick(taskColumns, r.full, leanTaskColumns)
	}
	if with.Phases {
		r.full = append(r.full, phaseDest(&r.phase)...)
	}
	r.again = make([]any, len(r.full))
	if with.Assignees {
		users := r.assignee.dest()
		if with.Lean {
			users = pick(userColumns, users, leanUserColumns)
		}
		r.full = append(r.full, users...)
		r.again = append(r.again, users...)
	}
	return r
}

// dest is where a row is scanned; repeat leaves out (nil) the columns of a task already read.
func (r *taskReader) dest(repeat bool) []any {
	if repeat {
		return r.again
	}
	return r.full
}

// repeats tells whether the row of the task id is one more of the last task's.
func (r *taskReader) repeats(id string) bool {
	n := len(r.tasks)
	return n > 0 && string(r.tasks[n-1].ID) == id
}

// add takes in the row just scanned.
func (r *taskReader) add(repeat bool) {
	if !repeat {
		t := new(model.Task)
		*t = r.row
		r.tasks, r.users = append(r.tasks, t), nil
		if r.with.Phases {
			ph := r.phases[r.phase.ID] // one object per phase, as a loader gives
			if ph == nil {
				ph = new(model.Phase)
				*ph = r.phase
				r.phases[ph.ID] = ph
			}
			t.SetPhase(ph)
		}
	}
	t := r.tasks[len(r.tasks)-1]
	if u := r.assignee.user(); u != nil {
		r.users = append(r.users, u)
	}
	if r.with.Assignees {
		t.SetAssignees(r.users)
	}
}

// scanNative reads the rows through pgx itself (readNative), converting the columns of a task
// once, not once per assignee.
func (r *taskReader) scanNative(rows pgx.Rows) error {
	for rows.Next() {
		repeat := r.repeats(string(rows.RawValues()[0]))
		if err := rows.Scan(r.dest(repeat)...); err != nil {
			return err
		}
		r.add(repeat)
	}
	return rows.Err()
}

// taskQuery is the statement of readTasks, where w holds of the tasks.
func taskQuery(w *taskWhere, with With, limit int) string {
	sel, users, from := taskSelect, assigneeSelect, "tasks"
	if with.Lean {
		sel, users = leanTaskSelect, leanAssigneeSelect
	}
	if with.Phases {
		sel += ", " + phaseSelect
		from += " JOIN phases ph ON ph.id = tasks.phase_id"
	}
	switch {
	case with.Assignees && limit > 0:
		return "WITH page AS (SELECT " + sel + " FROM " + from + " WHERE " + w.sql() + " ORDER BY tasks.id LIMIT " +
			strconv.Itoa(limit) + ") SELECT page.*, " + users + " FROM page LEFT JOIN task_assignees ta ON ta.task_id = page.id LEFT JOIN users u ON u.id = ta.user_id" +
			" ORDER BY page.id, ta.assigned_at, ta.user_id"
	case with.Assignees:
		return "SELECT " + sel + ", " + users + " FROM " + from +
			" LEFT JOIN task_assignees ta ON ta.task_id = tasks.id LEFT JOIN users u ON u.id = ta.user_id" +
			" WHERE " + w.sql() + " ORDER BY tasks.id, ta.assigned_at, ta.user_id"
	case limit > 0:
		return "SELECT " + sel + " FROM " + from + " WHERE " + w.sql() + " ORDER BY tasks.id LIMIT " + strconv.Itoa(limit)
	default:
		return "SELECT " + sel + " FROM " + from + " WHERE " + w.sql() + " ORDER BY tasks.id"
	}
}

// CountTasks counts the visible tasks that pass the filter.
func (s *Store) CountTasks(ctx context.Context, sc Scope, f TaskFilter) (int, error) {
	return routed(ctx, s, sc, func(s *Store) (int, error) {
		w := filteredTasks(sc, f)
		n, err := count(ctx, s.q(ctx).Table("tasks").Where(w.sql(), w.args...))
		if err != nil {
			return 0, fmt.Errorf("count tasks: %w", err)
		}
		return n, nil
	})
}

// TasksByID returns the visible tasks among ids, keyed by id, with what with asks for read along.
func (s *Store) TasksByID(ctx context.Context, sc Scope, ids []model.TaskID, with With) (map[model.TaskID]*model.Task, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.TaskID]*model.Task, error) {
		w := visibleTasks(sc)
		w.and("tasks.id IN ?", ids)
		rows, err := s.readTasks(ctx, w, with, 0)
		if err != nil {
			return nil, fmt.Errorf("tasks by id: %w", err)
		}
		return byKey(rows, func(t *model.Task) model.TaskID { return t.ID }), nil
	})
}

// Placement is where a task stands: its project, and whether its phase is internal (what rules
// 2 and 3 need to know of it).
type Placement struct {
	ProjectID model.ProjectID
	Internal  bool
}

// PlacementOf returns where a visible task stands, or ErrNotFound.
func (s *Store) PlacementOf(ctx context.Context, sc Scope, id model.TaskID) (Placement, error) {
	return routed(ctx, s, sc, func(s *Store) (Placement, error) {
		var p Placement
		cond, args := sc.visibleTask("tasks")
		err := s.q(ctx).Table("tasks").
			Select("tasks.project_id AS project_id, phases.internal AS internal").
			Joins("JOIN phases ON phases.id = tasks.phase_id").
			Where("tasks.id = ?", id).Where(cond, args...).
			Take(&p).Error
		if err != nil {
			return p, fmt.Errorf("placement of task %s: %w", id, translate(err))
		}
		return p, nil
	})
}

// LockedTask is a task held under its row lock, with its phase (rule 3 needs to know whether it
// is internal) and its project, read in the same statement.
type LockedTask struct {
	*model.Task
	Phase   *model.Phase
	Project *model.Project
}

// LockTasks loads the visible tasks among ids with their phases and projects, in id order, and
// locks them until the transaction ends, in one statement: FOR UPDATE on PostgreSQL, which locks
// the rows in the statement's order, so that two transactions locking overlapping sets of tasks
// take their common tasks in the same order and never deadlock; on SQLite the transaction
// already holds the database's write lock from BEGIN IMMEDIATE. Changes to one task are so
// serialised (DESIGN §3, concurrency). A task missing from the result does not exist for the
// scope. Call it inside WithTx.
func (s *Store) LockTasks(ctx context.Context, sc Scope, ids []model.TaskID) ([]LockedTask, error) {
	var rows []struct {
		model.Task `gorm:"embedded"`
		Phase      model.Phase   `gorm:"embedded;embeddedPrefix:ph_"`
		Project    model.Project `gorm:"embedded;embeddedPrefix:pr_"`
	}
	cond, args := sc.visibleTask("tasks")
	q := s.q(ctx).Table("tasks").
		Select("tasks.*, "+lockedPhaseAndProject).
		Joins("JOIN phases ON phases.id = tasks.phase_id").
		Joins("JOIN projects ON projects.id = tasks.project_id").
		Where("tasks.id IN ?", ids).Where(cond, args...).
		Order("tasks.id")
	if s.dialect == "postgres" {
		q = q.Clauses(forUpdateOfTasks)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("lock tasks: %w", translate(err))
	}
	out := make([]LockedTask, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = LockedTask{Task: &r.Task, Phase: &r.Phase, Project: &r.Project}
	}
	return out, nil
}

// lockedPhaseAndProject selects the columns of the locked task's phase and project under the
// prefixes of LockTask's row.
const lockedPhaseAndProject = `phases.id AS ph_id, phases.project_id AS ph_project_id, phases.name AS ph_name,
	phases.position AS ph_position, phases.internal AS ph_internal, phases.created_at AS ph_created_at,
	phases.modified_at AS ph_modified_at, projects.id AS pr_id, projects.organization_id AS pr_organization_id,
	projects.name AS pr_name, projects.created_at AS pr_created_at, projects.modified_at AS pr_modified_at`

// byKey indexes rows by a key.
func byKey[K comparable, T any](rows []*T, key func(*T) K) map[K]*T {
	m := make(map[K]*T, len(rows))
	for _, r := range rows {
		m[key(r)] = r
	}
	return m
}

// forUpdateOfTasks locks the task row, not the phase joined to it.
var forUpdateOfTasks = clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "tasks"}}
