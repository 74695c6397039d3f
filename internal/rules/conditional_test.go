package rules_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §10, conditional writes: each of the three mutations takes the task's version as the
// client saw it, and changes nothing when the task has changed since (CONFLICT, with the current
// version). Two clients editing from the same view cannot both win.

// conditional is one of the three mutations, made with a condition, on tsk_open where usr_agent2
// is assigned: each call changes the task when it runs first.
var conditional = []struct {
	name string
	call func(w *world, t *testing.T, ifs ...rules.Condition) (*rules.Changed, error)
}{
	{"assignUsers", func(w *world, t *testing.T, ifs ...rules.Condition) (*rules.Changed, error) {
		return w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent"), ifs...)
	}},
	{"setTaskAssignee", func(w *world, t *testing.T, ifs ...rules.Condition) (*rules.Changed, error) {
		return w.svc.SetTaskAssignee(t.Context(), w.admin(t), "tsk_open", ptr[model.UserID]("usr_agent"), ifs...)
	}},
	{"unassignUser", func(w *world, t *testing.T, ifs ...rules.Condition) (*rules.Changed, error) {
		return w.svc.UnassignUser(t.Context(), w.admin(t), "tsk_open", "usr_agent2", ifs...)
	}},
}

// wantConflict checks that err refuses a conditional write and carries the task's current version.
func (w *world) wantConflict(t *testing.T, err error, taskID model.TaskID) {
	t.Helper()
	var ce *rules.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConflictError (CONFLICT)", err)
	}
	if now := w.task(t, taskID).Version(); ce.Version != now {
		t.Errorf("conflict carries version %q, want the task's current %q", ce.Version, now)
	}
	var ve *rules.ViolationError
	if errors.Is(err, rules.ErrNotFound) || errors.Is(err, model.ErrBadInput) || errors.As(err, &ve) {
		t.Errorf("err = %v is also another kind of error", err)
	}
}

// A write made with the version the client saw changes the task and gives it a new version; a
// second write made from the same view then loses with CONFLICT and changes nothing.
func TestIfVersionWritesOnlyOverTheVersionSeen(t *testing.T) {
	t.Parallel()
	for _, m := range conditional {
		t.Run(m.name, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, st *store.Store) {
				w := newWorld(t, st)
				w.assign(t, "tsk_open", "usr_agent2")
				seen := w.task(t, "tsk_open").Version()

				got, err := m.call(w, t, rules.IfVersion(seen))
				if err != nil {
					t.Fatalf("write over the version seen: %v", err)
				}
				now := w.task(t, "tsk_open").Version()
				if now == seen {
					t.Errorf("version %q did not change with the task", now)
				}
				if got.Task.Version() != now {
					t.Errorf("reply's version %q, stored %q", got.Task.Version(), now)
				}

				before := w.state(t, "tsk_open")
				_, err = m.call(w, t, rules.IfVersion(seen))
				w.wantConflict(t, err, "tsk_open")
				w.wantSame(t, "tsk_open", before)
			})
		})
	}
}

// Without a condition a write is unconditional, as before; with the current version a call that
// changes nothing succeeds and keeps the version; with a stale one it is a conflict even though it
// would change nothing (the client decided on a view that is gone).
func TestIfVersionOnlyWhenGiven(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		stale := w.task(t, "tsk_open").Version()
		w.assign(t, "tsk_open", "usr_agent2")
		if _, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent")); err != nil {
			t.Fatalf("unconditional write: %v", err)
		}
		current := w.task(t, "tsk_open").Version()
		before := w.state(t, "tsk_open")
		got, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent"), rules.IfVersion(current))
		if err != nil {
			t.Fatalf("a write that changes nothing, over the current version: %v", err)
		}
		if got.Task.Version() != current {
			t.Errorf("a call that changed nothing moved the version from %q to %q", current, got.Task.Version())
		}
		w.wantSame(t, "tsk_open", before)
		_, err = w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", us("usr_agent"), rules.IfVersion(stale))
		w.wantConflict(t, err, "tsk_open")
		w.wantSame(t, "tsk_open", before)
	})
}

// The order of the checks: a task the viewer cannot see is NOT_FOUND whatever the version (a
// conflict would reveal it); a version that is not the task's, stale or never one (versions are
// opaque), is a conflict before any user is looked at. None changes anything.
func TestIfVersionChecksInOrder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		admin := w.admin(t)
		before := w.state(t, "tsk_open")
		for _, other := range []string{"", "not a version", "ABC", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
			_, err := w.svc.AssignUsers(t.Context(), admin, "tsk_open", us("usr_agent"), rules.IfVersion(other))
			w.wantConflict(t, err, "tsk_open")
		}
		w.wantSame(t, "tsk_open", before)
		other := w.task(t, "tsk_b").Version()
		_, err := w.svc.AssignUsers(t.Context(), admin, "tsk_b", us("usr_agent"), rules.IfVersion(other))
		wantKind(t, err, rules.ErrNotFound)
		_, err = w.svc.UnassignUser(t.Context(), w.viewer(t, "usr_client"), "tsk_internal", "usr_agent", rules.IfVersion("1"))
		wantKind(t, err, rules.ErrNotFound)
		_, err = w.svc.AssignUsers(t.Context(), admin, "tsk_open", us(ghost, "usr_outsider"), rules.IfVersion("1"))
		w.wantConflict(t, err, "tsk_open")
		_, err = w.svc.UnassignUser(t.Context(), admin, "tsk_open", ghost, rules.IfVersion("1"))
		w.wantConflict(t, err, "tsk_open")
		w.wantUnchanged(t, "tsk_open")
		w.wantUnchanged(t, "tsk_b")
	})
}

// Two states of a task never share a version: every change moves modifiedAt at least a
// microsecond past the last, even when the clock is behind it (a clock stepped back, or a
// modifiedAt written by another machine whose clock runs ahead).
func TestEveryChangeGivesANewVersionEvenWhenTheClockIsBehind(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ahead := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := st.Gorm().Exec("UPDATE tasks SET modified_at = ? WHERE id = ?", ahead, "tsk_open").Error; err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{w.task(t, "tsk_open").Version(): -1}
		last := ahead
		for i, users := range [][]model.UserID{us("usr_agent"), us("usr_agent2"), us("usr_client")} {
			got, err := w.svc.AssignUsers(t.Context(), w.admin(t), "tsk_open", users)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Task.ModifiedAt.After(last) {
				t.Errorf("change %d: modifiedAt %v, not after %v", i, got.Task.ModifiedAt, last)
			}
			v := w.task(t, "tsk_open").Version()
			if j, ok := seen[v]; ok {
				t.Errorf("change %d gave the version %q of state %d", i, v, j)
			}
			seen[v], last = i, got.Task.ModifiedAt
		}
	})
}

// Many clients that read one version and write from it at once: exactly one wins, every other
// is refused with CONFLICT and the winner's version, and the task holds the winner's change
// alone, with one event. On PostgreSQL, where the calls really overlap; a few rounds.
func TestConcurrentWritesFromOneVersionHaveOneWinner(t *testing.T) {
	const rounds = 3
	w := newWorld(t, testdb.Postgres(t))
	pool := w.addMembers(t, "prj_site", goroutines*rounds)
	v := w.admin(t)
	for round := range rounds {
		seen := w.task(t, "tsk_open").Version()
		before := w.assignees(t, "tsk_open")
		events, _ := w.events(t, "tsk_open")
		var (
			mu        sync.Mutex
			winners   []model.UserID
			conflicts []*rules.ConflictError
		)
		together(goroutines, func(i int) {
			user := pool[round*goroutines+i]
			_, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us(user), rules.IfVersion(seen))
			var ce *rules.ConflictError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, user)
			case errors.As(err, &ce):
				conflicts = append(conflicts, ce)
			default:
				t.Errorf("round %d, assign %s: %v", round, user, err)
			}
		})
		if len(winners) != 1 {
			t.Fatalf("round %d: %d writes from version %q won, want exactly one: %v", round, len(winners), seen, winners)
		}
		now := w.task(t, "tsk_open").Version()
		for _, ce := range conflicts {
			if ce.Version != now {
				t.Errorf("round %d: a conflict carries version %q, want the winner's %q", round, ce.Version, now)
			}
		}
		w.wantAssignees(t, "tsk_open", append(before, winners[0])...)
		if after, _ := w.events(t, "tsk_open"); len(after) != len(events)+1 {
			t.Errorf("round %d: %d new events, want one", round, len(after)-len(events))
		}
	}
}
