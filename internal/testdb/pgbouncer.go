package testdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
)

// Bouncer is Debian's pgbouncer in transaction pooling mode (DESIGN §11) in front of a private
// cluster, on a port of its own on loopback, with its configuration in a directory of the test's
// own. PgBouncer starts it; it is stopped by its process id when the test ends.
type Bouncer struct {
	dir    string
	port   int
	cmd    *exec.Cmd
	exited chan struct{}
}

// PgBouncer starts pgbouncer in transaction mode in front of the cluster c: every database of c,
// as the postgres user without a password, at most poolSize server sessions per database. Each
// server session starts with connectQuery when it is not empty (pgbouncer's connect_query: the
// defaults, such as the timeouts, that a client in transaction mode cannot set for itself).
// Without pgbouncer installed (Debian: apt-get install pgbouncer), the test skips loudly, or
// fails when REQUIRE_POSTGRES=1 or CI=true.
func (c *Cluster) PgBouncer(t testing.TB, poolSize int, connectQuery string) *Bouncer {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("testdb: pgbouncer is not installed (CI=true): apt-get install pgbouncer")
		}
		unavailable(t, errors.New("pgbouncer is not installed (Debian: apt-get install pgbouncer)"))
		return nil
	}
	dir, err := os.MkdirTemp("", "taskql-pgbouncer-")
	if err != nil {
		t.Fatalf("testdb: pgbouncer: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(c.uid), int(c.gid)); err != nil {
		t.Fatalf("testdb: pgbouncer: %v", err)
	}
	var b *Bouncer
	for range 3 { // another process may take the free port in between
		if b, err = c.startBouncer(bin, dir, poolSize, connectQuery); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("testdb: start pgbouncer: %v", err)
	}
	t.Cleanup(b.stop)
	return b
}

// startBouncer writes the configuration and starts pgbouncer as the postgres user (it refuses to
// run as root), and returns once it accepts connections.
func (c *Cluster) startBouncer(bin, dir string, poolSize int, connectQuery string) (*Bouncer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	b := &Bouncer{dir: dir, port: port, exited: make(chan struct{})}
	target := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres", c.port)
	if connectQuery != "" {
		target += " connect_query='" + strings.ReplaceAll(connectQuery, "'", "''") + "'"
	}
	ini := fmt.Sprintf(`[databases]
* = %s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 1000
max_db_connections = %d
logfile = %s
`, target, port, filepath.Join(dir, "userlist.txt"), poolSize, poolSize, b.logPath())
	for name, text := range map[string]string{"pgbouncer.ini": ini, "userlist.txt": `"postgres" ""` + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	b.cmd = exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	b.cmd.Dir = dir
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.uid, Gid: c.gid}}
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = b.cmd.Wait()
		close(b.exited)
	}()
	if err := b.waitListening(10 * time.Second); err != nil {
		b.stop()
		return nil, fmt.Errorf("%w\n%s", err, b.Log())
	}
	return b, nil
}

// waitListening polls the port until pgbouncer answers it, or it exits, for at most d.
func (b *Bouncer) waitListening(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		select {
		case <-b.exited:
			return errors.New("pgbouncer exited at start")
		default:
		}
		if conn, err := (&dialer).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", b.port)); err == nil {
			conn.Close()
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("pgbouncer did not listen on port %d within %s", b.port, d)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's port: nothing to wait on
	}
}

// URL is the postgres user's URL of the database db through pgbouncer.
func (b *Bouncer) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s", b.port, db)
}

// DB is a pool of connections to the database db through pgbouncer, which prepares no statement
// (pgx's simple protocol), closed when the test ends.
func (b *Bouncer) DB(t testing.TB, db string) *sql.DB {
	t.Helper()
	st, err := store.Open(t.Context(), b.URL(db)+"?default_query_exec_mode=simple_protocol", store.WithTransactionPooler())
	if err != nil {
		t.Fatalf("testdb: connect through pgbouncer: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	sqlDB, err := st.Gorm().DB()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return sqlDB
}

// Pid is pgbouncer's process id.
func (b *Bouncer) Pid() int { return b.cmd.Process.Pid }

// Log is what pgbouncer logged so far.
func (b *Bouncer) Log() string {
	out, err := os.ReadFile(b.logPath())
	if err != nil {
		return fmt.Sprintf("(no pgbouncer log: %v)", err)
	}
	return string(out)
}

func (b *Bouncer) logPath() string { return filepath.Join(b.dir, "pgbouncer.log") }

// stop ends pgbouncer by its process id: SIGTERM (its immediate shutdown), then SIGKILL should it
// linger.
func (b *Bouncer) stop() {
	select {
	case <-b.exited:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.exited
	}
}

var dialer net.Dialer
