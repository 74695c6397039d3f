// Package store is taskql's persistence: the only package (with migrations) that speaks GORM and
// SQL. It knows nothing of who may see or change what; the rules package decides that and hands
// the store a Scope to apply in SQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/opentelemetry-go-extra/otelgorm"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/taskql/taskql/internal/migrate"
)

// ErrNotFound is returned when a row asked for by id does not exist (or is outside the scope).
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write breaks a unique or foreign key.
var ErrConflict = errors.New("conflict")

// Store runs taskql's queries on one database, or inside one of its transactions.
type Store struct {
	db      *gorm.DB
	dialect migrate.Dialect
	// writes serialises the write transactions of this process on SQLite (see WithTx).
	writes *sync.Mutex
	// committed, inside a transaction, are the functions to run once it commits.
	committed *[]func()
	// health is whether the last statement reached the database.
	health *health
	// pooled: the connections lead to a pooler in transaction mode (WithTransactionPooler).
	pooled   bool
	timeouts Timeouts
	// replica, when set, takes the reads that need not see the latest writes (WithReplica); nil
	// inside a transaction and on the replica's own Store.
	replica *replica
	// traced: GORM's tracing plugin makes a span of each statement (WithTracing).
	traced bool
}

// Timeouts bound how long the database may work on one statement, or wait for a lock, before it
// gives up (DESIGN §7): a statement stuck behind a lock fails as UNAVAILABLE instead of holding a
// connection and an admission slot for as long as the lock lasts.
type Timeouts struct {
	// Statement is PostgreSQL's statement_timeout.
	Statement time.Duration
	// Lock is PostgreSQL's lock_timeout, and SQLite's busy_timeout (how long a writer waits for
	// the database's write lock).
	Lock time.Duration
}

// DefaultTimeouts are DESIGN §7's.
var DefaultTimeouts = Timeouts{Statement: 5 * time.Second, Lock: 3 * time.Second}

// Option configures Open.
type Option func(*options)

type options struct {
	timeouts Timeouts
	counting bool
	tracing  bool
	pooled   bool
	replica  string
	window   time.Duration
}

// WithTimeouts sets the statement and lock timeouts; zero leaves one unbounded.
func WithTimeouts(t Timeouts) Option { return func(o *options) { o.timeouts = t } }

// WithTracing makes a span of each SQL statement (otelgorm, an OpenTelemetry plugin of GORM), its text without
// the values: under the request's span when traces are exported (DESIGN §8).
func WithTracing() Option { return func(o *options) { o.tracing = true } }

// WithTransactionPooler tells that the PostgreSQL URLs lead to a connection pooler in transaction
// mode, such as pgbouncer (DESIGN §11), which hands each transaction to any of its server
// sessions: the store then keeps no state in a session. No statement is prepared (pgx's exec
// mode "exec", unless the URL names another default_query_exec_mode), the timeouts are not
// session settings but are set in each write transaction (SET LOCAL), and single reads run under
// the defaults of the pooler's sessions (its connect_query, or ALTER ROLE … SET): see
// docs/SCALING.md.
func WithTransactionPooler() Option { return func(o *options) { o.pooled = true } }

// WithStatementCounting makes CountStatements count: tests and benchmarks assert with it how many
// statements a request runs. A serving process leaves it off and pays nothing for it.
func WithStatementCounting() Option { return func(o *options) { o.counting = true } }

// DefaultSQLitePath is the embedded database file used when DATABASE_URL is empty.
const DefaultSQLitePath = "taskql.db"

// Open connects to the database named by url: postgres://… (or postgresql://…) for PostgreSQL,
// sqlite:PATH for an SQLite file, empty for DefaultSQLitePath. It does not migrate.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{timeouts: DefaultTimeouts}
	for _, opt := range opts {
		opt(&o)
	}
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	var (
		db  *gorm.DB
		err error
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err = openGorm(url, o, cfg)
	case url == "", strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			path = DefaultSQLitePath
		}
		db, err = gorm.Open(openSQLite(sqliteDSN(path, o.timeouts.Lock)), cfg)
	default:
		// The value itself may hold a password: name only what is wrong with it.
		return nil, fmt.Errorf("open database: DATABASE_URL must start with postgres://, postgresql:// or sqlite:, not %s", schemeOf(url))
	}
	h := &health{now: time.Now}
	if err == nil {
		err = instrument(db, o)
	}
	if err == nil {
		err = registerHealth(db, h)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{db: db, dialect: migrate.DialectOf(db), writes: &sync.Mutex{}, health: h, pooled: o.pooled, timeouts: o.timeouts, traced: o.tracing}
	if err := s.pool(); err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		_ = s.Close()
		return nil, err
	}
	if o.replica != "" {
		if s.dialect != migrate.Postgres {
			_ = s.Close()
			return nil, errors.New("open database: a replica needs PostgreSQL")
		}
		if s.replica, err = openReplica(s, o, cfg); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("open replica: %w", err)
		}
	}
	return s, nil
}

// openGorm opens GORM on the PostgreSQL database of url.
func openGorm(url string, o options, cfg *gorm.Config) (*gorm.DB, error) {
	conn, err := openPostgres(url, o.timeouts, o.pooled)
	if err != nil {
		return nil, err
	}
	return gorm.Open(postgres.New(postgres.Config{Conn: conn}), cfg)
}

// pool sizes the connection pool: on SQLite writers are serialised by the database itself (BEGIN
// IMMEDIATE) and a few connections serve reads; 16 on PostgreSQL.
func (s *Store) pool() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if s.dialect == migrate.SQLite {
		sqlDB.SetMaxOpenConns(4)
	} else {
		sqlDB.SetMaxOpenConns(16)
		sqlDB.SetMaxIdleConns(16)
	}
	return nil
}

// instrument hooks into every statement, as asked, the statement counter and the tracing plugin.
func instrument(db *gorm.DB, o options) error {
	if o.counting {
		if err := registerStatementCounter(db); err != nil {
			return err
		}
	}
	if o.tracing {
		if err := db.Use(otelgorm.NewPlugin(otelgorm.WithoutMetrics(), otelgorm.WithoutQueryVariables())); err != nil {
			return err
		}
	}
	return nil
}

// openPostgres connects through pgx, reading every timestamptz in UTC: the API's times do not
// depend on the server's time zone. Every session starts with the statement and lock timeouts,
// unless it is a pooler's (pooled), which keeps no session state of ours and takes no such
// startup parameter: see WithTransactionPooler.
func openPostgres(url string, t Timeouts, pooled bool) (*sql.DB, error) {
	config, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if pooled {
		if !strings.Contains(url, "default_query_exec_mode") {
			config.DefaultQueryExecMode = PooledExecMode
		}
	} else {
		config.RuntimeParams["statement_timeout"] = strconv.FormatInt(t.Statement.Milliseconds(), 10)
		config.RuntimeParams["lock_timeout"] = strconv.FormatInt(t.Lock.Milliseconds(), 10)
	}
	return stdlib.OpenDB(*config, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{
			Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	})), nil
}

// sqliteDSN turns on what taskql relies on: foreign keys, WAL for concurrent readers, a busy
// timeout (the lock timeout) instead of immediate SQLITE_BUSY, and BEGIN IMMEDIATE so a
// transaction holds the write lock from its start (the SQLite equivalent of locking the task row).
func sqliteDSN(path string, busy time.Duration) string {
	return "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(" +
		strconv.FormatInt(busy.Milliseconds(), 10) + ")&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// schemeOf names the scheme of a URL for an error message, or says there is none.
func schemeOf(url string) string {
	scheme, _, ok := strings.Cut(url, "://")
	if !ok || scheme == "" || strings.ContainsFunc(scheme, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')
	}) {
		return "a value without a scheme"
	}
	return fmt.Sprintf("%q", scheme+"://")
}

// Migrate applies the migrations not yet applied.
func (s *Store) Migrate(ctx context.Context) ([]string, error) { return migrate.Up(ctx, s.db) }

// Dialect tells which database this is.
func (s *Store) Dialect() migrate.Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Probe reads one row of the tasks table: it fails not only when the database is unreachable but
// also when the busiest table is locked or every connection is taken, which a ping cannot see
// (/readyz, DESIGN §8).
func (s *Store) Probe(ctx context.Context) error {
	var ids []string
	if err := s.q(ctx).Table("tasks").Limit(1).Pluck("id", &ids).Error; err != nil {
		return fmt.Errorf("probe database: %w", err)
	}
	return nil
}

// Close closes the connections.
func (s *Store) Close() error {
	if s.replica != nil {
		s.replica.close()
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Gorm exposes the connection to tests and tools that count or inspect statements.
func (s *Store) Gorm() *gorm.DB { return s.db }

// WithTx runs fn with a store bound to one transaction, committed when fn returns nil.
// The functions registered with AfterCommit run once the transaction has committed, in commit
// order: on SQLite, which serialises writers anyway, the process's write transactions take turns,
// so that the next begins only once the last has committed and run its functions.
func (s *Store) WithTx(ctx context.Context, fn func(tx *Store) error) error {
	if s.dialect == migrate.SQLite {
		s.writes.Lock()
		defer s.writes.Unlock()
	}
	var committed []func()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.pooled && s.dialect == migrate.Postgres {
			if err := localTimeouts(tx, s.timeouts); err != nil {
				return err
			}
		}
		return fn(&Store{db: tx, dialect: s.dialect, writes: s.writes, committed: &committed, health: s.health,
			pooled: s.pooled, timeouts: s.timeouts})
	})
	if err != nil {
		return err
	}
	for _, f := range committed {
		f()
	}
	return nil
}

// Reachable tells whether the last statement reached the database (false during an outage).
func (s *Store) Reachable() bool { return !s.health.down.Load() }

// AfterCommit runs f once the transaction this store is bound to has committed; never if it
// rolls back. Outside a transaction it runs f at once.
func (s *Store) AfterCommit(f func()) {
	if s.committed == nil {
		f()
		return
	}
	*s.committed = append(*s.committed, f)
}

// Notify sends the payloads on channel, in order, to every session that listens, once the
// transaction commits (PostgreSQL's pg_notify), in one statement; SQLite has no sessions to
// notify, and does nothing.
func (s *Store) Notify(ctx context.Context, channel string, payloads ...string) error {
	if s.dialect != migrate.Postgres || len(payloads) == 0 {
		return nil
	}
	var err error
	if len(payloads) == 1 {
		err = s.q(ctx).Exec("SELECT pg_notify(?, ?)", channel, payloads[0]).Error
	} else {
		all := make(texts, len(payloads))
		for i, p := range payloads {
			all[i] = text(p)
		}
		// unnest gives the payloads in order; WITH ORDINALITY and ORDER BY keep it so.
		err = s.q(ctx).Exec("SELECT pg_notify(?, p) FROM (SELECT p FROM unnest(?::text[]) WITH ORDINALITY AS u(p, i) ORDER BY i) AS o", channel, all).Error
	}
	if err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// translate maps GORM's errors to the store's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey), errors.Is(err, gorm.ErrForeignKeyViolated):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return err
}

// now is the time of a write, truncated to what both databases store.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// onConflictDoNothing makes a retried insert harmless.
var onConflictDoNothing = clause.OnConflict{DoNothing: true}
