package scale

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The concurrent calls the tests send round-robin to several servers (DESIGN §3, concurrency):
// on tsk_mix a mix of the three mutations by six viewers over a pool larger than the limit; on
// tsk_union additions of overlapping pairs whose union is the limit.

// maxAssignees is serve --max-assignees: tsk_mix's pool is larger.
const maxAssignees = 6

// call is one mutation of the load.
type call struct {
	viewer int
	kind   string // assignUsers, unassignUser, setTaskAssignee
	task   string
	users  []string // setTaskAssignee: none (null) or one
}

func (c call) String() string {
	return fmt.Sprintf("%s %s %s%v", viewer(c.viewer), c.kind, c.task, c.users)
}

// request is the call's document and variables, its result aliased `r`.
func (c call) request() (string, map[string]any) {
	vars := map[string]any{"t": c.task}
	switch c.kind {
	case "assignUsers":
		vars["u"] = c.users
		return `mutation($t: ID!, $u: [ID!]!) { r: assignUsers(taskId: $t, userIds: $u) { assignees { id } } }`, vars
	case "unassignUser":
		vars["u"] = c.users[0]
		return `mutation($t: ID!, $u: ID!) { r: unassignUser(taskId: $t, userId: $u) { assignees { id } } }`, vars
	}
	if len(c.users) > 0 {
		vars["u"] = c.users[0]
	}
	return `mutation($t: ID!, $u: ID) { r: setTaskAssignee(taskId: $t, assignee: $u) { assignees { id } } }`, vars
}

// calls is the load: n calls on tsk_mix and n on tsk_union, interleaved, each a function of its
// index alone.
func calls(n int) []call {
	var out []call
	for i := range n {
		mix := call{viewer: i % viewers, task: "tsk_mix"}
		switch i % 5 {
		case 0, 1, 2:
			mix.kind, mix.users = "assignUsers", []string{pool((3 * i) % poolSize), pool((7*i + 1) % poolSize)}
		case 3:
			mix.kind, mix.users = "unassignUser", []string{pool((5*i + 2) % poolSize)}
		default:
			mix.kind = "setTaskAssignee"
			if i%10 != 4 {
				mix.users = []string{pool(i % poolSize)}
			}
		}
		union := call{viewer: (i + 3) % viewers, task: "tsk_union", kind: "assignUsers",
			users: []string{pool(i % maxAssignees), pool((i + 1 + i/maxAssignees) % maxAssignees)}}
		out = append(out, mix, union)
	}
	return out
}

// outcome is a call with the answer it got and the server that gave it.
type outcome struct {
	call
	server    string
	assignees []string // the result's, when it succeeded
	code      string   // the error's, when it failed
	reasons   []string // an UNPROCESSABLE error's violations
}

// drive sends the calls from workers goroutines at once, call k to servers[k mod len(servers)],
// and returns what each got.
func drive(t *testing.T, servers []*server, cs []call, workers int) []outcome {
	t.Helper()
	out := make([]outcome, len(cs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k := w; k < len(cs); k += workers {
				s := servers[k%len(servers)]
				doc, vars := cs[k].request()
				a := post(t, s.base, token(cs[k].viewer), doc, vars)
				o := outcome{call: cs[k], server: s.name, code: a.code()}
				if o.code == "" {
					var r struct{ Assignees []struct{ ID string } }
					a.field(t, "r", &r)
					for _, u := range r.Assignees {
						o.assignees = append(o.assignees, u.ID)
					}
				}
				for _, v := range a.Errors {
					for _, x := range v.Extensions.Violations {
						o.reasons = append(o.reasons, x.Reason)
					}
				}
				out[k] = o
			}
		})
	}
	wg.Wait()
	return out
}

// checkOutcomes checks every answer on its own: a result is a set within the limit that the call
// could have left; a refusal is UNPROCESSABLE for the limit, and only for an addition.
func checkOutcomes(t *testing.T, outcomes []outcome) (refused int) {
	t.Helper()
	for _, o := range outcomes {
		switch {
		case o.code == "UNPROCESSABLE" && o.kind == "assignUsers" && !slices.ContainsFunc(o.reasons, func(r string) bool { return r != "TOO_MANY_ASSIGNEES" }):
			refused++
			continue
		case o.code != "":
			t.Errorf("%s on %s: %s %v", o.call, o.server, o.code, o.reasons)
			continue
		}
		if len(o.assignees) > maxAssignees || len(sorted(o.assignees)) != len(slices.Compact(sorted(o.assignees))) {
			t.Errorf("%s on %s left %v: over the limit or with duplicates", o.call, o.server, o.assignees)
		}
		switch o.kind {
		case "assignUsers":
			for _, u := range o.users {
				if !slices.Contains(o.assignees, u) {
					t.Errorf("%s on %s left %v, without %s: a lost add", o.call, o.server, o.assignees, u)
				}
			}
		case "unassignUser":
			if slices.Contains(o.assignees, o.users[0]) {
				t.Errorf("%s on %s left %v", o.call, o.server, o.assignees)
			}
		case "setTaskAssignee":
			if !slices.Equal(o.assignees, o.users) && !(len(o.users) == 0 && len(o.assignees) == 0) {
				t.Errorf("%s on %s left %v", o.call, o.server, o.assignees)
			}
		}
	}
	return refused
}

// checkHistories checks each task's history against its assignees (read through base) and the
// calls: the events replay to the assignees, each a real change in a serial order; tsk_union ends
// with exactly the union of its additions. It returns the events' ids by task.
func checkHistories(t *testing.T, base string, outcomes []outcome) map[string][]string {
	t.Helper()
	ids := map[string][]string{}
	union := map[string]bool{}
	for _, o := range outcomes {
		if o.task == "tsk_union" {
			for _, u := range o.users {
				union[u] = true
			}
		}
	}
	for task, first := range map[string][]string{"tsk_mix": {pool(0)}, "tsk_union": nil} {
		assignees, events := history(t, base, task)
		final, problems := replay(first, events, maxAssignees)
		if len(problems) > 0 {
			t.Errorf("%s's history is no serial order of the calls:\n  %s", task, strings.Join(problems, "\n  "))
		}
		if diff := cmp.Diff(sorted(final), sorted(assignees), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: the assignees (+) are not the history replayed (-):\n%s", task, diff)
		}
		if n := len(events); n == 0 || n > len(outcomes) {
			t.Errorf("%s: %d events for %d calls", task, n, len(outcomes))
		}
		if task == "tsk_union" {
			want := make([]string, 0, len(union))
			for u := range union {
				want = append(want, u)
			}
			if diff := cmp.Diff(sorted(want), sorted(assignees)); diff != "" {
				t.Errorf("tsk_union: the assignees (+) are not the union of the additions (-):\n%s", diff)
			}
		}
		for _, e := range events {
			ids[task] = append(ids[task], e.ID)
		}
	}
	return ids
}

// checkHeard checks that a subscriber heard exactly the events of the histories, each once, those
// of one task in the order they were recorded; it waits for them at most a few seconds.
func checkHeard(t *testing.T, who string, s *stream, want map[string][]string) {
	t.Helper()
	n := 0
	for _, ids := range want {
		n += len(ids)
	}
	got := s.waitFor(t, n, 10*time.Second)
	byTask := map[string][]string{}
	for _, c := range got {
		byTask[c.Task.ID] = append(byTask[c.Task.ID], c.ID)
	}
	for task, ids := range want {
		if diff := cmp.Diff(ids, byTask[task]); diff != "" {
			t.Errorf("%s heard of %s (-the history +heard):\n%s", who, task, diff)
		}
	}
	if len(got) != n {
		t.Errorf("%s heard %d changes, want %d", who, len(got), n)
	}
}
