package rules_test

import (
	"testing"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// A change is delivered to a subscriber exactly when its viewer could read the task (DESIGN §4:
// visibility at delivery is the visibility of queries). store.Audience decides it for many
// subscribers in one statement; it must answer as each viewer's own scope does, for every viewer
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
		for _, task := range tasks {
			audience, err := st.Audience(t.Context(), task, hashes)
			if err != nil {
				t.Fatal(err)
			}
			for i, u := range users {
				v, err := w.svc.Authenticate(t.Context(), "token-"+string(u))
				if err != nil {
					t.Fatal(err)
				}
				_, err = w.svc.Task(t.Context(), v, task)
				sees := err == nil
				if got := audience[hashes[i]]; got.Sees != sees || got.Valid != v.IsAccessApproved {
					t.Errorf("%s and %s: Audience says %+v; the viewer's scope sees it: %v, approved: %v", u, task, got, sees, v.IsAccessApproved)
				}
			}
		}
		if _, err := st.RevokeTokens(t.Context(), "usr_agent"); err != nil {
			t.Fatal(err)
		}
		audience, err := st.Audience(t.Context(), "tsk_open", hashes)
		if err != nil {
			t.Fatal(err)
		}
		if got := audience[hashes[1]]; got.Valid || got.Sees {
			t.Errorf("a revoked token: %+v, want neither valid nor seeing", got)
		}
	})
}
