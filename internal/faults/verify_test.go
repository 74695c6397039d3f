package faults

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// figures are what a fault test counts, over every writer.
type figures struct {
	acknowledged int            // acknowledged attempts
	changes      int            // acknowledged ops that changed the assignees
	refused      map[string]int // unacknowledged attempts, by code
	lost         int            // acknowledged changes missing from their task's history
	unrequested  int            // events of a history that no op asked for
	inDoubt      int            // ops given up unacknowledged
	inDoubtTook  int            // of those, the ones the history shows took effect
}

func (f figures) String() string {
	codes := slices.Sorted(maps.Keys(f.refused))
	var by []string
	for _, c := range codes {
		by = append(by, fmt.Sprintf("%s %d", c, f.refused[c]))
	}
	return fmt.Sprintf("acknowledged %d (%d changes), refused {%s}, lost %d, unrequested %d, in doubt %d (%d took effect)",
		f.acknowledged, f.changes, strings.Join(by, ", "), f.lost, f.unrequested, f.inDoubt, f.inDoubtTook)
}

// expectedEvent is the event an op that changed something records: the net difference.
type expectedEvent struct {
	added, removed []string
	rec            *opRecord
}

func diff(before, after []string) (added, removed []string) {
	for _, u := range after {
		if !slices.Contains(before, u) {
			added = append(added, u)
		}
	}
	for _, u := range before {
		if !slices.Contains(after, u) {
			removed = append(removed, u)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func (e expectedEvent) matches(ev event) bool {
	return slices.Equal(e.added, orEmpty(ev.Data.Added)) && slices.Equal(e.removed, orEmpty(ev.Data.Removed))
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// expected are the events writer w's settled ops must have recorded, in order, and the event of
// its op in doubt, if it has one and it changed something (nil otherwise).
func (w *writer) expected() (settled []expectedEvent, doubt *expectedEvent) {
	for _, rec := range w.ops {
		added, removed := diff(rec.before, rec.after)
		if rec.tooMany || len(added)+len(removed) == 0 {
			continue
		}
		e := expectedEvent{added: orEmpty(added), removed: orEmpty(removed), rec: rec}
		switch rec.outcome {
		case acked:
			settled = append(settled, e)
		case inDoubt:
			doubt = &e
		}
	}
	return settled, doubt
}

// verify reads every writer's task through the server at base and checks its history against
// the writer's ops (see the package comment). It reports each problem and returns the figures.
func (l *load) verify(t *testing.T, base string) figures {
	t.Helper()
	f := figures{refused: map[string]int{}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, w := range l.writers {
		for _, rec := range w.ops {
			for _, a := range rec.attempts {
				if a.answer.acknowledged() {
					f.acknowledged++
				} else {
					f.refused[a.answer.code()]++
				}
			}
			if rec.mismatch != "" {
				t.Errorf("writer %d: %s %v acknowledged with assignees other than %v: %s", w.n, rec.op.kind, rec.op.users, rec.after, rec.mismatch)
			}
		}
		assignees, events, err := history(ctx, l.client, base, token(w.n), taskOf(w.n))
		if err != nil {
			t.Errorf("writer %d: %v", w.n, err)
			continue
		}
		w.checkHistory(t, assignees, events, &f)
	}
	return f
}

// checkHistory checks one task's history and assignees against its writer's ops.
func (w *writer) checkHistory(t *testing.T, assignees []string, events []event, f *figures) {
	t.Helper()
	settled, doubt := w.expected()
	f.changes += len(settled)
	j := 0
	for _, e := range settled {
		k := slices.IndexFunc(events[j:], e.matches)
		if k < 0 {
			f.lost++
			t.Errorf("writer %d: LOST: %s %v acknowledged (%s) but no event +%v -%v in the history of %s after event %d",
				w.n, e.rec.op.kind, e.rec.op.users, e.rec.attempts[len(e.rec.attempts)-1].answer, e.added, e.removed, taskOf(w.n), j)
			continue
		}
		w.unrequested(t, events[j:j+k], f)
		j += k + 1
	}
	final := w.state
	f.inDoubt += countDoubt(w)
	if doubt != nil && j < len(events) && doubt.matches(events[j]) {
		f.inDoubtTook++
		final = doubt.rec.after
		j++
	}
	w.unrequested(t, events[j:], f)
	w.checkEvents(t, assignees, events)
	if !slices.Equal(assignees, final) {
		t.Errorf("writer %d: %s has the assignees %v, want %v (the last acknowledged state)", w.n, taskOf(w.n), assignees, final)
	}
}

func countDoubt(w *writer) int {
	n := 0
	for _, rec := range w.ops {
		if rec.outcome == inDoubt {
			n++
		}
	}
	return n
}

func (w *writer) unrequested(t *testing.T, events []event, f *figures) {
	t.Helper()
	for _, ev := range events {
		f.unrequested++
		t.Errorf("writer %d: an event that no op asked for in the history of %s: %+v", w.n, taskOf(w.n), ev)
	}
}

// checkEvents checks what holds of any history: every event is an assignee change by the
// task's writer, in time order; replayed from the fixture's assignees it never adds a user twice
// nor removes one that is not there, never passes the limit, and ends at the task's assignees.
func (w *writer) checkEvents(t *testing.T, assignees []string, events []event) {
	t.Helper()
	checkInvariants(t, fmt.Sprintf("writer %d: the assignees of %s", w.n, taskOf(w.n)), assignees)
	state := initialAssignees(w.n)
	for i, ev := range events {
		if ev.Name != "task.assignees_changed" || ev.Actor.ID != actor(w.n) {
			t.Errorf("writer %d: event %d is %q by %s, want task.assignees_changed by %s", w.n, i, ev.Name, ev.Actor.ID, actor(w.n))
		}
		if i > 0 && ev.Timestamp.Before(events[i-1].Timestamp) {
			t.Errorf("writer %d: event %d at %v is older than the one before it (%v)", w.n, i, ev.Timestamp, events[i-1].Timestamp)
		}
		for _, u := range ev.Data.Removed {
			if !slices.Contains(state, u) {
				t.Errorf("writer %d: event %d removes %s, who is not assigned (%v)", w.n, i, u, state)
			}
			state = slices.DeleteFunc(state, func(x string) bool { return x == u })
		}
		for _, u := range slices.Sorted(slices.Values(ev.Data.Added)) {
			if slices.Contains(state, u) {
				t.Errorf("writer %d: event %d adds %s, who is already assigned (%v)", w.n, i, u, state)
			}
			state = append(state, u)
		}
		checkInvariants(t, fmt.Sprintf("writer %d: the assignees after event %d", w.n, i), state)
	}
	if !slices.Equal(state, assignees) {
		t.Errorf("writer %d: the history replayed gives %v, but %s has the assignees %v", w.n, state, taskOf(w.n), assignees)
	}
}

// checkInvariants checks DESIGN §3's invariants of an assignee list: no duplicate, at most the
// limit, only users of the pool.
func checkInvariants(t *testing.T, what string, assignees []string) {
	t.Helper()
	if len(assignees) > maxAssignees {
		t.Errorf("%s: %v, more than the limit of %d", what, assignees, maxAssignees)
	}
	for i, u := range assignees {
		if slices.Contains(assignees[:i], u) {
			t.Errorf("%s: %v holds %s twice", what, assignees, u)
		}
		if !slices.Contains(pool(), u) {
			t.Errorf("%s: %v holds %s, whom no writer ever asked for", what, assignees, u)
		}
	}
}

// window is when a fault held: from when it was caused to when it was undone.
type window struct{ from, to time.Time }

// refusalGrace is how long after a fault a request started may still be refused.
const refusalGrace = time.Second

// checkRefusals checks every unacknowledged attempt: UNAVAILABLE (HTTP 503 with Retry-After, or
// 200 with the error on the field), or UNPROCESSABLE for an op past the limit, never a 500, never
// INTERNAL_SERVER_ERROR; and UNAVAILABLE only for a request started during a fault (from a second
// before it to a second after). allowed lets a test accept other answers (after SIGTERM).
func (l *load) checkRefusals(t *testing.T, windows []window, allowed func(attempt) bool) {
	t.Helper()
	for _, w := range l.writers {
		for _, rec := range w.ops {
			for _, a := range rec.attempts {
				if problem := refusalProblem(rec, a, windows); problem != "" && (allowed == nil || !allowed(a)) {
					t.Errorf("writer %d: %s %v sent at %s: %s: %s", w.n, rec.op.kind, rec.op.users,
						a.start.Format("15:04:05.000"), problem, a.answer)
				}
			}
		}
	}
}

func refusalProblem(rec *opRecord, a attempt, windows []window) string {
	code := a.answer.code()
	switch {
	case a.answer.acknowledged():
		return ""
	case code == "UNPROCESSABLE" && rec.tooMany && a.answer.status == http.StatusOK:
		return ""
	case code != "UNAVAILABLE":
		return "refused with " + code + ", want UNAVAILABLE"
	case a.answer.status != http.StatusOK && a.answer.status != http.StatusServiceUnavailable:
		return fmt.Sprintf("UNAVAILABLE with HTTP %d, want 503 or 200", a.answer.status)
	case a.answer.status == http.StatusServiceUnavailable && a.answer.retryAfter == "":
		return "HTTP 503 without Retry-After"
	}
	for _, w := range windows {
		if !a.start.Before(w.from.Add(-refusalGrace)) && !a.start.After(w.to.Add(refusalGrace)) {
			return ""
		}
	}
	return "UNAVAILABLE for a request sent while no fault held"
}

// firstSuccess is how long after the time after the first acknowledged answer came (-1 if none
// came).
func (l *load) firstSuccess(after time.Time) time.Duration {
	first := time.Duration(-1)
	for _, w := range l.writers {
		for _, rec := range w.ops {
			for _, a := range rec.attempts {
				if d := a.end.Sub(after); a.answer.acknowledged() && d >= 0 && (first < 0 || d < first) {
					first = d
				}
			}
		}
	}
	return first
}
