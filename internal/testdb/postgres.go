package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/store"
)

// DefaultPostgresURL is the server the PostgreSQL tests use when TEST_DATABASE_URL is empty.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres"

// templateLockKey serialises building the template database among test binaries of different
// packages, which go test runs in parallel.
const templateLockKey = 7_341_590_224

// adminTimeouts bound the statements of the admin connection. Creating and dropping a database is
// no request: on a server busy with other test runs it may wait longer than a request's 5 s (for
// the sessions it ends to go, for a checkpoint), and that is no failure of the test.
var adminTimeouts = store.Timeouts{Statement: 2 * time.Minute, Lock: 2 * time.Minute}

// server is the PostgreSQL server of this test binary, connected once and shared by every test.
type server struct {
	base        *url.URL // the server's URL, naming the database the admin connection uses
	admin       *sql.DB  // creates and drops the test databases
	template    string   // the migrated database every test database is cloned from
	templateErr error    // why there is no template: fails every PostgreSQL test
}

var (
	serverOnce sync.Once
	shared     *server
	sharedErr  error // unreachable: skip or fail, see unavailable
)

// PostgresURL creates a fresh, migrated PostgreSQL database and returns its URL, for code that
// opens its own connection (a server under test). The database is dropped when the test ends,
// together with any connection still open to it. It skips the test when PostgreSQL is
// unreachable (see the package comment).
func PostgresURL(t testing.TB) string {
	t.Helper()
	s := reach(t)
	return s.createDatabase(t, "TEMPLATE "+quote(s.template))
}

// reach returns the shared server, connecting to it on first use; it skips or fails the test
// when there is none (see unavailable).
func reach(t testing.TB) *server {
	t.Helper()
	serverOnce.Do(func() { shared, sharedErr = connect() })
	if sharedErr != nil {
		unavailable(t, sharedErr)
	}
	if shared.templateErr != nil {
		t.Fatalf("testdb: %v", shared.templateErr)
	}
	return shared
}

// createDatabase creates a database with a fresh name and the given options of CREATE DATABASE,
// drops it when the test ends (with any connection still open to it), and returns its URL.
func (s *server) createDatabase(t testing.TB, options string) string {
	t.Helper()
	name := "taskql_test_" + randomHex(8)
	if _, err := s.admin.ExecContext(t.Context(), "CREATE DATABASE "+quote(name)+" "+options); err != nil {
		t.Fatalf("testdb: create database: %v", err)
	}
	t.Cleanup(func() {
		drop := fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", quote(name))
		// t.Context() is already cancelled when cleanup runs.
		if _, err := s.admin.ExecContext(context.Background(), drop); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	return databaseURL(s.base, name)
}

// connect reaches the server and makes sure the template database exists. An error means the
// server is unreachable; a failure to build the template is kept apart, in templateErr, so that
// it fails the tests instead of skipping them.
func connect() (*server, error) {
	raw := os.Getenv("TEST_DATABASE_URL")
	if raw == "" {
		raw = DefaultPostgresURL
	}
	base, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse TEST_DATABASE_URL: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := store.Open(ctx, raw, store.WithTimeouts(adminTimeouts))
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s is unreachable: %w", base.Redacted(), err)
	}
	admin, err := st.Gorm().DB()
	if err != nil {
		return nil, err
	}
	s := &server{base: base, admin: admin}
	ctx, cancel = context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s.template, s.templateErr = s.ensureTemplate(ctx)
	return s, nil
}

// ensureTemplate returns the name of the migrated template database, building it if no test
// binary has yet. The name is a hash of the migration ids, so a new migration makes a new
// template, while unchanged migrations reuse it across runs.
func (s *server) ensureTemplate(ctx context.Context) (string, error) {
	name := templateName(migrationIDs())
	conn, err := s.admin.Conn(ctx)
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	defer conn.Close()
	// A session-level lock: CREATE DATABASE cannot run inside a transaction.
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", fmt.Errorf("template: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLockKey) //nolint:errcheck

	var exists bool
	err = conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err != nil || exists {
		return name, err
	}
	// Build under another name and rename when done, so that a run killed halfway never leaves a
	// template that looks complete.
	building := name + "_building"
	for _, stmt := range []string{
		"DROP DATABASE IF EXISTS " + quote(building) + " WITH (FORCE)",
		"CREATE DATABASE " + quote(building),
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return "", fmt.Errorf("template: %w", err)
		}
	}
	st, err := store.Open(ctx, databaseURL(s.base, building))
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	_, err = st.Migrate(ctx)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "ALTER DATABASE "+quote(building)+" RENAME TO "+quote(name)); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	return name, nil
}

// unavailable skips the test when PostgreSQL is unreachable, loudly, or fails it when
// REQUIRE_POSTGRES=1.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatalf("testdb: %v (REQUIRE_POSTGRES=1)", err)
		return
	}
	t.Skipf("\n*** SKIPPED: testdb: %v\n*** Start PostgreSQL or set TEST_DATABASE_URL; REQUIRE_POSTGRES=1 makes this a failure.", err)
}

func migrationIDs() []string {
	ids := make([]string, len(migrate.All))
	for i, m := range migrate.All {
		ids[i] = m.ID
	}
	return ids
}

// templateName names the template database of a list of migrations.
func templateName(ids []string) string {
	sum := sha256.Sum256([]byte(strings.Join(ids, "\n")))
	return "taskql_tmpl_" + hex.EncodeToString(sum[:8])
}

// databaseURL is base naming another database of the same server.
func databaseURL(base *url.URL, name string) string {
	u := *base
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// quote quotes a PostgreSQL identifier.
func quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
