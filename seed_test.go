package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/taskql/taskql/internal/seed"
)

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
