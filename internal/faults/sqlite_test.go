package faults

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite" // the driver "sqlite", for a connection of the test's own
)

// setupSQLite makes an SQLite database file holding the fixture and returns its path.
func setupSQLite(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "taskql.db")
	runTaskql(t, "sqlite:"+path, "seed", "--file", writeFixture(t))
	return path
}

// (e) The database file locked by another connection in BEGIN EXCLUSIVE for 5 s: the writes wait
// the busy timeout (3 s) and answer UNAVAILABLE, the reads go on (WAL), and the writes succeed
// once the lock is released; nothing acknowledged is lost.
func TestSQLiteLockedByAnotherConnection(t *testing.T) {
	path := setupSQLite(t)
	srv := startServer(t, "sqlite:"+path, nil)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	run := underLoad(t, srv, 11*time.Second, 15*time.Second, func() []window {
		time.Sleep(2 * time.Second)
		if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
			t.Fatal(err)
		}
		from := time.Now()
		time.Sleep(5 * time.Second)
		if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
			t.Fatal(err)
		}
		return []window{{from, time.Now()}}
	})
	run.check(t, expect{outageLogs: [2]int{0, 1}, refusals: true})
}

// (f) A database file the server cannot write (mode 0444, the server running as a user that is
// not root, which ignores modes): every write answers UNAVAILABLE, never a 500, the reads still
// work, nothing is written, and the server logs the outage once, not once per write.
func TestSQLiteReadOnlyFile(t *testing.T) {
	path := setupSQLite(t)
	as := readOnly(t, path)
	srv := startServer(t, "sqlite:"+path, as)
	run := underLoad(t, srv, 5*time.Second, 0, func() []window {
		from := time.Now()
		time.Sleep(2500 * time.Millisecond)
		a := post(t.Context(), newClient(), srv.base, token(0), `query($t: ID!) { task(id: $t) { id assignees { id } } }`,
			map[string]any{"t": taskOf(0)})
		if a.status != http.StatusOK || len(a.reply.Errors) > 0 {
			t.Errorf("a read of the read-only database: %s, want 200 with the task", a)
		}
		time.Sleep(time.Until(from.Add(5 * time.Second)))
		return []window{{from, time.Now()}} // the whole run
	})
	f := run.check(t, expect{outageLogs: [2]int{0, 1}, refusals: true})
	if f.changes > 0 || f.inDoubtTook > 0 {
		t.Errorf("%d changes acknowledged and %d written on a read-only database file", f.changes, f.inDoubtTook)
	}
}

// readOnly makes the database file read-only (0444) and returns the user the server must run as
// for that to hold: root writes any file, so then the user nobody, who owns the directory (SQLite
// keeps its -wal and -shm files there) but not the file.
func readOnly(t *testing.T, path string) *serverUser {
	t.Helper()
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody to run the server as: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	dir := filepath.Dir(path)
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatal(err)
	}
	return &serverUser{Uid: uint32(uid), Gid: uint32(gid)}
}
