package graph_test

import (
	"testing"
)

// DESIGN §10 over the wire: orderBy LOAD lists the least loaded first with openAssignedCount, and
// a cursor of one order is refused by a list in another (its position means nothing there).
func TestAssignableUsersByLoadOverTheWire(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		// Of prj_site's members only ada holds an open task (tsk_01plan); tsk_03logo is COMPLETED.
		var d struct {
			Task struct {
				AssignableUsers struct {
					Nodes []struct {
						ID                string
						OpenAssignedCount int
					}
					PageInfo struct{ EndCursor string }
				}
			}
		}
		decode(t, a.post(tokAda, `{ task(id: "tsk_02copy") { assignableUsers(first: 2, orderBy: LOAD) {
			nodes { id openAssignedCount } pageInfo { endCursor } } } }`, nil).ok(), &d)
		cursor := d.Task.AssignableUsers.PageInfo.EndCursor
		decode(t, a.post(tokAda, `query($c: String) { task(id: "tsk_02copy") { assignableUsers(after: $c, orderBy: LOAD) {
			nodes { id openAssignedCount } } } }`, map[string]any{"c": cursor}).ok(), &d)
		nodes := d.Task.AssignableUsers.Nodes
		if n := len(nodes); n != 2 || nodes[1].ID != "usr_ada" || nodes[1].OpenAssignedCount != 1 || nodes[0].OpenAssignedCount != 0 {
			t.Errorf("the second page by load = %+v, want one user without open tasks, then usr_ada with 1", nodes)
		}
		for _, other := range []string{``, `, orderBy: NAME`} {
			a.post(tokAda, `query($c: String) { task(id: "tsk_02copy") { assignableUsers(after: $c`+other+`) { nodes { id } } } }`,
				map[string]any{"c": cursor}).
				wantError(`{"task": null}`, `{"message": "after is not a valid cursor", "path": ["task", "assignableUsers"], "extensions": {"code": "BAD_USER_INPUT"}}`)
		}
	})
}
