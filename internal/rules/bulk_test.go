package rules_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §10, bulk assignment: assignUsersToTasks adds the same users to up to 50 tasks, all or
// nothing, one event per task that changed.

// The users are added to every task, those already assigned kept; each task that changed records
// its own event and gets a new version, a task that changed nothing records nothing; the reply
// lists the tasks in the order given, each once, as they are now.
func TestAssignUsersToTasksAddsToEveryTask(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		before := map[model.TaskID]state{}
		for _, task := range []model.TaskID{"tsk_open", "tsk_internal"} {
			before[task] = w.state(t, task)
		}
		got, err := w.svc.AssignUsersToTasks(t.Context(), w.viewer(t, "usr_agent2"),
			[]model.TaskID{"tsk_open", "tsk_internal", "tsk_open"}, us("usr_agent2", "usr_agent", "usr_agent2"))
		if err != nil {
			t.Fatal(err)
		}
		var replied []model.TaskID
		for _, c := range got {
			replied = append(replied, c.Task.ID)
			if c.Task.Version() != w.task(t, c.Task.ID).Version() {
				t.Errorf("%s replied at version %q, stored %q", c.Task.ID, c.Task.Version(), w.task(t, c.Task.ID).Version())
			}
			var assignees []model.UserID
			for _, u := range c.Assignees {
				assignees = append(assignees, u.ID)
			}
			w.wantAssignees(t, c.Task.ID, assignees...)
		}
		if diff := cmp.Diff([]model.TaskID{"tsk_open", "tsk_internal"}, replied); diff != "" {
			t.Errorf("the tasks replied (-want +got):\n%s", diff)
		}
		w.wantChanged(t, "tsk_open", before["tsk_open"], changed("usr_agent2", "tsk_open", us("usr_agent2"), nil), "usr_agent", "usr_agent2")
		w.wantChanged(t, "tsk_internal", before["tsk_internal"], changed("usr_agent2", "tsk_internal", us("usr_agent", "usr_agent2"), nil),
			"usr_agent", "usr_agent2")

		// A task where every user is already assigned changes nothing; the others still change.
		before["tsk_internal"] = w.state(t, "tsk_internal")
		if _, err := w.svc.AssignUsersToTasks(t.Context(), w.admin(t), []model.TaskID{"tsk_internal", "tsk_open"}, us("usr_agent")); err != nil {
			t.Fatal(err)
		}
		w.wantSame(t, "tsk_internal", before["tsk_internal"])
	})
}

// Any violation on any task refuses the whole: one error whose violations name their task, sorted
// by task then user, the user ids sorted and unique; nothing changes on any task. The limit is
// checked only when nothing else offends.
func TestAssignUsersToTasksIsAllOrNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st, rules.WithMaxAssignees(2))
		admin := w.admin(t)
		w.assign(t, "tsk_open", "usr_agent", "usr_client")
		before := w.state(t, "tsk_open")
		both := []model.TaskID{"tsk_open", "tsk_internal"}

		_, err := w.svc.AssignUsersToTasks(t.Context(), admin, both, us("usr_agent2", "usr_client", ghost))
		wantViolations(t, err,
			rules.Violation{UserID: "usr_client", Reason: rules.ReasonNotAgencyMember, TaskID: "tsk_internal"},
			rules.Violation{UserID: ghost, Reason: rules.ReasonUserNotFound, TaskID: "tsk_internal"},
			rules.Violation{UserID: ghost, Reason: rules.ReasonUserNotFound, TaskID: "tsk_open"})
		if want := "these users cannot be assigned to these tasks: tsk_internal: usr_client, usr_ghost; tsk_open: usr_ghost"; !containsMessage(err, want) {
			t.Errorf("message %q, want it to end with %q", err, want)
		}

		_, err = w.svc.AssignUsersToTasks(t.Context(), admin, both, us("usr_agent2"))
		wantViolations(t, err, rules.Violation{UserID: "usr_agent2", Reason: rules.ReasonTooManyAssignees, TaskID: "tsk_open"})
		w.wantSame(t, "tsk_open", before)
		w.wantUnchanged(t, "tsk_internal")
	})
}

func containsMessage(err error, want string) bool {
	msg := err.Error()
	return len(msg) >= len(want) && msg[len(msg)-len(want):] == want
}

// A task the viewer cannot see (another organization's, or in an internal phase for a client
// member) is NOT_FOUND naming it, the first such in the order given, before any user is looked at;
// nothing changes on the tasks it can see. Malformed sizes are bad input.
func TestBulkInvisibleTaskIsNotFoundAndChangesNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		client := w.viewer(t, "usr_client")
		for _, tasks := range [][]model.TaskID{
			{"tsk_open", "tsk_internal"}, {"tsk_open", "tsk_b", "tsk_internal"}, {"tsk_open", "tsk_ghost"},
		} {
			_, err := w.svc.AssignUsersToTasks(t.Context(), client, tasks, us("usr_client", ghost))
			wantKind(t, err, rules.ErrNotFound)
			var nf *rules.NotFoundError
			if !errors.As(err, &nf) || nf.ID != string(tasks[1]) {
				t.Errorf("%v: err %v, want NOT_FOUND naming %s", tasks, err, tasks[1])
			}
		}
		w.wantUnchanged(t, "tsk_open")

		many := make([]model.TaskID, rules.MaxTaskIDs+1)
		for i := range many {
			many[i] = "tsk_open" // repeats count
		}
		for _, c := range []struct {
			tasks []model.TaskID
			users []model.UserID
		}{
			{nil, us("usr_agent")}, {many, us("usr_agent")}, {[]model.TaskID{"tsk_open"}, nil},
			{[]model.TaskID{"tsk_open"}, repeatID("usr_agent", rules.MaxUserIDs+1)},
		} {
			_, err := w.svc.AssignUsersToTasks(t.Context(), w.admin(t), c.tasks, c.users)
			wantBadInput(t, err)
		}
		if _, err := w.svc.AssignUsersToTasks(t.Context(), w.admin(t), many[:rules.MaxTaskIDs], us("usr_agent")); err != nil {
			t.Errorf("%d tasks: %v", rules.MaxTaskIDs, err)
		}
	})
}

// One event per task that changed reaches the OnAssigneesChanged feed (and so the bus), none for
// a task that changed nothing.
func TestBulkCallsOnAssigneesChangedOncePerChangedTask(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		var mu sync.Mutex
		var heard []model.TaskID
		w := newWorld(t, st, rules.OnAssigneesChanged(func(c rules.AssigneesChanged) {
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, c.Task.ID)
			if c.Task.ModifiedAt != c.Event.Timestamp {
				t.Errorf("%s heard at %v, its event at %v", c.Task.ID, c.Task.ModifiedAt, c.Event.Timestamp)
			}
		}))
		w.load(t, &seed.World{Tasks: []seed.Task{{ID: "tsk_more", ProjectID: "prj_site", PhaseID: "phs_open", Label: "M", Type: "CALL_ANALYSIS"}}})
		w.assign(t, "tsk_internal", "usr_agent")
		mu.Lock()
		heard = nil
		mu.Unlock()
		if _, err := w.svc.AssignUsersToTasks(t.Context(), w.admin(t), []model.TaskID{"tsk_open", "tsk_internal", "tsk_more"}, us("usr_agent")); err != nil {
			t.Fatal(err)
		}
		slices.Sort(heard)
		if diff := cmp.Diff([]model.TaskID{"tsk_more", "tsk_open"}, heard); diff != "" {
			t.Errorf("changes heard (-want +got):\n%s", diff)
		}
	})
}

// Concurrent bulk calls over the same tasks, half in ascending and half in descending order of
// ids, never deadlock (PostgreSQL would refuse one with deadlock_detected) and end in a serial
// state: every task holds the same users in the same order, each call's user added to every task
// at its turn, and one event per task per call. Each fails when LockTasks locks in the order given.
func TestConcurrentBulkCallsInOppositeOrdersNeverDeadlock(t *testing.T) {
	const tasks, calls, rounds = 20, 8, 3
	w := newWorld(t, testdb.Postgres(t))
	var world seed.World
	var ids []model.TaskID
	for i := range tasks {
		id := fmt.Sprintf("tsk_bulk%02d", i)
		world.Tasks = append(world.Tasks, seed.Task{ID: id, ProjectID: "prj_site", PhaseID: "phs_open", Label: "B", Type: "CALL_ANALYSIS"})
		ids = append(ids, model.TaskID(id))
	}
	w.load(t, &world)
	pool := w.addMembers(t, "prj_site", calls*rounds)
	v := w.admin(t)
	for round := range rounds {
		together(calls, func(i int) {
			order := slices.Clone(ids)
			if i%2 == 1 {
				slices.Reverse(order)
			}
			if _, err := w.svc.AssignUsersToTasks(t.Context(), v, order, us(pool[round*calls+i])); err != nil {
				t.Errorf("round %d, call %d: %v", round, i, err)
			}
		})
	}
	want := w.assignees(t, ids[0])
	if len(want) != calls*rounds {
		t.Fatalf("%s holds %d users, want %d", ids[0], len(want), calls*rounds)
	}
	for _, id := range ids[1:] {
		if diff := cmp.Diff(want, w.assignees(t, id)); diff != "" {
			t.Errorf("%s (-the order of %s +got): no serial order gives both:\n%s", id, ids[0], diff)
		}
		if events, _ := w.events(t, id); len(events) != calls*rounds {
			t.Errorf("%s has %d events, want one per call: %d", id, len(events), calls*rounds)
		}
	}
}
