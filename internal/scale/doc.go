// Package scale holds tests, and nothing else, of taskql scaled out on PostgreSQL's own machinery
// (DESIGN §11, docs/SCALING.md), each against the built binary (`go build` of the module) run as
// `taskql serve` processes on a private PostgreSQL cluster (testdb.PrivateCluster), never on the
// server the other tests share:
//
//   - three processes on one database, driven round-robin by concurrent clients, behave as one:
//     DESIGN §3's invariants hold across processes, a token revoked by `taskql token revoke` is
//     refused by every process once its notification arrived, and the subscribers of every
//     process hear every change (processes_test.go);
//   - the same behind Debian's pgbouncer in transaction mode, with LISTEN on a direct connection
//     (pgbouncer_test.go);
//   - a streaming replica made with pg_basebackup -R, its replication delayed on purpose: reads go
//     there, a writer reads its own writes at once through any process, and the replica's going
//     away and coming back costs no request an error (replica_test.go).
//
// They need root, PostgreSQL 15's binaries and pgbouncer, and skip loudly without them unless
// REQUIRE_POSTGRES=1 (or CI=true). Every wait is bounded, every server on loopback, and every
// process the tests start is stopped by its process id.
package scale
