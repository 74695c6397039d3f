// Package faults holds tests, and nothing else, that break the database under a running taskql
// server and check what its clients see (README, Running in production; DESIGN §3, §7, §8).
//
// Each test builds the real binary once (go build of the module), gives it a database of its own,
// loads a fixture with `taskql seed --file`, and starts `taskql serve --env production` as a child
// process whose JSON logs it reads. Eight writers, each the only one to change a task of its own,
// then drive the server over HTTP while a fault happens:
//
//   - PostgreSQL stopped with pg_ctl -m immediate for about 3 s, then started again;
//   - every session of the server's database ended (pg_terminate_backend), twice;
//   - an ACCESS EXCLUSIVE lock on the tasks table held for 10 s;
//   - SIGTERM under load, with requests held behind a lock when it comes;
//   - on SQLite: the database locked by BEGIN EXCLUSIVE for 5 s, and a read-only database file.
//
// The webhook test (webhooks_test.go) drives its own world: a receiver that fails its first
// deliveries and holds one until the server delivering it is killed with SIGKILL; the server is
// restarted beside a second process on the same database, and every committed event must reach
// the receiver (duplicates only from the attempts the kill interrupted, never one event twice at
// once), with every other attempt recorded.
//
// A writer sends one change at a time and sends it again, unchanged, until it is acknowledged
// (HTTP 200 with the mutation's data and no error): the three mutations are idempotent, so the
// task's history must then hold exactly one event for every change that changed something, in
// order, whatever answer the attempts in between got. The tests assert that no acknowledged change
// is lost and none appears that was never asked for; that the history replayed from the fixture
// gives the final assignees; DESIGN §3's invariants; that a refusal is UNAVAILABLE and never a 500;
// that /readyz turns 503 during the fault and 200 after it by itself; that the first success comes
// within a second of PostgreSQL accepting connections again; and that the server logs an outage
// once, not once per request.
//
// The PostgreSQL tests run on a private cluster (testdb.PrivateCluster), never on the server the
// other tests share: they need root and PostgreSQL 15's binaries, and skip loudly without them
// unless REQUIRE_POSTGRES=1. The tests run one after the other: they measure time on a small
// machine.
package faults
