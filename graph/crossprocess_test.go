package graph_test

import (
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §4 across processes: the servers of one PostgreSQL database hear each other's changes
// through LISTEN/NOTIFY. Each server here has its own store and its own listening connection, as
// a process has.

// openStore opens a store of its own on url.
func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A change made through one server reaches the subscribers of another.
func TestAChangeReachesTheSubscribersOfAnotherServer(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	a := live(t, openStore(t, url), url, graph.Options{})
	b := liveServer(t, openStore(t, url), url, graph.Options{})
	ws := b.connect(tokAda)
	ws.subscribe("1", changes, map[string]any{"project": "prj_site"})
	b.subscribed(1)
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	ws.wantChange("1", "tsk_03logo", "usr_ada", "", "usr_admin")
	b.mutate(tokAdmin, `unassignUser(taskId: "tsk_03logo", userId: "usr_ada")`)
	ws.wantChange("1", "tsk_03logo", "", "usr_ada", "usr_admin")
}

// The notification is sent inside the change's transaction: a change whose COMMIT fails sends
// nothing. (A deferred constraint trigger refuses Eve's assignment at COMMIT, after the
// notification was sent.)
func TestAChangeThatFailsAtCommitSendsNothing(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	st := openStore(t, url)
	a := live(t, st, url, graph.Options{})
	execSQL(t, st, `CREATE FUNCTION refuse_eve() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.user_id = 'usr_eve' THEN RAISE EXCEPTION 'no'; END IF; RETURN NEW; END $$`)
	execSQL(t, st, `CREATE CONSTRAINT TRIGGER refuse_eve AFTER INSERT ON task_assignees
		DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_eve()`)
	ws := a.connect(tokAdmin)
	ws.subscribe("1", changes, nil)
	a.subscribed(1)
	r := a.post(tokAdmin, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_eve"]) { id } }`, nil)
	if codes := r.codes(); len(codes) != 1 {
		t.Fatalf("the refused commit: %s", r.Body)
	}
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	ws.wantChange("1", "tsk_03logo", "usr_ada", "", "usr_admin")
}

// A server that loses its listening connection says so once, listens again by itself, and
// delivers the changes made after. (The listening connection goes through a proxy the test
// cuts; the requests' connections do not.)
func TestAServerListensAgainAfterLosingItsConnection(t *testing.T) {
	direct := testdb.PostgresURL(t)
	proxied, proxy := testdb.ProxyTo(t, direct)
	logged := captureLogs(t)
	a := live(t, openStore(t, direct), proxied, graph.Options{})
	ws := a.connect(tokAdmin)
	ws.subscribe("1", changes, nil)
	a.subscribed(1)
	proxy.Cut()
	waitFor(t, "the loss logged", func() bool { return logged.count("lost the listening connection") == 1 })
	proxy.Restore()
	waitFor(t, "listening again", func() bool { return logged.count("listening again") == 1 })
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	ws.wantChange("1", "tsk_03logo", "usr_ada", "", "usr_admin")
	if n := logged.count("lost the listening connection"); n != 1 {
		t.Errorf("the loss was logged %d times, want once:\n%s", n, logged)
	}
}
