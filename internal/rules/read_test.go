package rules_test

import (
	"fmt"
	"slices"
	"strings"
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
		filter rules.TaskFilter
		want   []model.TaskID
	}{
		{"no filter lists every visible task, oldest first", "usr_admin", rules.TaskFilter{},
			tasks("tsk_internal", "tsk_open", "tsk_other")},
		{"projectId: the tasks of that project", "usr_admin", rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_site")},
			tasks("tsk_internal", "tsk_open")},
		{"projectId of another organization: none", "usr_admin", rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_b")}, nil},
		{"phaseId: the tasks of that phase", "usr_admin", rules.TaskFilter{PhaseID: ptr[model.PhaseID]("phs_internal")},
			tasks("tsk_internal")},
		{"status: the tasks in that status", "usr_admin", rules.TaskFilter{Statuses: []model.TaskStatus{model.TaskStatusCompleted}},
			tasks("tsk_internal")},
		{"status: the tasks in any of those statuses", "usr_admin",
			rules.TaskFilter{Statuses: []model.TaskStatus{model.TaskStatusOpen, model.TaskStatusCompleted}},
			tasks("tsk_internal", "tsk_open", "tsk_other")},
		{"status that no task has: none", "usr_admin", rules.TaskFilter{Statuses: []model.TaskStatus{model.TaskStatusFailed}}, nil},
		{"type: the tasks of that type", "usr_admin", rules.TaskFilter{Types: []model.TaskType{model.TaskTypeAutoResponseEmail}},
			tasks("tsk_other")},
		{"type: the tasks of any of those types", "usr_admin",
			rules.TaskFilter{Types: []model.TaskType{model.TaskTypeCallAnalysis, model.TaskTypeDisableContact}},
			tasks("tsk_internal", "tsk_open")},
		{"assigneeId: the tasks that have this user among their assignees", "usr_admin", rules.TaskFilter{AssigneeID: ptr[model.UserID]("usr_agent")},
			tasks("tsk_internal", "tsk_open")},
		{"assigneeId: a user that is not the first assignee counts too", "usr_admin", rules.TaskFilter{AssigneeID: ptr[model.UserID]("usr_agent2")},
			tasks("tsk_open")},
		{"assigneeId of a user assigned nowhere: none", "usr_admin", rules.TaskFilter{AssigneeID: ptr[model.UserID]("usr_client")}, nil},
		{"unassigned true: the tasks with no assignee", "usr_admin", rules.TaskFilter{Unassigned: ptr(true)},
			tasks("tsk_other")},
		{"unassigned false: the tasks with at least one assignee", "usr_admin", rules.TaskFilter{Unassigned: ptr(false)},
			tasks("tsk_internal", "tsk_open")},
		{"filters combine", "usr_admin",
			rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_site"), Statuses: []model.TaskStatus{model.TaskStatusOpen}, AssigneeID: ptr[model.UserID]("usr_agent")},
			tasks("tsk_open")},
		{"filters apply after visibility: a client member's phaseId of an internal phase finds none", "usr_client",
			rules.TaskFilter{PhaseID: ptr[model.PhaseID]("phs_internal")}, nil},
		{"filters apply after visibility: a client member's assigneeId finds only visible tasks", "usr_client",
			rules.TaskFilter{AssigneeID: ptr[model.UserID]("usr_agent")}, tasks("tsk_open")},
		{"filters apply after visibility: projectId of a project the viewer is not a member of finds none", "usr_agent",
			rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_other")}, nil},
	}
	// A filter id of the wrong type or malformed can no longer reach the rules, which take typed
	// ids: the adapter refuses it as BAD_USER_INPUT when it parses the filter (graph/errors_test.go
	// TestMalformedIDsAreBadUserInput, the TaskFilter cases).
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_open", "usr_agent")
		w.assign(t, "tsk_open", "usr_agent2")
		w.assign(t, "tsk_internal", "usr_agent")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := w.svc.Tasks(t.Context(), w.viewer(t, tt.viewer), tt.filter, rules.PageArgs{})
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
			filter rules.TaskFilter
		}{
			{"an org admin walks every task", "usr_admin", rules.TaskFilter{}},
			{"a client member walks the tasks it sees, none in an internal phase", "usr_client", rules.TaskFilter{}},
			{"a filter applies before the page is cut", "usr_admin", rules.TaskFilter{Unassigned: ptr(true), PhaseID: ptr[model.PhaseID]("phs_open")}},
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
		for _, n := range []int{0, -1, rules.MaxPageSize + 1} {
			a := rules.PageArgs{First: &n}
			for name, call := range map[string]func() error{
				"tasks":            func() error { _, err := w.svc.Tasks(t.Context(), v, rules.TaskFilter{}, a); return err },
				"users":            func() error { _, err := w.svc.Users(t.Context(), v, rules.UserFilter{}, a); return err },
				"projects":         func() error { _, err := w.svc.Projects(t.Context(), v, a); return err },
				"task events":      func() error { _, err := w.svc.TaskEvents(t.Context(), v, "tsk_open", a); return err },
				"assignable users": func() error { _, err := w.svc.AssignableUsers(t.Context(), v, "tsk_open", "", 0, a); return err },
				"project members":  func() error { _, err := w.svc.ProjectMembers(t.Context(), v, "prj_site", a); return err },
				"project tasks": func() error {
					_, err := w.svc.ProjectTasks(t.Context(), v, "prj_site", rules.TaskFilter{}, a)
					return err
				},
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
		filter rules.UserFilter
		want   []model.UserID
	}{
		{"no filter lists the users of the viewer's organization", "usr_agent", rules.UserFilter{}, everyone},
		{"search is a case-insensitive substring of the name", "usr_agent", rules.UserFilter{Search: "LOVELACE"},
			us("usr_agent")},
		{"search matches the name as firstName and lastName joined by a space", "usr_agent", rules.UserFilter{Search: "ada lov"},
			us("usr_agent")},
		{"search is a case-insensitive substring of the email", "usr_agent", rules.UserFilter{Search: "@CLIENT.test"},
			us("usr_client", "usr_clientout")},
		{"search does not reach another organization", "usr_agent", rules.UserFilter{Search: "bob"}, nil},
		{"search for % matches a literal %, which no user has", "usr_agent", rules.UserFilter{Search: "%"}, nil},
		{"search for _ matches a literal _, which no user has", "usr_agent", rules.UserFilter{Search: "_"}, nil},
		{"kind CLIENT: the users of client companies", "usr_agent", rules.UserFilter{Kind: ptr(model.CompanyKindClient)},
			us("usr_client", "usr_clientout")},
		{"kind AGENCY: the users of the agency company", "usr_agent", rules.UserFilter{Kind: ptr(model.CompanyKindAgency)},
			us("usr_admin", "usr_agent", "usr_agent2", "usr_outsider", "usr_pending")},
		{"companyId: the users of that company", "usr_agent", rules.UserFilter{CompanyID: ptr[model.CompanyID]("cmp_client")},
			us("usr_client", "usr_clientout")},
		{"companyId of another organization: none", "usr_agent", rules.UserFilter{CompanyID: ptr[model.CompanyID]("cmp_b")}, nil},
		{"projectId: the members of that project", "usr_agent", rules.UserFilter{ProjectID: ptr[model.ProjectID]("prj_site")},
			us("usr_agent", "usr_agent2", "usr_client", "usr_pending")},
		{"projectId: an org admin sees the members of every project", "usr_admin", rules.UserFilter{ProjectID: ptr[model.ProjectID]("prj_other")},
			us("usr_outsider")},
		{"projectId of a project the viewer does not see: none", "usr_agent", rules.UserFilter{ProjectID: ptr[model.ProjectID]("prj_other")}, nil},
		{"filters combine", "usr_agent",
			rules.UserFilter{ProjectID: ptr[model.ProjectID]("prj_site"), Kind: ptr(model.CompanyKindAgency), Search: "ACME.TEST"},
			us("usr_agent", "usr_agent2", "usr_pending")},
	}
	// A companyId or projectId of the wrong type can no longer reach the rules: the adapter refuses
	// it when it parses the filter (graph/errors_test.go TestMalformedIDsAreBadUserInput).
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := w.svc.Users(t.Context(), w.viewer(t, tt.viewer), tt.filter, rules.PageArgs{})
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
			page, err := w.svc.Users(t.Context(), w.admin(t), rules.UserFilter{Search: search}, rules.PageArgs{})
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
		search string // empty: no search
		want   []model.UserID
	}{
		{"on a phase that is not internal: every member of the project", "tsk_open", "",
			us("usr_agent", "usr_agent2", "usr_client", "usr_pending")},
		{"on an internal phase: the agency's members of the project only", "tsk_internal", "",
			us("usr_agent", "usr_agent2", "usr_pending")},
		{"on another project: its members", "tsk_other", "", us("usr_outsider")},
		{"search narrows them, case-insensitively", "tsk_open", "TURING", us("usr_agent2")},
		{"search by email", "tsk_open", "client.test", us("usr_client")},
		{"search cannot reach beyond the rules: a client on an internal phase", "tsk_internal", "claire", nil},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := w.admin(t)
				page, err := w.svc.AssignableUsers(t.Context(), v, tt.task, tt.search, rules.ByID, rules.PageArgs{})
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
				if tt.search != "" {
					return
				}
				// The list is what the mutations accept: every user of both organizations is
				// assignable exactly when it is listed.
				for _, u := range us("usr_admin", "usr_agent", "usr_agent2", "usr_client", "usr_clientout", "usr_outsider", "usr_pending", "usr_bob") {
					_, err := w.svc.SetTaskAssignee(t.Context(), v, tt.task, ptr(u))
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
		page, err := w.svc.TaskEvents(t.Context(), w.admin(t), "tsk_open", rules.PageArgs{})
		if err != nil || len(page.Items) != 1 {
			t.Fatalf("events of tsk_open: %v, %v", page, err)
		}
		event := model.NodeID(page.Items[0].ID)

		t.Run("the prefix tells the type: every type is found by its id", func(t *testing.T) {
			v := w.viewer(t, "usr_agent")
			for _, id := range []model.NodeID{"org_a", "cmp_agency", "cmp_client", "usr_admin", "prj_site", "phs_internal", "tsk_open", event, "tdt_open"} {
				n, err := w.svc.Node(t.Context(), v, id)
				if err != nil {
					t.Errorf("node %s: %v", id, err)
					continue
				}
				if got := nodeID(n); got != string(id) {
					t.Errorf("node %s = %T %s", id, n, got)
				}
			}
		})
		t.Run("nothing of another organization exists for the viewer: NOT_FOUND", func(t *testing.T) {
			v := w.viewer(t, "usr_bob")
			for _, id := range []model.NodeID{"org_a", "cmp_agency", "usr_admin", "prj_site", "phs_open", "tsk_open", event, "tdt_open"} {
				_, err := w.svc.Node(t.Context(), v, id)
				wantKind(t, err, rules.ErrNotFound)
			}
		})
		t.Run("a well-formed id that exists nowhere: NOT_FOUND", func(t *testing.T) {
			for _, id := range []model.NodeID{"org_nope", "cmp_nope", "usr_nope", "prj_nope", "phs_nope", "tsk_nope", "evt_nope", "tdt_nope"} {
				_, err := w.svc.Node(t.Context(), w.admin(t), id)
				wantKind(t, err, rules.ErrNotFound)
			}
		})
		// A malformed id or an unknown prefix cannot reach Node, which takes a model.NodeID: the
		// adapter refuses it with model.ParseNodeID (graph/errors_test.go
		// TestMalformedIDsAreBadUserInput, the node cases).
	})
}

// Task.events lists the events about the task, oldest first, in pages.
func TestTaskEventsOldestFirst(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_agent")
		w.assign(t, "tsk_open", "usr_client")
		if _, err := w.svc.SetTaskAssignee(t.Context(), v, "tsk_open", ptr[model.UserID]("usr_agent")); err != nil {
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
		for page := 0; page <= len(want); page++ {
			p, err := w.svc.TaskEvents(t.Context(), v, "tsk_open", rules.PageArgs{First: &one, After: after})
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
		// A taskId of another type (a usr_ id) cannot reach Assignees, which takes a model.TaskID:
		// the adapter refuses it (graph/errors_test.go TestMalformedIDsAreBadUserInput).
	})
}

// DESIGN §1: the primary assignee (Task.assignee, the first document's single one) is the first of
// the assignees in assignment order, or nobody.
func TestPrimary(t *testing.T) {
	t.Parallel()
	ada, alan := &model.User{ID: "usr_ada"}, &model.User{ID: "usr_alan"}
	tests := []struct {
		name      string
		assignees []*model.User
		want      *model.User
	}{
		{"no assignees: nobody", nil, nil},
		{"an empty list of assignees: nobody", []*model.User{}, nil},
		{"one assignee: that user", []*model.User{alan}, alan},
		{"several assignees: the first assigned, whatever its id", []*model.User{alan, ada}, alan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.Primary(tt.assignees); got != tt.want {
				t.Errorf("Primary = %v, want %v", got, tt.want)
			}
		})
	}
}

// A search holds at most MaxSearchLength characters (not bytes) and no NUL, which no name or email
// holds and PostgreSQL's text cannot: BAD_USER_INPUT, before anything is read, so even on a task
// the viewer cannot see.
func TestSearchTooLongOrWithANULIsBadInput(t *testing.T) {
	t.Parallel()
	longest := strings.Repeat("é", rules.MaxSearchLength) // 256 characters, 512 bytes
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_client")
		users := func(search string) error {
			_, err := w.svc.Users(t.Context(), v, rules.UserFilter{Search: search}, rules.PageArgs{})
			return err
		}
		assignable := func(task model.TaskID) func(string) error {
			return func(search string) error {
				_, err := w.svc.AssignableUsers(t.Context(), v, task, search, rules.ByID, rules.PageArgs{})
				return err
			}
		}
		for name, search := range map[string]func(string) error{
			"users":            users,
			"assignable users": assignable("tsk_open"),
			"assignable users of a task it cannot see": assignable("tsk_internal"),
		} {
			t.Run(name, func(t *testing.T) {
				wantBadInput(t, search(longest+"é"))
				wantBadInput(t, search("a\x00b"))
				if err := search(longest); err != nil && !isNotFound(err) {
					t.Errorf("a search of %d characters: %v, want it taken", rules.MaxSearchLength, err)
				}
			})
		}
	})
}

// A project's tasks are the visible tasks of that project.
func TestProjectTasks(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range []struct {
			name   string
			viewer model.UserID
			filter rules.TaskFilter
			want   []model.TaskID
		}{
			{"an agency member sees every task of the project", "usr_agent", rules.TaskFilter{}, tasks("tsk_internal", "tsk_open")},
			{"a client member does not see those in internal phases", "usr_client", rules.TaskFilter{}, tasks("tsk_open")},
			{"a filter on the same project changes nothing", "usr_agent", rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_site")},
				tasks("tsk_internal", "tsk_open")},
			{"a filter on another project finds none", "usr_agent", rules.TaskFilter{ProjectID: ptr[model.ProjectID]("prj_other")}, nil},
			{"a viewer that does not see the project finds none", "usr_outsider", rules.TaskFilter{}, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p, err := w.svc.ProjectTasks(t.Context(), w.viewer(t, tt.viewer), "prj_site", tt.filter, rules.PageArgs{})
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
