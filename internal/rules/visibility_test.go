package rules_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/auth"
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
		task := w.task(t, "tsk_open")
		project := &model.Project{ID: "prj_site", OrganizationID: "org_a"}
		calls := map[string]func(ctx context.Context) error{
			"viewer":        func(ctx context.Context) error { _, err := w.svc.Viewer(ctx, v); return err },
			"task":          func(ctx context.Context) error { _, err := w.svc.Task(ctx, v, "tsk_open"); return err },
			"task of org_b": func(ctx context.Context) error { _, err := w.svc.Task(ctx, v, "tsk_b"); return err },
			"tasks":         func(ctx context.Context) error { _, err := w.svc.Tasks(ctx, v, nil, rules.PageArgs{}); return err },
			"project tasks": func(ctx context.Context) error {
				_, err := w.svc.ProjectTasks(ctx, v, project, nil, rules.PageArgs{})
				return err
			},
			"user":     func(ctx context.Context) error { _, err := w.svc.User(ctx, v, "usr_pending"); return err },
			"users":    func(ctx context.Context) error { _, err := w.svc.Users(ctx, v, nil, rules.PageArgs{}); return err },
			"project":  func(ctx context.Context) error { _, err := w.svc.Project(ctx, v, "prj_site"); return err },
			"projects": func(ctx context.Context) error { _, err := w.svc.Projects(ctx, v, rules.PageArgs{}); return err },
			"project members": func(ctx context.Context) error {
				_, err := w.svc.ProjectMembers(ctx, v, project, rules.PageArgs{})
				return err
			},
			"node":      func(ctx context.Context) error { _, err := w.svc.Node(ctx, v, "tsk_open"); return err },
			"assignees": func(ctx context.Context) error { _, err := w.svc.Assignees(ctx, v, "tsk_open"); return err },
			"assignees of": func(ctx context.Context) error {
				_, err := w.svc.AssigneesOf(ctx, v, []model.TaskID{"tsk_open"})
				return err
			},
			"assignable users": func(ctx context.Context) error {
				_, err := w.svc.AssignableUsers(ctx, v, task, nil, rules.PageArgs{})
				return err
			},
			"task events": func(ctx context.Context) error {
				_, err := w.svc.TaskEvents(ctx, v, task, rules.PageArgs{})
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
			"assignUsers": func(ctx context.Context) error {
				_, err := w.svc.AssignUsers(ctx, v, "tsk_open", ids("usr_pending"))
				return err
			},
			"setTaskAssignee": func(ctx context.Context) error {
				_, err := w.svc.SetTaskAssignee(ctx, v, "tsk_open", ptr("usr_pending"))
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
				page, err := w.svc.Tasks(t.Context(), v, nil, rules.PageArgs{})
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
					_, err := w.svc.Task(t.Context(), v, string(id))
					if slices.Contains(tt.sees, id) {
						if err != nil {
							t.Errorf("task %s: %v, want it visible", id, err)
						}
						continue
					}
					// NOT_FOUND, never FORBIDDEN: existence must not leak.
					wantKind(t, err, rules.ErrNotFound)
					if n, err := w.svc.Node(t.Context(), v, string(id)); !isNotFound(err) {
						t.Errorf("node %s = %v, %v; want NOT_FOUND", id, n, err)
					}
					if _, err := w.svc.Assignees(t.Context(), v, string(id)); !isNotFound(err) {
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
					_, err := w.svc.Project(t.Context(), v, string(id))
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
					_, err := w.svc.Node(t.Context(), v, string(id))
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
		for _, id := range []string{"usr_admin", "usr_agent", "usr_outsider", "usr_pending", "usr_clientout"} {
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
			if _, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, viewer), "tsk_open", ptr("usr_agent2")); err != nil {
				t.Errorf("%s sets the assignee of tsk_open: %v", viewer, err)
			}
			if _, err := w.svc.SetTaskAssignee(t.Context(), w.viewer(t, viewer), "tsk_open", nil); err != nil {
				t.Errorf("%s clears the assignee of tsk_open: %v", viewer, err)
			}
		}
		if _, err := w.svc.AssignUsers(t.Context(), w.viewer(t, "usr_bob"), "tsk_b", ids("usr_bob")); err != nil {
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
		eventOf := func(task model.TaskID) string {
			page, err := w.svc.TaskEvents(t.Context(), w.admin(t), w.task(t, task), rules.PageArgs{})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("events of %s: %v, %v", task, page, err)
			}
			return string(page.Items[0].ID)
		}
		internal, open := eventOf("tsk_internal"), eventOf("tsk_open")
		for _, tt := range []struct {
			viewer model.UserID
			sees   []string
		}{
			{"usr_admin", []string{internal, open}},
			{"usr_agent", []string{internal, open}},
			{"usr_client", []string{open}},
			{"usr_outsider", nil},
			{"usr_bob", nil},
		} {
			v := w.viewer(t, tt.viewer)
			for _, id := range []string{internal, open} {
				_, err := w.svc.Node(t.Context(), v, id)
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
