package faults

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// pgSetup is a private cluster whose database "faults" holds the fixture, and a server on it.
type pgSetup struct {
	cluster *testdb.Cluster
	url     string
	srv     *server
}

func setupPostgres(t *testing.T) *pgSetup {
	t.Helper()
	c := testdb.PrivateCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := c.Exec(ctx, "postgres", "CREATE DATABASE faults"); err != nil {
		t.Fatal(err)
	}
	url := c.URL("faults")
	runTaskql(t, url, "seed", "--file", writeFixture(t))
	return &pgSetup{cluster: c, url: url, srv: startServer(t, url, nil)}
}

// (a) PostgreSQL killed (pg_ctl stop -m immediate, as a crash) for about 3 s, then started: the
// writes meanwhile are UNAVAILABLE, /readyz 503; the first write succeeds within 1 s of
// PostgreSQL accepting connections, the outage and the recovery are logged once each, and no
// acknowledged write is lost.
func TestPostgresStoppedImmediatelyThenStarted(t *testing.T) {
	p := setupPostgres(t)
	run := underLoad(t, p.srv, 15*time.Second, 15*time.Second, func() []window {
		time.Sleep(4 * time.Second)
		from := time.Now()
		if err := p.cluster.Stop(testdb.Immediate); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		if err := p.cluster.Start(); err != nil {
			t.Fatalf("%v\n%s", err, p.cluster.Log())
		}
		return []window{{from, time.Now()}} // to: pg_ctl start returned, PostgreSQL accepts connections
	})
	run.check(t, expect{outageLogs: [2]int{1, 1}, readyDown: true, firstSuccess: time.Second, refusals: true})
}

// (b) Every session of the server's database ended by pg_terminate_backend, twice: the requests
// that were using one are UNAVAILABLE, the server connects again at once, and nothing
// acknowledged is lost.
func TestPostgresSessionsTerminatedTwice(t *testing.T) {
	p := setupPostgres(t)
	run := underLoad(t, p.srv, 14*time.Second, 15*time.Second, func() []window {
		var windows []window
		for _, wait := range []time.Duration{4 * time.Second, 5 * time.Second} {
			time.Sleep(wait)
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			from := time.Now()
			n, err := p.cluster.Terminate(ctx, "faults")
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("terminated %d sessions", n)
			windows = append(windows, window{from, time.Now()})
		}
		return windows
	})
	run.check(t, expect{outageLogs: [2]int{0, 2}, firstSuccess: 0})
}

// (c) An ACCESS EXCLUSIVE lock on the tasks table held for 10 s by another session: the writes
// wait the lock timeout (3 s) and answer UNAVAILABLE, /readyz is 503, and all works again once the
// lock is released. A lock is no outage: at most one pair of outage lines.
func TestTasksTableLockedForTenSeconds(t *testing.T) {
	p := setupPostgres(t)
	su := p.cluster.Superuser(t, "faults")
	run := underLoad(t, p.srv, 16*time.Second, 15*time.Second, func() []window {
		time.Sleep(3 * time.Second)
		tx := lockTasks(t, su)
		from := time.Now()
		time.Sleep(10 * time.Second)
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		return []window{{from, time.Now()}}
	})
	run.check(t, expect{outageLogs: [2]int{0, 1}, readyDown: true, refusals: true})
}

// lockTasks takes an ACCESS EXCLUSIVE lock on the tasks table in a transaction of the superuser's,
// held until the transaction ends.
func lockTasks(t *testing.T, su *sql.DB) *sql.Tx {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tx, err := su.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatalf("lock the tasks table: %v", err)
	}
	return tx
}

// (d) SIGTERM under load, while the writers' requests wait behind a lock on the tasks table: the
// server stops accepting connections at once, finishes every request under way (they are
// acknowledged once the lock goes, 0.9 s later), exits 0 within its 10 s drain, and what it
// acknowledged is in the database.
func TestSIGTERMUnderLoadFinishesTheRequestsUnderWay(t *testing.T) {
	p := setupPostgres(t)
	su := p.cluster.Superuser(t, "faults")
	l := startLoad(t, p.srv.base)
	time.Sleep(2 * time.Second)
	tx := lockTasks(t, su)
	lockedAt := time.Now()
	time.Sleep(600 * time.Millisecond)
	sigterm := time.Now()
	underWay := l.underWay(sigterm.Add(-100 * time.Millisecond))
	p.srv.signal(t, syscall.SIGTERM)
	refused, alive := refusesConnections(p.srv, 2*time.Second)
	time.Sleep(time.Until(sigterm.Add(900 * time.Millisecond)))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	code, exited := p.srv.waitExit(15 * time.Second)
	l.stop(0)

	t.Logf("at SIGTERM %d requests were under way; new connections refused %v after it (server alive: %v); exit code %d %v after it",
		len(underWay), refused.Round(time.Millisecond), alive, code, p.srv.exitedAt.Sub(sigterm).Round(time.Millisecond))
	if !exited || code != 0 || p.srv.exitedAt.Sub(sigterm) > 10*time.Second {
		t.Errorf("after SIGTERM the server exited %v with code %d after %v; want 0 within 10 s\n%s", exited, code, p.srv.exitedAt.Sub(sigterm), p.srv.stderr)
	}
	if refused < 0 || !alive {
		t.Errorf("new connections were not refused while the server drained (refused after %v, server alive %v)", refused, alive)
	}
	checkFinished(t, l, underWay)
	l.checkRefusals(t, []window{{lockedAt, released}}, func(a attempt) bool {
		return a.answer.code() == "transport" && a.start.After(sigterm.Add(-100*time.Millisecond))
	})
	checkLogs(t, p.srv, [2]int{0, 0})

	again := startServer(t, p.url, nil) // reads what the first one left
	t.Logf("writes: %v", l.verify(t, again.base))
	again.stop(t)
}

// checkFinished checks that every request under way at SIGTERM was finished: acknowledged, or
// refused as DESIGN §3 says for a change past the limit.
func checkFinished(t *testing.T, l *load, underWay map[int]time.Time) {
	t.Helper()
	if len(underWay) == 0 {
		t.Fatal("no request was under way at SIGTERM: the test proves nothing")
	}
	for n, start := range underWay {
		found := false
		for _, rec := range l.writers[n].ops {
			for _, a := range rec.attempts {
				if !a.start.Equal(start) {
					continue
				}
				found = true
				if !a.answer.acknowledged() && (!rec.tooMany || a.answer.code() != "UNPROCESSABLE") {
					t.Errorf("writer %d: its request under way at SIGTERM was not finished: %s", n, a.answer)
				}
			}
		}
		if !found {
			t.Errorf("writer %d: its request under way at SIGTERM has no answer recorded", n)
		}
	}
}

// refusesConnections dials the server until a connection is refused, for at most d, and returns
// how long that took (-1: never) and whether the process was still running then.
func refusesConnections(srv *server, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	for time.Since(start) < d {
		c, err := net.DialTimeout("tcp", srv.addr, 200*time.Millisecond)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return time.Since(start), srv.alive()
		}
		if c != nil {
			c.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1, srv.alive()
}
