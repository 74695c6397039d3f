package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// taskView is what the mutation tests read of a task: its assignees three ways, modifiedAt and
// its assignment history.
type taskView struct {
	AssigneeID *string
	Assignee   *struct{ ID string }
	Assignees  []struct{ ID string }
	ModifiedAt string
	Events     struct {
		TotalCount int
		Nodes      []eventView
	}
}

type eventView struct {
	Name      string
	Actor     *struct{ ID string }
	Entity    string
	EntityID  string
	Data      json.RawMessage
	Timestamp string
}

const taskSelection = `assigneeId assignee { id } assignees { id } modifiedAt
	events { totalCount nodes { name actor { id } entity entityId data timestamp } }`

// assigneeIDs lists the assignees' ids in order, after checking that assignee and assigneeId
// are the first of them (DESIGN §1: one task, many assignees, one primary).
func (v taskView) assigneeIDs(t *testing.T) []string {
	t.Helper()
	ids := []string{}
	for _, u := range v.Assignees {
		ids = append(ids, u.ID)
	}
	switch {
	case len(ids) == 0 && (v.Assignee != nil || v.AssigneeID != nil):
		t.Errorf("no assignees but assignee %v, assigneeId %v", v.Assignee, v.AssigneeID)
	case len(ids) > 0 && (v.Assignee == nil || v.AssigneeID == nil || v.Assignee.ID != ids[0] || *v.AssigneeID != ids[0]):
		t.Errorf("assignees %v but assignee %v, assigneeId %v: want the first", ids, v.Assignee, v.AssigneeID)
	}
	return ids
}

// lastEvent is the newest event of the task's history.
func (v taskView) lastEvent(t *testing.T) eventView {
	t.Helper()
	if len(v.Events.Nodes) == 0 {
		t.Fatal("the task has no events")
	}
	return v.Events.Nodes[len(v.Events.Nodes)-1]
}

// mutate runs one mutation (call is its field with arguments) as the token's viewer and returns
// the task it answers.
func (a *api) mutate(token, call string) taskView {
	a.t.Helper()
	var d struct{ M taskView }
	decode(a.t, a.post(token, `mutation { m: `+call+` { `+taskSelection+` } }`, nil).ok(), &d)
	return d.M
}

// task reads a task as the org admin, who sees every task of Acme.
func (a *api) task(id string) taskView {
	a.t.Helper()
	var d struct{ Task taskView }
	decode(a.t, a.post(tokAdmin, `query($id: ID!) { task(id: $id) { `+taskSelection+` } }`, map[string]any{"id": id}).ok(), &d)
	return d.Task
}

// wantAssignees asserts a task's assignees in order.
func wantAssignees(t *testing.T, v taskView, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := v.assigneeIDs(t); !slices.Equal(got, want) {
		t.Errorf("assignees = %v, want %v", got, want)
	}
}

// wantChange asserts that v is the result of one change by actor, recorded after before: the
// last event is task.assignees_changed with this data, at the task's new modifiedAt.
func wantChange(t *testing.T, before, v taskView, taskID, actor, data string) {
	t.Helper()
	if v.ModifiedAt <= before.ModifiedAt {
		t.Errorf("modifiedAt = %s, want it bumped past %s", v.ModifiedAt, before.ModifiedAt)
	}
	if got, want := v.Events.TotalCount, before.Events.TotalCount+1; got != want || len(v.Events.Nodes) != want {
		t.Fatalf("events: totalCount %d, %d nodes; want %d (one more)", got, len(v.Events.Nodes), want)
	}
	e := v.lastEvent(t)
	if e.Name != "task.assignees_changed" || e.Entity != "task" || e.EntityID != taskID || e.Actor == nil || e.Actor.ID != actor {
		t.Errorf("event = %s by %v about %s %s; want task.assignees_changed by %s about task %s", e.Name, e.Actor, e.Entity, e.EntityID, actor, taskID)
	}
	if e.Timestamp != v.ModifiedAt {
		t.Errorf("event timestamp %s, task modifiedAt %s: want the one time of the change", e.Timestamp, v.ModifiedAt)
	}
	jsonEqual(t, "event data", data, e.Data)
}

// wantNoChange asserts that v is as before: same assignees, same modifiedAt, no new event.
func wantNoChange(t *testing.T, before, v taskView) {
	t.Helper()
	if v.ModifiedAt != before.ModifiedAt {
		t.Errorf("modifiedAt = %s, want it unchanged at %s", v.ModifiedAt, before.ModifiedAt)
	}
	if v.Events.TotalCount != before.Events.TotalCount {
		t.Errorf("events = %d, want %d: a call that changes nothing records nothing", v.Events.TotalCount, before.Events.TotalCount)
	}
	if got, want := v.assigneeIDs(t), before.assigneeIDs(t); !slices.Equal(got, want) {
		t.Errorf("assignees = %v, want them unchanged at %v", got, want)
	}
}

// DESIGN §3 assignUsers: adds every listed user, keeps those already assigned; repeats and users
// already assigned are not errors and change nothing. task.assignees is the full updated list,
// ordered by when each was assigned, then by user id.
func TestAssignUsersAddsToTheAssignees(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		start := a.task("tsk_02copy")
		wantAssignees(t, start)
		if start.ModifiedAt != seededModifiedAt || start.Events.TotalCount != 0 {
			t.Fatalf("seeded task: modifiedAt %s, %d events", start.ModifiedAt, start.Events.TotalCount)
		}

		one := a.mutate(tokAda, `assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"])`)
		wantAssignees(t, one, "usr_bob")
		wantChange(t, start, one, "tsk_02copy", "usr_ada", `{"added": ["usr_bob"], "removed": []}`)

		// Ada and cat are assigned at one time, after bob: they follow him, by user id.
		three := a.mutate(tokAda, `assignUsers(taskId: "tsk_02copy", userIds: ["usr_cat", "usr_ada", "usr_bob", "usr_cat"])`)
		wantAssignees(t, three, "usr_bob", "usr_ada", "usr_cat")
		wantChange(t, one, three, "tsk_02copy", "usr_ada", `{"added": ["usr_ada", "usr_cat"], "removed": []}`)

		same := a.mutate(tokCat, `assignUsers(taskId: "tsk_02copy", userIds: ["usr_cat", "usr_bob", "usr_bob"])`)
		wantAssignees(t, same, "usr_bob", "usr_ada", "usr_cat")
		wantNoChange(t, three, same)

		// What the mutation answered is what is stored.
		stored := a.task("tsk_02copy")
		wantAssignees(t, stored, "usr_bob", "usr_ada", "usr_cat")
		wantNoChange(t, same, stored)
		a.post(tokAda, `{ assignees(taskId: "tsk_02copy") { id } }`, nil).
			wantData(`{"assignees": [{"id": "usr_bob"}, {"id": "usr_ada"}, {"id": "usr_cat"}]}`)
	})
}

// DESIGN §3 setTaskAssignee: a user id makes the set exactly that user; null, or no argument,
// empties it. Only a real change bumps modifiedAt and records an event.
func TestSetTaskAssigneeReplacesTheAssignees(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		start := a.task("tsk_03logo")
		wantAssignees(t, start, "usr_bob", "usr_cat")

		ada := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: "usr_ada")`)
		wantAssignees(t, ada, "usr_ada")
		wantChange(t, start, ada, "tsk_03logo", "usr_ada", `{"added": ["usr_ada"], "removed": ["usr_bob", "usr_cat"]}`)

		again := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: "usr_ada")`)
		wantNoChange(t, ada, again)

		cleared := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: null)`)
		wantAssignees(t, cleared)
		wantChange(t, again, cleared, "tsk_03logo", "usr_ada", `{"added": [], "removed": ["usr_ada"]}`)

		clearedAgain := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: null)`)
		wantNoChange(t, cleared, clearedAgain)

		bob := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: "usr_bob")`)
		wantAssignees(t, bob, "usr_bob")
		wantChange(t, clearedAgain, bob, "tsk_03logo", "usr_ada", `{"added": ["usr_bob"], "removed": []}`)

		// A nullable argument left out is null.
		omitted := a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo")`)
		wantAssignees(t, omitted)
		wantChange(t, bob, omitted, "tsk_03logo", "usr_ada", `{"added": [], "removed": ["usr_bob"]}`)

		// The same through variables: null, and a variable not given.
		set := `mutation($task: ID!, $user: ID) { setTaskAssignee(taskId: $task, assignee: $user) { assignees { id } } }`
		a.post(tokAda, set, map[string]any{"task": "tsk_01plan", "user": "usr_bob"}).
			wantData(`{"setTaskAssignee": {"assignees": [{"id": "usr_bob"}]}}`)
		a.post(tokAda, set, map[string]any{"task": "tsk_01plan", "user": nil}).
			wantData(`{"setTaskAssignee": {"assignees": []}}`)
		a.post(tokAda, set, map[string]any{"task": "tsk_01plan", "user": "usr_ada"}).
			wantData(`{"setTaskAssignee": {"assignees": [{"id": "usr_ada"}]}}`)
		a.post(tokAda, set, map[string]any{"task": "tsk_01plan"}).
			wantData(`{"setTaskAssignee": {"assignees": []}}`)

		// The whole task comes back, as the first seed document's response holds it.
		r := a.post(tokAda, `mutation { setTaskAssignee(taskId: "tsk_02copy", assignee: "usr_cat") {
			id label description type status actionTaken closeReason errorReason completedAction
			data { id source type data } triggerEvent { id name } triggerEventId
			organization { id } project { id } phase { id internal }
			assignee { id name email company { kind } } assigneeId assignees { id } createdAt } }`, nil)
		r.ok()
		golden(t, "set_task_assignee", r.Data)
	})
}

// DESIGN §3 unassignUser: removes that user; a user that exists but is not assigned changes
// nothing; an unknown user is NOT_FOUND. The primary assignee is then the next one.
func TestUnassignUserRemovesOneAssignee(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		start := a.task("tsk_03logo")

		cat := a.mutate(tokAda, `unassignUser(taskId: "tsk_03logo", userId: "usr_bob")`)
		wantAssignees(t, cat, "usr_cat")
		wantChange(t, start, cat, "tsk_03logo", "usr_ada", `{"added": [], "removed": ["usr_bob"]}`)

		notAssigned := a.mutate(tokAda, `unassignUser(taskId: "tsk_03logo", userId: "usr_ada")`)
		wantNoChange(t, cat, notAssigned)
		// A user that exists is never an error, even one that could not be assigned.
		wantNoChange(t, cat, a.mutate(tokAda, `unassignUser(taskId: "tsk_03logo", userId: "usr_gus")`))

		// Users of another organization do not exist.
		for _, user := range []string{"usr_nobody", "usr_zed"} {
			a.post(tokAda, `mutation { unassignUser(taskId: "tsk_03logo", userId: "`+user+`") { id } }`, nil).
				wantError(`{"unassignUser": null}`, `{"message": "user `+user+` not found", "path": ["unassignUser"], "extensions": {"code": "NOT_FOUND"}}`)
		}

		none := a.mutate(tokAda, `unassignUser(taskId: "tsk_03logo", userId: "usr_cat")`)
		wantAssignees(t, none)
		wantChange(t, notAssigned, none, "tsk_03logo", "usr_ada", `{"added": [], "removed": ["usr_cat"]}`)
		wantNoChange(t, none, a.task("tsk_03logo"))
	})
}

// violationsError is the exact UNPROCESSABLE error of a mutation for these violations, given as
// alternating user ids and reasons, sorted by user id; path is the mutation's name or alias.
func violationsError(path, message string, pairs ...string) string {
	var ids, vs []string
	for i := 0; i < len(pairs); i += 2 {
		ids = append(ids, `"`+pairs[i]+`"`)
		vs = append(vs, fmt.Sprintf(`{"userId": %q, "reason": %q}`, pairs[i], pairs[i+1]))
	}
	return fmt.Sprintf(`{"message": %q, "path": [%q], "extensions": {"code": "UNPROCESSABLE", "userIds": [%s], "violations": [%s]}}`,
		message, path, strings.Join(ids, ", "), strings.Join(vs, ", "))
}

// DESIGN §3: if any listed user offends, nothing changes and one UNPROCESSABLE error lists every
// offending id, sorted and unique, with one violation per user: the first of rules 1–3 it breaks.
func TestOffendingUsersAreUnprocessableAndChangeNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		plan := a.task("tsk_01plan") // internal phase, assigned to ada
		// usr_nobody does not exist; usr_zed is of another organization (rule 1); dan is in the
		// agency but not in the project and gus is in neither (rule 2 comes first); cat is a
		// client member on an internal phase (rule 3); bob may be assigned, and is not.
		a.post(tokAdmin, `mutation { assignUsers(taskId: "tsk_01plan",
			userIds: ["usr_nobody", "usr_zed", "usr_dan", "usr_cat", "usr_bob", "usr_gus", "usr_cat", "usr_nobody"]) { id } }`, nil).
			wantError(`{"assignUsers": null}`, violationsError("assignUsers",
				"these users cannot be assigned to the task: usr_cat, usr_dan, usr_gus, usr_nobody, usr_zed",
				"usr_cat", "NOT_AGENCY_MEMBER", "usr_dan", "NOT_PROJECT_MEMBER", "usr_gus", "NOT_PROJECT_MEMBER",
				"usr_nobody", "USER_NOT_FOUND", "usr_zed", "USER_NOT_FOUND"))
		wantAssignees(t, a.task("tsk_01plan"), "usr_ada")
		wantNoChange(t, plan, a.task("tsk_01plan"))

		// setTaskAssignee reports an offending user exactly as assignUsers does: an unknown user
		// is UNPROCESSABLE there, not NOT_FOUND.
		for user, reason := range map[string]string{
			"usr_nobody": "USER_NOT_FOUND", "usr_zed": "USER_NOT_FOUND", "usr_dan": "NOT_PROJECT_MEMBER",
			"usr_gus": "NOT_PROJECT_MEMBER", "usr_cat": "NOT_AGENCY_MEMBER",
		} {
			a.post(tokAda, `mutation { setTaskAssignee(taskId: "tsk_01plan", assignee: "`+user+`") { id } }`, nil).
				wantError(`{"setTaskAssignee": null}`, violationsError("setTaskAssignee",
					"these users cannot be assigned to the task: "+user, user, reason))
		}
		wantNoChange(t, plan, a.task("tsk_01plan"))

		// Outside an internal phase a client member of the project may be assigned.
		copyTask := a.task("tsk_02copy")
		a.post(tokCat, `mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_cat", "usr_gus"]) { id } }`, nil).
			wantError(`{"assignUsers": null}`, violationsError("assignUsers",
				"these users cannot be assigned to the task: usr_gus", "usr_gus", "NOT_PROJECT_MEMBER"))
		wantNoChange(t, copyTask, a.task("tsk_02copy"))
		wantAssignees(t, a.mutate(tokCat, `assignUsers(taskId: "tsk_02copy", userIds: ["usr_cat"])`), "usr_cat")
	})
}

// DESIGN §3: a task holds at most the configured number of assignees; going past it is
// UNPROCESSABLE with TOO_MANY_ASSIGNEES for each user the call would have added, checked only
// when no user offends otherwise.
func TestTooManyAssigneesIsUnprocessable(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		logo := a.task("tsk_03logo") // bob and cat: full
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada", "usr_bob"]) { id } }`, nil).
			wantError(`{"assignUsers": null}`, violationsError("assignUsers",
				"too many assignees: these users would pass the limit: usr_ada", "usr_ada", "TOO_MANY_ASSIGNEES"))
		wantNoChange(t, logo, a.task("tsk_03logo"))

		// Users already assigned add nothing, so they do not pass the limit.
		wantNoChange(t, logo, a.mutate(tokAda, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_cat", "usr_bob"])`))

		copyTask := a.task("tsk_02copy") // no assignee
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_eve", "usr_bob", "usr_ada", "usr_bob"]) { id } }`, nil).
			wantError(`{"assignUsers": null}`, violationsError("assignUsers",
				"too many assignees: these users would pass the limit: usr_ada, usr_bob, usr_eve",
				"usr_ada", "TOO_MANY_ASSIGNEES", "usr_bob", "TOO_MANY_ASSIGNEES", "usr_eve", "TOO_MANY_ASSIGNEES"))
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_eve", "usr_nobody", "usr_ada", "usr_bob"]) { id } }`, nil).
			wantError(`{"assignUsers": null}`, violationsError("assignUsers",
				"these users cannot be assigned to the task: usr_nobody", "usr_nobody", "USER_NOT_FOUND"))
		wantNoChange(t, copyTask, a.task("tsk_02copy"))

		// setTaskAssignee replaces the set: it never passes a limit of at least one.
		wantAssignees(t, a.mutate(tokAda, `setTaskAssignee(taskId: "tsk_03logo", assignee: "usr_ada")`), "usr_ada")
		wantAssignees(t, a.mutate(tokAda, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_bob"])`), "usr_ada", "usr_bob")
	}, rules.WithMaxAssignees(2))
}

// DESIGN §3: userIds holds 1–100 ids as given, repeats counted; the limit of a task is 100 by
// default.
func TestUserIDsHoldOneToAHundredIDs(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		assign := `mutation($ids: [ID!]!) { assignUsers(taskId: "tsk_02copy", userIds: $ids) { assignees { id } } }`
		ids := func(n int, id func(i int) string) []string {
			s := make([]string, n)
			for i := range s {
				s[i] = id(i)
			}
			return s
		}
		ada := func(int) string { return "usr_ada" }
		bad := func(got int) string {
			return fmt.Sprintf(`{"message": "userIds must hold 1 to 100 ids, got %d", "path": ["assignUsers"], "extensions": {"code": "BAD_USER_INPUT"}}`, got)
		}
		a.post(tokAda, assign, map[string]any{"ids": []string{}}).wantError(`{"assignUsers": null}`, bad(0))
		a.post(tokAda, assign, map[string]any{"ids": ids(101, ada)}).wantError(`{"assignUsers": null}`, bad(101))
		a.post(tokAda, assign, map[string]any{"ids": ids(100, ada)}).wantData(`{"assignUsers": {"assignees": [{"id": "usr_ada"}]}}`)

		// 100 distinct unknown users: well-formed input, every one of them offends.
		unknown := ids(100, func(i int) string { return fmt.Sprintf("usr_x%03d", i) })
		r := a.post(tokAda, assign, map[string]any{"ids": unknown})
		r.wantData(`{"assignUsers": null}`)
		var e []struct {
			Extensions struct {
				Code       string
				UserIDs    []string `json:"userIds"`
				Violations []struct{ UserID, Reason string }
			}
		}
		got, _ := json.Marshal(r.Errors)
		decode(t, got, &e)
		if len(e) != 1 || e[0].Extensions.Code != "UNPROCESSABLE" || !slices.Equal(e[0].Extensions.UserIDs, unknown) || len(e[0].Extensions.Violations) != 100 {
			t.Errorf("100 unknown users: want one UNPROCESSABLE error listing all 100; got %s", r.Body)
		}
	})
}

// DESIGN §3: a viewer may change the assignees of any task it can see; a task it cannot see is
// NOT_FOUND, checked before any user is looked at, so that it never answers UNPROCESSABLE.
func TestMutationsOnTasksTheViewerCannotSeeAreNotFound(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, token, task string
		}{
			{"unknown task", tokAdmin, "tsk_nope"},
			{"task of another organization", tokAdmin, "tsk_beta"},
			{"internal task for a client member", tokCat, "tsk_01plan"},
			{"task of a project the viewer is not in", tokDan, "tsk_02copy"},
			{"task of Acme from Beta", tokZed, "tsk_03logo"},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, m := range []struct{ name, args string }{
					{"assignUsers", `userIds: ["usr_nobody", "usr_cat"]`},
					{"assignUsers", `userIds: ["usr_ada"]`},
					{"setTaskAssignee", `assignee: "usr_nobody"`},
					{"setTaskAssignee", `assignee: null`},
					{"unassignUser", `userId: "usr_nobody"`},
					{"unassignUser", `userId: "usr_bob"`},
				} {
					a.post(c.token, `mutation { `+m.name+`(taskId: "`+c.task+`", `+m.args+`) { id } }`, nil).
						wantError(`{"`+m.name+`": null}`, `{"message": "task `+c.task+` not found", "path": ["`+m.name+`"], "extensions": {"code": "NOT_FOUND"}}`)
				}
			})
		}
		// Nothing changed anywhere.
		a.post(tokAdmin, `{ tasks { nodes { id assignees { id } modifiedAt } } }`, nil).wantData(`{"tasks": {"nodes": [
			{"id": "tsk_01plan", "assignees": [{"id": "usr_ada"}], "modifiedAt": "` + seededModifiedAt + `"},
			{"id": "tsk_02copy", "assignees": [], "modifiedAt": "` + seededModifiedAt + `"},
			{"id": "tsk_03logo", "assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}], "modifiedAt": "` + seededModifiedAt + `"},
			{"id": "tsk_04test", "assignees": [], "modifiedAt": "` + seededModifiedAt + `"},
			{"id": "tsk_05app", "assignees": [{"id": "usr_dan"}], "modifiedAt": "` + seededModifiedAt + `"}]}}`)
		a.post(tokZed, `{ task(id: "tsk_beta") { assignees { id } modifiedAt } }`, nil).
			wantData(`{"task": {"assignees": [{"id": "usr_zed"}], "modifiedAt": "` + seededModifiedAt + `"}}`)
	})
}

// DESIGN §3: the three results are nullable; a failed mutation is null with its error and the
// results of the other mutations in the same document survive.
func TestAFailedMutationDoesNotSinkTheOthers(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		r := a.post(tokAda, `mutation {
			first: assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"]) { assignees { id } }
			bad: assignUsers(taskId: "tsk_02copy", userIds: ["usr_nobody", "usr_ada"]) { assignees { id } }
			missing: unassignUser(taskId: "tsk_nope", userId: "usr_bob") { id }
			last: assignUsers(taskId: "tsk_02copy", userIds: ["usr_cat"]) { assignees { id } }
		}`, nil)
		if r.Status != 200 {
			t.Errorf("status = %d, want 200", r.Status)
		}
		r.wantData(`{
			"first": {"assignees": [{"id": "usr_bob"}]},
			"bad": null,
			"missing": null,
			"last": {"assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}]}}`)
		r.wantErrors(`[` + violationsError("bad", "these users cannot be assigned to the task: usr_nobody", "usr_nobody", "USER_NOT_FOUND") + `,
			{"message": "task tsk_nope not found", "path": ["missing"], "extensions": {"code": "NOT_FOUND"}}]`)
	})
}

// Mutations run one after the other, and each result is read after its own change: a later
// mutation in the same document sees the earlier one's change (the per-request loaders forget
// what a mutation changed).
func TestALaterMutationSeesTheEarlierChange(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		a.post(tokAda, `mutation {
			a: assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"]) { assignees { id } assignee { id } }
			b: assignUsers(taskId: "tsk_02copy", userIds: ["usr_ada"]) { assignees { id } assigneeId }
			c: unassignUser(taskId: "tsk_02copy", userId: "usr_bob") { assignees { id } assignee { id } assigneeId }
			d: setTaskAssignee(taskId: "tsk_02copy", assignee: "usr_cat") { assignees { id } events { totalCount } }
			e: setTaskAssignee(taskId: "tsk_02copy") { assignees { id } assigneeId events { totalCount nodes { data } } }
		}`, nil).wantData(`{
			"a": {"assignees": [{"id": "usr_bob"}], "assignee": {"id": "usr_bob"}},
			"b": {"assignees": [{"id": "usr_bob"}, {"id": "usr_ada"}], "assigneeId": "usr_bob"},
			"c": {"assignees": [{"id": "usr_ada"}], "assignee": {"id": "usr_ada"}, "assigneeId": "usr_ada"},
			"d": {"assignees": [{"id": "usr_cat"}], "events": {"totalCount": 4}},
			"e": {"assignees": [], "assigneeId": null, "events": {"totalCount": 5, "nodes": [
				{"data": {"added": ["usr_bob"], "removed": []}},
				{"data": {"added": ["usr_ada"], "removed": []}},
				{"data": {"added": [], "removed": ["usr_bob"]}},
				{"data": {"added": ["usr_cat"], "removed": ["usr_ada"]}},
				{"data": {"added": [], "removed": ["usr_cat"]}}]}}}`)
	})
}

// The task a mutation returns is read as the viewer sees it after the change: its other
// relations (project, phase, events) are those of the same task.
func TestMutationResultIsTheChangedTask(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"]) {
			id project { id } phase { id } events { nodes { id } } } }`, nil).ok()
		r := a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_eve"]) {
			id label project { id name } phase { id name } assignees { id } events { totalCount } } }`, nil)
		r.wantData(`{"assignUsers": {"id": "tsk_03logo", "label": "Draw logo", "project": {"id": "prj_site", "name": "Website"},
			"phase": {"id": "phs_build", "name": "Build"},
			"assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}, {"id": "usr_ada"}, {"id": "usr_eve"}],
			"events": {"totalCount": 5}}}`)
	})
}

// DESIGN §3 concurrency, through the whole server: concurrent calls on one task end in a state
// some serial order of them would produce: no duplicate assignee, no lost add, the limit held,
// and one event per call that changed the set.
func TestConcurrentAssignmentsOverHTTP(t *testing.T) {
	const users, limit = 24, 16
	eachDB(t, func(t *testing.T, a *api) {
		var rows []model.User
		var members []store.ProjectMember
		for i := range users {
			id := model.UserID(fmt.Sprintf("usr_c%02d", i))
			rows = append(rows, model.User{ID: id, OrganizationID: "org_acme", CompanyID: "cmp_studio", FirstName: "C", LastName: fmt.Sprint(i),
				Email: fmt.Sprintf("c%02d@acme.test", i), IsAccessApproved: true, ThreadEmailsSortOrder: model.SortOrderAsc, CreatedAt: seededAt, ModifiedAt: seededAt})
			members = append(members, store.ProjectMember{ProjectID: "prj_site", UserID: id})
		}
		if err := a.st.Create(t.Context(), &rows); err != nil {
			t.Fatal(err)
		}
		if err := a.st.Create(t.Context(), &members); err != nil {
			t.Fatal(err)
		}
		// Call i adds users i and i+1: neighbours overlap, and together they pass the limit.
		type result struct {
			users []string
			codes []string
			data  json.RawMessage
		}
		results := make([]result, users-1)
		var wg sync.WaitGroup
		for i := range users - 1 {
			wg.Go(func() {
				ids := []string{fmt.Sprintf("usr_c%02d", i), fmt.Sprintf("usr_c%02d", i+1)}
				r := a.post(tokAda, `mutation($ids: [ID!]!) { assignUsers(taskId: "tsk_02copy", userIds: $ids) { assignees { id } } }`, map[string]any{"ids": ids})
				results[i] = result{users: ids, codes: r.codes(), data: r.Data}
			})
		}
		wg.Wait()

		final := a.task("tsk_02copy")
		got := final.assigneeIDs(t)
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] {
				t.Errorf("%s is assigned twice: %v", id, got)
			}
			seen[id] = true
		}
		if len(got) > limit {
			t.Errorf("%d assignees, more than the limit %d", len(got), limit)
		}
		succeeded := 0
		fromSuccess := map[string]bool{}
		for i, r := range results {
			switch {
			case len(r.codes) == 0:
				succeeded++
				for _, id := range r.users {
					fromSuccess[id] = true
					if !seen[id] {
						t.Errorf("call %d succeeded but %s is not assigned: a lost add", i, id)
					}
				}
			case len(r.codes) != 1 || r.codes[0] != "UNPROCESSABLE":
				t.Errorf("call %d: codes %v, want none or UNPROCESSABLE (TOO_MANY_ASSIGNEES)", i, r.codes)
			}
		}
		for _, id := range got {
			if !fromSuccess[id] {
				t.Errorf("%s is assigned but every call naming it failed", id)
			}
		}
		// A successful call records one event, or none when its neighbours had added both of its
		// users already.
		if final.Events.TotalCount > succeeded || final.Events.TotalCount == 0 {
			t.Errorf("%d events for %d successful calls", final.Events.TotalCount, succeeded)
		}
		for _, e := range final.Events.Nodes {
			var d struct{ Added, Removed []string }
			decode(t, e.Data, &d)
			if len(d.Added) == 0 || len(d.Removed) != 0 {
				t.Errorf("event data %s: want only additions", e.Data)
			}
		}
	}, rules.WithMaxAssignees(limit))
}
