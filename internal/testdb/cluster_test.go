package testdb

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A private cluster is the test's to break: it answers, goes away when stopped, comes back when
// started on the same port, lets the test end the sessions of a database, and is gone after the
// test.
func TestPrivateClusterStopsAndStartsAgain(t *testing.T) {
	c := PrivateCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := c.Exec(ctx, "postgres", "CREATE DATABASE faults"); err != nil {
		t.Fatal(err)
	}
	db := c.Superuser(t, "faults")
	one := func() error {
		var n int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&n)
	}
	if err := one(); err != nil {
		t.Fatalf("query on a fresh cluster: %v", err)
	}

	if err := c.Stop(Immediate); err != nil {
		t.Fatal(err)
	}
	if err := one(); err == nil {
		t.Fatal("a query succeeded while the cluster was stopped")
	}
	if err := c.Start(); err != nil {
		t.Fatalf("%v\n%s", err, c.Log())
	}
	// The pool's connections died with the server: database/sql replaces them.
	var err error
	for range 3 {
		if err = one(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("query after the restart: %v", err)
	}

	conn, err := db.Conn(ctx) // a session of faults, held open
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n, err := c.Terminate(ctx, "faults")
	if err != nil {
		t.Fatal(err)
	}
	if n < 1 {
		t.Errorf("Terminate ended %d sessions, want at least the one held open", n)
	}
	if err := conn.PingContext(ctx); err == nil {
		t.Error("a terminated session still answers")
	}
	if !strings.HasPrefix(c.URL("faults"), "postgres://postgres@127.0.0.1:") || c.Port() == 5432 {
		t.Errorf("URL %s: want loopback and a port of its own", c.URL("faults"))
	}
}

// The cluster is stopped when its test ends, even when it fails: nothing keeps running.
func TestPrivateClusterIsStoppedAfterItsTest(t *testing.T) {
	var (
		c   *Cluster
		pid int
	)
	t.Run("use", func(t *testing.T) {
		c = PrivateCluster(t)
		pid = c.postmasterPID()
	})
	if c == nil || pid == 0 || t.Failed() {
		t.Skip("no cluster was made")
	}
	if syscall.Kill(pid, 0) == nil {
		t.Errorf("the postmaster (pid %d) still runs after its test", pid)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := c.Exec(ctx, "postgres", "SELECT 1"); err == nil {
		t.Error("the cluster still answers after its test")
	}
}
