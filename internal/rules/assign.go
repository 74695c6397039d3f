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
func unique(ids []model.UserID) []model.UserID {
	out := make([]model.UserID, 0, len(ids))
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// Condition is what a write asks of its task before it changes anything (DESIGN §10); the zero
// Condition asks nothing.
type Condition struct {
	// version, when ifVersion, is the task's version as the client saw it.
	version   string
	ifVersion bool
}

// IfVersion makes a write conditional: it changes nothing and fails with a *ConflictError unless
// the task's version (model.Task.Version) is still version when the write holds the task's
// lock. A malformed version is bad input.
func IfVersion(version string) Condition { return Condition{version: version, ifVersion: true} }

// condition merges the conditions a use case was given (at most one is expected) and checks their
// form, which needs no data.
func condition(ifs []Condition) (Condition, error) {
	var c Condition
	for _, i := range ifs {
		if !i.ifVersion {
			continue
		}
		if _, err := model.ParseVersion(i.version); err != nil {
			return c, err
		}
		c = i
	}
	return c, nil
}

// check refuses a locked task that no longer is as the condition expects.
func (c Condition) check(t *model.Task) error {
	if c.ifVersion && c.version != t.Version() {
		return &ConflictError{Task: t.ID, Version: t.Version()}
	}
	return nil
}

// SetTaskAssignee makes a task's assignees exactly the given user, or nobody when assignee is nil
// (the first seed document).
func (s *Service) SetTaskAssignee(ctx context.Context, v *model.Viewer, task model.TaskID, assignee *model.UserID, ifs ...Condition) (*Changed, error) {
	var next []model.UserID
	if assignee != nil {
		next = []model.UserID{*assignee}
	}
	return s.change(ctx, v, task, ifs, next, func([]model.UserID) []model.UserID { return next })
}

// AssignUsers adds every listed user to a task's assignees and keeps those already assigned (the
// second seed document's POST). Repeats and users already assigned change nothing; the list holds
// 1 to MaxUserIDs ids, repeats counted.
func (s *Service) AssignUsers(ctx context.Context, v *model.Viewer, task model.TaskID, users []model.UserID, ifs ...Condition) (*Changed, error) {
	if len(users) < 1 || len(users) > MaxUserIDs {
		return nil, badInput("userIds must hold 1 to %d ids, got %d", MaxUserIDs, len(users))
	}
	candidates := unique(users)
	return s.change(ctx, v, task, ifs, candidates, func(old []model.UserID) []model.UserID {
		return unique(append(slices.Clone(old), candidates...))
	})
}

// UnassignUser removes one user from a task's assignees (the second seed document's DELETE). A user
// that exists but is not assigned changes nothing; an unknown user is not found.
func (s *Service) UnassignUser(ctx context.Context, v *model.Viewer, task model.TaskID, user model.UserID, ifs ...Condition) (*Changed, error) {
	return s.change(ctx, v, task, ifs, nil, func(old []model.UserID) []model.UserID {
		return slices.DeleteFunc(slices.Clone(old), func(id model.UserID) bool { return id == user })
	}, user)
}

// change is the one transaction behind the three mutations: lock the visible task (else not
// found, before any user is looked at), check the condition under the lock (so that of two
// writes made from one version, the second always loses), check the candidates against rules 1–3 and the limit, and
// only then write the net difference, bump modifiedAt and record the event. A change that changes
// nothing writes nothing. mustExist lists users that must exist in the organization (else not
// found) without being candidates.
func (s *Service) change(ctx context.Context, v *model.Viewer, taskID model.TaskID, ifs []Condition, candidates []model.UserID,
	nextOf func(old []model.UserID) []model.UserID, mustExist ...model.UserID) (*Changed, error) {
	ctx, span := tracer.Start(ctx, "rules.change", trace.WithAttributes(attribute.String("taskql.task_id", string(taskID))))
	defer span.End()
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	cond, err := condition(ifs)
	if err != nil {
		return nil, err
	}
	var done *AssigneesChanged
	var reply *Changed
	err = s.store.WithTx(ctx, func(tx *store.Store) error {
		t, err := tx.LockTask(ctx, sc, taskID)
		if err != nil {
			return notFoundAs(err, notFound("task", string(taskID)))
		}
		if err := cond.check(t.Task); err != nil {
			return err
		}
		facts, err := tx.Candidates(ctx, t.OrganizationID, t.ProjectID, append(slices.Clone(candidates), mustExist...))
		if err != nil {
			return err
		}
		for _, id := range mustExist {
			if _, ok := facts[id]; !ok {
				return notFound("user", string(id))
			}
		}
		if vs := violations(t.Phase.Internal, candidates, facts); len(vs) > 0 {
			return &ViolationError{Violations: vs}
		}
		assigned, err := tx.AssigneesOf(ctx, sc, []model.TaskID{t.ID})
		if err != nil {
			return err
		}
		old := ids(assigned[t.ID])
		next := nextOf(old)
		added, removed := diff(old, next)
		if vs := overLimit(next, added, s.maxAssignees); len(vs) > 0 {
			return &ViolationError{Violations: vs}
		}
		reply = &Changed{Task: t.Task, Assignees: after(assigned[t.ID], added, removed, facts), Phase: t.Phase, Project: t.Project}
		reply.Task.SetPhase(reply.Phase)
		reply.Task.SetAssignees(reply.Assignees)
		if len(added) == 0 && len(removed) == 0 {
			return nil
		}
		if done, err = s.write(ctx, tx, v, t.Task, added, removed); err != nil {
			return err
		}
		return s.publish(ctx, tx, t.Task, done.Event)
	})
	if err != nil {
		span.SetStatus(codes.Error, "refused or failed")
		return nil, fmt.Errorf("change assignees of %s: %w", taskID, err)
	}
	if done != nil {
		s.stats.published.Add(1)
		for _, fn := range s.changed {
			fn(*done)
		}
	}
	return reply, nil
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

// write applies a net change under the task's lock and records its Event.
func (s *Service) write(ctx context.Context, tx *store.Store, v *model.Viewer, t *model.Task, added, removed []model.UserID) (*AssigneesChanged, error) {
	data, err := json.Marshal(map[string][]model.UserID{"added": added, "removed": removed})
	if err != nil {
		return nil, fmt.Errorf("event data: %w", err)
	}
	actor := v.ID
	e := &model.Event{
		ID:             model.NewID[model.EventID](model.PrefixEvent),
		OrganizationID: t.OrganizationID,
		Name:           model.EventAssigneesChanged,
		ActorID:        &actor,
		Entity:         "task",
		EntityID:       string(t.ID),
		Data:           data,
	}
	if t.ModifiedAt, err = tx.WriteChange(ctx, t.ID, t.ModifiedAt, added, removed, e); err != nil {
		return nil, err
	}
	// Once committed, before the answer: the viewer's next reads see the change (writers.go).
	tx.AfterCommit(func() { s.wrote(v.ID) })
	return &AssigneesChanged{Event: e, Task: t, Added: added, Removed: removed}, nil
}
