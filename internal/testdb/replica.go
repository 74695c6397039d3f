package testdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Replica makes a streaming replica of the private cluster c and starts it on a port of its own:
// pg_basebackup -R (which writes standby.signal and primary_conninfo) into a directory of the
// test's own, then the settings given (postgresql.conf lines, such as
// "recovery_min_apply_delay = '2s'"). It is stopped and its directory removed when the test ends.
// The cluster's default pg_hba.conf lets the postgres user replicate over 127.0.0.1.
func (c *Cluster) Replica(t testing.TB, settings ...string) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "taskql-pg-replica-")
	if err != nil {
		t.Fatalf("testdb: replica: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(c.uid), int(c.gid)); err != nil {
		t.Fatalf("testdb: replica: %v", err)
	}
	r := &Cluster{dir: dir, uid: c.uid, gid: c.gid}
	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	if out, err := r.run(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", fmt.Sprint(c.port), "-U", "postgres",
		"-D", r.data(), "-R", "-X", "stream", "-c", "fast", "--no-sync"); err != nil {
		t.Fatalf("testdb: pg_basebackup: %v\n%s", err, out)
	}
	if len(settings) > 0 {
		conf := filepath.Join(r.data(), "postgresql.auto.conf")
		f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
		if err == nil {
			_, err = f.WriteString(strings.Join(settings, "\n") + "\n")
			err = joinClose(err, f)
		}
		if err != nil {
			t.Fatalf("testdb: replica settings: %v", err)
		}
	}
	t.Cleanup(r.shutdown)
	if err := r.startOnFreePort(); err != nil {
		t.Fatalf("testdb: start the replica: %v\n%s", err, r.Log())
	}
	return r
}

// WaitForReplay waits, at most within, until the replica r has replayed everything the primary c
// had flushed when it was called, and returns how long that took.
func (r *Cluster) WaitForReplay(t testing.TB, c *Cluster, within time.Duration) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	started := time.Now()
	primary, replica := c.Superuser(t, "postgres"), r.Superuser(t, "postgres")
	var target string
	if err := primary.QueryRowContext(ctx, "SELECT pg_current_wal_flush_lsn()::text").Scan(&target); err != nil {
		t.Fatalf("testdb: the primary's WAL position: %v", err)
	}
	for {
		var done bool
		err := replica.QueryRowContext(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", target).Scan(&done)
		switch {
		case err == nil && done:
			return time.Since(started)
		case ctx.Err() != nil:
			t.Fatalf("testdb: the replica had not replayed up to %s within %s (last error: %v)", target, within, err)
		}
		time.Sleep(20 * time.Millisecond) // polling another server's progress: nothing to wait on
	}
}

func joinClose(err error, f *os.File) error {
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
