package scale

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// pgbouncer's server sessions start with these defaults (its connect_query): what a single read,
// outside any transaction, runs under behind a pooler in transaction mode. Write transactions set
// taskql's own (--lock-timeout below) with SET LOCAL.
const (
	poolerStatementTimeout = "4s"
	poolerLockTimeout      = "2s"
	bouncerPoolSize        = 6
)

// DESIGN §11 behind Debian's pgbouncer in transaction pooling mode, with LISTEN on a direct
// connection: three processes, whose 48 connections share 6 server sessions, start together on
// an empty database through the pooler (the migrations' transaction-scoped lock), then the load,
// the subscribers and the revocation of TestThreeProcessesBehaveAsOne, then a tour of the queries
// and of the refusals, and the session state: nothing a transaction sets stays on a pooled session,
// and a write transaction still waits for a lock no longer than --lock-timeout.
func TestThroughPgBouncerInTransactionMode(t *testing.T) {
	c := testdb.PrivateCluster(t)
	direct := database(t, c, "scale")
	b := c.PgBouncer(t, bouncerPoolSize, fmt.Sprintf("SET statement_timeout = '%s'; SET lock_timeout = '%s'", poolerStatementTimeout, poolerLockTimeout))
	env := []string{"DATABASE_URL=" + b.URL("scale"), "TASKQL_TRANSACTION_POOLER=1", "TASKQL_LISTEN_DATABASE_URL=" + direct}
	servers := startServers(t, 3, env, "--max-assignees", "6", "--lock-timeout", "1s")
	seedWorld(t, env)
	behaveAsOne(t, servers, env)
	tour(t, servers[0].base)
	lockWaitIsBounded(t, c, servers[1])
	noSessionStateLeft(t, b)
	if strings.Contains(b.Log(), "prepared statement") {
		t.Errorf("pgbouncer logged prepared statements:\n%s", b.Log())
	}
	for _, s := range servers {
		if resp, err := client.Get(s.base + "/readyz"); err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s: /readyz through pgbouncer: %v %v", s.name, resp, err)
		} else {
			resp.Body.Close()
		}
	}
}

// tour asks a few of every kind of query, and meets every kind of refusal, through one server.
func tour(t *testing.T, base string) {
	t.Helper()
	for _, q := range []struct{ doc, want string }{
		{`{ viewer { id name } }`, `"id":"usr_admin"`},
		{`{ tasks(filter: {projectId: "prj_s", status: [OPEN]}, first: 2) { totalCount nodes { id phase { name } assignees { id } } pageInfo { hasNextPage endCursor } } }`, `"totalCount":3`},
		{`{ task(id: "tsk_mix") { id project { name members(first: 3) { totalCount } } assignableUsers(search: "p1", first: 5) { nodes { id } } } }`, `"id":"usr_p1"`},
		{`{ node(id: "usr_p2") { ... on User { email } } }`, `"email":"usr_p2@scale.test"`},
		{`{ users(filter: {search: "usr_v"}, first: 10) { totalCount } }`, `"totalCount":6`},
		{`{ assignees(taskId: "tsk_read") { id } }`, `"assignees":[]`},
		{`{ projects { nodes { id } } }`, `"id":"prj_s"`},
		{`{ task(id: "tsk_nothere") { id } }`, `"code":"NOT_FOUND"`},
		{`{ task(id: "usr_p1") { id } }`, `"code":"BAD_USER_INPUT"`},
		{`mutation { assignUsers(taskId: "tsk_read", userIds: ["usr_nobody"]) { id } }`, `"reason":"USER_NOT_FOUND"`},
		{`mutation { setTaskAssignee(taskId: "tsk_read", assignee: "usr_p3") { assignees { id } } }`, `"assignees":[{"id":"usr_p3"}]`},
		{`mutation { unassignUser(taskId: "tsk_read", userId: "usr_p3") { assignees { id } } }`, `"assignees":[]`},
	} {
		body := raw(t, base, tokAdmin, q.doc)
		if !strings.Contains(body, q.want) {
			t.Errorf("%s\n  answered %.400s\n  want it to contain %s", q.doc, body, q.want)
		}
	}
}

// raw sends a document and returns the body of the answer.
func raw(t *testing.T, base, tok, doc string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/query",
		strings.NewReader(fmt.Sprintf(`{"query": %q}`, doc)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lockWaitIsBounded: while a direct session holds tsk_read's row lock, a mutation of it through
// the pooler gives up after --lock-timeout (1 s, set with SET LOCAL in its transaction), not the
// pooler's 2 s nor the request's 10 s deadline, as UNAVAILABLE.
func lockWaitIsBounded(t *testing.T, c *testdb.Cluster, s *server) {
	t.Helper()
	su := c.Superuser(t, "scale")
	tx, err := su.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // the lock's end
	if _, err := tx.ExecContext(t.Context(), "SELECT 1 FROM tasks WHERE id = 'tsk_read' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	a := post(t, s.base, token(0), `mutation { assignUsers(taskId: "tsk_read", userIds: ["usr_p1"]) { id } }`, nil)
	took := time.Since(started)
	if a.code() != "UNAVAILABLE" || took < 900*time.Millisecond || took > 1900*time.Millisecond {
		t.Errorf("a mutation behind a held lock: %q after %s, want UNAVAILABLE after about 1 s (--lock-timeout)", a.code(), took)
	}
	t.Logf("a mutation behind a held lock, through pgbouncer: %s after %s", a.code(), took.Round(time.Millisecond))
}

// noSessionStateLeft: every pooled server session still has the pooler's timeouts, not those a
// write transaction set for itself. Holding as many transactions open at once as the pool has
// sessions reaches each of them.
func noSessionStateLeft(t *testing.T, b *testdb.Bouncer) {
	t.Helper()
	db := b.DB(t, "scale")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var txs []*sql.Tx
	defer func() {
		for _, tx := range txs {
			_ = tx.Rollback()
		}
	}()
	for range bouncerPoolSize {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		txs = append(txs, tx)
		var st, lock string
		if err := tx.QueryRowContext(ctx, "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')").Scan(&st, &lock); err != nil {
			t.Fatal(err)
		}
		if st != poolerStatementTimeout || lock != poolerLockTimeout {
			t.Errorf("a pooled session has statement_timeout %s, lock_timeout %s; want the pooler's %s, %s", st, lock, poolerStatementTimeout, poolerLockTimeout)
		}
	}
}
