// Command gen builds the load benchmark's world (docs/PERFORMANCE.md) in a PostgreSQL database of
// its own, and writes the ids that the load scripts pick from.
//
//	go run ./bench/gen --db taskql_bench --out DIR [--tasks 100000 ...]
//
// It drops and creates the database, migrates it with the server's own migrations (store.Open and
// Migrate), and bulk-loads the rows with COPY. Everything comes from one seeded generator, so the
// same flags give the same world. When the database already holds a world made with the same
// flags (recorded in bench.meta), it is kept and only the id files are written again (--fresh
// forces a rebuild).
//
// Ids have fixed-width numeric suffixes, so that pgbench can compute them from a number:
//
//	org_0001              organization n
//	cmp_00010             its agency company; cmp_00011, cmp_00012 its client companies
//	usr_000001            user u, of organization (u-1) % orgs + 1; the first of each is its org admin
//	prj_00001             project p, of organization (p-1) % orgs + 1
//	phs_000011            phase k (1..phases) of project p: "phs_" + 5 digits of p + k
//	tsk_00000001          task t, of project (t-1) % projects + 1
//
// Files written to --out:
//
//	page.txt    "projectId token" for every project (token: its organization's admin)
//	task.txt    "taskId token" for every task
//	assign.txt  "taskId userId token": a task and a user that may be assigned to it and is not;
//	            the same pairs, numbered from 1, are in the table bench.pairs for pgbench
//	env.sh      the scale, as shell variables for run.sh
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// scale is the size of the world, from the flags; its String is recorded in bench.meta.
type scale struct {
	Orgs, Users, Projects, Members, Phases, Tasks, MaxAssignees, Pairs int
	Seed                                                               uint64
}

// String is the scale as recorded in bench.meta; "v1" is the version of the generator.
func (s scale) String() string {
	return fmt.Sprintf("orgs=%d users=%d projects=%d members=%d phases=%d tasks=%d maxAssignees=%d pairs=%d seed=%d v1",
		s.Orgs, s.Users, s.Projects, s.Members, s.Phases, s.Tasks, s.MaxAssignees, s.Pairs, s.Seed)
}

func main() {
	var sc scale
	server := flag.String("server", envOr("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres"), "PostgreSQL server URL (any database: the admin connection)")
	name := flag.String("db", "taskql_bench", "name of the benchmark database (dropped and created)")
	out := flag.String("out", filepath.Join(os.TempDir(), "taskql-bench"), "directory for the id files")
	fresh := flag.Bool("fresh", false, "rebuild the database even if it holds a world of the same scale")
	flag.IntVar(&sc.Orgs, "orgs", 10, "organizations")
	flag.IntVar(&sc.Users, "users", 200, "users, spread evenly over the organizations")
	flag.IntVar(&sc.Projects, "projects", 50, "projects, spread evenly over the organizations")
	flag.IntVar(&sc.Members, "members", 20, "members per project (at most the users of its organization)")
	flag.IntVar(&sc.Phases, "phases", 5, "phases per project (1-9), one of them internal")
	flag.IntVar(&sc.Tasks, "tasks", 100000, "tasks, spread evenly over the projects")
	flag.IntVar(&sc.MaxAssignees, "max-assignees", 5, "each task gets 0 to this many assignees")
	flag.IntVar(&sc.Pairs, "pairs", 10000, "(task, assignable user) pairs for the assign load")
	flag.Uint64Var(&sc.Seed, "seed", 1, "seed of the generator")
	flag.Parse()
	if err := run(context.Background(), *server, *name, *out, *fresh, sc); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// envOr is the environment variable name, or def when it is empty.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run checks the scale, builds the world and loads it into the database name on server, unless it
// already holds this world, then writes the id files into out.
func run(ctx context.Context, server, name, out string, fresh bool, sc scale) error {
	switch {
	case sc.Orgs < 1 || sc.Users < sc.Orgs || sc.Projects < 1 || sc.Tasks < 1:
		return fmt.Errorf("want orgs >= 1, users >= orgs, projects >= 1, tasks >= 1")
	case sc.Phases < 1 || sc.Phases > 9:
		return fmt.Errorf("--phases must be 1 to 9")
	case sc.Orgs > 9999 || sc.Users > 999999 || sc.Projects > 99999 || sc.Tasks > 99999999:
		return fmt.Errorf("scale too large for the fixed-width ids")
	}
	dbURL, err := withDatabase(server, name)
	if err != nil {
		return err
	}
	w := generate(sc)
	start := time.Now()
	if fresh || !sameWorld(ctx, dbURL, sc) {
		if err := createDatabase(ctx, server, name); err != nil {
			return err
		}
		if err := migrate(ctx, dbURL); err != nil {
			return err
		}
		if err := load(ctx, dbURL, w, sc); err != nil {
			return err
		}
		fmt.Printf("gen: loaded %s into %s in %s\n", sc, name, time.Since(start).Round(time.Millisecond))
	} else {
		fmt.Printf("gen: %s already holds %s; kept it\n", name, sc)
	}
	return writeFiles(out, w, sc)
}

// withDatabase is the URL server with its database replaced by name.
func withDatabase(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("parse --server: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
