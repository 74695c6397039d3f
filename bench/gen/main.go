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
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
)

type scale struct {
	Orgs, Users, Projects, Members, Phases, Tasks, MaxAssignees, Pairs int
	Seed                                                               uint64
}

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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

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

func withDatabase(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", fmt.Errorf("parse --server: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// sameWorld tells whether the database exists and was built with these flags.
func sameWorld(ctx context.Context, dbURL string, sc scale) bool {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return false
	}
	defer conn.Close(ctx)
	var params string
	if err := conn.QueryRow(ctx, "SELECT params FROM bench.meta").Scan(&params); err != nil {
		return false
	}
	return params == sc.String()
}

func createDatabase(ctx context.Context, server, name string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", server, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// migrate applies the server's own migrations, as `taskql migrate` does.
func migrate(ctx context.Context, dbURL string) error {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.Migrate(ctx)
	return err
}

// world is the generated rows, as COPY wants them, and the ids the load scripts pick from.
type world struct {
	orgs, companies, users, tokens, projects, members, phases, tasks, assignees [][]any

	orgToken  []string // plain token of organization i's admin
	pairs     [][2]string
	taskCount int
}

var (
	base      = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	taskTypes = []string{"ACTIVITY_SUMMARY_OUTREACH", "ACTIVITY_SUMMARY_PAYMENTS", "AUTO_RESPONSE_EMAIL",
		"AUTO_RESPONSE_CALL", "CALL_ANALYSIS", "DISABLE_CONTACT", "RECOMMENDATION_NEW_CONTACT",
		"SCHEDULED_EMAIL_APPROVAL", "SCHEDULED_CALL_APPROVAL"}
	statuses   = []string{"OPEN", "OPEN", "OPEN", "COMPLETED", "CLOSED", "ARCHIVED", "FAILED", "PROCESSING", "ASSIGNED_TO_AGENT"}
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Hoare"}
)

func orgID(o int) string            { return fmt.Sprintf("org_%04d", o) }
func companyID(o, k int) string     { return fmt.Sprintf("cmp_%04d%d", o, k) }
func userID(u int) string           { return fmt.Sprintf("usr_%06d", u) }
func projectID(p int) string        { return fmt.Sprintf("prj_%05d", p) }
func phaseID(p, k int) string       { return fmt.Sprintf("phs_%05d%d", p, k) }
func taskID(t int) string           { return fmt.Sprintf("tsk_%08d", t) }
func orgOf(n, orgs int) int         { return (n-1)%orgs + 1 }
func projectOf(t, projects int) int { return (t-1)%projects + 1 }

type userFacts struct {
	id     string
	agency bool
}

func generate(sc scale) *world {
	rng := rand.New(rand.NewPCG(sc.Seed, 0x7a5c9b1e))
	w := &world{taskCount: sc.Tasks}
	at := func(d time.Duration) time.Time { return base.Add(d) }

	for o := 1; o <= sc.Orgs; o++ {
		w.orgs = append(w.orgs, []any{orgID(o), fmt.Sprintf("Organization %d", o), base, base})
		w.companies = append(w.companies,
			[]any{companyID(o, 0), orgID(o), fmt.Sprintf("Agency %d", o), "AGENCY", base, base},
			[]any{companyID(o, 1), orgID(o), fmt.Sprintf("Client %d-1", o), "CLIENT", base, base},
			[]any{companyID(o, 2), orgID(o), fmt.Sprintf("Client %d-2", o), "CLIENT", base, base})
		w.orgToken = append(w.orgToken, fmt.Sprintf("bench-%s-admin", orgID(o)))
	}
	usersOf := make([][]userFacts, sc.Orgs+1)
	for u := 1; u <= sc.Users; u++ {
		o, i := orgOf(u, sc.Orgs), (u-1)/sc.Orgs
		// The first user of each organization is its admin; a third of the others are clients'.
		company, agency := companyID(o, 0), true
		if i > 0 && i%3 == 2 {
			company, agency = companyID(o, 1+i%2), false
		}
		first, last := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
		w.users = append(w.users, []any{userID(u), orgID(o), company, first, last,
			fmt.Sprintf("%s.%s.%d@org%d.test", strings.ToLower(first), strings.ToLower(last), u, o), i == 0, base, base})
		if i == 0 {
			w.tokens = append(w.tokens, []any{auth.HashToken(w.orgToken[o-1]), userID(u), base})
		}
		usersOf[o] = append(usersOf[o], userFacts{userID(u), agency})
	}

	members := make([][]userFacts, sc.Projects+1)
	internal := make([]int, sc.Projects+1)
	for p := 1; p <= sc.Projects; p++ {
		o := orgOf(p, sc.Orgs)
		w.projects = append(w.projects, []any{projectID(p), orgID(o), fmt.Sprintf("Project %d", p), base, base})
		pool := append([]userFacts(nil), usersOf[o]...)
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		members[p] = pool[:min(sc.Members, len(pool))]
		for _, m := range members[p] {
			w.members = append(w.members, []any{projectID(p), m.id})
		}
		internal[p] = 1 + rng.IntN(sc.Phases)
		for k := 1; k <= sc.Phases; k++ {
			w.phases = append(w.phases, []any{phaseID(p, k), projectID(p), fmt.Sprintf("Phase %d", k), k, k == internal[p], base, base})
		}
	}

	type taskFacts struct {
		project, phase int
		assigned       map[string]bool
	}
	tasks := make([]taskFacts, sc.Tasks+1)
	for t := 1; t <= sc.Tasks; t++ {
		p := projectOf(t, sc.Projects)
		k := 1 + rng.IntN(sc.Phases)
		created := at(time.Duration(t) * time.Second)
		w.tasks = append(w.tasks, []any{taskID(t), orgID(orgOf(p, sc.Orgs)), projectID(p), phaseID(p, k),
			fmt.Sprintf("Task %d", t), taskTypes[rng.IntN(len(taskTypes))], statuses[rng.IntN(len(statuses))], created, created})
		eligible := assignable(members[p], k == internal[p])
		n := min(rng.IntN(sc.MaxAssignees+1), len(eligible))
		tf := taskFacts{project: p, phase: k, assigned: map[string]bool{}}
		for _, i := range rng.Perm(len(eligible))[:n] {
			tf.assigned[eligible[i].id] = true
			w.assignees = append(w.assignees, []any{taskID(t), eligible[i].id, created.Add(time.Duration(1+rng.IntN(3600)) * time.Second)})
		}
		tasks[t] = tf
	}

	// Pairs: a task and a user that rules 1-3 allow and that is not yet assigned, so that an
	// assign-then-unassign pair really changes the set twice and leaves it as it was.
	for tries := 0; len(w.pairs) < sc.Pairs && tries < 20*sc.Pairs; tries++ {
		t := 1 + rng.IntN(sc.Tasks)
		tf := tasks[t]
		var free []userFacts
		for _, u := range assignable(members[tf.project], tf.phase == internal[tf.project]) {
			if !tf.assigned[u.id] {
				free = append(free, u)
			}
		}
		if len(free) > 0 {
			w.pairs = append(w.pairs, [2]string{taskID(t), free[rng.IntN(len(free))].id})
		}
	}
	return w
}

// assignable is the members that rule 3 allows: on an internal phase, the agency's only.
func assignable(members []userFacts, internal bool) []userFacts {
	if !internal {
		return members
	}
	var out []userFacts
	for _, m := range members {
		if m.agency {
			out = append(out, m)
		}
	}
	return out
}

func load(ctx context.Context, dbURL string, w *world, sc scale) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"organizations", []string{"id", "name", "created_at", "modified_at"}, w.orgs},
		{"companies", []string{"id", "organization_id", "name", "kind", "created_at", "modified_at"}, w.companies},
		{"users", []string{"id", "organization_id", "company_id", "first_name", "last_name", "email", "is_org_admin", "created_at", "modified_at"}, w.users},
		{"tokens", []string{"hash", "user_id", "created_at"}, w.tokens},
		{"projects", []string{"id", "organization_id", "name", "created_at", "modified_at"}, w.projects},
		{"project_members", []string{"project_id", "user_id"}, w.members},
		{"phases", []string{"id", "project_id", "name", "position", "internal", "created_at", "modified_at"}, w.phases},
		{"tasks", []string{"id", "organization_id", "project_id", "phase_id", "label", "type", "status", "created_at", "modified_at"}, w.tasks},
		{"task_assignees", []string{"task_id", "user_id", "assigned_at"}, w.assignees},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	pairs := make([][]any, len(w.pairs))
	for i, p := range w.pairs {
		pairs[i] = []any{i + 1, p[0], p[1]}
	}
	for _, s := range []string{
		"CREATE SCHEMA bench",
		"CREATE TABLE bench.meta (params TEXT NOT NULL)",
		"CREATE TABLE bench.pairs (n INTEGER PRIMARY KEY, task_id TEXT NOT NULL, user_id TEXT NOT NULL)",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench", "pairs"}, []string{"n", "task_id", "user_id"}, pgx.CopyFromRows(pairs)); err != nil {
		return fmt.Errorf("copy pairs: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO bench.meta VALUES ($1)", sc.String()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// Fresh statistics and visibility maps, as a database that has been running a while has.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}

func writeFiles(dir string, w *world, sc scale) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var page, task, assign, env strings.Builder
	for p := 1; p <= sc.Projects; p++ {
		fmt.Fprintf(&page, "%s %s\n", projectID(p), w.orgToken[orgOf(p, sc.Orgs)-1])
	}
	for t := 1; t <= sc.Tasks; t++ {
		fmt.Fprintf(&task, "%s %s\n", taskID(t), w.orgToken[orgOf(projectOf(t, sc.Projects), sc.Orgs)-1])
	}
	for _, p := range w.pairs {
		var t int
		fmt.Sscanf(p[0], "tsk_%d", &t)
		fmt.Fprintf(&assign, "%s %s %s\n", p[0], p[1], w.orgToken[orgOf(projectOf(t, sc.Projects), sc.Orgs)-1])
	}
	fmt.Fprintf(&env, "ORGS=%d\nPROJECTS=%d\nTASKS=%d\nPAIRS=%d\nASSIGNEES=%d\n", sc.Orgs, sc.Projects, sc.Tasks, len(w.pairs), len(w.assignees))
	for name, b := range map[string]*strings.Builder{"page.txt": &page, "task.txt": &task, "assign.txt": &assign, "env.sh": &env} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gen: %d projects, %d tasks, %d assignees, %d pairs; id files in %s\n",
		sc.Projects, sc.Tasks, len(w.assignees), len(w.pairs), dir)
	return nil
}
