package store

import (
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
)

// Behind a pooler in transaction mode (pgbouncer's pool_mode = transaction, DESIGN §11) each
// transaction, and each statement outside one, may run on another server session, shared with
// other clients. So nothing may live in a session:
//
//   - no prepared statement: pgx prepares and caches a named statement per connection by default,
//     which the next transaction's session does not have (pgbouncer 1.21 and later can track
//     protocol-level prepared statements, with max_prepared_statements; Debian 12's 1.18 cannot).
//     PooledExecMode sends each statement with its parameters in one round trip instead;
//   - no session setting: statement_timeout and lock_timeout, startup parameters of a direct
//     connection, are refused by pgbouncer at connect time, and a SET would stay on a session that
//     other clients then use. A write transaction sets them with SET LOCAL (localTimeouts), which
//     ends with it; a single read runs under the defaults of the pooler's server sessions;
//   - no session-level advisory lock: the migrations lock each transaction (migrate.Up).
//
// LISTEN holds a session too: the bus listens on a direct connection of its own
// (--listen-database-url).

// PooledExecMode is pgx's exec mode behind a pooler in transaction mode: the extended protocol
// with the unnamed statement, parsed, bound and executed in one round trip, so that no statement
// outlives its transaction's session (docs/SCALING.md has what it costs on a direct connection).
var PooledExecMode = pgx.QueryExecModeExec

// localTimeouts sets the statement and lock timeouts for the rest of the transaction only.
func localTimeouts(tx *gorm.DB, t Timeouts) error {
	err := tx.Exec("SELECT set_config('statement_timeout', ?, true), set_config('lock_timeout', ?, true)",
		strconv.FormatInt(t.Statement.Milliseconds(), 10), strconv.FormatInt(t.Lock.Milliseconds(), 10)).Error
	if err != nil {
		return fmt.Errorf("set the transaction's timeouts: %w", err)
	}
	return nil
}
