package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// The tests of the commands (migrate_test.go, seed_test.go, serve_test.go, token_test.go,
// server_test.go, with their helpers here) drive the command as a person does: run(ctx, args,
// out) with DATABASE_URL in the environment. t.Setenv forbids t.Parallel, so every one of them is
// sequential and kept fast.

// goodWorld is the fixture file of DESIGN §5, with a second phase and a client company so that a
// bad variant can point at something real but wrong.
const goodWorld = `{
  "organizations": [{"id": "org_acme", "name": "Acme"}],
  "companies": [
    {"id": "cmp_agency", "organizationId": "org_acme", "name": "Acme Studio", "kind": "AGENCY"},
    {"id": "cmp_client", "organizationId": "org_acme", "name": "Bluebird", "kind": "CLIENT"}
  ],
  "users": [{"id": "usr_ada", "organizationId": "org_acme", "companyId": "cmp_agency",
             "firstName": "Ada", "lastName": "Lovelace", "email": "ada@acme.test", "avatar": null,
             "isOrgAdmin": false, "isAccessApproved": true},
            {"id": "usr_bea", "organizationId": "org_acme", "companyId": "cmp_client",
             "firstName": "Bea", "lastName": "Baker", "email": "bea@bluebird.test"}],
  "tokens": [{"userId": "usr_ada", "token": "ada-secret-token"},
             {"userId": "usr_bea", "token": "bea-secret-token"}],
  "projects": [{"id": "prj_site", "organizationId": "org_acme", "name": "Website", "memberIds": ["usr_ada", "usr_bea"]},
               {"id": "prj_app", "organizationId": "org_acme", "name": "App"}],
  "phases": [{"id": "phs_disc", "projectId": "prj_site", "name": "Discovery", "position": 1, "internal": true},
             {"id": "phs_build", "projectId": "prj_app", "name": "Build"}],
  "tasks": [{"id": "tsk_copy", "projectId": "prj_site", "phaseId": "phs_disc", "label": "Write copy",
             "description": null, "type": "CALL_ANALYSIS", "status": "OPEN", "assigneeIds": ["usr_ada"]}]
}`

// eachDatabase runs body once on a fresh SQLite file and once on a fresh PostgreSQL database
// (already migrated by testdb), with DATABASE_URL set to it.
func eachDatabase(t *testing.T, body func(t *testing.T, url string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		url := sqliteURL(t)
		t.Setenv("DATABASE_URL", url)
		body(t, url)
	})
	t.Run("postgres", func(t *testing.T) {
		url := testdb.PostgresURL(t)
		t.Setenv("DATABASE_URL", url)
		body(t, url)
	})
}

// sqliteURL names a new SQLite file in the test's directory; the file does not exist yet.
func sqliteURL(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "x.db")
}

// runCmd runs the command with args and returns what it printed.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, args, &out)
	return out.String(), err
}

// mustRun runs the command and fails the test if it fails.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runCmd(t, args...)
	if err != nil {
		t.Fatalf("run %q: %v\noutput:\n%s", args, err, out)
	}
	return out
}

// mustFail runs the command, expects an error containing every one of want, and returns it.
func mustFail(t *testing.T, args []string, want ...string) error {
	t.Helper()
	out, err := runCmd(t, args...)
	if err == nil {
		t.Fatalf("run %q succeeded, want an error containing %q\noutput:\n%s", args, want, out)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("run %q: error %q does not contain %q", args, err, w)
		}
	}
	return err
}

// openStore opens the database the commands use, for the test to look inside.
func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// writeFile writes text into a file of the test's directory and returns its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// count is the number of rows of a table.
func count(t *testing.T, st *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().WithContext(t.Context()).Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// viewerOf authenticates a token against the database and returns the viewer's id, or the error.
func viewerOf(t *testing.T, st *store.Store, token string) (string, error) {
	t.Helper()
	v, err := rules.New(st).Authenticate(t.Context(), token)
	if err != nil {
		return "", err
	}
	return string(v.ID), nil
}

func wantViewer(t *testing.T, st *store.Store, token, want string) {
	t.Helper()
	got, err := viewerOf(t, st, token)
	if err != nil {
		t.Fatalf("authenticate %q: %v, want viewer %s", token, err, want)
	}
	if got != want {
		t.Fatalf("authenticate %q: viewer %s, want %s", token, got, want)
	}
}

func wantRefused(t *testing.T, st *store.Store, token string) {
	t.Helper()
	got, err := viewerOf(t, st, token)
	if err == nil {
		t.Fatalf("authenticate %q: viewer %s, want the token refused", token, got)
	}
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("authenticate %q: %v, want ErrUnauthenticated", token, err)
	}
}
