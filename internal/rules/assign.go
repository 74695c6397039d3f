package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Changed is a task as a mutation left it, with its assignees, phase and project, all read inside
// the mutation's transaction: a reply built from it reads nothing after COMMIT, so a change that
// committed is never answered as a failure because the database went away a moment later
// (DESIGN §7). Its Task carries its phase and assignees too (model.Task.Phase, Assignees).
type Changed struct {
	Task      *model.Task
	Assignees []*model.User
	Phase     *model.Phase
	Project   *model.Project
}

// AssigneesChanged is a committed change of a task's assignees, as recorded in its Event.
type AssigneesChanged struct {
	Event   *model.Event
	Task    *model.Task
	Added   []model.UserID
	Removed []model.UserID
}

// violations returns one Violation per offending candidate, sorted by user id: the first of rules
// 1–3 it breaks (DESIGN §3). known holds the facts of the candidates that exist in the task's
// organization. None means every candidate may be assigned.
func violations(internal bool, candidates []model.UserID, known map[model.UserID]store.CandidateFacts) []Violation {
	var vs []Violation
	for _, id := range candidates {
		f, ok := known[id]
		switch {
		case !ok:
			vs = append(vs, Violation{UserID: id, Reason: ReasonUserNotFound})
		case !f.ProjectMember:
			vs = append(vs, Violation{UserID: id, Reason: ReasonNotProjectMember})
		case internal && !f.Agency:
			vs = append(vs, Violation{UserID: id, Reason: ReasonNotAgencyMember})
		}
	}
	return sortViolations(vs)
}

// overLimit returns a TOO_MANY_ASSIGNEES violation for each user a change would add when the new
// set would hold more than max assignees.
func overLimit(next, added []model.UserID, max int) []Violation {
	if len(next) <= max {
		return nil
	}
	vs := make([]Violation, len(added))
	for i, id := range added {
		vs[i] = Violation{UserID: id, Reason: ReasonTooManyAssignees}
	}
	return sortViolations(vs)
}

// diff is the net difference between two sets of assignees, each side sorted.
func diff(old, next []model.UserID) (added, removed []model.UserID) {
	added, removed = []model.UserID{}, []model.UserID{}
	for _, id := range next {
		if !slices.Contains(old, id) {
			added = append(added, id)
		}
	}
	for _, id := range old {
		if !slices.Contains(next, id) {
			removed = append(removed, id)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// unique returns ids without repeats, in first-seen order.
func unique[ID comparable](ids []ID) []ID {
	out := make([]ID, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// SetTaskAssignee makes a task's assignees exactly the given user, or nobody when assignee is nil
// (the first seed document).
func (s *Service) SetTaskAssignee(ctx context.Context, v *model.Viewer, task model.TaskID, assignee *model.UserID, ifs ...Condition) (*Changed, error) {
	var next []model.UserID
	if assignee != nil {
		next = []model.UserID{*assignee}
	}
	return only(s.change(ctx, v, request{tasks: []model.TaskID{task}, ifs: ifs, candidates: next,
		nextOf: func([]model.UserID) []model.UserID { return next }}))
}

// AssignUsers adds every listed user to a task's assignees and keeps those already assigned (the
// second seed document's POST). Repeats and users already assigned change nothing; the list holds
// 1 to MaxUserIDs ids, repeats counted.
func (s *Service) AssignUsers(ctx context.Context, v *model.Viewer, task model.TaskID, users []model.UserID, ifs ...Condition) (*Changed, error) {
	if err := userIDs(users); err != nil {
		return nil, err
	}
	candidates := unique(users)
	return only(s.change(ctx, v, request{tasks: []model.TaskID{task}, ifs: ifs, candidates: candidates, nextOf: adding(candidates)}))
}

// AssignUsersToTasks adds the same users to several tasks, all or nothing (DESIGN §10): every
// task must be visible (else not found, naming the first that is not, in the order given, before
// any user is looked at), and any violation on any task refuses the whole, each violation naming
// its task. taskIds holds 1 to MaxTaskIDs ids and userIds 1 to MaxUserIDs, repeats counted. The
// tasks are locked in id order, so that two calls never deadlock, and each task that changed
// records its own event. It returns the tasks in the order given, each once.
func (s *Service) AssignUsersToTasks(ctx context.Context, v *model.Viewer, tasks []model.TaskID, users []model.UserID) ([]*Changed, error) {
	if len(tasks) < 1 || len(tasks) > MaxTaskIDs {
		return nil, badInput("taskIds must hold 1 to %d ids, got %d", MaxTaskIDs, len(tasks))
	}
	if err := userIDs(users); err != nil {
		return nil, err
	}
	candidates := unique(users)
	return s.change(ctx, v, request{tasks: unique(tasks), candidates: candidates, nextOf: adding(candidates), bulk: true})
}

// UnassignUser removes one user from a task's assignees (the second seed document's DELETE). A user
// that exists but is not assigned changes nothing; an unknown user is not found.
func (s *Service) UnassignUser(ctx context.Context, v *model.Viewer, task model.TaskID, user model.UserID, ifs ...Condition) (*Changed, error) {
	return only(s.change(ctx, v, request{tasks: []model.TaskID{task}, ifs: ifs, mustExist: []model.UserID{user},
		nextOf: func(old []model.UserID) []model.UserID {
			return slices.DeleteFunc(slices.Clone(old), func(id model.UserID) bool { return id == user })
		}}))
}

// userIDs checks the length of a list of users to add: 1 to MaxUserIDs, repeats counted.
func userIDs(users []model.UserID) error {
	if len(users) < 1 || len(users) > MaxUserIDs {
		return badInput("userIds must hold 1 to %d ids, got %d", MaxUserIDs, len(users))
	}
	return nil
}

// adding is the change that adds candidates and keeps those already assigned.
func adding(candidates []model.UserID) func(old []model.UserID) []model.UserID {
	return func(old []model.UserID) []model.UserID { return unique(append(slices.Clone(old), candidates...)) }
}

// only is the reply of a change of one task.
func only(changed []*Changed, err error) (*Changed, error) {
	if err != nil {
		return nil, err
	}
	return changed[0], nil
}

// request is what a change asks of the tasks it changes.
type request struct {
	// tasks are the tasks to change, without repeats, in the order the reply lists them.
	tasks []model.TaskID
	ifs   []Condition
	// candidates are the users to check against rules 1–3 for every task.
	candidates []model.UserID
	// nextOf is a task's new set of assignees, given its old one.
	nextOf func(old []model.UserID) []model.UserID
	// mustExist lists users that must exist in the organization (else not found) without being
	// candidates.
	mustExist []model.UserID
	// bulk: the violations name their task (DESIGN §10).
	bulk bool
}

// change is the one transaction behind the assignment mutations, for one task or several, in a
// number of statements that does not grow with the tasks or the users: lock the visible tasks in
// id order in one statement (else not found, before any user is looked at), check the condition
// under the lock (so that of two writes made from one version, the second always loses), read
// the candidates' facts for every task's project in one statement and the tasks' assignees in
// another, decide every task against rules 1–3 and then the limit, and only then write the net
// differences, bump modifiedAt and record one event per task that changed, in one statement on
// PostgreSQL, and publish them. A task that would change nothing writes nothing.
func (s *Service) change(ctx context.Context, v *model.Viewer, r request) ([]*Changed, error) {
	ctx, span := tracer.Start(ctx, "rules.change", trace.WithAttributes(attribute.String("taskql.task_id", string(r.tasks[0])),
		attribute.Int("taskql.tasks", len(r.tasks))))
	defer span.End()
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	cond := conditions(r.ifs)
	var done []*AssigneesChanged
	var reply []*Changed
	err = s.store.WithTx(ctx, func(tx *store.Store) error {
		locked, err := s.lock(ctx, tx, sc, r.tasks, cond)
		if err != nil {
			return err
		}
		facts, err := s.facts(ctx, tx, locked, r)
		if err != nil {
			return err
		}
		assigned, err := tx.AssigneesOf(ctx, sc, r.tasks)
		if err != nil {
			return err
		}
		var changes []*store.Change
		if reply, changes, err = s.decide(v, locked, facts, assigned, r); err != nil {
			return err
		}
		if done, err = s.write(ctx, tx, v, reply, changes); err != nil {
			return err
		}
		return s.publish(ctx, tx, done)
	})
	if err != nil {
		span.SetStatus(codes.Error, "refused or failed")
		return nil, fmt.Errorf("change assignees of %s: %w", r.tasks[0], err)
	}
	s.stats.published.Add(int64(len(done)))
	for _, d := range done {
		for _, fn := range s.changed {
			fn(*d)
		}
	}
	return reply, nil
}

// lock locks the visible tasks among ids in id order and returns them in the order of ids: a task
// missing is not found (the first in the order of ids), and a task that is no longer as the
// condition expects is a conflict, both before any user is looked at.
func (s *Service) lock(ctx context.Context, tx *store.Store, sc store.Scope, ids []model.TaskID, cond conditions) ([]store.LockedTask, error) {
	rows, err := tx.LockTasks(ctx, sc, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[model.TaskID]store.LockedTask, len(rows))
	for _, t := range rows {
		byID[t.ID] = t
	}
	out := make([]store.LockedTask, len(ids))
	for i, id := range ids {
		t, ok := byID[id]
		if !ok {
			return nil, notFound("task", string(id))
		}
		if err := cond.check(t.Task); err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// facts reads the facts of the candidates and of the users that must exist, for the project of
// every task, in one statement: an unknown user that must exist is not found.
func (s *Service) facts(ctx context.Context, tx *store.Store, locked []store.LockedTask, r request) (map[model.ProjectID]map[model.UserID]store.CandidateFacts, error) {
	projects := make([]model.ProjectID, len(locked))
	for i, t := range locked {
		projects[i] = t.ProjectID
	}
	projects = unique(projects)
	facts, err := tx.Candidates(ctx, locked[0].OrganizationID, projects, append(slices.Clone(r.candidates), r.mustExist...))
	if err != nil {
		return nil, err
	}
	for _, id := range r.mustExist {
		if _, ok := facts[projects[0]][id]; !ok {
			return nil, notFound("user", string(id))
		}
	}
	return facts, nil
}

// decide checks every task against rules 1–3 and then the limit (only when no user offends
// otherwise, on any task), and returns the reply of each task and the changes to write.
func (s *Service) decide(v *model.Viewer, locked []store.LockedTask, facts map[model.ProjectID]map[model.UserID]store.CandidateFacts,
	assigned map[model.TaskID][]*model.User, r request) ([]*Changed, []*store.Change, error) {
	var vs []Violation
	for _, t := range locked {
		vs = append(vs, onTask(t.ID, r.bulk, violations(t.Phase.Internal, r.candidates, facts[t.ProjectID]))...)
	}
	if len(vs) > 0 {
		return nil, nil, &ViolationError{Violations: sortViolations(vs)}
	}
	reply := make([]*Changed, len(locked))
	var changes []*store.Change
	for i, t := range locked {
		old := ids(assigned[t.ID])
		next := r.nextOf(old)
		added, removed := diff(old, next)
		vs = append(vs, onTask(t.ID, r.bulk, overLimit(next, added, s.maxAssignees))...)
		reply[i] = &Changed{Task: t.Task, Assignees: after(assigned[t.ID], added, removed, facts[t.ProjectID]), Phase: t.Phase, Project: t.Project}
		reply[i].Task.SetPhase(reply[i].Phase)
		reply[i].Task.SetAssignees(reply[i].Assignees)
		if len(added) > 0 || len(removed) > 0 {
			changes = append(changes, &store.Change{Task: t.ID, Last: t.ModifiedAt, Added: added, Removed: removed, Event: event(v, t.Task, added, removed)})
		}
	}
	if len(vs) > 0 {
		return nil, nil, &ViolationError{Violations: sortViolations(vs)}
	}
	return reply, changes, nil
}

// onTask names the task of each violation of a bulk change.
func onTask(task model.TaskID, bulk bool, vs []Violation) []Violation {
	if bulk {
		for i := range vs {
			vs[i].TaskID = task
		}
	}
	return vs
}

// after is the list of assignees a change leaves, in assignment order: those kept, then those
// added (all at one time, so by user id).
func after(old []*model.User, added, removed []model.UserID, facts map[model.UserID]store.CandidateFacts) []*model.User {
	out := make([]*model.User, 0, len(old)+len(added))
	for _, u := range old {
		if !slices.Contains(removed, u.ID) {
			out = append(out, u)
		}
	}
	for _, id := range added {
		out = append(out, facts[id].User)
	}
	return out
}

// ids lists the users' ids, in order.
func ids(users []*model.User) []model.UserID {
	out := make([]model.UserID, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// event is the Event that records a net change of a task's assignees (DESIGN §3), its time set
// when it is written.
func event(v *model.Viewer, t *model.Task, added, removed []model.UserID) *model.Event {
	// Two sorted lists of ids: the encoding cannot fail.
	data, _ := json.Marshal(map[string][]model.UserID{"added": added, "removed": removed})
	actor := v.ID
	return &model.Event{
		ID:             model.NewID[model.EventID](model.PrefixEvent),
		OrganizationID: t.OrganizationID,
		Name:           model.EventAssigneesChanged,
		ActorID:        &actor,
		Entity:         "task",
		EntityID:       string(t.ID),
		Data:           data,
	}
}

// write applies the net changes under the tasks' locks and records their events, each task's
// modifiedAt (and so its version) set to the time of its change.
func (s *Service) write(ctx context.Context, tx *store.Store, v *model.Viewer, reply []*Changed, changes []*store.Change) ([]*AssigneesChanged, error) {
	if len(changes) == 0 {
		return nil, nil
	}
	if err := tx.WriteChanges(ctx, changes); err != nil {
		return nil, err
	}
	// Once committed, before the answer: the viewer's next reads see the change (writers.go).
	tx.AfterCommit(func() { s.wrote(v.ID) })
	tasks := make(map[model.TaskID]*model.Task, len(reply))
	for _, c := range reply {
		tasks[c.Task.ID] = c.Task
	}
	done := make([]*AssigneesChanged, len(changes))
	for i, c := range changes {
		t := tasks[c.Task]
		t.ModifiedAt = c.Event.Timestamp
		done[i] = &AssigneesChanged{Event: c.Event, Task: t, Added: c.Added, Removed: c.Removed}
	}
	return done, nil
}
