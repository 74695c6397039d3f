package testdb

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

func TestEachGivesEveryEngineItsOwnDatabase(t *testing.T) {
	var ran []migrate.Dialect
	Each(t, func(t *testing.T, st *store.Store) {
		ran = append(ran, st.Dialect())
		insertOrganization(t, st)
		if n := countOrganizations(t, st); n != 1 {
			t.Errorf("organizations = %d, want 1: the database is not fresh", n)
		}
	})
	if len(ran) == 0 || ran[0] != migrate.SQLite {
		t.Errorf("engines = %v, want sqlite first", ran)
	}
	if len(ran) == 2 && ran[1] != migrate.Postgres {
		t.Errorf("engines = %v, want postgres second", ran)
	}
}

// Parallel tests must never see each other's rows: each inserts the same id into its own
// database, which would conflict in a shared one.
func TestParallelTestsDoNotShareRows(t *testing.T) {
	for _, engine := range []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", SQLite}, {"postgres", Postgres}} {
		t.Run(engine.name, func(t *testing.T) {
			for _, name := range []string{"a", "b", "c", "d"} {
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					st := engine.open(t)
					if n := countOrganizations(t, st); n != 0 {
						t.Fatalf("organizations before insert = %d, want 0", n)
					}
					insertOrganization(t, st)
					if n := countOrganizations(t, st); n != 1 {
						t.Errorf("organizations after insert = %d, want 1", n)
					}
				})
			}
		})
	}
}

func TestDatabasesAreMigrated(t *testing.T) {
	Each(t, func(t *testing.T, st *store.Store) {
		ran, err := st.Migrate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(ran) != 0 {
			t.Errorf("Migrate applied %v, want nothing left to apply", ran)
		}
	})
}

func TestPostgresURLOpensAFreshDatabaseDroppedAtCleanup(t *testing.T) {
	var name string
	t.Run("use", func(t *testing.T) {
		u, err := url.Parse(PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		name = strings.TrimPrefix(u.Path, "/")
		st, err := store.Open(t.Context(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: a connection a test forgot must not stop the drop.
		insertOrganization(t, st)
	})
	if name == "" || t.Failed() {
		t.Skip("no PostgreSQL database was made")
	}
	var n int
	err := shared.admin.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("database %s of a finished test still exists", name)
	}
}

// The C-locale database exists to catch queries that depend on the database's locale: it must
// really have the C locale (where lower('É') is 'É'), and the whole schema.
func TestPostgresCLocaleIsMigratedWithTheCLocale(t *testing.T) {
	st := PostgresCLocale(t)
	var collate, ctype, lowered string
	err := st.Gorm().WithContext(t.Context()).
		Raw("SELECT datcollate, datctype, lower('É') FROM pg_database WHERE datname = current_database()").
		Row().Scan(&collate, &ctype, &lowered)
	if err != nil {
		t.Fatal(err)
	}
	if collate != "C" || ctype != "C" || lowered != "É" {
		t.Errorf("LC_COLLATE %q, LC_CTYPE %q, lower('É') %q; want C, C and É", collate, ctype, lowered)
	}
	ran, err := st.Migrate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ran) != 0 {
		t.Errorf("Migrate applied %v, want nothing left to apply", ran)
	}
	insertOrganization(t, st)
}

func TestUnreachablePostgresSkipsUnlessRequired(t *testing.T) {
	t.Setenv("TEST_DATABASE_URL", "postgres://postgres:secret@127.0.0.1:1/postgres?connect_timeout=5")
	_, err := connect()
	if err == nil {
		t.Fatal("connect to a closed port succeeded")
	}
	if msg := err.Error(); !strings.Contains(msg, "unreachable") || strings.Contains(msg, "secret") {
		t.Errorf("connect error = %q, want it to say unreachable and hide the password", msg)
	}

	t.Setenv("REQUIRE_POSTGRES", "")
	r := &recorder{TB: t}
	unavailable(r, err)
	if r.skipped == "" || r.failed != "" {
		t.Errorf("without REQUIRE_POSTGRES: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}

	t.Setenv("REQUIRE_POSTGRES", "1")
	r = &recorder{TB: t}
	unavailable(r, err)
	if r.skipped != "" || r.failed == "" {
		t.Errorf("with REQUIRE_POSTGRES=1: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
}

// recorder notes a skip or a failure instead of ending the test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Skipf(format string, args ...any)  { r.skipped = fmt.Sprintf(format, args...) }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestTemplateNameChangesWithTheMigrations(t *testing.T) {
	one := templateName([]string{"0001_initial"})
	if again := templateName([]string{"0001_initial"}); again != one {
		t.Errorf("templateName is not stable: %q then %q", one, again)
	}
	if two := templateName([]string{"0001_initial", "0002_next"}); two == one {
		t.Errorf("a new migration keeps the template name %q", one)
	}
	if len(one) > 63-len("_building") {
		t.Errorf("templateName %q is too long for PostgreSQL", one)
	}
}

func insertOrganization(t *testing.T, st *store.Store) {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	org := &model.Organization{ID: "org_testdb", Name: "Testdb", CreatedAt: now, ModifiedAt: now}
	if err := st.Create(t.Context(), org); err != nil {
		t.Fatalf("insert organization: %v", err)
	}
}

func countOrganizations(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().WithContext(t.Context()).Model(&model.Organization{}).Count(&n).Error; err != nil {
		t.Fatalf("count organizations: %v", err)
	}
	return n
}
