package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/taskql/taskql/internal/testdb"
)

var appliedLine = regexp.MustCompile(`^taskql: applied (\d+) migration\(s\) \[(.*)\]\n$`)

// applied parses the output of `migrate` into the ids it applied.
func applied(t *testing.T, out string) []string {
	t.Helper()
	m := appliedLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("migrate printed %q, want one line `taskql: applied N migration(s) [ids]`", out)
	}
	ids := strings.Fields(m[2])
	if fmt.Sprint(len(ids)) != m[1] {
		t.Fatalf("migrate printed %q: the count %s is not the number of ids %d", out, m[1], len(ids))
	}
	return ids
}

func TestMigrateAppliesTheMigrationsOnce(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		url := sqliteURL(t)
		t.Setenv("DATABASE_URL", url)
		first := applied(t, mustRun(t, "migrate"))
		if len(first) == 0 {
			t.Fatal("the first migrate of an empty SQLite file applied no migration")
		}
		if again := applied(t, mustRun(t, "migrate")); len(again) != 0 {
			t.Fatalf("the second migrate applied %v, want none", again)
		}
		st := openStore(t, url)
		if n := count(t, st, "schema_migrations"); n != int64(len(first)) {
			t.Fatalf("schema_migrations holds %d rows, want %d", n, len(first))
		}
		if n := count(t, st, "tasks"); n != 0 {
			t.Fatalf("migrate wrote %d tasks, want none", n)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		// testdb's databases come migrated: migrate finds nothing to do, twice.
		url := testdb.PostgresURL(t)
		t.Setenv("DATABASE_URL", url)
		for range 2 {
			if ids := applied(t, mustRun(t, "migrate")); len(ids) != 0 {
				t.Fatalf("migrate of a migrated database applied %v, want none", ids)
			}
		}
	})
}

func TestMigrateTakesNoArguments(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	mustFail(t, []string{"migrate", "--force"}, "no arguments")
}
