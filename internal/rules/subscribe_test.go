package rules_test

import (
	"testing"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// A change is delivered to a subscriber exactly when its viewer could read the task (DESIGN §4:
// visibility at delivery is the visibility of queries). store.AudienceOf decides it for many
// subscribers and tasks in one statement; it must answer as each viewer's own scope does, for every viewer
// and task of the world, and a revoked token or an unapproved user's no longer counts as valid.
func TestAudienceIsWhatEachViewersScopeSees(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		w := newWorld(t, st)
		users := []model.UserID{"usr_admin", "usr_agent", "usr_agent2", "usr_client", "usr_clientout", "usr_outsider", "usr_pending", "usr_bob"}
		tasks := []model.TaskID{"tsk_internal", "tsk_open", "tsk_other", "tsk_b"}
		hashes := make([]string, len(users))
		for i, u := range users {
			hashes[i] = auth.HashToken("token-" + string(u))
		}
		audience, err := st.AudienceOf(t.Context(), tasks, hashes)
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range users {
			v, err := w.svc.Authenticate(t.Context(), "token-"+string(u))
			if err != nil {
				t.Fatal(err)
			}
			if got := audience.Valid[hashes[i]]; got != v.IsAccessApproved {
				t.Errorf("%s: valid %v, approved %v", u, got, v.IsAccessApproved)
			}
			for _, task := range tasks {
				_, err = w.svc.Task(t.Context(), v, task)
				if got, want := audience.Sees[task][hashes[i]], err == nil; got != want {
					t.Errorf("%s and %s: AudienceOf says it sees: %v; the viewer's scope: %v", u, task, got, want)
				}
			}
		}
		if _, err := st.RevokeTokens(t.Context(), "usr_agent"); err != nil {
			t.Fatal(err)
		}
		audience, err = st.AudienceOf(t.Context(), []model.TaskID{"tsk_open"}, hashes)
		if err != nil {
			t.Fatal(err)
		}
		if audience.Valid[hashes[1]] || audience.Sees["tsk_open"][hashes[1]] {
			t.Errorf("a revoked token: %+v, want neither valid nor seeing", audience)
		}
	})
}
