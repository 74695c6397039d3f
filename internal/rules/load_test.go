package rules_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// DESIGN §10, the load-aware picker: each assignable user's openAssignedCount is the number of
// tasks assigned to it whose status is OPEN, PROCESSING or ASSIGNED_TO_AGENT, counted over what the
// viewer can see; orderBy LOAD lists the least loaded first, then by name, then by id.

// loadWorld adds to the world, in prj_site unless said otherwise:
//
//	tsk_proc   phs_open      PROCESSING         usr_agent
//	tsk_agent  phs_internal  ASSIGNED_TO_AGENT  usr_agent, usr_agent2
//	tsk_done   phs_open      COMPLETED          usr_agent, usr_client  (not open: never counted)
//	tsk_far    prj_other     OPEN               usr_agent
//
// and assigns usr_agent2 and usr_client to tsk_open (OPEN).
func loadWorld(t *testing.T, st *store.Store) *world {
	w := newWorld(t, st)
	w.load(t, &seed.World{Tasks: []seed.Task{
		{ID: "tsk_proc", ProjectID: "prj_site", PhaseID: "phs_open", Label: "P", Type: "CALL_ANALYSIS", Status: "PROCESSING", AssigneeIDs: []string{"usr_agent"}},
		{ID: "tsk_agent", ProjectID: "prj_site", PhaseID: "phs_internal", Label: "A", Type: "CALL_ANALYSIS", Status: "ASSIGNED_TO_AGENT", AssigneeIDs: []string{"usr_agent", "usr_agent2"}},
		{ID: "tsk_done", ProjectID: "prj_site", PhaseID: "phs_open", Label: "D", Type: "CALL_ANALYSIS", Status: "COMPLETED", AssigneeIDs: []string{"usr_agent", "usr_client"}},
		{ID: "tsk_far", ProjectID: "prj_other", PhaseID: "phs_other", Label: "F", Type: "CALL_ANALYSIS", Status: "OPEN", AssigneeIDs: []string{"usr_agent"}},
	}})
	w.assign(t, "tsk_open", "usr_agent2", "usr_client")
	return w
}

// loaded is a user of a picker's page and its count.
type loaded struct {
	ID   model.UserID
	Open int
}

// picker walks a task's assignable users in an order, one page of first at a time, and checks
// that every count is what OpenAssignedCounts says for the same viewer.
func (w *world) picker(t *testing.T, viewer model.UserID, task model.TaskID, order rules.UserOrder, first int) []loaded {
	t.Helper()
	v := w.viewer(t, viewer)
	var (
		out   []loaded
		after *rules.Position
	)
	for range 20 {
		p, err := w.svc.AssignableUsers(t.Context(), v, task, "", order, rules.PageArgs{First: &first, After: after})
		if err != nil {
			t.Fatalf("assignable users of %s for %s: %v", task, viewer, err)
		}
		var ids []model.UserID
		for _, u := range p.Items {
			out = append(out, loaded{u.ID, p.OpenAssigned[u.ID]})
			ids = append(ids, u.ID)
		}
		counts, err := w.svc.OpenAssignedCounts(t.Context(), v, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range p.Items {
			if counts[u.ID] != p.OpenAssigned[u.ID] {
				t.Errorf("%s: the page counts %d, OpenAssignedCounts %d", u.ID, p.OpenAssigned[u.ID], counts[u.ID])
			}
		}
		if !p.HasNext {
			return out
		}
		pos := p.Position(p.Items[len(p.Items)-1])
		after = &pos
	}
	t.Fatal("more than 20 pages")
	return nil
}

func TestOpenAssignedCountIsOverWhatTheViewerSees(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := loadWorld(t, st)
		for _, tt := range []struct {
			name   string
			viewer model.UserID
			want   []loaded
		}{
			{"an org admin counts every open task of the organization", "usr_admin",
				[]loaded{{"usr_pending", 0}, {"usr_client", 1}, {"usr_agent2", 2}, {"usr_agent", 3}}},
			{"an agency member counts the open tasks of its projects, internal phases too", "usr_agent",
				[]loaded{{"usr_pending", 0}, {"usr_client", 1}, {"usr_agent", 2}, {"usr_agent2", 2}}},
			{"a client member does not count tasks in internal phases: ties go by name", "usr_client",
				[]loaded{{"usr_pending", 0}, {"usr_agent", 1}, {"usr_agent2", 1}, {"usr_client", 1}}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				for _, first := range []int{1, 3, 50} {
					if diff := cmp.Diff(tt.want, w.picker(t, tt.viewer, "tsk_open", rules.ByLoad, first)); diff != "" {
						t.Errorf("by load, pages of %d (-want +got):\n%s", first, diff)
					}
				}
			})
		}
	})
}

// NAME orders by name (Ada Lovelace, Alan Turing, Claire Dupont, Una Pending, Zoe Zed), no order
// by id (usr_aaa, Zoe Zed, first), and an internal phase lists the agency's members only, each
// order paging the same.
func TestAssignableUsersOrders(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := loadWorld(t, st)
		w.load(t, &seed.World{Users: []seed.User{{ID: "usr_aaa", OrganizationID: "org_a", CompanyID: "cmp_client",
			FirstName: "Zoe", LastName: "Zed", Email: "zoe@client.test"}}})
		if err := st.Create(t.Context(), &[]store.ProjectMember{{ProjectID: "prj_site", UserID: "usr_aaa"}}); err != nil {
			t.Fatal(err)
		}
		byName := []loaded{{"usr_agent", 2}, {"usr_agent2", 2}, {"usr_client", 1}, {"usr_pending", 0}, {"usr_aaa", 0}}
		byID := append([]loaded{{"usr_aaa", 0}}, byName[:4]...)
		for _, first := range []int{1, 2, 50} {
			if diff := cmp.Diff(byName, w.picker(t, "usr_agent", "tsk_open", rules.ByName, first)); diff != "" {
				t.Errorf("by name, pages of %d (-want +got):\n%s", first, diff)
			}
			if diff := cmp.Diff(byID, w.picker(t, "usr_agent", "tsk_open", rules.ByID, first)); diff != "" {
				t.Errorf("by id, pages of %d (-want +got):\n%s", first, diff)
			}
			internal := []loaded{{"usr_pending", 0}, {"usr_agent", 2}, {"usr_agent2", 2}} // not usr_client nor usr_aaa
			if diff := cmp.Diff(internal, w.picker(t, "usr_agent", "tsk_internal", rules.ByLoad, first)); diff != "" {
				t.Errorf("an internal phase by load, pages of %d (-want +got):\n%s", first, diff)
			}
		}
	})
}
