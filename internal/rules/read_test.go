package rules_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §4: the reads, their filters and their keyset pages.

func TestTasksFilters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		viewer model.UserID
		filter model.TaskFilter
		want   []model.TaskID
	}{
		{"no filter lists every visible task, oldest first", "usr_admin", model.TaskFilter{},
			tasks("tsk_internal", "tsk_open", "tsk_other")},
		{"projectId: the tasks of that project", "usr_admin", model.TaskFilter{ProjectID: ptr("prj_site")},
			tasks("tsk_internal", "tsk_open")},
		{"projectId of another organization: none", "usr_admin", model.TaskFilter{ProjectID: ptr("prj_b")}, nil},
		{"phaseId: the tasks of that phase", "usr_admin", model.TaskFilter{PhaseID: ptr("phs_internal")},
			tasks("tsk_internal")},
		{"status: the tasks in that status", "usr_admin", model.TaskFilter{Status: []model.TaskStatus{model.TaskStatusCompleted}},
			tasks("tsk_internal")},
		{"status: the tasks in any of those statuses", "usr_admin",
			model.TaskFilter{Status: []model.TaskStatus{model.TaskStatusOpen, model.TaskStatusCompleted}},
			tasks("tsk_internal", "tsk_open", "tsk_other")},
		{"status that no task has: none", "usr_admin", model.TaskFilter{Status: []model.TaskStatus{model.TaskStatusFailed}}, nil},
		{"type: the tasks of that type", "usr_admin", model.TaskFilter{Type: []model.TaskType{model.TaskTypeAutoResponseEmail}},
			tasks("tsk_other")},
		{"type: the tasks of any of those types", "usr_admin",
			model.TaskFilter{Type: []model.TaskType{model.TaskTypeCallAnalysis, model.TaskTypeDisableContact}},
			tasks("tsk_internal", "tsk_open")},
		{"assigneeId: the tasks that have this user among their assignees", "usr_admin", model.TaskFilter{AssigneeID: ptr("usr_agent")},
			tasks("tsk_internal", "tsk_open")},
		{"assigneeId: a user that is not the first assignee counts too", "usr_admin", model.TaskFilter{AssigneeID: ptr("usr_agent2")},
			tasks("tsk_open")},
		{"assigneeId of a user assigned nowhere: none", "usr_admin", model.TaskFilter{AssigneeID: ptr("usr_client")}, nil},
		{"unassigned true: the tasks with no assignee", "usr_admin", model.TaskFilter{Unassigned: ptr(true)},
			tasks("tsk_other")},
		{"unassigned false: the tasks with at least one assignee", "usr_admin", model.TaskFilter{Unassigned: ptr(false)},
			tasks("tsk_internal", "tsk_open")},
		{"filters combine", "usr_admin",
			model.TaskFilter{ProjectID: ptr("prj_site"), Status: []model.TaskStatus{model.TaskStatusOpen}, AssigneeID: ptr("usr_agent")},
			tasks("tsk_open")},
		{"filters apply after visibility: a client member's phaseId of an internal phase finds none", "usr_client",
			model.TaskFilter{PhaseID: ptr("phs_internal")}, nil},
		{"filters apply after visibility: a client member's assigneeId finds only visible tasks", "usr_client",
			model.TaskFilter{AssigneeID: ptr("usr_agent")}, tasks("tsk_open")},
		{"filters apply after visibility: projectId of a project the viewer is not a member of finds none", "usr_agent",
			model.TaskFilter{ProjectID: ptr("prj_other")}, nil},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		w.assign(t, "tsk_open", "usr_agent2")
		w.assign(t, "tsk_internal", "usr_agent")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := w.svc.Tasks(t.Context(), w.viewer(t, tt.viewer), &tt.filter, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, taskIDs(page.Items), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("tasks (-want +got):\n%s", diff)
				}
				if n, err := page.Count(t.Context()); err != nil || n != len(tt.want) {
					t.Errorf("totalCount = %d, %v; want %d", n, err, len(tt.want))
				}
			})
		}
		for name, f := range map[string]model.TaskFilter{
			"a projectId of another type is bad input":   {ProjectID: ptr("tsk_open")},
			"a malformed phaseId is bad input":           {PhaseID: ptr("phs-open")},
			"an assigneeId of another type is bad input": {AssigneeID: ptr("prj_site")},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := w.svc.Tasks(t.Context(), w.admin(t), &f, rules.PageArgs{})
				wantBadInput(t, err)
			})
		}
	})
}

// Keyset pages: filters and visibility apply in SQL before the page is cut, so walking every page
// finds each item once, no page is short while more follow, and the last says so.
func TestTasksKeysetPagination(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		// Nine more tasks of prj_site, alternating between the internal phase and the other, so
		// that a client member's pages skip every other row.
		more := &seed.World{}
		for i := 1; i <= 9; i++ {
			phase := "phs_open"
			if i%2 == 0 {
				phase = "phs_internal"
			}
			more.Tasks = append(more.Tasks, seed.Task{ID: fmt.Sprintf("tsk_p%d", i), ProjectID: "prj_site", PhaseID: phase,
				Label: fmt.Sprint("Page task ", i), Type: "CALL_ANALYSIS"})
		}
		more.Tasks[2].AssigneeIDs = []string{"usr_agent"} // tsk_p3
		more.Tasks[3].AssigneeIDs = []string{"usr_agent"} // tsk_p4
		w.load(t, more)

		for _, tt := range []struct {
			name   string
			viewer model.UserID
			filter *model.TaskFilter
		}{
			{"an org admin walks every task", "usr_admin", nil},
			{"a client member walks the tasks it sees, none in an internal phase", "usr_client", nil},
			{"a filter applies before the page is cut", "usr_admin", &model.TaskFilter{Unassigned: ptr(true), PhaseID: ptr("phs_open")}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				v := w.viewer(t, tt.viewer)
				first := rules.MaxPageSize
				all, err := w.svc.Tasks(t.Context(), v, tt.filter, rules.PageArgs{First: &first})
				if err != nil {
					t.Fatal(err)
				}
				if all.HasNext || len(all.Items) < 4 {
					t.Fatalf("one page of %d holds %d tasks, hasNext %v: the world is too small for this test", first, len(all.Items), all.HasNext)
				}
				want := taskIDs(all.Items)
				if !slices.IsSorted(want) {
					t.Errorf("tasks are not in id order (oldest first): %v", want)
				}

				var walked []model.TaskID
				var after *rules.Position
				two := 2
				for page := 0; ; page++ {
					p, err := w.svc.Tasks(t.Context(), v, tt.filter, rules.PageArgs{First: &two, After: after})
					if err != nil {
						t.Fatal(err)
					}
					walked = append(walked, taskIDs(p.Items)...)
					if p.HasPrevious != (page > 0) {
						t.Errorf("page %d: hasPreviousPage = %v", page, p.HasPrevious)
					}
					if p.HasNext && len(p.Items) != two {
						t.Errorf("page %d holds %d tasks while more follow, want %d", page, len(p.Items), two)
					}
					if !p.HasNext {
						break
					}
					pos := p.Position(p.Items[len(p.Items)-1])
					after = &pos
					if page > len(want) {
						t.Fatal("pages never end")
					}
				}
				if diff := cmp.Diff(want, walked); diff != "" {
					t.Errorf("tasks walked two by two (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// first outside 1–100 is BAD_USER_INPUT on every list, never clamped.
func TestFirstOutside1To100IsBadInput(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.admin(t)
		open := w.task(t, "tsk_open")
		for _, n := range []int{0, -1, rules.MaxPageSize + 1} {
			a := rules.PageArgs{First: &n}
			for name, call := range map[string]func() error{
				"tasks":            func() error { _, err := w.svc.Tasks(t.Context(), v, nil, a); return err },
				"users":            func() error { _, err := w.svc.Users(t.Context(), v, nil, a); return err },
				"projects":         func() error { _, err := w.svc.Projects(t.Context(), v, a); return err },
				"task events":      func() error { _, err := w.svc.TaskEvents(t.Context(), v, open, a); return err },
				"assignable users": func() error { _, err := w.svc.AssignableUsers(t.Context(), v, open, nil, a); return err },
			} {
				t.Run(fmt.Sprintf("%s first %d", name, n), func(t *testing.T) { wantBadInput(t, call()) })
			}
		}
	})
}

func TestUsersFilters(t *testing.T) {
	t.Parallel()
	everyone := []model.UserID{"usr_admin", "usr_agent", "usr_agent2", "usr_client", "usr_clientout", "usr_outsider", "usr_pending"}
	tests := []struct {
		name   string
		viewer model.UserID
		filter model.UserFilter
		want   []model.UserID
	}{
		{"no filter lists the users of the viewer's organization", "usr_agent", model.UserFilter{}, everyone},
		{"search is a case-insensitive substring of the name", "usr_agent", model.UserFilter{Search: ptr("LOVELACE")},
			us("usr_agent")},
		{"search matches the name as firstName and lastName joined by a space", "usr_agent", model.UserFilter{Search: ptr("ada lov")},
			us("usr_agent")},
		{"search is a case-insensitive substring of the email", "usr_agent", model.UserFilter{Search: ptr("@CLIENT.test")},
			us("usr_client", "usr_clientout")},
		{"search does not reach another organization", "usr_agent", model.UserFilter{Search: ptr("bob")}, nil},
		{"search for % matches a literal %, which no user has", "usr_agent", model.UserFilter{Search: ptr("%")}, nil},
		{"search for _ matches a literal _, which no user has", "usr_agent", model.UserFilter{Search: ptr("_")}, nil},
		{"kind CLIENT: the users of client companies", "usr_agent", model.UserFilter{Kind: ptr(model.CompanyKindClient)},
			us("usr_client", "usr_clientout")},
		{"kind AGENCY: the users of the agency company", "usr_agent", model.UserFilter{Kind: ptr(model.CompanyKindAgency)},
			us("usr_admin", "usr_agent", "usr_agent2", "usr_outsider", "usr_pending")},
		{"companyId: the users of that company", "usr_agent", model.UserFilter{CompanyID: ptr("cmp_client")},
			us("usr_client", "usr_clientout")},
		{"companyId of another organization: none", "usr_agent", model.UserFilter{CompanyID: ptr("cmp_b")}, nil},
		{"projectId: the members of that project", "usr_agent", model.UserFilter{ProjectID: ptr("prj_site")},
			us("usr_agent", "usr_agent2", "usr_client", "usr_pending")},
		{"projectId: an org admin sees the members of every project", "usr_admin", model.UserFilter{ProjectID: ptr("prj_other")},
			us("usr_outsider")},
		{"projectId of a project the viewer does not see: none", "usr_agent", model.UserFilter{ProjectID: ptr("prj_other")}, nil},
		{"filters combine", "usr_agent",
			model.UserFilter{ProjectID: ptr("prj_site"), Kind: ptr(model.CompanyKindAgency), Search: ptr("ACME.TEST")},
			us("usr_agent", "usr_agent2", "usr_pending")},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := w.svc.Users(t.Context(), w.viewer(t, tt.viewer), &tt.filter, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, userIDs(page.Items), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("users (-want +got):\n%s", diff)
				}
				if n, err := page.Count(t.Context()); err != nil || n != len(tt.want) {
					t.Errorf("totalCount = %d, %v; want %d", n, err, len(tt.want))
				}
			})
		}
		t.Run("a companyId of another type is bad input", func(t *testing.T) {
			_, err := w.svc.Users(t.Context(), w.admin(t), &model.UserFilter{CompanyID: ptr("org_a")}, rules.PageArgs{})
			wantBadInput(t, err)
		})
	})
}

// Search is case-insensitive for every letter, not only ASCII: a French name is found whatever
// the case it is typed in.
func TestUsersSearchIsCaseInsensitiveBeyondASCII(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.load(t, &seed.World{Users: []seed.User{{ID: "usr_elodie", OrganizationID: "org_a", CompanyID: "cmp_agency",
			FirstName: "Élodie", LastName: "Ünal", Email: "elodie@acme.test"}}})
		for _, search := range []string{"Élodie", "élodie", "ÉLODIE", "ünal", "ÜNAL"} {
			page, err := w.svc.Users(t.Context(), w.admin(t), &model.UserFilter{Search: ptr(search)}, rules.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(us("usr_elodie"), userIDs(page.Items), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("search %q (-want +got):\n%s", search, diff)
			}
		}
	})
}

// assignableUsers lists exactly the users rules 1–3 allow for the task: the members of its
// project and, on an internal phase, only the agency's.
func TestAssignableUsers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		task   model.TaskID
		search *string
		want   []model.UserID
	}{
		{"on a phase that is not internal: every member of the project", "tsk_open", nil,
			us("usr_agent", "usr_agent2", "usr_client", "usr_pending")},
		{"on an internal phase: the agency's members of the project only", "tsk_internal", nil,
			us("usr_agent", "usr_agent2", "usr_pending")},
		{"on another project: its members", "tsk_other", nil, us("usr_outsider")},
		{"search narrows them, case-insensitively", "tsk_open", ptr("TURING"), us("usr_agent2")},
		{"search by email", "tsk_open", ptr("client.test"), us("usr_client")},
		{"search cannot reach beyond the rules: a client on an internal phase", "tsk_internal", ptr("claire"), nil},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := w.admin(t)
				page, err := w.svc.AssignableUsers(t.Context(), v, w.task(t, tt.task), tt.search, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				got := userIDs(page.Items)
				if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("assignable users (-want +got):\n%s", diff)
				}
				if n, err := page.Count(t.Context()); err != nil || n != len(tt.want) {
					t.Errorf("totalCount = %d, %v; want %d", n, err, len(tt.want))
				}
				if tt.search != nil {
					return
				}
				// The list is what the mutations accept: every user of both organizations is
				// assignable exactly when it is listed.
				for _, u := range us("usr_admin", "usr_agent", "usr_agent2", "usr_client", "usr_clientout", "usr_outsider", "usr_pending", "usr_bob") {
					_, err := w.svc.SetTaskAssignee(t.Context(), v, string(tt.task), ptr(string(u)))
					if listed := slices.Contains(got, u); listed != (err == nil) {
						t.Errorf("%s: listed %v, setTaskAssignee err = %v", u, listed, err)
					}
				}
			})
		}
	})
}

func TestNode(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		page, err := w.svc.TaskEvents(t.Context(), w.admin(t), w.task(t, "tsk_open"), rules.PageArgs{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("events of tsk_open: %v, %v", page, err)
		}
		event := string(page.Items[0].ID)

		t.Run("the prefix tells the type: every type is found by its id", func(t *testing.T) {
			v := w.viewer(t, "usr_agent")
			for _, id := range []string{"org_a", "cmp_agency", "cmp_client", "usr_admin", "prj_site", "phs_internal", "tsk_open", event, "tdt_open"} {
				n, err := w.svc.Node(t.Context(), v, id)
				if err != nil {
					t.Errorf("node %s: %v", id, err)
					continue
				}
				if got := nodeID(n); got != id {
					t.Errorf("node %s = %T %s", id, n, got)
				}
			}
		})
		t.Run("nothing of another organization exists for the viewer: NOT_FOUND", func(t *testing.T) {
			v := w.viewer(t, "usr_bob")
			for _, id := range []string{"org_a", "cmp_agency", "usr_admin", "prj_site", "phs_open", "tsk_open", event, "tdt_open"} {
				_, err := w.svc.Node(t.Context(), v, id)
				wantKind(t, err, rules.ErrNotFound)
			}
		})
		t.Run("a well-formed id that exists nowhere: NOT_FOUND", func(t *testing.T) {
			for _, id := range []string{"org_nope", "cmp_nope", "usr_nope", "prj_nope", "phs_nope", "tsk_nope", "evt_nope", "tdt_nope"} {
				_, err := w.svc.Node(t.Context(), w.admin(t), id)
				wantKind(t, err, rules.ErrNotFound)
			}
		})
		t.Run("a malformed id or an unknown prefix: BAD_USER_INPUT", func(t *testing.T) {
			for _, id := range []string{"", "open", "tsk_", "tsk_op-en", "abc_123"} {
				_, err := w.svc.Node(t.Context(), w.admin(t), id)
				wantBadInput(t, err)
			}
		})
	})
}

// Task.events lists the events about the task, oldest first, in pages.
func TestTaskEventsOldestFirst(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_agent")
		w.assign(t, "tsk_open", "usr_client")
		if _, err := w.svc.SetTaskAssignee(t.Context(), v, "tsk_open", ptr("usr_agent")); err != nil {
			t.Fatal(err)
		}
		w.assign(t, "tsk_open", "usr_agent2", "usr_pending")
		if _, err := w.svc.UnassignUser(t.Context(), v, "tsk_open", "usr_agent"); err != nil {
			t.Fatal(err)
		}
		w.assign(t, "tsk_internal", "usr_agent") // another task's event is not listed
		want := []recorded{
			changed("usr_admin", "tsk_open", us("usr_client"), nil),
			changed("usr_agent", "tsk_open", us("usr_agent"), us("usr_client")),
			changed("usr_admin", "tsk_open", us("usr_agent2", "usr_pending"), nil),
			changed("usr_agent", "tsk_open", nil, us("usr_agent")),
		}

		one := 1
		var got []recorded
		var after *rules.Position
		task := w.task(t, "tsk_open")
		for page := 0; page <= len(want); page++ {
			p, err := w.svc.TaskEvents(t.Context(), v, task, rules.PageArgs{First: &one, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Items {
				got = append(got, decode(t, e))
			}
			if n, err := p.Count(t.Context()); err != nil || n != len(want) {
				t.Errorf("totalCount = %d, %v; want %d", n, err, len(want))
			}
			if !p.HasNext {
				break
			}
			pos := p.Position(p.Items[len(p.Items)-1])
			after = &pos
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("events one by one (-want +got):\n%s", diff)
		}
		_, times := w.events(t, "tsk_open")
		if !slices.IsSortedFunc(times, func(a, b time.Time) int { return a.Compare(b) }) {
			t.Errorf("event times are not oldest first: %v", times)
		}
	})
}

// Query.assignees, the second document's GET: the assignees in order; none is an empty list.
func TestAssigneesOfAVisibleTask(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		users, err := w.svc.Assignees(t.Context(), w.viewer(t, "usr_client"), "tsk_open")
		if err != nil || len(users) != 0 {
			t.Errorf("assignees of a task without any = %v, %v; want none", users, err)
		}
		w.assign(t, "tsk_open", "usr_client", "usr_agent")
		users, err = w.svc.Assignees(t.Context(), w.viewer(t, "usr_client"), "tsk_open")
		if err != nil {
			t.Fatal(err)
		}
		got := userIDs(users)
		if diff := cmp.Diff(us("usr_agent", "usr_client"), got); diff != "" {
			t.Errorf("assignees (-want +got):\n%s", diff)
		}
		if users[0].Name() != "Ada Lovelace" || users[0].Email != "ada@acme.test" {
			t.Errorf("first assignee = %q <%s>, want the whole user", users[0].Name(), users[0].Email)
		}
		_, err = w.svc.Assignees(t.Context(), w.viewer(t, "usr_client"), "usr_agent")
		wantBadInput(t, err)
	})
}

// A project's tasks are the visible tasks of that project.
func TestProjectTasks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		project, err := w.svc.Project(t.Context(), w.viewer(t, "usr_client"), "prj_site")
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name   string
			viewer model.UserID
			filter *model.TaskFilter
			want   []model.TaskID
		}{
			{"an agency member sees every task of the project", "usr_agent", nil, tasks("tsk_internal", "tsk_open")},
			{"a client member does not see those in internal phases", "usr_client", nil, tasks("tsk_open")},
			{"a filter on another project finds none", "usr_agent", &model.TaskFilter{ProjectID: ptr("prj_other")}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p, err := w.svc.ProjectTasks(t.Context(), w.viewer(t, tt.viewer), project, tt.filter, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.want, taskIDs(p.Items), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("project tasks (-want +got):\n%s", diff)
				}
				if n, err := p.Count(t.Context()); err != nil || n != len(tt.want) {
					t.Errorf("totalCount = %d, %v; want %d", n, err, len(tt.want))
				}
			})
		}
	})
}

func userIDs(users []*model.User) []model.UserID {
	var out []model.UserID
	for _, u := range users {
		out = append(out, u.ID)
	}
	return out
}

// nodeID is the id of any Node.
func nodeID(n model.Node) string {
	switch n := n.(type) {
	case *model.Organization:
		return string(n.ID)
	case *model.Company:
		return string(n.ID)
	case *model.User:
		return string(n.ID)
	case *model.Project:
		return string(n.ID)
	case *model.Phase:
		return string(n.ID)
	case *model.Task:
		return string(n.ID)
	case *model.Event:
		return string(n.ID)
	case *model.TaskData:
		return string(n.ID)
	}
	return fmt.Sprintf("%T", n)
}
