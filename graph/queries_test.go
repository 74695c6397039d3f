package graph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §4: lists are Relay connections, keyset-paginated. Walking every page gives every item
// exactly once, in order, with hasNextPage, hasPreviousPage and the cursors telling the truth and
// totalCount the same on every page.
func TestWalkingEveryPageGivesEveryItemOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		acmeUsers := []string{"usr_ada", "usr_admin", "usr_bob", "usr_cat", "usr_dan", "usr_eve", "usr_fay", "usr_gus"}
		for _, c := range []struct {
			name, token, query string
			vars               map[string]any
			at                 []string
			want               []string
		}{
			{"tasks of the org admin", tokAdmin, `query($first: Int, $after: String) { tasks(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_01plan", "tsk_02copy", "tsk_03logo", "tsk_04test", "tsk_05app"}},
			{"tasks of an agency member", tokAda, `query($first: Int, $after: String) { tasks(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_01plan", "tsk_02copy", "tsk_03logo", "tsk_04test"}},
			{"tasks of a client member", tokCat, `query($first: Int, $after: String) { tasks(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_02copy", "tsk_03logo", "tsk_04test"}},
			{"tasks of another project's member", tokDan, `query($first: Int, $after: String) { tasks(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_05app"}},
			{"tasks of Beta", tokZed, `query($first: Int, $after: String) { tasks(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_beta"}},
			{"filtered tasks", tokAdmin, `query($first: Int, $after: String) { tasks(filter: {unassigned: true}, first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"tasks"}, []string{"tsk_02copy", "tsk_04test"}},
			{"users", tokAdmin, `query($first: Int, $after: String) { users(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"users"}, acmeUsers},
			{"users seen by a client member", tokCat, `query($first: Int, $after: String) { users(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"users"}, acmeUsers},
			{"users of Beta", tokZed, `query($first: Int, $after: String) { users(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"users"}, []string{"usr_zed"}},
			{"filtered users", tokAdmin, `query($first: Int, $after: String) { users(filter: {kind: AGENCY}, first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"users"}, []string{"usr_ada", "usr_admin", "usr_bob", "usr_dan", "usr_eve", "usr_fay"}},
			{"projects of the org admin", tokAdmin, `query($first: Int, $after: String) { projects(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"projects"}, []string{"prj_app", "prj_docs", "prj_site"}},
			{"projects of a member", tokAda, `query($first: Int, $after: String) { projects(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"projects"}, []string{"prj_docs", "prj_site"}},
			{"projects of Beta", tokZed, `query($first: Int, $after: String) { projects(first: $first, after: $after) { ` + pageFields + ` } }`, nil,
				[]string{"projects"}, []string{"prj_beta"}},
			{"project members", tokCat, `query($first: Int, $after: String) { project(id: "prj_site") { members(first: $first, after: $after) { ` + pageFields + ` } } }`, nil,
				[]string{"project", "members"}, []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"}},
			{"project tasks", tokCat, `query($first: Int, $after: String) { project(id: "prj_site") { tasks(first: $first, after: $after) { ` + pageFields + ` } } }`, nil,
				[]string{"project", "tasks"}, []string{"tsk_02copy", "tsk_03logo", "tsk_04test"}},
			{"task events, oldest first", tokAda, `query($first: Int, $after: String) { task(id: "tsk_03logo") { events(first: $first, after: $after) { ` + pageFields + ` } } }`, nil,
				[]string{"task", "events"}, []string{"evt_03hist", "evt_02hist", "evt_04hist"}},
			{"assignable users", tokAda, `query($first: Int, $after: String, $id: ID!) { task(id: $id) { assignableUsers(first: $first, after: $after) { ` + pageFields + ` } } }`,
				map[string]any{"id": "tsk_02copy"}, []string{"task", "assignableUsers"}, []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, size := range []int{1, 2, 3, 100} {
					ids, counts := a.walk(c.token, c.query, c.vars, size, field(c.at...))
					if !slices.Equal(ids, c.want) {
						t.Errorf("first=%d: walked %v, want %v", size, ids, c.want)
					}
					if wantPages := max(1, (len(c.want)+size-1)/size); len(counts) != wantPages {
						t.Errorf("first=%d: %d pages, want %d", size, len(counts), wantPages)
					}
					for i, n := range counts {
						if n != len(c.want) {
							t.Errorf("first=%d: page %d has totalCount %d, want %d", size, i, n, len(c.want))
						}
					}
				}
			})
		}
	})
}

// DESIGN §4: first defaults to 50.
func TestFirstDefaultsToFifty(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		// 60 more users of Acme make 68.
		var users []model.User
		for i := range 60 {
			users = append(users, model.User{ID: model.UserID(fmt.Sprintf("usr_more%02d", i)), OrganizationID: "org_acme", CompanyID: "cmp_client",
				FirstName: "More", LastName: fmt.Sprint(i), Email: fmt.Sprintf("more%02d@client.test", i), IsAccessApproved: true,
				ThreadEmailsSortOrder: model.SortOrderAsc, CreatedAt: seededAt, ModifiedAt: seededAt})
		}
		if err := a.st.Create(t.Context(), &users); err != nil {
			t.Fatal(err)
		}
		var d struct{ Users page }
		decode(t, a.post(tokAdmin, `{ users { `+pageFields+` } }`, nil).ok(), &d)
		if len(d.Users.Edges) != 50 || !d.Users.PageInfo.HasNextPage || d.Users.TotalCount != 68 {
			t.Errorf("users: %d edges, hasNextPage %v, totalCount %d; want 50, true, 68", len(d.Users.Edges), d.Users.PageInfo.HasNextPage, d.Users.TotalCount)
		}
		decode(t, a.post(tokAdmin, `{ users(first: 100) { `+pageFields+` } }`, nil).ok(), &d)
		if len(d.Users.Edges) != 68 || d.Users.PageInfo.HasNextPage {
			t.Errorf("users(first: 100): %d edges, hasNextPage %v; want 68, false", len(d.Users.Edges), d.Users.PageInfo.HasNextPage)
		}
	})
}

// ids runs a query and returns the ids of the connection at path, and its totalCount.
func (a *api) ids(token, query string, path ...string) ([]string, int) {
	a.t.Helper()
	var p page
	decode(a.t, field(path...)(a.post(token, query, nil).ok()), &p)
	ids := []string{}
	for _, n := range p.Nodes {
		ids = append(ids, n.ID)
	}
	return ids, p.TotalCount
}

// DESIGN §4 TaskFilter: projectId, phaseId, status, type, assigneeId, unassigned, applied with
// visibility before the page is cut.
func TestTaskFilter(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, token, filter string
			want                []string
		}{
			{"no filter", tokAdmin, `{}`, []string{"tsk_01plan", "tsk_02copy", "tsk_03logo", "tsk_04test", "tsk_05app"}},
			{"projectId", tokAdmin, `{projectId: "prj_app"}`, []string{"tsk_05app"}},
			{"projectId of an empty project", tokAdmin, `{projectId: "prj_docs"}`, []string{}},
			{"projectId of another organization", tokAdmin, `{projectId: "prj_beta"}`, []string{}},
			{"projectId of a project the viewer is not in", tokDan, `{projectId: "prj_site"}`, []string{}},
			{"phaseId", tokAdmin, `{phaseId: "phs_build"}`, []string{"tsk_02copy", "tsk_03logo"}},
			{"phaseId of an internal phase for a client member", tokCat, `{phaseId: "phs_disc"}`, []string{}},
			{"status", tokAdmin, `{status: [COMPLETED, FAILED]}`, []string{"tsk_03logo", "tsk_04test"}},
			{"status nobody has", tokAdmin, `{status: [ARCHIVED]}`, []string{}},
			{"type", tokAdmin, `{type: [CALL_ANALYSIS]}`, []string{"tsk_01plan", "tsk_04test"}},
			{"assigneeId, primary", tokAdmin, `{assigneeId: "usr_bob"}`, []string{"tsk_03logo"}},
			{"assigneeId, not primary", tokAdmin, `{assigneeId: "usr_cat"}`, []string{"tsk_03logo"}},
			{"assigneeId of a task the viewer cannot see", tokCat, `{assigneeId: "usr_ada"}`, []string{}},
			{"assigneeId of another organization", tokAdmin, `{assigneeId: "usr_zed"}`, []string{}},
			{"unassigned", tokAdmin, `{unassigned: true}`, []string{"tsk_02copy", "tsk_04test"}},
			{"assigned", tokAdmin, `{unassigned: false}`, []string{"tsk_01plan", "tsk_03logo", "tsk_05app"}},
			{"unassigned, as a client member", tokCat, `{unassigned: false}`, []string{"tsk_03logo"}},
			{"status and unassigned", tokAdmin, `{status: [OPEN], unassigned: true}`, []string{"tsk_02copy"}},
			{"every filter", tokAdmin, `{projectId: "prj_site", phaseId: "phs_build", status: [COMPLETED], type: [DISABLE_CONTACT], assigneeId: "usr_cat", unassigned: false}`, []string{"tsk_03logo"}},
			{"filters that exclude each other", tokAdmin, `{assigneeId: "usr_bob", unassigned: true}`, []string{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				ids, total := a.ids(c.token, `{ tasks(filter: `+c.filter+`) { `+pageFields+` } }`, "tasks")
				if !slices.Equal(ids, c.want) || total != len(c.want) {
					t.Errorf("tasks = %v (totalCount %d), want %v", ids, total, c.want)
				}
			})
		}
		// Project.tasks applies its project on top of the filter.
		for _, c := range []struct {
			name, filter string
			want         []string
		}{
			{"status", `{status: [FAILED, CLOSED]}`, []string{"tsk_04test"}},
			{"the same project", `{projectId: "prj_site", unassigned: true}`, []string{"tsk_02copy", "tsk_04test"}},
			{"another project", `{projectId: "prj_app"}`, []string{}},
		} {
			t.Run("Project.tasks "+c.name, func(t *testing.T) {
				ids, total := a.ids(tokAdmin, `{ project(id: "prj_site") { tasks(filter: `+c.filter+`) { `+pageFields+` } } }`, "project", "tasks")
				if !slices.Equal(ids, c.want) || total != len(c.want) {
					t.Errorf("tasks = %v (totalCount %d), want %v", ids, total, c.want)
				}
			})
		}
	})
}

// DESIGN §4 UserFilter: projectId, companyId, kind, search (a case-insensitive substring of the
// name or the email).
func TestUserFilter(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, token, filter string
			want                []string
		}{
			{"projectId", tokAdmin, `{projectId: "prj_site"}`, []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"}},
			{"projectId of a project the viewer is not in", tokDan, `{projectId: "prj_site"}`, []string{}},
			{"projectId of another organization", tokAdmin, `{projectId: "prj_beta"}`, []string{}},
			{"companyId", tokAdmin, `{companyId: "cmp_client"}`, []string{"usr_cat", "usr_gus"}},
			{"companyId of another organization", tokAdmin, `{companyId: "cmp_bstudio"}`, []string{}},
			{"kind CLIENT", tokAdmin, `{kind: CLIENT}`, []string{"usr_cat", "usr_gus"}},
			{"kind AGENCY", tokAdmin, `{kind: AGENCY}`, []string{"usr_ada", "usr_admin", "usr_bob", "usr_dan", "usr_eve", "usr_fay"}},
			{"search in the last name, any case", tokAdmin, `{search: "LOVE"}`, []string{"usr_ada"}},
			{"search across first and last name", tokAdmin, `{search: "ice ad"}`, []string{"usr_admin"}},
			{"search in the email", tokAdmin, `{search: "@client.TEST"}`, []string{"usr_cat", "usr_gus"}},
			{"search matching nobody", tokAdmin, `{search: "zed"}`, []string{}},
			{"search for a percent sign", tokAdmin, `{search: "%"}`, []string{}},
			{"search for an underscore", tokAdmin, `{search: "_"}`, []string{}},
			{"empty search", tokAdmin, `{search: ""}`, []string{"usr_ada", "usr_admin", "usr_bob", "usr_cat", "usr_dan", "usr_eve", "usr_fay", "usr_gus"}},
			{"projectId and kind", tokAdmin, `{projectId: "prj_site", kind: AGENCY}`, []string{"usr_ada", "usr_bob", "usr_eve"}},
			{"companyId and search", tokAdmin, `{companyId: "cmp_studio", search: "AD"}`, []string{"usr_ada", "usr_admin"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				ids, total := a.ids(c.token, `{ users(filter: `+c.filter+`) { `+pageFields+` } }`, "users")
				if !slices.Equal(ids, c.want) || total != len(c.want) {
					t.Errorf("users = %v (totalCount %d), want %v", ids, total, c.want)
				}
			})
		}
	})
}

// DESIGN §4: node(id:) finds an object of every type by its id's prefix.
func TestNodeFindsEveryType(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for id, want := range map[string]string{
			"org_acme":      `{"__typename": "Organization", "id": "org_acme", "name": "Acme"}`,
			"cmp_client":    `{"__typename": "Company", "id": "cmp_client", "name": "Client Co", "kind": "CLIENT", "organization": {"id": "org_acme"}}`,
			"usr_cat":       `{"__typename": "User", "id": "usr_cat", "name": "Cat Client", "company": {"id": "cmp_client"}}`,
			"prj_site":      `{"__typename": "Project", "id": "prj_site", "name": "Website"}`,
			"phs_disc":      `{"__typename": "Phase", "id": "phs_disc", "name": "Discovery", "position": 1, "internal": true, "project": {"id": "prj_site"}}`,
			"tsk_02copy":    `{"__typename": "Task", "id": "tsk_02copy", "label": "Write copy", "phase": {"id": "phs_build"}}`,
			"evt_01trigger": `{"__typename": "Event", "id": "evt_01trigger", "name": "email.received", "actor": null, "entity": "email", "entityId": "eml_42", "message": "a customer wrote back", "data": {"from": "customer@example.test"}, "timestamp": "2024-01-01T12:00:00Z"}`,
			"evt_02hist":    `{"__typename": "Event", "id": "evt_02hist", "name": "task.assignees_changed", "actor": {"id": "usr_admin"}, "entity": "task", "entityId": "tsk_03logo", "message": null, "data": {"added": ["usr_cat"], "removed": []}, "timestamp": "2024-01-03T12:00:00Z"}`,
			"tdt_01reply":   `{"__typename": "TaskData", "id": "tdt_01reply", "source": "EMAIL", "type": "RESPONSE", "data": {"subject": "Re: your order"}}`,
		} {
			t.Run(id, func(t *testing.T) {
				a.post(tokAda, `query($id: ID!) { node(id: $id) { __typename id
					... on Organization { name }
					... on Company { name kind organization { id } }
					... on User { name company { id } }
					... on Project { name }
					... on Phase { name position internal project { id } }
					... on Task { label phase { id } }
					... on Event { name actor { id } entity entityId message data timestamp }
					... on TaskData { source type data } } }`, map[string]any{"id": id}).
					wantData(`{"node": ` + want + `}`)
			})
		}
	})
}

// DESIGN §2: anything of another organization does not exist for the viewer, nor a project it
// is not a member of, nor, for a client member, an internal phase, its tasks and their events:
// NOT_FOUND, never FORBIDDEN, through node, task, user and project alike.
func TestInvisibleObjectsAreNotFoundEverywhere(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		beta := []string{"org_beta", "cmp_bstudio", "usr_zed", "prj_beta", "phs_beta", "tsk_beta", "evt_beta", "tdt_beta"}
		acme := []string{"org_acme", "cmp_studio", "cmp_client", "usr_ada", "usr_admin", "prj_site", "prj_app", "phs_disc", "phs_build",
			"tsk_01plan", "tsk_02copy", "tsk_05app", "evt_01trigger", "evt_02hist", "evt_05plan", "tdt_01reply"}
		for _, c := range []struct {
			name, token string
			hidden      []string
		}{
			{"Beta from the Acme org admin", tokAdmin, beta},
			{"Beta from an Acme member", tokAda, beta},
			{"Acme from Beta", tokZed, acme},
			{"internal phase, its task and events from a client member", tokCat, []string{"phs_disc", "tsk_01plan", "evt_05plan", "prj_app", "tsk_05app", "prj_docs"}},
			{"another project from a member", tokDan, []string{"prj_site", "phs_build", "tsk_02copy", "evt_01trigger", "evt_02hist", "tdt_01reply"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, id := range c.hidden {
					a.post(c.token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).
						wantError(`{"node": null}`, notFound("node "+id+" not found", `["node"]`))
					root := map[string]string{"tsk": "task", "usr": "user", "prj": "project"}[id[:3]]
					if root == "" {
						continue
					}
					a.post(c.token, `query($id: ID!) { `+root+`(id: $id) { id } }`, map[string]any{"id": id}).
						wantError(`{"`+root+`": null}`, notFound(root+" "+id+" not found", `["`+root+`"]`))
					if root == "task" {
						a.post(c.token, `query($id: ID!) { assignees(taskId: $id) { id } }`, map[string]any{"id": id}).
							wantError(`null`, notFound("task "+id+" not found", `["assignees"]`))
					}
				}
				// The lists never hold them either.
				var d struct {
					Tasks, Users, Projects struct{ Nodes []struct{ ID string } }
				}
				decode(t, a.post(c.token, `{ tasks(first: 100) { nodes { id } } users(first: 100) { nodes { id } } projects(first: 100) { nodes { id } } }`, nil).ok(), &d)
				for _, l := range [][]struct{ ID string }{d.Tasks.Nodes, d.Users.Nodes, d.Projects.Nodes} {
					for _, n := range l {
						if slices.Contains(c.hidden, n.ID) {
							t.Errorf("a list holds the hidden %s", n.ID)
						}
					}
				}
			})
		}
		// What stays visible: the users of the organization, its companies, and itself, whatever
		// projects the viewer is in.
		for _, id := range []string{"usr_ada", "usr_gus", "cmp_client", "cmp_studio", "org_acme"} {
			a.post(tokDan, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}).wantData(`{"node": {"id": "` + id + `"}}`)
		}
		a.post(tokCat, `{ project(id: "prj_site") { phases { id } tasks { nodes { id phase { id } } } } }`, nil).wantData(`{"project": {
			"phases": [{"id": "phs_build"}, {"id": "phs_alpha"}],
			"tasks": {"nodes": [{"id": "tsk_02copy", "phase": {"id": "phs_build"}}, {"id": "tsk_03logo", "phase": {"id": "phs_build"}}, {"id": "tsk_04test", "phase": {"id": "phs_alpha"}}]}}}`)
	})
}

// DESIGN §1: Task.events lists the events whose entityId is the task, oldest first (by time,
// then id), and an event is visible exactly when its task is.
func TestTaskEventsOldestFirst(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		a.post(tokCat, `{ task(id: "tsk_03logo") { events { totalCount pageInfo { hasNextPage hasPreviousPage }
			nodes { id name actor { id name } entity entityId message data timestamp } } } }`, nil).wantData(`{"task": {"events": {
			"totalCount": 3, "pageInfo": {"hasNextPage": false, "hasPreviousPage": false}, "nodes": [
			{"id": "evt_03hist", "name": "task.assignees_changed", "actor": {"id": "usr_admin", "name": "Alice Admin"}, "entity": "task", "entityId": "tsk_03logo",
			 "message": null, "data": {"added": ["usr_bob"], "removed": []}, "timestamp": "2024-01-02T12:00:00Z"},
			{"id": "evt_02hist", "name": "task.assignees_changed", "actor": {"id": "usr_admin", "name": "Alice Admin"}, "entity": "task", "entityId": "tsk_03logo",
			 "message": null, "data": {"added": ["usr_cat"], "removed": []}, "timestamp": "2024-01-03T12:00:00Z"},
			{"id": "evt_04hist", "name": "task.assignees_changed", "actor": {"id": "usr_admin", "name": "Alice Admin"}, "entity": "task", "entityId": "tsk_03logo",
			 "message": null, "data": {"added": [], "removed": []}, "timestamp": "2024-01-03T12:00:00Z"}]}}}`)
		// A new change comes last.
		a.mutate(tokCat, `unassignUser(taskId: "tsk_03logo", userId: "usr_cat")`)
		ids, total := a.ids(tokCat, `{ task(id: "tsk_03logo") { events { `+pageFields+` } } }`, "task", "events")
		if total != 4 || len(ids) != 4 || !slices.Equal(ids[:3], []string{"evt_03hist", "evt_02hist", "evt_04hist"}) || !strings.HasPrefix(ids[3], "evt_") {
			t.Errorf("events = %v (totalCount %d), want the three seeded and then the new one", ids, total)
		}
		// A task without events has an empty history; its trigger event is not part of it.
		a.post(tokAda, `{ task(id: "tsk_02copy") { events { totalCount nodes { id } } triggerEvent { id } } }`, nil).
			wantData(`{"task": {"events": {"totalCount": 0, "nodes": []}, "triggerEvent": {"id": "evt_01trigger"}}}`)
	})
}

// DESIGN §3: Task.assignableUsers lists the users rules 1–3 allow: members of the task's
// project, and on an internal phase only the agency's.
func TestAssignableUsers(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, token, task, args string
			want                    []string
		}{
			{"internal phase: agency members only", tokAda, "tsk_01plan", ``, []string{"usr_ada", "usr_bob", "usr_eve"}},
			{"other phase: every project member", tokAda, "tsk_02copy", ``, []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"}},
			{"as a client member", tokCat, "tsk_02copy", ``, []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"}},
			{"as the org admin, who is no member", tokAdmin, "tsk_05app", ``, []string{"usr_dan"}},
			{"search", tokAda, "tsk_02copy", `(search: "BO")`, []string{"usr_bob"}},
			{"search by email", tokAda, "tsk_02copy", `(search: "client.test")`, []string{"usr_cat"}},
			{"search on an internal phase", tokAda, "tsk_01plan", `(search: "cat")`, []string{}},
		} {
			t.Run(c.name, func(t *testing.T) {
				ids, total := a.ids(c.token, `{ task(id: "`+c.task+`") { assignableUsers`+c.args+` { `+pageFields+` } } }`, "task", "assignableUsers")
				if !slices.Equal(ids, c.want) || total != len(c.want) {
					t.Errorf("assignableUsers = %v (totalCount %d), want %v", ids, total, c.want)
				}
			})
		}
		// Everyone listed can indeed be assigned, all at once.
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_01plan", userIds: ["usr_ada", "usr_bob", "usr_eve"]) { assignees { id } } }`, nil).
			wantData(`{"assignUsers": {"assignees": [{"id": "usr_ada"}, {"id": "usr_bob"}, {"id": "usr_eve"}]}}`)
	})
}

// DESIGN §4: Project.members, Project.phases (by position) and Project.tasks. (Two connections
// nested in a third at the default page size of 50 pass the complexity limit of DESIGN §7: the
// query asks for pages of 10.)
func TestProjectRelations(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		query := `{ projects(first: 10) { totalCount nodes { id name organization { id name }
			members(first: 10) { totalCount nodes { id company { kind } } }
			phases { id name position internal project { id } }
			tasks(first: 10) { totalCount nodes { id label status phase { id } assignees { id } } } } } }`
		for name, token := range map[string]string{"admin": tokAdmin, "client": tokCat, "member": tokAda} {
			t.Run(name, func(t *testing.T) {
				r := a.post(token, query, nil)
				r.ok()
				golden(t, "projects_"+name, r.Data)
			})
		}
	})
}

// The whole of a task, every field and relation, as its project's member sees it.
func TestTaskEveryField(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		r := a.post(tokAda, `{ tasks { nodes { id organization { id name } project { id name } phase { id name position internal }
			label description type status actionTaken closeReason errorReason completedAction
			data { id source type data createdAt modifiedAt } triggerEvent { id name entity entityId actor { id } } triggerEventId
			assignee { id name } assigneeId assignees { id name firstName lastName email avatar }
			assignableUsers { totalCount } events { totalCount } createdAt modifiedAt } } }`, nil)
		r.ok()
		golden(t, "tasks_every_field", r.Data)
	})
}

// DESIGN §3: Query.assignees is the second seed document's GET: the task's assignees in the order
// they were assigned.
func TestAssigneesQuery(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for task, want := range map[string]string{
			"tsk_03logo": `[{"id": "usr_bob", "name": "Bob Builder"}, {"id": "usr_cat", "name": "Cat Client"}]`,
			"tsk_01plan": `[{"id": "usr_ada", "name": "Ada Lovelace"}]`,
			"tsk_02copy": `[]`,
		} {
			a.post(tokAda, `{ assignees(taskId: "`+task+`") { id name } }`, nil).wantData(`{"assignees": ` + want + `}`)
		}
	})
}

// DESIGN §4: GET /query runs a query; a mutation over GET is refused and changes nothing.
func TestGetRunsQueriesOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		a.get(tokAda, `{ viewer { id } }`, nil).wantData(`{"viewer": {"id": "usr_ada"}}`)
		a.get(tokAda, `query($id: ID!) { task(id: $id) { assignees { id } } }`, map[string]any{"id": "tsk_03logo"}).
			wantData(`{"task": {"assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}]}}`)
		a.get(tokAda, `{ task(id: "tsk_nope") { id } }`, nil).wantError(`{"task": null}`, notFound("task tsk_nope not found", `["task"]`))

		for _, m := range []string{
			`mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"]) { id } }`,
			`mutation { setTaskAssignee(taskId: "tsk_03logo") { id } }`,
			`mutation { unassignUser(taskId: "tsk_03logo", userId: "usr_bob") { id } }`,
		} {
			r := a.get(tokAda, m, nil)
			if r.Status == http.StatusOK || r.Status < 400 {
				t.Errorf("GET %s: status = %d, want a refusal", m, r.Status)
			}
			if len(r.Errors) == 0 {
				t.Errorf("GET %s: no error; body %s", m, r.Body)
			}
			if r.Data != nil && string(r.Data) != "null" {
				t.Errorf("GET %s: data = %s, want none", m, r.Data)
			}
		}
		a.post(tokAdmin, `{ a: task(id: "tsk_02copy") { assignees { id } modifiedAt events { totalCount } }
			b: task(id: "tsk_03logo") { assignees { id } modifiedAt events { totalCount } } }`, nil).wantData(`{
			"a": {"assignees": [], "modifiedAt": "` + seededModifiedAt + `", "events": {"totalCount": 0}},
			"b": {"assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}], "modifiedAt": "` + seededModifiedAt + `", "events": {"totalCount": 3}}}`)
	})
}

// A response is JSON with the GraphQL members only.
func TestResponsesAreJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		r := a.post(tokAda, `{ viewer { id } }`, nil)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("Content-Type = %q, want application/json", ct)
		}
		var m map[string]json.RawMessage
		decode(t, r.Body, &m)
		for k := range m {
			if k != "data" && k != "errors" && k != "extensions" {
				t.Errorf("unexpected member %q in %s", k, r.Body)
			}
		}
	})
}

// DESIGN §4 UserFilter.search is case-insensitive: for every letter, not only ASCII ones, and
// the same on both databases.
func TestUserSearchIsCaseInsensitiveBeyondASCII(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		users := []model.User{
			{ID: "usr_emile", OrganizationID: "org_acme", CompanyID: "cmp_client", FirstName: "Émile", LastName: "Zola",
				Email: "emile@client.test", IsAccessApproved: true, ThreadEmailsSortOrder: model.SortOrderAsc, CreatedAt: seededAt, ModifiedAt: seededAt},
			{ID: "usr_oeste", OrganizationID: "org_acme", CompanyID: "cmp_client", FirstName: "Søren", LastName: "ÖSTE",
				Email: "soren@client.test", IsAccessApproved: true, ThreadEmailsSortOrder: model.SortOrderAsc, CreatedAt: seededAt, ModifiedAt: seededAt},
		}
		if err := a.st.Create(t.Context(), &users); err != nil {
			t.Fatal(err)
		}
		for search, want := range map[string][]string{
			"ZOLA":  {"usr_emile"},
			"Émile": {"usr_emile"},
			"émile": {"usr_emile"},
			"ÉMILE": {"usr_emile"},
			"SØREN": {"usr_oeste"},
			"öste":  {"usr_oeste"},
		} {
			ids, _ := a.ids(tokAdmin, fmt.Sprintf(`{ users(filter: {search: %q}) { `+pageFields+` } }`, search), "users")
			if !slices.Equal(ids, want) {
				t.Errorf("search %q = %v, want %v", search, ids, want)
			}
		}
	})
}

// The JSON scalar is "Any JSON value, given and returned as it is" (schema.graphqls): a task's
// completedAction, its data entries' data and its events' data reach the client with their keys
// in the order given, on both databases. Spaces between tokens mean nothing in JSON: the response,
// one JSON document, is written compact.
func TestJSONIsReturnedAsGiven(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		doc := model.JSON(`{"b": 1,  "a": [2, {"z": null, "y": "\u00e9"}]}`)
		const onTheWire = `{"b":1,"a":[2,{"z":null,"y":"\u00e9"}]}`
		rows := []any{
			&model.Event{ID: "evt_json", OrganizationID: "org_acme", Name: "test.json", Entity: "task", EntityID: "tsk_json",
				Data: doc, Timestamp: at(4)},
			&model.Task{ID: "tsk_json", OrganizationID: "org_acme", ProjectID: "prj_site", PhaseID: "phs_build", Label: "JSON",
				Type: model.TaskTypeCallAnalysis, Status: model.TaskStatusCompleted, CompletedAction: doc,
				TriggerEventID: ptr(model.EventID("evt_json")), CreatedAt: seededAt, ModifiedAt: seededAt},
			&model.TaskData{ID: "tdt_json", TaskID: "tsk_json", Source: model.TaskDataSourceEmail, Type: model.TaskDataTypeResponse,
				Data: doc, CreatedAt: seededAt, ModifiedAt: seededAt},
		}
		for _, r := range rows {
			if err := a.st.Create(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		got := a.post(tokAda, `{ task(id: "tsk_json") { completedAction data { data } triggerEvent { data } events { nodes { data } } } }`, nil).ok()
		want := `{"task":{"completedAction":` + onTheWire + `,"data":[{"data":` + onTheWire + `}],"triggerEvent":{"data":` +
			onTheWire + `},"events":{"nodes":[{"data":` + onTheWire + `}]}}}`
		if string(got) != want {
			t.Errorf("data =\n%s\nwant\n%s", got, want)
		}
	})
}

// Search text is data, never SQL nor a LIKE pattern.
func TestUserSearchTakesTheTextLiterally(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, search := range []string{`' OR 1=1 --`, `\`, `\%`, `%_%`, `"`, `ada%`} {
			ids, total := a.ids(tokAdmin, fmt.Sprintf(`{ users(filter: {search: %q}) { `+pageFields+` } }`, search), "users")
			if len(ids) != 0 || total != 0 {
				t.Errorf("search %q = %v (totalCount %d), want nobody", search, ids, total)
			}
		}
	})
}

// A document holding a query and a mutation may run its query over GET, never its mutation,
// whichever operationName picks it.
func TestGetRefusesAMutationPickedByOperationName(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		doc := `query Q { viewer { id } } mutation M { assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"]) { id } }`
		get := func(op string) *response {
			q := url.Values{"query": {doc}, "operationName": {op}}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+"/query?"+q.Encode(), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tokAda)
			return a.send(req)
		}
		get("Q").wantData(`{"viewer": {"id": "usr_ada"}}`)
		if r := get("M"); r.Status < 400 || len(r.Errors) == 0 {
			t.Errorf("GET with operationName M: status %d, body %s; want a refusal", r.Status, r.Body)
		}
		a.post(tokAda, `{ task(id: "tsk_02copy") { assignees { id } } }`, nil).wantData(`{"task": {"assignees": []}}`)
	})
}

// Options.PlaygroundToken pre-fills the playground's Authorization header (the demo's token),
// in development mode, and only while the token works (DESIGN §7).
func TestPlaygroundCarriesTheDemoTokenWhileItWorks(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	page := func(o graph.Options) *response {
		a := serve(t, st, o)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		return a.send(req)
	}
	if r := page(graph.Options{PlaygroundToken: tokAdmin}); r.Status != http.StatusOK || !strings.Contains(string(r.Body), "Bearer "+tokAdmin) {
		t.Errorf("GET /: status %d; want the page to carry Bearer %s:\n%.800s", r.Status, tokAdmin, r.Body)
	}
	for _, token := range []string{tokFay, "no-such-token"} { // revoked, unknown
		if r := page(graph.Options{PlaygroundToken: token}); r.Status != http.StatusOK || strings.Contains(string(r.Body), token) {
			t.Errorf("GET / with the playground token %s that does not work: status %d; want a page without it", token, r.Status)
		}
	}
	if r := page(graph.Options{PlaygroundToken: tokAdmin, Production: true}); r.Status != http.StatusNotFound {
		t.Errorf("GET / in production: status %d, want 404 (no playground)", r.Status)
	}
}

// Times on the wire are one string for one instant: UTC, whatever the server's time zone and
// whichever database stores them (DESIGN §1, RFC 3339). The check runs in a child process whose
// local zone is not UTC, as a server's may be.
func TestTimesOnTheWireDoNotDependOnTheServersZone(t *testing.T) {
	if os.Getenv("TASKQL_TEST_ZONE_CHILD") == "" {
		t.Parallel()
		cmd := osexec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestTimesOnTheWireDoNotDependOnTheServersZone$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), "TZ=America/New_York", "TASKQL_TEST_ZONE_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("with TZ=America/New_York: %v\n%s", err, out)
		}
		return
	}
	eachDB(t, func(t *testing.T, a *api) {
		a.post(tokAda, `{ viewer { createdAt modifiedAt } task(id: "tsk_03logo") { createdAt modifiedAt
			events(first: 1) { nodes { timestamp } } } }`, nil).wantData(`{
			"viewer": {"createdAt": "` + seededModifiedAt + `", "modifiedAt": "` + seededModifiedAt + `"},
			"task": {"createdAt": "` + seededModifiedAt + `", "modifiedAt": "` + seededModifiedAt + `",
				"events": {"nodes": [{"timestamp": "2024-01-02T12:00:00Z"}]}}}`)
		var d struct{ M struct{ ModifiedAt string } }
		decode(t, a.post(tokAda, `mutation { m: unassignUser(taskId: "tsk_03logo", userId: "usr_cat") { modifiedAt } }`, nil).ok(), &d)
		if !strings.HasSuffix(d.M.ModifiedAt, "Z") {
			t.Errorf("modifiedAt after a change = %s, want UTC", d.M.ModifiedAt)
		}
		decode(t, a.post(tokAda, `{ m: task(id: "tsk_03logo") { modifiedAt } }`, nil).ok(), &d)
		if !strings.HasSuffix(d.M.ModifiedAt, "Z") {
			t.Errorf("modifiedAt read back = %s, want UTC", d.M.ModifiedAt)
		}
	})
}

// DESIGN §2: nothing ever crosses organizations, and an event is visible exactly when its task is.
// An event of Beta that names an Acme task's id (a fixture may hold one: entityId is free text)
// is Beta's: Acme's Task.events never lists it, as node(id:) never finds it.
func TestTaskEventsNeverCrossOrganizations(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		stray := model.Event{ID: "evt_stray", OrganizationID: "org_beta", Name: model.EventAssigneesChanged, ActorID: ptr(model.UserID("usr_zed")),
			Entity: "task", EntityID: "tsk_02copy", Data: model.JSON(`{"added": ["usr_zed"], "removed": []}`), Timestamp: at(4)}
		if err := a.st.Create(t.Context(), &stray); err != nil {
			t.Fatal(err)
		}
		a.post(tokAdmin, `{ node(id: "evt_stray") { id } }`, nil).
			wantError(`{"node": null}`, notFound("node evt_stray not found", `["node"]`))
		a.post(tokAdmin, `{ task(id: "tsk_02copy") { events { totalCount nodes { id } } } }`, nil).
			wantData(`{"task": {"events": {"totalCount": 0, "nodes": []}}}`)
	})
}
