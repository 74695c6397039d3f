// Package testdb gives each test a fresh, migrated database of its own, on SQLite and on
// PostgreSQL (DESIGN §6), so that tests may run in parallel and never see each other's rows.
//
// PostgreSQL is found through TEST_DATABASE_URL, else DefaultPostgresURL. The schema is migrated
// once into a template database, and every test clones it (CREATE DATABASE … TEMPLATE …) instead
// of migrating its own. When the server is unreachable the PostgreSQL tests skip with a loud
// message, unless REQUIRE_POSTGRES=1 makes that a failure (as .ci/run does).
package testdb

import (
	"path/filepath"
	"testing"

	"github.com/taskql/taskql/internal/store"
)

// Each runs body twice, as the subtests (or sub-benchmarks) "sqlite" and "postgres", each with a
// fresh database: one store test suite for every engine taskql runs on. A test body may call
// t.Parallel.
func Each[T interface {
	testing.TB
	Run(name string, f func(T)) bool
}](t T, body func(t T, st *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t T) { body(t, SQLite(t)) })
	t.Run("postgres", func(t T) { body(t, Postgres(t)) })
}

// SQLite returns a store on a fresh, migrated SQLite file in t.TempDir(), closed when the test
// ends.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "taskql.db"))
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("testdb: migrate sqlite: %v", err)
	}
	return st
}

// Postgres returns a store on a fresh, migrated PostgreSQL database, closed and dropped when the
// test ends. It skips the test when PostgreSQL is unreachable (see the package comment).
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return open(t, PostgresURL(t))
}

// PostgresCLocale returns a store on a fresh PostgreSQL database created with the C locale
// (LC_COLLATE and LC_CTYPE 'C', UTF-8, from template0), migrated itself, and dropped when the
// test ends. There lower() and upper() change only ASCII letters and text sorts byte by byte,
// whatever the server's default: a test that runs on it shows whether a query depends on the
// database's locale. (Postgres clones a template made with the server's default locale, which a
// database cannot change once created, so this one cannot be a clone of it.)
func PostgresCLocale(t testing.TB) *store.Store {
	t.Helper()
	s := reach(t)
	st := open(t, s.createDatabase(t, "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C'"))
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("testdb: migrate C-locale postgres: %v", err)
	}
	return st
}

// open opens a store on url and closes it when the test ends.
func open(t testing.TB, url string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), url, store.WithStatementCounting())
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("testdb: close: %v", err)
		}
	})
	return st
}
