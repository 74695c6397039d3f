package graph_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §3 and §7: when the database cannot do the work now, the answer is UNAVAILABLE (safe to
// retry), never an internal error, and never a 500.

// logs captures what the process logs while a test runs. Tests that use it are not parallel:
// the default logger is the process's.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func captureLogs(t *testing.T) *logs {
	l := &logs{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(old) })
	return l
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count counts the lines that contain s.
func (l *logs) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// F11: while the database is unreachable every request is HTTP 503 UNAVAILABLE with Retry-After
// (it was 500 with an ERROR line per request), /readyz is 503, and the outage is logged once when
// it starts and once when it ends, not at every statement that fails or succeeds around either.
func TestAnOutageIsUnavailableAndLoggedOncePerChange(t *testing.T) {
	url, proxy := testdb.PostgresBehindProxy(t)
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedWorld(t, st)
	a := serve(t, st, graph.Options{})
	a.post(tokAda, `{ viewer { id } }`, nil).ok()
	logged := captureLogs(t)

	proxy.Cut()
	for i := range 20 {
		r := a.post(tokAda, `{ viewer { id } }`, nil)
		if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Fatalf("request %d during the outage: status %d, Retry-After %q; want 503 with Retry-After; body %s",
				i, r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		r.wantErrors(`[{"message": "the service is temporarily unavailable, or the operation ran past its deadline; retry", "extensions": {"code": "UNAVAILABLE"}}]`)
		wantNoLeak(t, r)
	}
	if r := a.send(getReq(t, a.srv.URL+"/readyz")); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d, want 503", r.Status)
	}

	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := a.post(tokAda, `{ viewer { id } }`, nil)
		if r.Status == http.StatusOK {
			r.wantData(`{"viewer": {"id": "usr_ada"}}`)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d 10 s after the database came back: %s", r.Status, r.Body)
		}
	}
	if r := a.send(getReq(t, a.srv.URL+"/readyz")); r.Status != http.StatusOK {
		t.Errorf("/readyz after the outage: %d, want 200", r.Status)
	}
	// The recovery is logged once statements have reached the database for a second, none
	// failing (store.recoverAfter): requests go on until it is, for at most 10 s.
	for logged.count("database reachable again") == 0 && time.Now().Before(deadline) {
		a.post(tokAda, `{ viewer { id } }`, nil).ok()
	}
	if n := logged.count("database unreachable"); n != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", n, logged)
	}
	if n := logged.count("database reachable again"); n != 1 {
		t.Errorf("the recovery was logged %d times, want once:\n%s", n, logged)
	}
	if n := logged.count("level=ERROR"); n != 0 {
		t.Errorf("%d ERROR lines for an outage, want none:\n%s", n, logged)
	}
}

func getReq(t *testing.T, url string) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// F7: a mutation's reply is built from what it read inside its transaction, so a change that
// committed is answered as done even when the database goes away right after COMMIT. Here the
// database is closed the moment the change commits: any read after it would fail the reply.
func TestACommittedChangeIsAnsweredFromItsTransaction(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		seedWorld(t, st)
		closeAfterCommit := rules.OnAssigneesChanged(func(rules.AssigneesChanged) {
			if err := st.Close(); err != nil {
				t.Error(err)
			}
		})
		a := serve(t, st, graph.Options{}, closeAfterCommit)
		r := a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"]) {
			id modifiedAt assigneeId assignee { id name } assignees { id name email avatar }
			phase { id name internal } project { id name } } }`, nil)
		r.wantData(`{"assignUsers": {"id": "tsk_03logo", "modifiedAt": ` + jsonString(t, r, "assignUsers", "modifiedAt") + `,
			"assigneeId": "usr_bob", "assignee": {"id": "usr_bob", "name": "Bob Builder"},
			"assignees": [
				{"id": "usr_bob", "name": "Bob Builder", "email": "bob@acme.test", "avatar": null},
				{"id": "usr_cat", "name": "Cat Client", "email": "cat@client.test", "avatar": null},
				{"id": "usr_ada", "name": "Ada Lovelace", "email": "ada@acme.test", "avatar": "https://cdn.acme.test/ada.png"}],
			"phase": {"id": "phs_build", "name": "Build", "internal": false}, "project": {"id": "prj_site", "name": "Website"}}}`)
		if got := jsonString(t, r, "assignUsers", "modifiedAt"); got == `"`+seededModifiedAt+`"` {
			t.Errorf("modifiedAt = %s: the reply does not show the change", got)
		}
	})
}

// jsonString is the JSON text of a string field of the response's data.
func jsonString(t *testing.T, r *response, path ...string) string {
	t.Helper()
	return string(field(append([]string{}, path...)...)(r.Data))
}

// F5: a table held by a long lock costs a request at most the lock timeout, as UNAVAILABLE, not
// as long as the lock lasts; /readyz sees it; a request that does not need the table is answered.
func TestALockedTableIsUnavailableAfterTheLockTimeout(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	st, err := store.Open(t.Context(), url, store.WithTimeouts(store.Timeouts{Statement: 5 * time.Second, Lock: 300 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedWorld(t, st)
	a := serve(t, st, graph.Options{MaxInFlight: 2})

	unlock := lockTable(t, url, "tasks")
	start := time.Now()
	r := a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"]) { id } }`, nil)
	r.wantError(`{"assignUsers": null}`, `{"message": "the service is temporarily unavailable, or the operation ran past its deadline; retry",
		"path": ["assignUsers"], "extensions": {"code": "UNAVAILABLE"}}`)
	r = a.post(tokAda, `{ tasks(first: 1) { nodes { id } } }`, nil)
	if got := r.codes(); len(got) != 1 || got[0] != "UNAVAILABLE" {
		t.Errorf("a read of the locked table: codes %v, want [UNAVAILABLE]; body %s", got, r.Body)
	}
	if waited := time.Since(start); waited > 4*time.Second {
		t.Errorf("two requests on the locked table took %v; each should give up after the lock timeout of 300ms", waited)
	}
	a.post(tokAda, `{ viewer { id } }`, nil).wantData(`{"viewer": {"id": "usr_ada"}}`)
	if r := a.send(getReq(t, a.srv.URL+"/readyz")); r.Status != http.StatusServiceUnavailable {
		t.Errorf("/readyz while the tasks table is locked: %d, want 503", r.Status)
	}
	unlock()
	if r := a.send(getReq(t, a.srv.URL+"/readyz")); r.Status != http.StatusOK {
		t.Errorf("/readyz after the lock: %d, want 200", r.Status)
	}
	a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"]) { id } }`, nil).ok()
}

// lockTable holds an ACCESS EXCLUSIVE lock on a table of the test's own database, from a
// connection of its own, until the returned function is called (or the test ends).
func lockTable(t *testing.T, url, table string) (unlock func()) {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	unlock = func() {
		once.Do(func() {
			_ = tx.Rollback()
			db.Close()
		})
	}
	t.Cleanup(unlock)
	return unlock
}

// DESIGN §7: a query or mutation runs at most the operation deadline, waiting for its turn
// included; past it, the answer is UNAVAILABLE and the statement it waited on is cancelled.
func TestTheDeadlineBoundsAnOperationAndItsWait(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	st, err := store.Open(t.Context(), url) // the lock timeout (3 s) outlasts the deadline
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedWorld(t, st)
	a := serve(t, st, graph.Options{MaxInFlight: 1, Limits: graph.Limits{Deadline: 500 * time.Millisecond}})
	unlock := lockTable(t, url, "tasks")

	results := make(chan *response, 2)
	for range 2 { // one runs and waits on the lock, the other waits for its turn
		go func() { results <- a.post(tokAda, `{ tasks(first: 1) { nodes { id } } }`, nil) }()
	}
	var statuses []int
	for range 2 {
		r := <-results
		statuses = append(statuses, r.Status)
		if got := r.codes(); len(got) != 1 || got[0] != "UNAVAILABLE" {
			t.Errorf("codes %v, want [UNAVAILABLE]; body %s", got, r.Body)
		}
	}
	// The one that ran answers 200 with its field's error; the one that never got its turn 503.
	if !(statuses[0] == http.StatusOK && statuses[1] == http.StatusServiceUnavailable ||
		statuses[1] == http.StatusOK && statuses[0] == http.StatusServiceUnavailable) {
		t.Errorf("statuses %v, want one 200 (ran past its deadline) and one 503 (never started)", statuses)
	}
	waitForNoQueryOn(t, st, "tasks")
	unlock()
}

// waitForNoQueryOn waits (boundedly) until no session of the server's database runs a statement
// on the table: a cancelled request left nothing behind.
func waitForNoQueryOn(t *testing.T, st *store.Store, table string) {
	t.Helper()
	waitFor(t, "no statement on "+table, func() bool { return queriesOn(t, st, table) == 0 })
}

// waitForQueryOn waits (boundedly) until a session of the server's database runs a statement on
// the table.
func waitForQueryOn(t *testing.T, st *store.Store, table string) {
	t.Helper()
	waitFor(t, "a statement on "+table, func() bool { return queriesOn(t, st, table) > 0 })
}

// queriesOn counts the other sessions of the database that run a statement naming the table.
func queriesOn(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	err := st.Gorm().WithContext(t.Context()).Raw(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE ?`,
		"%"+table+"%").Scan(&n).Error
	if err != nil {
		t.Fatalf("pg_stat_activity: %v", err)
	}
	return n
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// DESIGN §7: a request whose client has gone stops its work: the statement it waited on is
// cancelled, it does not run until the lock or the deadline ends.
func TestARequestWhoseClientLeftStopsItsWork(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	st, err := store.Open(t.Context(), url, store.WithTimeouts(store.Timeouts{Statement: time.Minute, Lock: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedWorld(t, st)
	a := serve(t, st, graph.Options{Limits: graph.Limits{Deadline: time.Minute}})
	unlock := lockTable(t, url, "tasks")

	ctx, leave := context.WithCancel(t.Context())
	sent := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.srv.URL+"/query",
			strings.NewReader(`{"query": "{ tasks(first: 1) { nodes { id } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokAda)
		_, err := a.srv.Client().Do(req)
		sent <- err
	}()
	waitForQueryOn(t, st, "tasks")
	leave()
	<-sent
	waitForNoQueryOn(t, st, "tasks")
	unlock()
}
