package graph_test

import (
	"strings"
	"testing"

	"github.com/taskql/taskql/graph"
)

// DESIGN §10, assignUsersToTasks over the wire.
func TestAssignUsersToTasksOverTheWire(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		plan, copyTask := a.task("tsk_01plan"), a.task("tsk_02copy")
		// cat is a client member: NOT_AGENCY_MEMBER on the internal phase only; gus is no member.
		a.post(tokAda, `mutation { m: assignUsersToTasks(taskIds: ["tsk_02copy", "tsk_01plan"], userIds: ["usr_cat", "usr_gus"]) { id } }`, nil).
			wantError(`{"m": null}`, `{"message": "these users cannot be assigned to these tasks: tsk_01plan: usr_cat, usr_gus; tsk_02copy: usr_gus",
				"path": ["m"], "extensions": {"code": "UNPROCESSABLE", "userIds": ["usr_cat", "usr_gus"], "violations": [
				{"userId": "usr_cat", "reason": "NOT_AGENCY_MEMBER", "taskId": "tsk_01plan"},
				{"userId": "usr_gus", "reason": "NOT_PROJECT_MEMBER", "taskId": "tsk_01plan"},
				{"userId": "usr_gus", "reason": "NOT_PROJECT_MEMBER", "taskId": "tsk_02copy"}]}}`)
		// A task the viewer cannot see is NOT_FOUND, naming it, before the users.
		a.post(tokCat, `mutation { m: assignUsersToTasks(taskIds: ["tsk_02copy", "tsk_01plan"], userIds: ["usr_gus"]) { id } }`, nil).
			wantError(`{"m": null}`, `{"message": "task tsk_01plan not found", "path": ["m"], "extensions": {"code": "NOT_FOUND"}}`)
		wantNoChange(t, plan, a.task("tsk_01plan"))
		wantNoChange(t, copyTask, a.task("tsk_02copy"))
		// More than 50 tasks is BAD_USER_INPUT.
		a.post(tokAda, `mutation($t: [ID!]!) { m: assignUsersToTasks(taskIds: $t, userIds: ["usr_ada"]) { id } }`,
			map[string]any{"t": strings.Split(strings.Repeat("tsk_02copy,", 51), ",")[:51]}).
			wantError(`{"m": null}`, `{"message": "taskIds must hold 1 to 50 ids, got 51", "path": ["m"], "extensions": {"code": "BAD_USER_INPUT"}}`)

		// The tasks in the order given, each with its full updated list and its own event.
		var d struct {
			M []taskView
		}
		decode(t, a.post(tokAda, `mutation { m: assignUsersToTasks(taskIds: ["tsk_02copy", "tsk_01plan"], userIds: ["usr_bob", "usr_ada"]) { `+
			taskSelection+` } }`, nil).ok(), &d)
		if len(d.M) != 2 {
			t.Fatalf("%d tasks replied, want 2", len(d.M))
		}
		wantAssignees(t, d.M[0], "usr_ada", "usr_bob")
		wantChange(t, copyTask, d.M[0], "tsk_02copy", "usr_ada", `{"added": ["usr_ada", "usr_bob"], "removed": []}`)
		wantAssignees(t, d.M[1], "usr_ada", "usr_bob")
		wantChange(t, plan, d.M[1], "tsk_01plan", "usr_ada", `{"added": ["usr_bob"], "removed": []}`)
	})
}

// Subscribers hear one change per task that a bulk call changed, none for a task it left as it
// was.
func TestSubscribersHearEachTaskOfABulkCall(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		admin := a.connect(tokAdmin)
		admin.subscribe("all", changes, nil)
		a.subscribed(1)
		// tsk_01plan already holds ada: it does not change.
		a.post(tokAda, `mutation { assignUsersToTasks(taskIds: ["tsk_03logo", "tsk_01plan", "tsk_02copy"], userIds: ["usr_ada"]) { id } }`, nil).ok()
		got := map[string]bool{}
		for range 2 {
			c := admin.nextChange("all")
			if ids(c.Added) != "usr_ada" || ids(c.Removed) != "" || c.Actor.ID != "usr_ada" {
				t.Errorf("change of %s: added [%s] removed [%s] by %s", c.Task.ID, ids(c.Added), ids(c.Removed), c.Actor.ID)
			}
			got[c.Task.ID] = true
		}
		if !got["tsk_03logo"] || !got["tsk_02copy"] {
			t.Errorf("changes heard of %v, want tsk_03logo and tsk_02copy", got)
		}
		// The next message is of the next change, not of tsk_01plan.
		a.mutate(tokAdmin, `unassignUser(taskId: "tsk_05app", userId: "usr_dan")`)
		admin.wantChange("all", "tsk_05app", "", "usr_dan", "usr_admin")
	})
}

// DESIGN §7: the complexity of assignUsersToTasks counts its tasks, as a connection counts its
// page: a selection that 49 tasks afford passes the limit with 50, and is refused before anything
// runs (repeats count, as they do for the 50).
func TestAssignUsersToTasksComplexityCountsItsTasks(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		const m = `mutation($t: [ID!]!) { assignUsersToTasks(taskIds: $t, userIds: ["usr_ada"]) {
			id assignableUsers(first: 100) { nodes { id name email } } } }`
		tasks := func(n int) []string {
			return strings.Split(strings.TrimSuffix(strings.Repeat("tsk_02copy,", n), ","), ",")
		}
		before := a.task("tsk_02copy")
		r := a.post(tokAda, m, map[string]any{"t": tasks(50)})
		if got := r.codes(); len(got) != 1 || got[0] != "COMPLEXITY_LIMIT_EXCEEDED" {
			t.Fatalf("50 tasks: codes %v, want [COMPLEXITY_LIMIT_EXCEEDED]; body %s", got, r.Body)
		}
		wantNoChange(t, before, a.task("tsk_02copy"))
		a.post(tokAda, m, map[string]any{"t": tasks(49)}).ok()
		wantAssignees(t, a.task("tsk_02copy"), "usr_ada")
	})
}
