package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
)

// PostgresBin is where the binaries of the PostgreSQL version taskql supports are installed.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Stop modes of pg_ctl: Immediate kills the server as a crash would (recovery on the next start),
// Fast ends every session and shuts down cleanly.
const (
	Immediate = "immediate"
	Fast      = "fast"
)

// clusterTimeout bounds every pg_ctl and initdb run: a machine busy with other tests may be slow,
// but nothing here waits forever.
const clusterTimeout = 90 * time.Second

// Cluster is a PostgreSQL server of one test's own, in a temporary directory, on a port of its
// own on loopback. Unlike the server the other tests share, a test may stop it, kill its
// sessions or lock its tables: nobody else uses it. PrivateCluster starts it; it is stopped and
// its directory removed when the test ends, whatever the outcome.
type Cluster struct {
	dir  string // owned by the postgres user: data/, the server's log and its socket
	port int
	uid  uint32 // of the postgres user, whom initdb and pg_ctl run as
	gid  uint32
}

// PrivateCluster creates, starts and returns a cluster of the test's own (initdb as the postgres
// OS user, pg_ctl start on a free port of 127.0.0.1). It needs root, to run as that user, and
// PostgreSQL 15's binaries in PostgresBin: without them the test skips with a loud message, or
// fails when REQUIRE_POSTGRES=1.
func PrivateCluster(t testing.TB) *Cluster {
	t.Helper()
	uid, gid, err := clusterUser()
	if err != nil {
		unavailable(t, fmt.Errorf("no private PostgreSQL cluster: %w", err))
		return nil
	}
	dir, err := os.MkdirTemp("", "taskql-pg-")
	if err != nil {
		t.Fatalf("testdb: cluster: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		t.Fatalf("testdb: cluster: %v", err)
	}
	c := &Cluster{dir: dir, uid: uid, gid: gid}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := c.run(ctx, "initdb", "-D", c.data(), "-A", "trust", "-U", "postgres",
		"-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Fatalf("testdb: initdb: %v\n%s", err, out)
	}
	t.Cleanup(c.shutdown)
	if err := c.startOnFreePort(); err != nil {
		t.Fatalf("testdb: start the private cluster: %v\n%s", err, c.Log())
	}
	return c
}

// clusterUser is the postgres OS user's uid and gid, or why a private cluster cannot be made.
func clusterUser() (uid, gid uint32, err error) {
	if os.Geteuid() != 0 {
		return 0, 0, errors.New("it needs root, to run initdb as the postgres user")
	}
	if _, err := os.Stat(filepath.Join(PostgresBin, "initdb")); err != nil {
		return 0, 0, fmt.Errorf("PostgreSQL 15 is not installed: %w", err)
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, fmt.Errorf("the postgres OS user: %w", err)
	}
	id, err1 := strconv.ParseUint(u.Uid, 10, 32)
	group, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("the postgres OS user: %w", err)
	}
	return uint32(id), uint32(group), nil
}

// startOnFreePort starts the server on a port found free; another process may take that port in
// between, so it tries a few.
func (c *Cluster) startOnFreePort() error {
	var err error
	for range 3 {
		if c.port, err = freePort(); err != nil {
			return err
		}
		if err = c.Start(); err == nil {
			return nil
		}
	}
	return err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// URL is the superuser's URL of the database db of the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s", c.port, db)
}

// Port is the cluster's port on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

// Start starts the stopped cluster on its port and returns once it accepts connections.
func (c *Cluster) Start() error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.port, c.dir)
	out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-o", opts, "-l", c.logPath(), "-w", "-t", "60", "start")
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s", err, out)
	}
	return nil
}

// Stop stops the cluster with pg_ctl's mode (Immediate or Fast) and returns once it is down.
func (c *Cluster) Stop(mode string) error {
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	out, err := c.run(ctx, "pg_ctl", "-D", c.data(), "-m", mode, "-w", "-t", "60", "stop")
	if err != nil {
		return fmt.Errorf("pg_ctl stop -m %s: %w: %s", mode, err, out)
	}
	return nil
}

// Exec runs one statement as the superuser on the database db, on a connection of its own.
func (c *Cluster) Exec(ctx context.Context, db, query string, args ...any) error {
	st, err := store.Open(ctx, c.URL(db), store.WithTimeouts(adminTimeouts))
	if err != nil {
		return err
	}
	defer st.Close()
	sqlDB, err := st.Gorm().DB()
	if err != nil {
		return err
	}
	_, err = sqlDB.ExecContext(ctx, query, args...)
	return err
}

// Superuser is a pool of the superuser's connections to the database db, closed when the test
// ends: for a test that holds a lock or a transaction of its own. Its statements may run for up
// to two minutes, lock waits included.
func (c *Cluster) Superuser(t testing.TB, db string) *sql.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, c.URL(db), store.WithTimeouts(adminTimeouts))
	if err != nil {
		t.Fatalf("testdb: superuser connection to %s: %v", db, err)
	}
	t.Cleanup(func() { st.Close() })
	sqlDB, err := st.Gorm().DB()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return sqlDB
}

// Terminate ends every session of the database db (pg_terminate_backend), as an administrator or
// a failover would, and returns how many it ended.
func (c *Cluster) Terminate(ctx context.Context, db string) (int, error) {
	st, err := store.Open(ctx, c.URL("postgres"), store.WithTimeouts(adminTimeouts))
	if err != nil {
		return 0, err
	}
	defer st.Close()
	sqlDB, err := st.Gorm().DB()
	if err != nil {
		return 0, err
	}
	var n int
	err = sqlDB.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = $1 AND pid <> pg_backend_pid()) AS ended`, db).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("terminate the sessions of %s: %w", db, err)
	}
	return n, nil
}

// Log is what the server logged so far, for a failing test's message.
func (c *Cluster) Log() string {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return fmt.Sprintf("(no server log: %v)", err)
	}
	return string(b)
}

func (c *Cluster) data() string    { return filepath.Join(c.dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// run runs one of PostgreSQL's programs as the postgres OS user, in the cluster's directory.
func (c *Cluster) run(ctx context.Context, program string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(PostgresBin, program), args...)
	cmd.Dir = c.dir
	cmd.Env = []string{"PATH=" + PostgresBin + ":/usr/bin:/bin", "LC_ALL=C", "HOME=" + c.dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.gid}}
	// pg_ctl leaves the server running in the background; should it keep our pipes open, Wait
	// must not wait for it.
	cmd.WaitDelay = 5 * time.Second
	return cmd.CombinedOutput()
}

// shutdown stops the cluster at the end of the test: pg_ctl stop -m immediate, or, should that
// fail, SIGQUIT (PostgreSQL's immediate shutdown) then SIGKILL to the postmaster's process id.
func (c *Cluster) shutdown() {
	pid := c.postmasterPID()
	if pid == 0 {
		return // not running
	}
	if err := c.Stop(Immediate); err == nil && gone(pid, 10*time.Second) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	if !gone(pid, 10*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// gone waits at most d for the process pid to end, and tells whether it did. pg_ctl stop returns
// once the server has removed its pid file, a moment before the process is gone.
func gone(pid int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
	}
	return false
}

// postmasterPID is the process id of the running server (the first line of postmaster.pid), or 0.
func (c *Cluster) postmasterPID() int {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
