package rules_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §3, concurrency: changes to one task are serialised, so that any interleaving of
// concurrent calls ends in a state some serial order of them would produce: never a duplicate
// assignee, never a lost add, never more than the limit. These run on PostgreSQL, where calls
// really overlap (SQLite serialises every writer); each fails when LockTask's FOR UPDATE is removed.

// goroutines is how many calls race on one task.
const goroutines = 60

// together runs n calls at once: all start when every goroutine is ready, none waits on a clock.
func together(n int, call func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			call(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// Many calls adding overlapping sets of users end with exactly their union assigned, each user
// once, and one event per real change: the events' added lists partition the union.
func TestConcurrentAssignUsersEndWithExactlyTheUnion(t *testing.T) {
	w := newWorld(t, testdb.Postgres(t))
	pool := w.addMembers(t, "prj_site", 20)
	v := w.admin(t)

	var union []model.UserID
	calls := make([][]model.UserID, goroutines)
	for i := range calls {
		calls[i] = setOf(pool[i%20], pool[(7*i+3)%20], pool[(13*i+5)%20])
		union = setOf(append(union, calls[i]...)...)
	}
	together(goroutines, func(i int) {
		if _, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us(calls[i]...)); err != nil {
			t.Errorf("call %d assigns %v: %v", i, calls[i], err)
		}
	})

	got := w.assignees(t, "tsk_open")
	if diff := cmp.Diff(union, sorted(got)); diff != "" {
		t.Errorf("assignees (-want the union +got):\n%s", diff)
	}
	if dup := duplicates(got); len(dup) > 0 {
		t.Errorf("assignees %v hold duplicates %v", got, dup)
	}
	events, _ := w.events(t, "tsk_open")
	if len(events) > goroutines {
		t.Errorf("%d events for %d calls", len(events), goroutines)
	}
	addedBy := map[model.UserID]int{}
	for i, e := range events {
		if len(e.Added) == 0 || len(e.Removed) != 0 {
			t.Errorf("event %d = +%v -%v, want an addition and no removal", i, e.Added, e.Removed)
		}
		for _, u := range e.Added {
			if j, ok := addedBy[u]; ok {
				t.Errorf("%s added by event %d and again by event %d: a lost update", u, j, i)
			}
			addedBy[u] = i
		}
	}
	var added []model.UserID
	for u := range addedBy {
		added = append(added, u)
	}
	if diff := cmp.Diff(union, sorted(added)); diff != "" {
		t.Errorf("users the events added (-want the union +got):\n%s", diff)
	}
}

// op is one call of a concurrent mix, made by a viewer of its own, so that an event's actor names
// the call that recorded it.
type op struct {
	viewer model.UserID
	kind   *mutation
	users  []model.UserID // setTaskAssignee: none (null) or one
}

func (o op) String() string { return fmt.Sprintf("%s %s%v", o.viewer, o.kind.name, o.users) }

// apply is what the call does to a set of assignees when it runs alone (DESIGN §3).
func (o op) apply(set []model.UserID) []model.UserID {
	switch o.kind {
	case &setTaskAssignee:
		return setOf(o.users...)
	case &assignUsers:
		return setOf(append(slices.Clone(set), o.users...)...)
	default:
		return slices.DeleteFunc(slices.Clone(set), func(u model.UserID) bool { return u == o.users[0] })
	}
}

// Interleaved setTaskAssignee, assignUsers and unassignUser calls end in a state that some serial
// order of them produces. The events, oldest first, give the order of the calls that changed
// something: replayed from the initial set, each must be exactly what its call does to the set
// before it; a call that recorded nothing must change nothing in one of the states passed
// through; and the last state is the final set, in assignment order.
func TestConcurrentMixedChangesEndInASerialState(t *testing.T) {
	w := newWorld(t, testdb.Postgres(t))
	viewers := w.addMembers(t, "prj_site", goroutines)
	pool := viewers[:6]
	w.assign(t, "tsk_open", pool[0], pool[1])
	initial, _ := w.events(t, "tsk_open")

	ops := make([]op, goroutines)
	byViewer := map[model.UserID]op{}
	for i := range ops {
		o := op{viewer: viewers[i]}
		switch i % 4 {
		case 0:
			o.kind, o.users = &setTaskAssignee, us(pool[i%6])
		case 1:
			o.kind, o.users = &assignUsers, us(pool[i%6], pool[(i+2)%6])
		case 2:
			o.kind, o.users = &unassignUser, us(pool[(i+1)%6])
		case 3:
			o.kind = &setTaskAssignee
			if i%8 == 3 {
				o.users = nil // null: empty the set
			} else {
				o.users = us(pool[(i+3)%6])
			}
		}
		ops[i] = o
		byViewer[o.viewer] = o
	}
	vs := make([]*model.Viewer, goroutines)
	for i, o := range ops {
		vs[i] = w.viewer(t, o.viewer)
	}
	together(goroutines, func(i int) {
		if _, err := ops[i].kind.call(w, t, vs[i], "tsk_open", us(ops[i].users...)...); err != nil {
			t.Errorf("%v: %v", ops[i], err)
		}
	})

	events, _ := w.events(t, "tsk_open")
	events = events[len(initial):]
	// The replay: each state and, for the final order, the step at which each user was added.
	set := setOf(pool[0], pool[1])
	states := [][]model.UserID{set}
	addedAt := map[model.UserID]int{pool[0]: -1, pool[1]: -1}
	recordedBy := map[model.UserID]bool{}
	for i, e := range events {
		o, ok := byViewer[e.Actor]
		if !ok || recordedBy[e.Actor] {
			t.Fatalf("event %d by %s: not the one event of one call", i, e.Actor)
		}
		recordedBy[e.Actor] = true
		next := o.apply(set)
		added, removed := setDiff(set, next)
		if diff := cmp.Diff(changed(e.Actor, "tsk_open", added, removed), e); diff != "" {
			t.Errorf("event %d, %v on %v (-what the call does alone +recorded):\n%s", i, o, set, diff)
		}
		for _, u := range added {
			addedAt[u] = i
		}
		set = next
		states = append(states, set)
	}
	for _, o := range ops {
		if recordedBy[o.viewer] {
			continue
		}
		if !slices.ContainsFunc(states, func(s []model.UserID) bool { return slices.Equal(o.apply(s), s) }) {
			t.Errorf("%v recorded no event, yet it changes every state it could have run in: %v", o, states)
		}
	}
	want := slices.Clone(set)
	slices.SortFunc(want, func(a, b model.UserID) int {
		if d := addedAt[a] - addedAt[b]; d != 0 {
			return d
		}
		return strings.Compare(string(a), string(b))
	})
	if diff := cmp.Diff(want, w.assignees(t, "tsk_open"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("final assignees (-the replay +got):\n%s", diff)
	}
}

// Many calls racing to add one user each to a task of at most N assignees: exactly N succeed,
// every other is refused with TOO_MANY_ASSIGNEES for its user, and the task never holds more.
// A few rounds, the task emptied between them, give the race more chances to show.
func TestConcurrentAssignUsersNeverPassTheLimit(t *testing.T) {
	const limit, rounds = 5, 3
	w := newWorld(t, testdb.Postgres(t), rules.WithMaxAssignees(limit))
	pool := w.addMembers(t, "prj_site", goroutines)
	v := w.admin(t)

	for round := range rounds {
		if _, err := w.svc.SetTaskAssignee(t.Context(), v, "tsk_open", nil); err != nil {
			t.Fatal(err)
		}
		before, _ := w.events(t, "tsk_open")
		var (
			mu        sync.Mutex
			succeeded []model.UserID
		)
		together(goroutines, func(i int) {
			_, err := w.svc.AssignUsers(t.Context(), v, "tsk_open", us(pool[i]))
			var ve *rules.ViolationError
			switch {
			case err == nil:
				mu.Lock()
				succeeded = append(succeeded, pool[i])
				mu.Unlock()
			case errors.As(err, &ve):
				want := []rules.Violation{{UserID: pool[i], Reason: rules.ReasonTooManyAssignees}}
				if diff := cmp.Diff(want, ve.Violations); diff != "" {
					t.Errorf("round %d, assign %s: violations (-want +got):\n%s", round, pool[i], diff)
				}
			default:
				t.Errorf("round %d, assign %s: %v", round, pool[i], err)
			}
		})

		got := w.assignees(t, "tsk_open")
		if len(got) > limit {
			t.Errorf("round %d: %d assignees %v, past the limit of %d", round, len(got), got, limit)
		}
		if diff := cmp.Diff(sorted(succeeded), sorted(got)); diff != "" {
			t.Errorf("round %d: assignees (-the calls that succeeded +got):\n%s", round, diff)
		}
		if len(succeeded) != limit {
			t.Errorf("round %d: %d calls succeeded, want exactly %d: each adds one user until the task is full", round, len(succeeded), limit)
		}
		if events, _ := w.events(t, "tsk_open"); len(events)-len(before) != len(succeeded) {
			t.Errorf("round %d: %d events for %d changes", round, len(events)-len(before), len(succeeded))
		}
	}
}

// setOf is a set of users as a sorted slice without repeats.
func setOf(users ...model.UserID) []model.UserID {
	s := slices.Clone(users)
	slices.Sort(s)
	return slices.Compact(s)
}

// setDiff is what goes from one set to the next, each side sorted.
func setDiff(old, next []model.UserID) (added, removed []model.UserID) {
	for _, u := range next {
		if !slices.Contains(old, u) {
			added = append(added, u)
		}
	}
	for _, u := range old {
		if !slices.Contains(next, u) {
			removed = append(removed, u)
		}
	}
	return added, removed
}

func duplicates(users []model.UserID) []model.UserID {
	seen := map[model.UserID]bool{}
	var dup []model.UserID
	for _, u := range users {
		if seen[u] {
			dup = append(dup, u)
		}
		seen[u] = true
	}
	return dup
}
