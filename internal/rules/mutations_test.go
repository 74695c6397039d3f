package rules_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §3: the three assignment mutations, each body on SQLite and on PostgreSQL.

// mutation is one of the three ways to change a task's assignees, as a test calls it.
type mutation struct {
	name string
	call func(w *world, t *testing.T, v *model.Viewer, taskID model.TaskID, users ...model.UserID) (*rules.Changed, error)
}

var (
	assignUsers = mutation{"assignUsers", func(w *world, t *testing.T, v *model.Viewer, taskID model.TaskID, users ...model.UserID) (*rules.Changed, error) {
		return w.svc.AssignUsers(t.Context(), v, taskID, users)
	}}
	setTaskAssignee = mutation{"setTaskAssignee", func(w *world, t *testing.T, v *model.Viewer, taskID model.TaskID, users ...model.UserID) (*rules.Changed, error) {
		var assignee *model.UserID
		if len(users) > 0 {
			assignee = &users[0]
		}
		return w.svc.SetTaskAssignee(t.Context(), v, taskID, assignee)
	}}
	unassignUser = mutation{"unassignUser", func(w *world, t *testing.T, v *model.Viewer, taskID model.TaskID, users ...model.UserID) (*rules.Changed, error) {
		return w.svc.UnassignUser(t.Context(), v, taskID, users[0])
	}}
)

// The three rules, in order, as assignUsers and setTaskAssignee both apply them to one user.
func TestAssignmentRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		task   model.TaskID
		user   model.UserID
		reason rules.Reason // empty: the user may be assigned
	}{
		{name: "agency member of the project may be assigned to a task in an internal phase",
			task: "tsk_internal", user: "usr_agent"},
		{name: "client member of the project may be assigned to a task in a phase that is not internal",
			task: "tsk_open", user: "usr_client"},
		{name: "rule 1: a user that exists nowhere is USER_NOT_FOUND",
			task: "tsk_open", user: ghost, reason: rules.ReasonUserNotFound},
		{name: "rule 1: a user of another organization counts as not existing: USER_NOT_FOUND",
			task: "tsk_open", user: "usr_bob", reason: rules.ReasonUserNotFound},
		{name: "rule 2: a user of the organization outside the project is NOT_PROJECT_MEMBER",
			task: "tsk_open", user: "usr_outsider", reason: rules.ReasonNotProjectMember},
		{name: "rule 2: being org admin does not make one a member of the project: NOT_PROJECT_MEMBER",
			task: "tsk_open", user: "usr_admin", reason: rules.ReasonNotProjectMember},
		{name: "rule 3: client member on internal phase is NOT_AGENCY_MEMBER",
			task: "tsk_internal", user: "usr_client", reason: rules.ReasonNotAgencyMember},
		{name: "first broken rule wins: a non-member client user on an internal phase is NOT_PROJECT_MEMBER",
			task: "tsk_internal", user: "usr_clientout", reason: rules.ReasonNotProjectMember},
		{name: "first broken rule wins: a user of another organization on an internal phase is USER_NOT_FOUND",
			task: "tsk_internal", user: "usr_bob", reason: rules.ReasonUserNotFound},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_agent")
		for _, m := range []mutation{assignUsers, setTaskAssignee} {
			for _, tt := range tests {
				t.Run(m.name+": "+tt.name, func(t *testing.T) {
					if _, err := w.svc.SetTaskAssignee(t.Context(), w.admin(t), tt.task, nil); err != nil {
						t.Fatalf("clear the assignees: %v", err)
					}
					before := w.state(t, tt.task)
					_, err := m.call(w, t, v, tt.task, tt.user)
					if tt.reason == "" {
						if err != nil {
							t.Fatalf("%s: %v", m.name, err)
						}
						w.wantChanged(t, tt.task, before, changed("usr_agent", tt.task, us(tt.user), nil), tt.user)
						return
					}
					wantViolations(t, err, rules.Violation{UserID: tt.user, Reason: tt.reason})
					w.wantSame(t, tt.task, before)
				})
			}
		}
	})
}

func TestAssignUsersAddsEveryListedUserAndKeepsThoseAlreadyAssigned(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		got, err := w.svc.AssignUsers(t.Context(), w.viewer(t, "usr_client"), "tsk_open", us("usr_client", "usr_agent2"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Task.ID != "tsk_open" {
			t.Errorf("assignUsers returned task %s, want tsk_open", got.Task.ID)
		}
		w.wantAssignees(t, "tsk_open", "usr_agent", "usr_agent2", "usr_client")
		w.wantEvents(t, "tsk_open",
			changed("usr_admin", "tsk_open", us("usr_agent"), nil),
			changed("usr_client", "tsk_open", us("usr_agent2", "usr_client"), nil))
	})
}

func TestAssignUsersRepeatsAndUsersAlreadyAssignedAreNotErrorsAndChangeNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_agent")
		if _, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_agent2", "usr_agent", "usr_agent2")); err != nil {
			t.Fatalf("repeats in one call: %v", err)
		}
		w.wantEvents(t, "tsk_open", changed("usr_agent", "tsk_open", us("usr_agent", "usr_agent2"), nil))
		modified := w.task(t, "tsk_open").ModifiedAt

		for _, call := range [][]model.UserID{
			{"usr_agent"},
			{"usr_agent2", "usr_agent2"},
			{"usr_agent", "usr_agent2", "usr_agent", "usr_agent2"},
			repeatID("usr_agent", rules.MaxUserIDs),
		} {
			got, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us(call...))
			if err != nil {
				t.Fatalf("assign %d already assigned ids: %v", len(call), err)
			}
			if !got.Task.ModifiedAt.Equal(modified) {
				t.Errorf("returned modifiedAt = %v, want %v", got.Task.ModifiedAt, modified)
			}
		}
		w.wantAssignees(t, "tsk_open", "usr_agent", "usr_agent2")
		w.wantEvents(t, "tsk_open", changed("usr_agent", "tsk_open", us("usr_agent", "usr_agent2"), nil))
		if got := w.task(t, "tsk_open").ModifiedAt; !got.Equal(modified) {
			t.Errorf("modifiedAt after calls that change nothing = %v, want %v", got, modified)
		}
	})
}

// All or nothing: one offending user refuses the whole call, and the one error lists every
// offending user, sorted and unique, each with the first rule it breaks.
func TestAssignUsersIsAllOrNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		_, err := w.svc.AssignUsers(t.Context(), w.viewer(t, "usr_agent"), "tsk_internal", us(
			ghost, "usr_outsider", "usr_agent", "usr_client", "usr_bob", "usr_clientout", "usr_agent2", ghost, "usr_client",
		))
		wantViolations(t, err,
			rules.Violation{UserID: "usr_bob", Reason: rules.ReasonUserNotFound},
			rules.Violation{UserID: "usr_client", Reason: rules.ReasonNotAgencyMember},
			rules.Violation{UserID: "usr_clientout", Reason: rules.ReasonNotProjectMember},
			rules.Violation{UserID: ghost, Reason: rules.ReasonUserNotFound},
			rules.Violation{UserID: "usr_outsider", Reason: rules.ReasonNotProjectMember},
		)
		w.wantUnchanged(t, "tsk_internal")
	})
}

func TestAssignUsersRefusalKeepsTheAssigneesAlreadyThere(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		before := w.task(t, "tsk_open").ModifiedAt
		_, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent2", "usr_outsider"))
		wantViolations(t, err, rules.Violation{UserID: "usr_outsider", Reason: rules.ReasonNotProjectMember})
		w.wantAssignees(t, "tsk_open", "usr_agent")
		w.wantEvents(t, "tsk_open", changed("usr_admin", "tsk_open", us("usr_agent"), nil))
		if got := w.task(t, "tsk_open").ModifiedAt; !got.Equal(before) {
			t.Errorf("modifiedAt after a refused call = %v, want %v", got, before)
		}
	})
}

func TestSetTaskAssignee(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		before   []model.UserID
		assignee *model.UserID
		after    []model.UserID
		// event is the change recorded; nil: none, and modifiedAt as it was.
		event *recorded
	}{
		{
			name:     "a user id makes the set exactly that user",
			before:   us("usr_agent", "usr_agent2"),
			assignee: ptr[model.UserID]("usr_client"),
			after:    us("usr_client"),
			event:    ptr(changed("usr_agent", "tsk_open", us("usr_client"), us("usr_agent", "usr_agent2"))),
		},
		{
			name:     "a user id on an empty set assigns that user",
			assignee: ptr[model.UserID]("usr_client"),
			after:    us("usr_client"),
			event:    ptr(changed("usr_agent", "tsk_open", us("usr_client"), nil)),
		},
		{
			name:     "a user already among the assignees stays and the others go: the event is the net difference",
			before:   us("usr_agent", "usr_agent2", "usr_client"),
			assignee: ptr[model.UserID]("usr_agent2"),
			after:    us("usr_agent2"),
			event:    ptr(changed("usr_agent", "tsk_open", nil, us("usr_agent", "usr_client"))),
		},
		{
			name:   "null empties the set",
			before: us("usr_agent", "usr_client"),
			after:  nil,
			event:  ptr(changed("usr_agent", "tsk_open", nil, us("usr_agent", "usr_client"))),
		},
		{
			name:     "the sole assignee again changes nothing",
			before:   us("usr_client"),
			assignee: ptr[model.UserID]("usr_client"),
			after:    us("usr_client"),
		},
		{
			name:  "null on a task without assignees changes nothing",
			after: nil,
		},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := w.svc.SetTaskAssignee(t.Context(), w.admin(t), "tsk_open", nil); err != nil {
					t.Fatalf("clear the assignees: %v", err)
				}
				if len(tt.before) > 0 {
					w.assign(t, "tsk_open", tt.before...)
				}
				before := w.state(t, "tsk_open")
				got, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, "usr_agent"), "tsk_open", tt.assignee)
				if err != nil {
					t.Fatalf("setTaskAssignee: %v", err)
				}
				if stored := w.task(t, "tsk_open").ModifiedAt; !got.Task.ModifiedAt.Equal(stored) {
					t.Errorf("returned modifiedAt = %v, stored %v", got.Task.ModifiedAt, stored)
				}
				if tt.event == nil {
					w.wantSame(t, "tsk_open", before)
					return
				}
				w.wantChanged(t, "tsk_open", before, *tt.event, tt.after...)
			})
		}
	})
}

// setTaskAssignee reports an offending user exactly as assignUsers does: an unknown user is
// UNPROCESSABLE with USER_NOT_FOUND, not NOT_FOUND.
func TestSetTaskAssigneeOfAnUnknownUserIsUnprocessableNotNotFound(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		before := w.task(t, "tsk_open").ModifiedAt
		for _, id := range []model.UserID{ghost, "usr_bob"} {
			_, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, "usr_agent"), "tsk_open", ptr(id))
			wantViolations(t, err, rules.Violation{UserID: id, Reason: rules.ReasonUserNotFound})
		}
		w.wantAssignees(t, "tsk_open", "usr_agent")
		w.wantEvents(t, "tsk_open", changed("usr_admin", "tsk_open", us("usr_agent"), nil))
		if got := w.task(t, "tsk_open").ModifiedAt; !got.Equal(before) {
			t.Errorf("modifiedAt = %v after refused calls, want %v", got, before)
		}
	})
}

func TestUnassignUser(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent", "usr_client")
		v := w.viewer(t, "usr_agent2")

		if _, err := w.svc.UnassignUser(t.Context(), v, "tsk_open", "usr_agent"); err != nil {
			t.Fatalf("unassign an assignee: %v", err)
		}
		w.wantAssignees(t, "tsk_open", "usr_client")
		want := []recorded{
			changed("usr_admin", "tsk_open", us("usr_agent", "usr_client"), nil),
			changed("usr_agent2", "tsk_open", nil, us("usr_agent")),
		}
		w.wantEvents(t, "tsk_open", want...)
		modified := w.task(t, "tsk_open").ModifiedAt

		// A user that exists but is not assigned is not an error, whatever its standing with the
		// task: nothing changes.
		for _, id := range []model.UserID{"usr_agent", "usr_agent2", "usr_outsider", "usr_clientout", "usr_admin"} {
			got, err := w.svc.UnassignUser(t.Context(), v, "tsk_open", id)
			if err != nil {
				t.Errorf("unassign %s, not assigned: %v", id, err)
				continue
			}
			if !got.Task.ModifiedAt.Equal(modified) {
				t.Errorf("unassign %s: returned modifiedAt = %v, want %v", id, got.Task.ModifiedAt, modified)
			}
		}
		w.wantAssignees(t, "tsk_open", "usr_client")
		w.wantEvents(t, "tsk_open", want...)
		if got := w.task(t, "tsk_open").ModifiedAt; !got.Equal(modified) {
			t.Errorf("modifiedAt = %v after calls that change nothing, want %v", got, modified)
		}
	})
}

func TestUnassignUserOfAnUnknownUserIsNotFound(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		for _, id := range []model.UserID{ghost, "usr_bob"} {
			_, err := w.svc.UnassignUser(t.Context(), w.viewer(t, "usr_agent"), "tsk_open", id)
			wantKind(t, err, rules.ErrNotFound)
		}
		w.wantAssignees(t, "tsk_open", "usr_agent")
		w.wantEvents(t, "tsk_open", changed("usr_admin", "tsk_open", us("usr_agent"), nil))
	})
}

// A task the viewer cannot see is NOT_FOUND, checked before any user is looked at: an invisible
// task never answers UNPROCESSABLE, whatever users the call lists.
func TestInvisibleTaskIsNotFoundBeforeAnyUserIsLookedAt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		viewer model.UserID
		task   model.TaskID
	}{
		{"a client member does not see a task in an internal phase", "usr_client", "tsk_internal"},
		{"a member does not see the tasks of a project it is not a member of", "usr_agent", "tsk_other"},
		{"a user of no project sees no task", "usr_clientout", "tsk_open"},
		{"a task of another organization does not exist for the viewer", "usr_bob", "tsk_open"},
		{"an org admin does not see another organization's task", "usr_admin", "tsk_b"},
		{"a task that exists nowhere is not found", "usr_admin", "tsk_nope"},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := w.viewer(t, tt.viewer)
				for _, call := range []struct {
					m     mutation
					users []model.UserID
				}{
					{assignUsers, us(ghost, "usr_bob", "usr_clientout", "usr_client", "usr_agent")},
					{assignUsers, us("usr_agent")},
					{setTaskAssignee, us(ghost)},
					{setTaskAssignee, us("usr_agent")},
					{setTaskAssignee, nil},
					{unassignUser, us(ghost)},
					{unassignUser, us("usr_agent")},
				} {
					_, err := call.m.call(w, t, v, tt.task, us(call.users...)...)
					wantKind(t, err, rules.ErrNotFound)
				}
				if tt.task != "tsk_nope" {
					w.wantUnchanged(t, tt.task)
				}
			})
		}
	})
}

// Checks that need no data answer BAD_USER_INPUT: the length of userIds, repeats counted. They
// reveal nothing, so they may come first, even on a task the viewer cannot see.
//
// An id's form (prefix, suffix, length) is no longer the rules' to check: the rules take typed
// ids, which the adapter parses from the arguments, so a malformed or wrongly-typed id cannot
// reach them. That refusal is tested where it happens: graph/errors_test.go
// TestMalformedIDsAreBadUserInput (every id argument of the three mutations, userIds included)
// and model/ids_test.go TestParseTaskID (the forms of an id).
func TestMalformedInputIsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		m     mutation
		task  model.TaskID
		users []model.UserID
	}{
		{"no userIds", assignUsers, "tsk_open", []model.UserID{}},
		{"101 userIds", assignUsers, "tsk_open", distinctIDs(101)},
		{"101 userIds, repeats counting", assignUsers, "tsk_open", repeatID("usr_agent", 101)},
		{"no userIds on a task the viewer cannot see", assignUsers, "tsk_internal", []model.UserID{}},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		v := w.viewer(t, "usr_client")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := tt.m.call(w, t, v, tt.task, tt.users...)
				wantBadInput(t, err)
			})
		}
		w.wantAssignees(t, "tsk_open", "usr_agent")
		w.wantEvents(t, "tsk_open", changed("usr_admin", "tsk_open", us("usr_agent"), nil))
	})
}

func TestAssignUsersTakesUpTo100IDsAsGiven(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		members := w.addMembers(t, "prj_site", rules.MaxUserIDs)
		if _, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us(members...)); err != nil {
			t.Fatalf("assign 100 users: %v", err)
		}
		w.wantAssignees(t, "tsk_open", members...)
	})
}

// The limit (WithMaxAssignees): going past it is UNPROCESSABLE with TOO_MANY_ASSIGNEES for each
// user the call would have added, checked only when no user offends otherwise.
func TestAssigneeLimit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, rules.WithMaxAssignees(2))
		v := w.viewer(t, "usr_agent")
		w.assign(t, "tsk_open", "usr_agent")
		setup := changed("usr_admin", "tsk_open", us("usr_agent"), nil)

		t.Run("going past the limit is TOO_MANY_ASSIGNEES for each user the call would add, not those already assigned", func(t *testing.T) {
			_, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_pending", "usr_agent", "usr_client", "usr_agent2"))
			wantViolations(t, err,
				rules.Violation{UserID: "usr_agent2", Reason: rules.ReasonTooManyAssignees},
				rules.Violation{UserID: "usr_client", Reason: rules.ReasonTooManyAssignees},
				rules.Violation{UserID: "usr_pending", Reason: rules.ReasonTooManyAssignees},
			)
			w.wantAssignees(t, "tsk_open", "usr_agent")
			w.wantEvents(t, "tsk_open", setup)
		})
		t.Run("the limit is checked only when no user offends otherwise", func(t *testing.T) {
			_, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_client", "usr_outsider", "usr_agent2", ghost))
			wantViolations(t, err,
				rules.Violation{UserID: ghost, Reason: rules.ReasonUserNotFound},
				rules.Violation{UserID: "usr_outsider", Reason: rules.ReasonNotProjectMember},
			)
			w.wantAssignees(t, "tsk_open", "usr_agent")
		})
		t.Run("reaching the limit exactly is allowed", func(t *testing.T) {
			if _, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_agent", "usr_client")); err != nil {
				t.Fatal(err)
			}
			w.wantAssignees(t, "tsk_open", "usr_agent", "usr_client")
		})
		t.Run("on a full task, users already assigned change nothing and are not past the limit", func(t *testing.T) {
			if _, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_client", "usr_agent")); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("on a full task, one more user is past the limit", func(t *testing.T) {
			_, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us("usr_agent2"))
			wantViolations(t, err, rules.Violation{UserID: "usr_agent2", Reason: rules.ReasonTooManyAssignees})
		})
		t.Run("setTaskAssignee replaces the set, so it never passes a limit of one or more", func(t *testing.T) {
			if _, err := w.svc.SetTaskAssignee(t.Context(), v, "tsk_open", ptr[model.UserID]("usr_agent2")); err != nil {
				t.Fatal(err)
			}
			w.wantAssignees(t, "tsk_open", "usr_agent2")
		})
		w.wantEvents(t, "tsk_open", setup,
			changed("usr_agent", "tsk_open", us("usr_client"), nil),
			changed("usr_agent", "tsk_open", us("usr_agent2"), us("usr_agent", "usr_client")))
	})
}

func TestDefaultLimitIs100Assignees(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		members := w.addMembers(t, "prj_site", rules.DefaultMaxAssignees)
		w.assign(t, "tsk_open", members...)
		_, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent"))
		wantViolations(t, err, rules.Violation{UserID: "usr_agent", Reason: rules.ReasonTooManyAssignees})
	})
}

// Each change that really changes the set bumps modifiedAt and records one event: actor the
// viewer, entity task, data the net difference. The returned task is the changed one.
func TestEachRealChangeRecordsOneEventAndBumpsModifiedAt(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		steps := []struct {
			viewer model.UserID
			m      mutation
			users  []model.UserID
			event  recorded
		}{
			{"usr_agent", assignUsers, us("usr_agent2", "usr_agent"), changed("usr_agent", "tsk_open", us("usr_agent", "usr_agent2"), nil)},
			{"usr_client", setTaskAssignee, us("usr_client"), changed("usr_client", "tsk_open", us("usr_client"), us("usr_agent", "usr_agent2"))},
			{"usr_agent2", assignUsers, us("usr_pending"), changed("usr_agent2", "tsk_open", us("usr_pending"), nil)},
			{"usr_admin", unassignUser, us("usr_client"), changed("usr_admin", "tsk_open", nil, us("usr_client"))},
			{"usr_agent", setTaskAssignee, nil, changed("usr_agent", "tsk_open", nil, us("usr_pending"))},
		}
		var want []recorded
		last := base
		for i, s := range steps {
			got, err := s.m.call(w, t, w.viewer(t, s.viewer), "tsk_open", us(s.users...)...)
			if err != nil {
				t.Fatalf("step %d %s: %v", i, s.m.name, err)
			}
			want = append(want, s.event)
			w.wantEvents(t, "tsk_open", want...)
			_, times := w.events(t, "tsk_open")
			stored := w.task(t, "tsk_open").ModifiedAt
			if !stored.After(last) {
				t.Errorf("step %d: modifiedAt = %v, want after %v", i, stored, last)
			}
			if !got.Task.ModifiedAt.Equal(stored) {
				t.Errorf("step %d: returned modifiedAt = %v, stored %v", i, got.Task.ModifiedAt, stored)
			}
			// The reply was read inside the transaction (DESIGN §7): it is what a fresh read finds.
			replied := make([]model.UserID, len(got.Assignees))
			for j, u := range got.Assignees {
				replied[j] = u.ID
			}
			w.wantAssignees(t, "tsk_open", replied...)
			if got.Phase.ID != got.Task.PhaseID || got.Project.ID != got.Task.ProjectID {
				t.Errorf("step %d: replied phase %s and project %s, want the task's %s and %s", i, got.Phase.ID, got.Project.ID, got.Task.PhaseID, got.Task.ProjectID)
			}
			if at := times[len(times)-1]; !at.Equal(stored) {
				t.Errorf("step %d: event time %v, modifiedAt %v: want the time of the change in both", i, at, stored)
			}
			last = stored
		}
	})
}

// Assignees are ordered by when each was assigned, then by user id; the assignee (the first
// document's single one) is the first of them.
func TestAssigneesAreInAssignmentOrderThenByUserID(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_pending")
		w.assign(t, "tsk_open", "usr_client", "usr_agent2", "usr_agent")
		w.wantAssignees(t, "tsk_open", "usr_pending", "usr_agent", "usr_agent2", "usr_client")

		// A user unassigned and assigned again takes its place from when it was assigned last.
		w.assign(t, "tsk_internal", "usr_pending")
		w.assign(t, "tsk_internal", "usr_agent")
		if _, err := w.svc.UnassignUser(t.Context(), w.admin(t), "tsk_internal", "usr_pending"); err != nil {
			t.Fatal(err)
		}
		w.assign(t, "tsk_internal", "usr_pending")
		w.wantAssignees(t, "tsk_internal", "usr_agent", "usr_pending")

		m, err := w.svc.AssigneesOf(t.Context(), w.admin(t), []model.TaskID{"tsk_open", "tsk_internal", "tsk_other"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[model.TaskID][]model.UserID{}
		for id, users := range m {
			for _, u := range users {
				got[id] = append(got[id], u.ID)
			}
		}
		want := map[model.TaskID][]model.UserID{
			"tsk_open":     us("usr_pending", "usr_agent", "usr_agent2", "usr_client"),
			"tsk_internal": us("usr_agent", "usr_pending"),
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("AssigneesOf (-want +got):\n%s", diff)
		}
	})
}

// OnAssigneesChanged is the feed of real-time updates: one call per committed change, none for a
// call that changes nothing or is refused.
func TestOnAssigneesChangedIsCalledOncePerCommittedChange(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		var got []string
		w := newWorld(t, st, rules.OnAssigneesChanged(func(c rules.AssigneesChanged) {
			got = append(got, fmt.Sprintf("%s %s +%v -%v by %v", c.Event.Name, c.Task.ID, c.Added, c.Removed, *c.Event.ActorID))
		}))
		v := w.viewer(t, "usr_agent")
		ctx := t.Context()
		_, _ = w.svc.AssignUsers(ctx, v, "tsk_open", us("usr_agent"))
		_, _ = w.svc.AssignUsers(ctx, v, "tsk_open", us("usr_agent"))
		_, _ = w.svc.AssignUsers(ctx, v, "tsk_open", us("usr_outsider"))
		_, _ = w.svc.AssignUsers(ctx, v, "tsk_other", us("usr_outsider"))
		_, _ = w.svc.UnassignUser(ctx, v, "tsk_open", "usr_agent2")
		_, _ = w.svc.SetTaskAssignee(ctx, v, "tsk_open", ptr[model.UserID]("usr_client"))
		want := []string{
			"task.assignees_changed tsk_open +[usr_agent] -[] by usr_agent",
			"task.assignees_changed tsk_open +[usr_client] -[usr_agent] by usr_agent",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("changes published (-want +got):\n%s", diff)
		}
	})
}

func repeatID(id model.UserID, n int) []model.UserID {
	out := make([]model.UserID, n)
	for i := range out {
		out[i] = id
	}
	return out
}

// distinctIDs are n well-formed user ids, none of which exists.
func distinctIDs(n int) []model.UserID {
	out := make([]model.UserID, n)
	for i := range out {
		out[i] = model.UserID(fmt.Sprintf("usr_x%03d", i))
	}
	return out
}
