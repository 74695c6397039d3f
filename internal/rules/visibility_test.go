package rules_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §2: who sees what.

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := t.Context()

		t.Run("a token belongs to one user, the viewer, with its company's kind", func(t *testing.T) {
			for _, tt := range []struct {
				user model.UserID
				kind model.CompanyKind
			}{{"usr_agent", model.CompanyKindAgency}, {"usr_client", model.CompanyKindClient}, {"usr_bob", model.CompanyKindAgency}} {
				v, err := w.svc.Authenticate(ctx, "token-"+string(tt.user))
				if err != nil {
					t.Fatalf("authenticate %s: %v", tt.user, err)
				}
				if v.ID != tt.user || v.CompanyKind != tt.kind {
					t.Errorf("viewer = %s of a %s company, want %s of a %s company", v.ID, v.CompanyKind, tt.user, tt.kind)
				}
			}
		})
		t.Run("a missing token is UNAUTHENTICATED", func(t *testing.T) {
			_, err := w.svc.Authenticate(ctx, "")
			wantKind(t, err, auth.ErrUnauthenticated)
		})
		t.Run("an unknown token is UNAUTHENTICATED", func(t *testing.T) {
			_, err := w.svc.Authenticate(ctx, "token-usr_ghost")
			wantKind(t, err, auth.ErrUnauthenticated)
		})
		t.Run("a token is stored only as a hash: its hash is not a token", func(t *testing.T) {
			_, err := w.svc.Authenticate(ctx, auth.HashToken("token-usr_agent"))
			wantKind(t, err, auth.ErrUnauthenticated)
		})
		t.Run("a revoked token is UNAUTHENTICATED", func(t *testing.T) {
			if _, err := st.RevokeTokens(ctx, "usr_agent2"); err != nil {
				t.Fatal(err)
			}
			_, err := w.svc.Authenticate(ctx, "token-usr_agent2")
			wantKind(t, err, auth.ErrUnauthenticated)
		})
		t.Run("an unapproved user's token authenticates: FORBIDDEN comes after", func(t *testing.T) {
			v, err := w.svc.Authenticate(ctx, "token-usr_pending")
			if err != nil {
				t.Fatalf("authenticate: %v", err)
			}
			_, err = w.svc.Viewer(ctx, v)
			wantKind(t, err, rules.ErrForbidden)
		})
		t.Run("no viewer is UNAUTHENTICATED", func(t *testing.T) {
			_, err := w.svc.Viewer(ctx, nil)
			wantKind(t, err, auth.ErrUnauthenticated)
		})
	})
}

// A viewer whose isAccessApproved is false gets FORBIDDEN on everything, whether it exists for
// the viewer or not.
func TestUnapprovedViewerIsForbiddenEverything(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_pending")
		calls := map[string]func(ctx context.Context) error{
			"viewer":        func(ctx context.Context) error { _, err := w.svc.Viewer(ctx, v); return err },
			"task":          func(ctx context.Context) error { _, err := w.svc.Task(ctx, v, "tsk_open"); return err },
			"task of org_b": func(ctx context.Context) error { _, err := w.svc.Task(ctx, v, "tsk_b"); return err },
			"tasks": func(ctx context.Context) error {
				_, err := w.svc.Tasks(ctx, v, rules.TaskFilter{}, rules.PageArgs{})
				return err
			},
			"project tasks": func(ctx context.Context) error {
				_, err := w.svc.ProjectTasks(ctx, v, "prj_site", rules.TaskFilter{}, rules.PageArgs{})
				return err
			},
			"user": func(ctx context.Context) error { _, err := w.svc.User(ctx, v, "usr_pending"); return err },
			"users": func(ctx context.Context) error {
				_, err := w.svc.Users(ctx, v, rules.UserFilter{}, rules.PageArgs{})
				return err
			},
			"project":  func(ctx context.Context) error { _, err := w.svc.Project(ctx, v, "prj_site"); return err },
			"projects": func(ctx context.Context) error { _, err := w.svc.Projects(ctx, v, rules.PageArgs{}); return err },
			"project members": func(ctx context.Context) error {
				_, err := w.svc.ProjectMembers(ctx, v, "prj_site", rules.PageArgs{})
				return err
			},
			"node":      func(ctx context.Context) error { _, err := w.svc.Node(ctx, v, "tsk_open"); return err },
			"assignees": func(ctx context.Context) error { _, err := w.svc.Assignees(ctx, v, "tsk_open"); return err },
			"assignees of": func(ctx context.Context) error {
				_, err := w.svc.AssigneesOf(ctx, v, []model.TaskID{"tsk_open"})
				return err
			},
			"assignable users": func(ctx context.Context) error {
				_, err := w.svc.AssignableUsers(ctx, v, "tsk_open", "", rules.ByID, rules.PageArgs{})
				return err
			},
			"task events": func(ctx context.Context) error {
				_, err := w.svc.TaskEvents(ctx, v, "tsk_open", rules.PageArgs{})
				return err
			},
			"task data of": func(ctx context.Context) error {
				_, err := w.svc.TaskDataOf(ctx, v, []model.TaskID{"tsk_open"})
				return err
			},
			"phases": func(ctx context.Context) error {
				_, err := w.svc.PhasesOfProjects(ctx, v, []model.ProjectID{"prj_site"})
				return err
			},
			"companies": func(ctx context.Context) error {
				_, err := w.svc.CompaniesByID(ctx, v, []model.CompanyID{"cmp_agency"})
				return err
			},
			"organizations": func(ctx context.Context) error {
				_, err := w.svc.OrganizationsByID(ctx, v, []model.OrganizationID{"org_a"})
				return err
			},
			"tasks by id": func(ctx context.Context) error {
				_, err := w.svc.TasksByID(ctx, v, []model.TaskID{"tsk_open"})
				return err
			},
			"users by id": func(ctx context.Context) error {
				_, err := w.svc.UsersByID(ctx, v, []model.UserID{"usr_pending"})
				return err
			},
			"projects by id": func(ctx context.Context) error {
				_, err := w.svc.ProjectsByID(ctx, v, []model.ProjectID{"prj_site"})
				return err
			},
			"phases by id": func(ctx context.Context) error {
				_, err := w.svc.PhasesByID(ctx, v, []model.PhaseID{"phs_open"})
				return err
			},
			"events by id": func(ctx context.Context) error {
				_, err := w.svc.EventsByID(ctx, v, []model.EventID{"evt_nope"})
				return err
			},
			"task data by id": func(ctx context.Context) error {
				_, err := w.svc.TaskDataByID(ctx, v, []model.TaskDataID{"tdt_open"})
				return err
			},
			"subscribe": func(ctx context.Context) error {
				_, err := w.svc.SubscribeAssigneesChanged(ctx, v, nil, nil)
				return err
			},
			"assignUsers": func(ctx context.Context) error {
				_, err := w.svc.AssignUsers(ctx, v, "tsk_open", us("usr_pending"))
				return err
			},
			"setTaskAssignee": func(ctx context.Context) error {
				_, err := w.svc.SetTaskAssignee(ctx, v, "tsk_open", ptr[model.UserID]("usr_pending"))
				return err
			},
			"unassignUser": func(ctx context.Context) error {
				_, err := w.svc.UnassignUser(ctx, v, "tsk_open", "usr_pending")
				return err
			},
		}
		for name, call := range calls {
			t.Run(name, func(t *testing.T) { wantKind(t, call(t.Context()), rules.ErrForbidden) })
		}
		w.wantUnchanged(t, "tsk_open")
	})
}

func TestWhoSeesWhichTasks(t *testing.T) {
	t.Parallel()
	all := []model.TaskID{"tsk_b", "tsk_internal", "tsk_open", "tsk_other"}
	tests := []struct {
		name   string
		viewer model.UserID
		sees   []model.TaskID
	}{
		{"an org admin sees every task of its organization, and none of another", "usr_admin", tasks("tsk_internal", "tsk_open", "tsk_other")},
		{"an agency member sees the tasks of its projects, internal phases included", "usr_agent", tasks("tsk_internal", "tsk_open")},
		{"a client member does not see tasks in internal phases", "usr_client", tasks("tsk_open")},
		{"a member sees only the projects it is a member of", "usr_outsider", tasks("tsk_other")},
		{"a user of no project sees no task", "usr_clientout", nil},
		{"a viewer sees only its own organization", "usr_bob", tasks("tsk_b")},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := w.viewer(t, tt.viewer)
				page, err := w.svc.Tasks(t.Context(), v, rules.TaskFilter{}, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.sees, taskIDs(page.Items), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("tasks (-want +got):\n%s", diff)
				}
				if n, err := page.Count(t.Context()); err != nil || n != len(tt.sees) {
					t.Errorf("totalCount = %d, %v; want %d", n, err, len(tt.sees))
				}
				for _, id := range all {
					_, err := w.svc.Task(t.Context(), v, id)
					if slices.Contains(tt.sees, id) {
						if err != nil {
							t.Errorf("task %s: %v, want it visible", id, err)
						}
						continue
					}
					// NOT_FOUND, never FORBIDDEN: existence must not leak.
					wantKind(t, err, rules.ErrNotFound)
					if n, err := w.svc.Node(t.Context(), v, model.NodeID(id)); !isNotFound(err) {
						t.Errorf("node %s = %v, %v; want NOT_FOUND", id, n, err)
					}
					if _, err := w.svc.Assignees(t.Context(), v, id); !isNotFound(err) {
						t.Errorf("assignees of %s: err = %v, want NOT_FOUND", id, err)
					}
				}
				m, err := w.svc.TasksByID(t.Context(), v, all)
				if err != nil {
					t.Fatal(err)
				}
				var batch []model.TaskID
				for id := range m {
					batch = append(batch, id)
				}
				if diff := cmp.Diff(tt.sees, sortedTasks(batch), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("TasksByID (-want +got):\n%s", diff)
				}
			})
		}
	})
}

func TestWhoSeesWhichProjectsAndPhases(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		viewer   model.UserID
		projects []model.ProjectID
		phases   []model.PhaseID
	}{
		{"an org admin sees every project of its organization", "usr_admin",
			[]model.ProjectID{"prj_other", "prj_site"}, []model.PhaseID{"phs_internal", "phs_open", "phs_other"}},
		{"a member sees the projects it is a member of, internal phases included for the agency", "usr_agent",
			[]model.ProjectID{"prj_site"}, []model.PhaseID{"phs_internal", "phs_open"}},
		{"a client member does not see internal phases", "usr_client",
			[]model.ProjectID{"prj_site"}, []model.PhaseID{"phs_open"}},
		{"a user of no project sees no project", "usr_clientout", nil, nil},
		{"a viewer sees only its own organization", "usr_bob", []model.ProjectID{"prj_b"}, []model.PhaseID{"phs_b"}},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				v := w.viewer(t, tt.viewer)
				page, err := w.svc.Projects(t.Context(), v, rules.PageArgs{})
				if err != nil {
					t.Fatal(err)
				}
				var projects []model.ProjectID
				for _, p := range page.Items {
					projects = append(projects, p.ID)
				}
				if diff := cmp.Diff(tt.projects, projects, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("projects (-want +got):\n%s", diff)
				}
				for _, id := range []model.ProjectID{"prj_site", "prj_other", "prj_b"} {
					_, err := w.svc.Project(t.Context(), v, id)
					if slices.Contains(tt.projects, id) != (err == nil) {
						t.Errorf("project %s: err = %v", id, err)
					}
					if err != nil {
						wantKind(t, err, rules.ErrNotFound)
					}
				}
				m, err := w.svc.PhasesOfProjects(t.Context(), v, []model.ProjectID{"prj_site", "prj_other", "prj_b"})
				if err != nil {
					t.Fatal(err)
				}
				var phases []model.PhaseID
				for _, ps := range m {
					for _, p := range ps {
						phases = append(phases, p.ID)
					}
				}
				slices.Sort(phases)
				if diff := cmp.Diff(tt.phases, phases, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("phases (-want +got):\n%s", diff)
				}
				for _, id := range []model.PhaseID{"phs_internal", "phs_open", "phs_other", "phs_b"} {
					_, err := w.svc.Node(t.Context(), v, model.NodeID(id))
					if slices.Contains(tt.phases, id) != (err == nil) {
						t.Errorf("node %s: err = %v", id, err)
					}
					if err != nil {
						wantKind(t, err, rules.ErrNotFound)
					}
				}
			})
		}
	})
}

// Users of the viewer's organization are visible to it, whatever its projects; no other user is.
func TestUsersOfTheViewersOrganizationAreVisible(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		v := w.viewer(t, "usr_clientout")
		for _, id := range us("usr_admin", "usr_agent", "usr_outsider", "usr_pending", "usr_clientout") {
			if _, err := w.svc.User(t.Context(), v, id); err != nil {
				t.Errorf("user %s: %v", id, err)
			}
		}
		_, err := w.svc.User(t.Context(), v, "usr_bob")
		wantKind(t, err, rules.ErrNotFound)
		_, err = w.svc.User(t.Context(), v, ghost)
		wantKind(t, err, rules.ErrNotFound)
		me, err := w.svc.Viewer(t.Context(), v)
		if err != nil || me.ID != "usr_clientout" {
			t.Errorf("viewer = %v, %v; want usr_clientout", me, err)
		}
	})
}

// A viewer may change the assignees of any task it can see, org admin or member, agency or client.
func TestAnyViewerThatSeesATaskMayChangeItsAssignees(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		for _, viewer := range []model.UserID{"usr_admin", "usr_agent", "usr_client"} {
			if _, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, viewer), "tsk_open", ptr[model.UserID]("usr_agent2")); err != nil {
				t.Errorf("%s sets the assignee of tsk_open: %v", viewer, err)
			}
			if _, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, viewer), "tsk_open", nil); err != nil {
				t.Errorf("%s clears the assignee of tsk_open: %v", viewer, err)
			}
		}
		if _, err := w.svc.AssignUsers(t.Context(), w.viewer(t, "usr_bob"), "tsk_b", us("usr_bob")); err != nil {
			t.Errorf("usr_bob assigns itself to tsk_b: %v", err)
		}
		w.wantAssignees(t, "tsk_b", "usr_bob")
	})
}

// An event is visible exactly when its task is.
func TestEventsAreVisibleExactlyWhenTheirTaskIs(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		w.assign(t, "tsk_internal", "usr_agent")
		w.assign(t, "tsk_open", "usr_client")
		internal, open := w.eventOf(t, "tsk_internal"), w.eventOf(t, "tsk_open")
		for _, tt := range []struct {
			viewer model.UserID
			sees   []model.EventID
		}{
			{"usr_admin", []model.EventID{internal, open}},
			{"usr_agent", []model.EventID{internal, open}},
			{"usr_client", []model.EventID{open}},
			{"usr_outsider", nil},
			{"usr_bob", nil},
		} {
			v := w.viewer(t, tt.viewer)
			for _, id := range []model.EventID{internal, open} {
				_, err := w.svc.Node(t.Context(), v, model.NodeID(id))
				if slices.Contains(tt.sees, id) {
					if err != nil {
						t.Errorf("%s: node %s: %v", tt.viewer, id, err)
					}
					continue
				}
				if !isNotFound(err) {
					t.Errorf("%s: node %s: err = %v, want NOT_FOUND", tt.viewer, id, err)
				}
			}
		}
	})
}

// Every read that takes ids applies the viewer's scope itself, in SQL (visibility.go), so no caller
// can read across organizations, into a project its viewer is not a member of, or into an internal
// phase its viewer is a client member of, whatever ids it passes. Each read method of the Service
// that takes ids is called with such ids and gets nothing: NOT_FOUND from a single read; from a
// list, no item and a totalCount of 0; from a batch read, a map without them. The same call by a
// viewer that sees those ids must find something first, so that a leak would show.
//
// The methods are the table readsOfIDs below, one row per way of passing ids: a new read method
// that takes ids must be added to it.
func TestReadsOfForeignOrHiddenIDsGetNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		bus := pubsub.NewLocal() // so that the service takes subscriptions
		t.Cleanup(func() { _ = bus.Close() })
		w := newWorld(t, st, rules.WithBus(bus))
		// Rows behind the ids: tsk_b and tsk_internal each get an assignee and an event, besides
		// the data entry and the project members the world gives them.
		if _, err := w.svc.AssignUsers(t.Context(), w.viewer(t, "usr_bob"), "tsk_b", us("usr_bob")); err != nil {
			t.Fatal(err)
		}
		w.assign(t, "tsk_internal", "usr_agent")
		orgB := readIDs{organization: "org_b", company: "cmp_b", user: "usr_bob", project: "prj_b", phase: "phs_b",
			task: "tsk_b", event: w.eventOf(t, "tsk_b"), data: "tdt_b", assignee: "usr_bob"}
		// Every user and company of its own organization is visible to a viewer (DESIGN §2): within
		// one organization, only projects, phases and what is in them can be hidden.
		hidden := readIDs{project: "prj_other", phase: "phs_internal", task: "tsk_internal",
			event: w.eventOf(t, "tsk_internal"), data: "tdt_internal", assignee: "usr_agent"}

		for _, c := range []struct {
			name   string
			viewer model.UserID
			seer   model.UserID // a viewer that sees every id of the case
			ids    readIDs
		}{
			{"an org admin of org_a reads the ids of org_b", "usr_admin", "usr_bob", orgB},
			{"a client member of org_a reads the ids of org_b", "usr_client", "usr_bob", orgB},
			{"a client member reads the ids in an internal phase of its project, and of a project it is not a member of",
				"usr_client", "usr_admin", hidden},
		} {
			t.Run(c.name, func(t *testing.T) {
				v, seer := w.viewer(t, c.viewer), w.viewer(t, c.seer)
				for _, r := range readsOfIDs(w) {
					id := c.ids.of(r.takes)
					if id == "" {
						continue // nothing of that type can be hidden in this case
					}
					t.Run(strings.TrimSpace(r.method+" "+r.detail)+" "+id, func(t *testing.T) {
						got, err := r.call(t.Context(), seer, c.ids)
						if err != nil || len(got) == 0 {
							t.Fatalf("%s, who sees %s, reads %v, %v: want something, or a leak could not show", c.seer, id, got, err)
						}
						got, err = r.call(t.Context(), v, c.ids)
						switch r.gets {
						case notFound:
							if !isNotFound(err) || len(got) != 0 {
								t.Errorf("%s reads %v, %v; want NOT_FOUND", c.viewer, got, err)
							}
						case nothing:
							if err != nil || len(got) != 0 {
								t.Errorf("%s reads %v, %v; want nothing", c.viewer, got, err)
							}
						}
					})
				}
			})
		}
	})
}

// The table of TestReadsOfForeignOrHiddenIDsGetNothing holds every read method that takes ids:
// a new one fails this test until it is added there.
func TestEveryReadThatTakesIDsIsCalledWithForeignOrHiddenIDs(t *testing.T) {
	t.Parallel()
	tabled := map[string]bool{}
	for _, r := range readsOfIDs(nil) {
		tabled[r.method] = true
	}
	svc := reflect.TypeFor[*rules.Service]()
	for i := range svc.NumMethod() {
		m := svc.Method(i)
		if m.Type.NumOut() > 0 && (m.Type.Out(0) == reflect.TypeFor[*rules.Changed]() || m.Type.Out(0) == reflect.TypeFor[[]*rules.Changed]()) {
			// A mutation: an invisible task is NOT_FOUND before anything is read
			// (TestInvisibleTaskIsNotFoundBeforeAnyUserIsLookedAt, TestBulkInvisibleTaskIsNotFoundAndChangesNothing).
			continue
		}
		if strings.Contains(m.Name, "Webhook") {
			// Org admins' only: TestWebhooksOfAnotherOrganizationDoNotExist.
			continue
		}
		for j := 1; j < m.Type.NumIn(); j++ { // In(0) is the receiver
			if takesIDs(m.Type.In(j)) && !tabled[m.Name] {
				t.Errorf("%s takes ids (%s) but readsOfIDs does not call it: add it to the table", m.Name, m.Type.In(j))
				break
			}
		}
	}
}

// takesIDs tells whether a parameter carries ids: a typed id of the model, a list of them, or a
// filter.
func takesIDs(p reflect.Type) bool {
	for p.Kind() == reflect.Slice || p.Kind() == reflect.Pointer {
		p = p.Elem()
	}
	if p == reflect.TypeFor[rules.TaskFilter]() || p == reflect.TypeFor[rules.UserFilter]() {
		return true
	}
	return p.PkgPath() == reflect.TypeFor[model.TaskID]().PkgPath() && strings.HasSuffix(p.Name(), "ID")
}

// readIDs are the ids one case reads, one of each type, "" where the case has none.
type readIDs struct {
	organization model.OrganizationID
	company      model.CompanyID
	user         model.UserID
	project      model.ProjectID
	phase        model.PhaseID
	task         model.TaskID
	event        model.EventID
	data         model.TaskDataID
	// assignee is a user assigned only to tasks the viewer cannot see (TaskFilter.AssigneeID).
	assignee model.UserID
}

// idKind is the type of id a read takes.
type idKind int

const (
	anOrganization idKind = iota
	aCompany
	aUser
	aProject
	aPhase
	aTask
	anEvent
	aTaskData
	anAssignee
)

// of is the case's id of that kind.
func (x readIDs) of(k idKind) string {
	return [...]string{
		anOrganization: string(x.organization),
		aCompany:       string(x.company),
		aUser:          string(x.user),
		aProject:       string(x.project),
		aPhase:         string(x.phase),
		aTask:          string(x.task),
		anEvent:        string(x.event),
		aTaskData:      string(x.data),
		anAssignee:     string(x.assignee),
	}[k]
}

// What a read gives back for ids its viewer cannot see.
const (
	notFound = "NOT_FOUND" // a single read
	nothing  = "nothing"   // a list (no item, totalCount 0) or a batch read (a map without them)
)

// readOfIDs is one read method of the Service, called with the ids of one kind.
type readOfIDs struct {
	method string
	detail string // how it is called, when the method is in the table more than once
	takes  idKind
	gets   string
	// call returns the ids of what the read gave back.
	call func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error)
}

// readsOfIDs is every read method of the Service that takes ids. A new read method that takes ids
// must be added here (TestEveryReadThatTakesIDsIsCalledWithForeignOrHiddenIDs checks it).
func readsOfIDs(w *world) []readOfIDs {
	all := rules.PageArgs{}
	return []readOfIDs{
		{"Task", "", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return found(w.svc.Task(ctx, v, x.task))
		}},
		{"TaskWith", "with its relations", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			t, err := w.svc.TaskWith(ctx, v, x.task, rules.Relations{Phase: true, Assignees: true})
			ids, err := found(t, err)
			return append(ids, relatedIDs(t)...), err
		}},
		{"TasksByID", "", aTask, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.TasksByID(ctx, v, []model.TaskID{x.task}))
		}},
		{"Assignees", "", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return usersFound(w.svc.Assignees(ctx, v, x.task))
		}},
		{"TaskAssignees", "", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			_, users, err := w.svc.TaskAssignees(ctx, v, x.task)
			return usersFound(users, err)
		}},
		{"AssigneesOf", "", aTask, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.AssigneesOf(ctx, v, []model.TaskID{x.task}))
		}},
		{"TaskDataOf", "", aTask, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.TaskDataOf(ctx, v, []model.TaskID{x.task}))
		}},
		{"TaskEvents", "", aTask, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.TaskEvents(ctx, v, x.task, all)
			return listed(ctx, p, err)
		}},
		{"AssignableUsers", "", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.AssignableUsers(ctx, v, x.task, "", rules.ByID, all)
			if err != nil {
				return nil, err
			}
			return listed(ctx, p.Page, err)
		}},
		{"Tasks", "filter phaseId", aPhase, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.Tasks(ctx, v, rules.TaskFilter{PhaseID: &x.phase}, all)
			return listed(ctx, p, err)
		}},
		{"PhasesByID", "", aPhase, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.PhasesByID(ctx, v, []model.PhaseID{x.phase}))
		}},
		{"Project", "", aProject, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return found(w.svc.Project(ctx, v, x.project))
		}},
		{"ProjectsByID", "", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.ProjectsByID(ctx, v, []model.ProjectID{x.project}))
		}},
		{"PhasesOfProjects", "", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.PhasesOfProjects(ctx, v, []model.ProjectID{x.project}))
		}},
		{"ProjectMembers", "", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.ProjectMembers(ctx, v, x.project, all)
			return listed(ctx, p, err)
		}},
		{"ProjectTasks", "", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.ProjectTasks(ctx, v, x.project, rules.TaskFilter{}, all)
			return listed(ctx, p, err)
		}},
		{"ProjectTasksWith", "with their relations", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.ProjectTasksWith(ctx, v, x.project, rules.TaskFilter{}, all, rules.Relations{Phase: true, Assignees: true})
			ids, err := listed(ctx, p, err)
			if p != nil {
				ids = append(ids, relatedIDs(p.Items...)...)
			}
			return ids, err
		}},
		{"Tasks", "filter projectId", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.Tasks(ctx, v, rules.TaskFilter{ProjectID: &x.project}, all)
			return listed(ctx, p, err)
		}},
		{"TasksWith", "filter projectId, with their relations", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.TasksWith(ctx, v, rules.TaskFilter{ProjectID: &x.project}, all, rules.Relations{Phase: true, Assignees: true})
			ids, err := listed(ctx, p, err)
			if p != nil {
				ids = append(ids, relatedIDs(p.Items...)...)
			}
			return ids, err
		}},
		{"Users", "filter projectId", aProject, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.Users(ctx, v, rules.UserFilter{ProjectID: &x.project}, all)
			return listed(ctx, p, err)
		}},
		{"Tasks", "filter assigneeId", anAssignee, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.Tasks(ctx, v, rules.TaskFilter{AssigneeID: &x.assignee}, all)
			return listed(ctx, p, err)
		}},
		{"User", "", aUser, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return found(w.svc.User(ctx, v, x.user))
		}},
		{"UsersByID", "", aUser, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.UsersByID(ctx, v, []model.UserID{x.user}))
		}},
		{"OpenAssignedCounts", "", aUser, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.OpenAssignedCounts(ctx, v, []model.UserID{x.user}))
		}},
		{"CompaniesByID", "", aCompany, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.CompaniesByID(ctx, v, []model.CompanyID{x.company}))
		}},
		{"Users", "filter companyId", aCompany, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			p, err := w.svc.Users(ctx, v, rules.UserFilter{CompanyID: &x.company}, all)
			return listed(ctx, p, err)
		}},
		{"OrganizationsByID", "", anOrganization, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.OrganizationsByID(ctx, v, []model.OrganizationID{x.organization}))
		}},
		{"EventsByID", "", anEvent, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.EventsByID(ctx, v, []model.EventID{x.event}))
		}},
		{"TaskDataByID", "", aTaskData, nothing, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return keys(w.svc.TaskDataByID(ctx, v, []model.TaskDataID{x.data}))
		}},
		{"SubscribeAssigneesChanged", "taskId", aTask, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return subscribed(ctx, w, v, &x.task, nil)
		}},
		{"SubscribeAssigneesChanged", "projectId", aProject, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
			return subscribed(ctx, w, v, nil, &x.project)
		}},
		nodeOf(w, anOrganization), nodeOf(w, aCompany), nodeOf(w, aUser), nodeOf(w, aProject),
		nodeOf(w, aPhase), nodeOf(w, aTask), nodeOf(w, anEvent), nodeOf(w, aTaskData),
	}
}

// nodeOf is Node called with the id of one kind.
func nodeOf(w *world, k idKind) readOfIDs {
	return readOfIDs{"Node", "", k, notFound, func(ctx context.Context, v *model.Viewer, x readIDs) ([]string, error) {
		return found(w.svc.Node(ctx, v, model.NodeID(x.of(k))))
	}}
}

// subscribed is what subscribing gave back: a subscription, ended at once.
func subscribed(ctx context.Context, w *world, v *model.Viewer, task *model.TaskID, project *model.ProjectID) ([]string, error) {
	ctx, end := context.WithCancel(ctx)
	defer end()
	if _, err := w.svc.SubscribeAssigneesChanged(ctx, v, task, project); err != nil {
		return nil, err
	}
	return []string{"a subscription"}, nil
}

// found is what a single read gave back: the id of the object it found.
func found(n model.Node, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	return []string{nodeID(n)}, nil
}

// usersFound is what a read of a list of users gave back: their ids.
func usersFound(users []*model.User, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		out = append(out, string(u.ID))
	}
	return out, nil
}

// keys is what a batch read gave back: the ids it has an entry for.
func keys[K ~string, V any](m map[K]V, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out, nil
}

// listed is what a page of a list gave back: the ids of its items, and its totalCount unless 0.
func listed[T any, PT interface {
	*T
	model.Node
}](ctx context.Context, p *rules.Page[T], err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	var out []string
	for _, item := range p.Items {
		out = append(out, nodeID(PT(item)))
	}
	n, err := p.Count(ctx)
	if err != nil {
		return nil, err
	}
	if n != 0 {
		out = append(out, fmt.Sprintf("totalCount %d", n))
	}
	return out, nil
}

func isNotFound(err error) bool {
	return err != nil && errors.Is(err, rules.ErrNotFound) && !errors.Is(err, rules.ErrForbidden)
}

func taskIDs(tasks []*model.Task) []model.TaskID {
	var out []model.TaskID
	for _, t := range tasks {
		out = append(out, t.ID)
	}
	return out
}

func tasks(ids ...model.TaskID) []model.TaskID { return ids }

func sortedTasks(ids []model.TaskID) []model.TaskID {
	s := slices.Clone(ids)
	slices.Sort(s)
	return s
}

// relatedIDs lists the ids of what was read along with tasks: their phases and assignees.
func relatedIDs(tasks ...*model.Task) []string {
	var ids []string
	for _, t := range tasks {
		if t == nil {
			continue
		}
		if p, err := t.Phase(); err == nil {
			ids = append(ids, string(p.ID))
		}
		users, _ := t.Assignees()
		for _, u := range users {
			ids = append(ids, string(u.ID))
		}
	}
	return ids
}
