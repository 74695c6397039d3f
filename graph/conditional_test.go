package graph_test

import (
	"fmt"
	"testing"
)

// DESIGN §10, conditional writes over the wire: Task.version, ifVersion on the three mutations,
// CONFLICT with the current version in extensions.version, and nothing changed.
func TestIfVersionOverTheWire(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		version := func() string {
			var d struct{ Task struct{ Version string } }
			decode(t, a.post(tokAdmin, `{ task(id: "tsk_01plan") { version } }`, nil).ok(), &d)
			return d.Task.Version
		}
		seen := version()
		calls := []string{
			`assignUsers(taskId: "tsk_01plan", userIds: ["usr_bob"], ifVersion: $v)`,
			`setTaskAssignee(taskId: "tsk_01plan", assignee: "usr_ada", ifVersion: $v)`,
			`unassignUser(taskId: "tsk_01plan", userId: "usr_ada", ifVersion: $v)`,
		}
		for i, call := range calls {
			// Two clients saw the same version: the first wins and answers the new version.
			var d struct{ M struct{ Version string } }
			decode(t, a.post(tokAdmin, `mutation($v: String) { m: `+call+` { version } }`, map[string]any{"v": seen}).ok(), &d)
			now := version()
			if d.M.Version == seen || d.M.Version != now {
				t.Fatalf("call %d answered version %q; was %q, stored %q", i, d.M.Version, seen, now)
			}
			// The second loses, changes nothing and learns the current version.
			before := a.task("tsk_01plan")
			a.post(tokAda, `mutation($v: String) { m: `+call+` { id } }`, map[string]any{"v": seen}).
				wantError(`{"m": null}`, fmt.Sprintf(`{"message": "task tsk_01plan has changed since the version given: its version is now %s",
					"path": ["m"], "extensions": {"code": "CONFLICT", "version": %q}}`, now, now))
			wantNoChange(t, before, a.task("tsk_01plan"))
			seen = now
		}

		// Null is unconditional; versions are opaque, so any other string, well formed or not, is a
		// CONFLICT that tells the current version; a task the viewer cannot see is NOT_FOUND, not
		// CONFLICT.
		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_01plan", userIds: ["usr_ada"], ifVersion: null)`)
		now := version()
		for _, other := range []string{"Not-A-Version", "", "0"} {
			before := a.task("tsk_01plan")
			a.post(tokAdmin, `mutation($v: String) { m: assignUsers(taskId: "tsk_01plan", userIds: ["usr_bob"], ifVersion: $v) { id } }`,
				map[string]any{"v": other}).
				wantError(`{"m": null}`, fmt.Sprintf(`{"message": "task tsk_01plan has changed since the version given: its version is now %s",
					"path": ["m"], "extensions": {"code": "CONFLICT", "version": %q}}`, now, now))
			wantNoChange(t, before, a.task("tsk_01plan"))
		}
		a.post(tokAda, `mutation { m: assignUsers(taskId: "tsk_beta", userIds: ["usr_ada"], ifVersion: "1") { id } }`, nil).
			wantError(`{"m": null}`, `{"message": "task tsk_beta not found", "path": ["m"], "extensions": {"code": "NOT_FOUND"}}`)
	})
}
