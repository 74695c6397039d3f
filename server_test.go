package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// These tests drive the command as a person does: run(ctx, args, out) with DATABASE_URL in the
// environment. t.Setenv forbids t.Parallel, so every test here is sequential and kept fast.

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

func TestSeedFileLoadsTheWorldAndItsTokensWork(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		file := writeFile(t, "good.json", goodWorld)
		out := mustRun(t, "seed", "--file", file)
		want := "taskql: loaded 1 organization(s), 2 user(s), 2 project(s), 1 task(s)\n"
		if out != want {
			t.Errorf("seed --file printed %q, want %q", out, want)
		}
		if strings.Contains(out, "secret-token") {
			t.Errorf("seed --file printed the file's tokens: %q", out)
		}

		st := openStore(t, url)
		for table, want := range map[string]int64{
			"organizations": 1, "companies": 2, "users": 2, "tokens": 2, "projects": 2,
			"project_members": 2, "phases": 2, "tasks": 1, "task_assignees": 1,
		} {
			if n := count(t, st, table); n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		wantViewer(t, st, "ada-secret-token", "usr_ada")
		wantViewer(t, st, "bea-secret-token", "usr_bea")
		wantRefused(t, st, "not-a-token")

		// Defaults of DESIGN §5: isAccessApproved true, status OPEN, a task's organization its
		// project's.
		var bea struct{ IsAccessApproved bool }
		if err := st.Gorm().Table("users").Select("is_access_approved").Where("id = ?", "usr_bea").Take(&bea).Error; err != nil {
			t.Fatal(err)
		}
		if !bea.IsAccessApproved {
			t.Error("usr_bea, without isAccessApproved in the file, is not approved; the default is true")
		}
		var task struct {
			OrganizationID string
			Status         string
		}
		if err := st.Gorm().Table("tasks").Select("organization_id, status").Where("id = ?", "tsk_copy").Take(&task).Error; err != nil {
			t.Fatal(err)
		}
		if task.OrganizationID != "org_acme" || task.Status != "OPEN" {
			t.Errorf("tsk_copy: organization %q, status %q; want org_acme, OPEN", task.OrganizationID, task.Status)
		}

		// Loading the same file again names the rows that already exist and adds nothing.
		mustFail(t, []string{"seed", "--file", file}, "org_acme already exists")
		if n := count(t, st, "users"); n != 2 {
			t.Errorf("after a refused second load: %d users, want 2", n)
		}
	})
}

func TestSeedFileMayReferToRowsAlreadyInTheDatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	mustRun(t, "seed", "--file", writeFile(t, "good.json", goodWorld))
	more := writeFile(t, "more.json", `{
	  "users": [{"id": "usr_grace", "organizationId": "org_acme", "companyId": "cmp_agency",
	             "firstName": "Grace", "lastName": "Hopper", "email": "grace@acme.test"}],
	  "tokens": [{"userId": "usr_grace", "token": "grace-secret-token"}],
	  "tasks": [{"id": "tsk_more", "projectId": "prj_site", "phaseId": "phs_disc", "label": "More",
	             "type": "CALL_ANALYSIS", "assigneeIds": ["usr_ada"]}]
	}`)
	mustRun(t, "seed", "--file", more)
	st := openStore(t, os.Getenv("DATABASE_URL"))
	wantViewer(t, st, "grace-secret-token", "usr_grace")
	if n := count(t, st, "tasks"); n != 2 {
		t.Fatalf("%d tasks, want 2", n)
	}
}

// badWorld is goodWorld with one change.
func badWorld(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(goodWorld, old) {
		t.Fatalf("goodWorld has no %q", old)
	}
	return strings.Replace(goodWorld, old, new, 1)
}

func TestSeedFileWithABadReferenceNamesItAndWritesNothing(t *testing.T) {
	cases := []struct {
		name string
		old  string // replaced in goodWorld by new
		new  string
		want []string // in the error
	}{
		{
			name: "task phase of another project",
			old:  `"phaseId": "phs_disc"`, new: `"phaseId": "phs_build"`,
			want: []string{"task tsk_copy", "phase phs_build is not a phase of project prj_site"},
		},
		{
			name: "task phase unknown",
			old:  `"phaseId": "phs_disc"`, new: `"phaseId": "phs_nowhere"`,
			want: []string{"task tsk_copy", "phase phs_nowhere does not exist"},
		},
		{
			name: "user of an unknown company",
			old:  `"companyId": "cmp_client"`, new: `"companyId": "cmp_nowhere"`,
			want: []string{"user usr_bea", "company cmp_nowhere does not exist"},
		},
		{
			name: "assignee unknown",
			old:  `"assigneeIds": ["usr_ada"]`, new: `"assigneeIds": ["usr_ada", "usr_nobody"]`,
			want: []string{"task tsk_copy", "usr_nobody does not exist"},
		},
		{
			name: "token of an unknown user",
			old:  `{"userId": "usr_bea", "token": "bea-secret-token"}`, new: `{"userId": "usr_zed", "token": "bea-secret-token"}`,
			want: []string{"tokens[1]", "usr_zed does not exist"},
		},
		{
			name: "malformed id",
			old:  `"id": "prj_app"`, new: `"id": "project-app"`,
			want: []string{"project-app"},
		},
		{
			name: "unknown field",
			old:  `"isOrgAdmin": false`, new: `"isOrgAdmin": false, "colour": "blue"`,
			want: []string{"unknown field", "colour"},
		},
	}
	eachDatabase(t, func(t *testing.T, url string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				file := writeFile(t, "bad.json", badWorld(t, c.old, c.new))
				err := mustFail(t, []string{"seed", "--file", file}, c.want...)
				if strings.Contains(err.Error(), "secret-token") {
					t.Errorf("the error shows a token of the file: %v", err)
				}
				st := openStore(t, url)
				for _, table := range []string{"organizations", "companies", "users", "tokens", "projects", "phases", "tasks"} {
					if n := count(t, st, table); n != 0 {
						t.Errorf("a refused file wrote %d rows into %s", n, table)
					}
				}
				if empty, err := seed.Empty(t.Context(), st); err != nil || !empty {
					t.Errorf("seed.Empty = %v, %v after a refused file; want true", empty, err)
				}
			})
		}
	})
}

// seed.Parse promises "the line it was found on" for an unknown field; a person fixing a long
// file needs that line, not the file's last one.
func TestSeedFileUnknownFieldNamesItsLine(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	bad := badWorld(t, `"isOrgAdmin": false`, `"isOrgAdmin": false, "colour": "blue"`)
	line := strings.Count(bad[:strings.Index(bad, `"colour"`)], "\n") + 1 // 9
	mustFail(t, []string{"seed", "--file", writeFile(t, "bad.json", bad)}, `unknown field "colour"`, fmt.Sprintf("line %d:", line))
}

func TestSeedFileThatIsMissingOrNotJSON(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	mustRun(t, "migrate")
	missing := filepath.Join(t.TempDir(), "missing.json")
	mustFail(t, []string{"seed", "--file", missing}, missing)
	notJSON := writeFile(t, "world.json", "organizations:\n  - id: org_acme\n")
	mustFail(t, []string{"seed", "--file", notJSON}, notJSON)
	trailing := writeFile(t, "twice.json", goodWorld+"\n"+goodWorld)
	mustFail(t, []string{"seed", "--file", trailing}, "more after")
	st := openStore(t, os.Getenv("DATABASE_URL"))
	if empty, err := seed.Empty(t.Context(), st); err != nil || !empty {
		t.Errorf("seed.Empty = %v, %v; want true", empty, err)
	}
}

func TestSeedWantsExactlyOneOfDemoOrFile(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	file := writeFile(t, "good.json", goodWorld)
	for _, args := range [][]string{
		{"seed"},
		{"seed", "--demo", "--file", file},
		{"seed", "--file", file, "--demo"},
		{"seed", "--demo=false"},
	} {
		mustFail(t, args, "exactly one of --demo or --file")
	}
	mustFail(t, []string{"seed", "--file"}, "file") // flag without its value
	mustFail(t, []string{"seed", "--bogus"}, "bogus")
}

func TestSeedDemoPrintsItsTokensAndLoadsOnce(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		out := mustRun(t, "seed", "--demo")
		w := seed.Demo()
		if !strings.HasPrefix(out, "taskql: loaded ") {
			t.Errorf("seed --demo printed %q", out)
		}
		st := openStore(t, url)
		for _, tk := range w.Tokens {
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(tk.Token) + `\s+` + tk.UserID + `$`).MatchString(out) {
				t.Errorf("seed --demo did not print the line of token %s of %s:\n%s", tk.Token, tk.UserID, out)
			}
			wantViewer(t, st, tk.Token, tk.UserID)
		}
		users := count(t, st, "users")
		mustFail(t, []string{"seed", "--demo"}, "already exists")
		if n := count(t, st, "users"); n != users {
			t.Errorf("a refused second seed --demo changed the users from %d to %d", users, n)
		}
	})
}

func TestTokenCreateAndRevoke(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		mustRun(t, "seed", "--file", writeFile(t, "good.json", goodWorld))
		st := openStore(t, url)

		create := func() string {
			t.Helper()
			out := mustRun(t, "token", "create", "--user", "usr_ada")
			token, ok := strings.CutSuffix(out, "\n")
			if !ok || token == "" || strings.ContainsAny(token, "\n \t") {
				t.Fatalf("token create printed %q, want one line with the token", out)
			}
			wantViewer(t, st, token, "usr_ada")
			return token
		}
		first, second := create(), create()
		if first == second {
			t.Fatalf("two token create gave the same token %q", first)
		}

		// Only the hashes are stored: no column of any token row holds a token's text.
		var stored []map[string]any
		if err := st.Gorm().Table("tokens").Find(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 4 {
			t.Fatalf("tokens table: %d rows, want 4 (2 of the file, 2 created)", len(stored))
		}
		hashes := map[string]bool{}
		for _, row := range stored {
			for col, v := range row {
				s := fmt.Sprint(v)
				for _, plain := range []string{first, second, "ada-secret-token"} {
					if strings.Contains(s, plain) {
						t.Errorf("tokens.%s holds the plain text of token %q", col, plain)
					}
				}
			}
			hashes[fmt.Sprint(row["hash"])] = true
		}
		for _, plain := range []string{first, second} {
			if !hashes[auth.HashToken(plain)] {
				t.Errorf("tokens has no row with the hash of %q", plain)
			}
		}

		// Revoke refuses every token of the user at once, the file's included, and only hers.
		out := mustRun(t, "token", "revoke", "--user", "usr_ada")
		if want := "taskql: revoked 3 token(s) of usr_ada\n"; out != want {
			t.Errorf("token revoke printed %q, want %q", out, want)
		}
		for _, tk := range []string{first, second, "ada-secret-token"} {
			wantRefused(t, st, tk)
		}
		wantViewer(t, st, "bea-secret-token", "usr_bea")
		if out := mustRun(t, "token", "revoke", "--user", "usr_ada"); !strings.Contains(out, "revoked 0 token(s)") {
			t.Errorf("a second revoke printed %q, want 0 revoked", out)
		}

		// A token created after the revocation works.
		create()
	})
}

func TestTokenCommandsRefuseBadUsers(t *testing.T) {
	url := sqliteURL(t)
	t.Setenv("DATABASE_URL", url)
	mustRun(t, "seed", "--file", writeFile(t, "good.json", goodWorld))
	st := openStore(t, url)
	before := count(t, st, "tokens")

	mustFail(t, []string{"token", "create", "--user", "bad"}, "--user", `"bad"`)
	mustFail(t, []string{"token", "create", "--user", "prj_site"}, "--user", "prj_site")
	mustFail(t, []string{"token", "create"}, "--user")
	mustFail(t, []string{"token", "revoke", "--user", "bad"}, "--user", `"bad"`)
	err := mustFail(t, []string{"token", "create", "--user", "usr_nobody"}, "usr_nobody")
	if !errors.Is(err, store.ErrNotFound) && !strings.Contains(err.Error(), "not found") {
		t.Errorf("token create for an unknown user: %v, want it to say the user is not found", err)
	}
	mustFail(t, []string{"token"}, "token create --user ID")
	mustFail(t, []string{"token", "delete", "--user", "usr_ada"}, "token create --user ID")

	if n := count(t, st, "tokens"); n != before {
		t.Errorf("refused token commands changed the tokens from %d to %d rows", before, n)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	mustFail(t, []string{"frobnicate"}, "unknown command", "frobnicate")
	mustFail(t, []string{"serve", "--bogus"}, "bogus")
}

func TestUnknownDatabaseSchemeFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for _, url := range []string{
		"mysql://root:" + password + "@db.example:3306/taskql",
		"mysql://root:" + password + "@db@example:3306/taskql",
		"mongodb+srv://root:" + password + "@cluster.example/taskql",
	} {
		t.Run(url[:strings.Index(url, ":")], func(t *testing.T) {
			t.Setenv("DATABASE_URL", url)
			for _, args := range [][]string{
				{"migrate"},
				{"seed", "--demo"},
				{"token", "create", "--user", "usr_ada"},
				{"serve", "--addr", "127.0.0.1:0"},
			} {
				err := mustFail(t, args, "DATABASE_URL", "postgres://", "sqlite:")
				if strings.Contains(err.Error(), password) {
					t.Errorf("run %q: the error shows the password: %v", args, err)
				}
			}
		})
	}
}

// A DATABASE_URL set to another driver's connection string, without a scheme, is a likely
// mistake; its password must not reach the error (and so the terminal or a log) either.
func TestDatabaseConnectionStringWithoutSchemeFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for name, dsn := range map[string]string{
		"mysql dsn":          "root:" + password + "@tcp(db.example:3306)/taskql",
		"postgres key=value": "host=db.example user=taskql password=" + password + " dbname=taskql",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", dsn)
			err := mustFail(t, []string{"migrate"}, "DATABASE_URL")
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestBadPostgresURLFailsWithoutShowingThePassword(t *testing.T) {
	const password = "Sup3rS3cretPw"
	for name, url := range map[string]string{
		// Port 1 on the loopback refuses at once.
		"unreachable": "postgres://taskql:" + password + "@127.0.0.1:1/taskql?connect_timeout=2",
		"bad port":    "postgres://taskql:" + password + "@127.0.0.1:port/taskql",
		"bad option":  "postgresql://taskql:" + password + "@127.0.0.1:1/taskql?sslmode=sometimes",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", url)
			err := mustFail(t, []string{"migrate"})
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// server is run(ctx, serve…) going on in the background.
type server struct {
	lines  chan string // what it prints, a line at a time, closed when it returns
	done   chan error  // run's result
	cancel context.CancelFunc
	output []string // the lines read so far
}

// startServe runs `serve` with args in the background, printing into a pipe read line by line.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{lines: make(chan string, 64), done: make(chan error, 1), cancel: cancel}
	go func() {
		err := run(ctx, append([]string{"serve"}, args...), pw)
		pw.Close()
		s.done <- err
	}()
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		// Keep draining: the server must never block on its output.
		_, _ = io.Copy(io.Discard, pr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not return 15s after its context was cancelled")
		}
	})
	return s
}

var (
	playgroundLine = regexp.MustCompile(`^taskql: playground at (http://[^ ]+)/ , API at (http://[^ ]+/query)$`)
	apiLine        = regexp.MustCompile(`^taskql: API at (http://[^ ]+)/query$`) // production: no playground
)

// waitForURL reads lines until the playground line, returning the server's base URL and the
// lines before it. It fails if serve returns first.
func (s *server) waitForURL(t *testing.T) (base string, before []string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("serve stopped before printing its URL (%v); it printed:\n%s", <-s.done, strings.Join(s.output, "\n"))
			}
			s.output = append(s.output, line)
			if m := playgroundLine.FindStringSubmatch(line); m != nil {
				if m[2] != m[1]+"/query" {
					t.Errorf("playground %s and API %s are not on the same server", m[1], m[2])
				}
				return m[1], s.output[:len(s.output)-1]
			}
			if m := apiLine.FindStringSubmatch(line); m != nil {
				return m[1], s.output[:len(s.output)-1]
			}
		case <-timeout:
			t.Fatalf("serve printed no URL in 30s; it printed:\n%s", strings.Join(s.output, "\n"))
		}
	}
}

// stop cancels the server's context and returns what run returned.
func (s *server) stop(t *testing.T) error {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return 15s after its context was cancelled")
		return nil
	}
}

// demoTokens are the tokens printed under the "demo tokens" header, with their user ids.
func demoTokens(lines []string) (tokens, users []string) {
	in := false
	for _, l := range lines {
		if strings.HasPrefix(l, "taskql: demo tokens") {
			in = true
			continue
		}
		if in && strings.HasPrefix(l, "  ") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				tokens, users = append(tokens, f[0]), append(users, f[1])
			}
		}
	}
	return tokens, users
}

// lineOf is the first line that contains s.
func lineOf(lines []string, s string) string {
	for _, l := range lines {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func query(t *testing.T, url, token, q string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": q})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(got)
}

func TestServeLoadsTheDemoWorldAndShutsDownGracefully(t *testing.T) {
	eachDatabase(t, func(t *testing.T, url string) {
		s := startServe(t, "--addr", "127.0.0.1:0")
		base, before := s.waitForURL(t)
		if len(before) == 0 || before[0] != "taskql: loaded the demo world into the empty database" {
			t.Errorf("serve on an empty database printed %q first, want that it loaded the demo world", before)
		}
		tokens, users := demoTokens(before)
		if len(tokens) == 0 {
			t.Fatalf("serve printed no demo tokens:\n%s", strings.Join(before, "\n"))
		}
		if users[0] != "usr_ada" {
			t.Errorf("the first demo token is of %s, want usr_ada", users[0])
		}

		if code, body := get(t, base+"/healthz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("/healthz: %d %s", code, body)
		}
		if code, body := get(t, base+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"ok"`) {
			t.Errorf("/readyz: %d %s", code, body)
		}
		if code, body := get(t, base+"/"); code != http.StatusOK || !strings.Contains(body, tokens[0]) {
			t.Errorf("playground: %d, want 200 with the first demo token pre-filled", code)
		}
		code, body := query(t, base+"/query", tokens[0], `{ viewer { id name } }`)
		if want := `{"data":{"viewer":{"id":"usr_ada","name":"Ada Lovelace"}}}`; code != http.StatusOK || body != want {
			t.Errorf("POST /query: %d %s, want 200 %s", code, body, want)
		}
		// Every printed token is one of the printed user; an unapproved user's, marked so, is
		// forbidden everything.
		for i, tk := range tokens {
			code, body := query(t, base+"/query", tk, `{ viewer { id } }`)
			want := `"id":"` + users[i] + `"`
			if strings.Contains(lineOf(before, tk), "not approved") {
				want = `"code":"FORBIDDEN"`
			}
			if code != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("token %s printed for %s: %d %s, want %s", tk, users[i], code, body, want)
			}
		}
		if code, _ := query(t, base+"/query", "", `{ viewer { id } }`); code != http.StatusUnauthorized {
			t.Errorf("POST /query without a token: %d, want 401", code)
		}

		if err := s.stop(t); err != nil {
			t.Fatalf("serve returned %v after its context was cancelled, want nil", err)
		}
		if _, err := http.Get(base + "/healthz"); err == nil {
			t.Error("the server still answers after run returned")
		}

		// A second start finds the demo world: it does not load it again, and still prints the
		// tokens.
		s = startServe(t, "--addr", "127.0.0.1:0")
		_, before = s.waitForURL(t)
		if len(before) > 0 && strings.Contains(before[0], "loaded the demo world") {
			t.Error("the second start loaded the demo world again")
		}
		if again, _ := demoTokens(before); fmt.Sprint(again) != fmt.Sprint(tokens) {
			t.Errorf("the second start printed tokens %v, want %v", again, tokens)
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("second serve returned %v, want nil", err)
		}
	})
}

func TestServeNoDemoOnAnEmptyDatabasePrintsNoTokens(t *testing.T) {
	t.Run("flag", func(t *testing.T) { serveNoDemo(t, "--no-demo") })
	t.Run("TASKQL_NO_DEMO", func(t *testing.T) {
		t.Setenv("TASKQL_NO_DEMO", "1")
		serveNoDemo(t)
	})
}

func serveNoDemo(t *testing.T, args ...string) {
	url := sqliteURL(t)
	t.Setenv("DATABASE_URL", url)
	s := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	base, before := s.waitForURL(t)
	if len(before) != 0 {
		t.Errorf("serve --no-demo printed before its URL:\n%s", strings.Join(before, "\n"))
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d", code)
	}
	if code, _ := query(t, base+"/query", seed.Demo().Tokens[0].Token, `{ viewer { id } }`); code != http.StatusUnauthorized {
		t.Errorf("a demo token on a --no-demo server: %d, want 401", code)
	}
	if err := s.stop(t); err != nil {
		t.Fatalf("serve returned %v, want nil", err)
	}
	st := openStore(t, url)
	if empty, err := seed.Empty(t.Context(), st); err != nil || !empty {
		t.Errorf("seed.Empty = %v, %v after serve --no-demo; want true", empty, err)
	}
}

func TestServeFailsWhenItCannotListen(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	s := startServe(t, "--addr", "127.0.0.1:0", "--no-demo")
	base, _ := s.waitForURL(t)
	addr := strings.TrimPrefix(base, "http://")
	mustFail(t, []string{"serve", "--no-demo", "--addr", addr}, strings.Split(addr, ":")[1])
	if err := s.stop(t); err != nil {
		t.Fatal(err)
	}
}

// DESIGN §7: production mode (--env production or TASKQL_ENV=production) loads no demo world,
// serves no playground and answers no introspection; an unknown mode is refused.
func TestServeInProductionMode(t *testing.T) {
	for name, args := range map[string][]string{"flag": {"--env", "production"}, "TASKQL_ENV": nil} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", sqliteURL(t))
			if args == nil {
				t.Setenv("TASKQL_ENV", "production")
			}
			s := startServe(t, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
			base, before := s.waitForURL(t)
			if len(before) != 0 {
				t.Errorf("serve in production printed before its URL:\n%s", strings.Join(before, "\n"))
			}
			if code, _ := get(t, base+"/"); code != http.StatusNotFound {
				t.Errorf("GET / in production: %d, want 404", code)
			}
			if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
				t.Errorf("/readyz: %d", code)
			}
			if code, _ := query(t, base+"/query", seed.Demo().Tokens[0].Token, `{ viewer { id } }`); code != http.StatusUnauthorized {
				t.Errorf("a demo token in production: %d, want 401 (no demo world)", code)
			}
			if err := s.stop(t); err != nil {
				t.Fatal(err)
			}
		})
	}
	mustFail(t, []string{"serve", "--env", "staging"}, "--env must be development or production")
}

// A trusted-documents file that cannot be read stops serve before it listens.
func TestServeRefusesABadTrustedDocumentsFile(t *testing.T) {
	t.Setenv("DATABASE_URL", sqliteURL(t))
	bad := writeFile(t, "trusted.json", `{"0000": "{ viewer { id } }"}`)
	mustFail(t, []string{"serve", "--env", "production", "--trusted-documents", bad}, "trusted.json", "not the SHA-256")
	mustFail(t, []string{"serve", "--trusted-documents", bad + ".missing"}, "--trusted-documents")
}
