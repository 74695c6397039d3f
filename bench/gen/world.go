package main

// The world: its rows and ids, generated from one seeded generator, so that the same scale always
// gives the same world.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/auth"
)

// world is the generated rows, as COPY wants them, and the ids the load scripts pick from.
type world struct {
	orgs, companies, users, tokens, projects, members, phases, tasks, assignees [][]any

	orgToken  []string // plain token of organization i's admin
	pairs     [][2]string
	taskCount int
}

// The fixed parts of the rows: the time every row is created at (tasks: one second apart) and the
// values drawn from.
var (
	base      = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	taskTypes = []string{"ACTIVITY_SUMMARY_OUTREACH", "ACTIVITY_SUMMARY_PAYMENTS", "AUTO_RESPONSE_EMAIL",
		"AUTO_RESPONSE_CALL", "CALL_ANALYSIS", "DISABLE_CONTACT", "RECOMMENDATION_NEW_CONTACT",
		"SCHEDULED_EMAIL_APPROVAL", "SCHEDULED_CALL_APPROVAL"}
	statuses   = []string{"OPEN", "OPEN", "OPEN", "COMPLETED", "CLOSED", "ARCHIVED", "FAILED", "PROCESSING", "ASSIGNED_TO_AGENT"}
	firstNames = []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Tony"}
	lastNames  = []string{"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Hoare"}
)

// The ids of organization o, its company k (0 the agency), user u, project p, its phase k, task t
// (see the command's doc), and the organization of user or project n and the project of task t.
func orgID(o int) string            { return fmt.Sprintf("org_%04d", o) }
func companyID(o, k int) string     { return fmt.Sprintf("cmp_%04d%d", o, k) }
func userID(u int) string           { return fmt.Sprintf("usr_%06d", u) }
func projectID(p int) string        { return fmt.Sprintf("prj_%05d", p) }
func phaseID(p, k int) string       { return fmt.Sprintf("phs_%05d%d", p, k) }
func taskID(t int) string           { return fmt.Sprintf("tsk_%08d", t) }
func orgOf(n, orgs int) int         { return (n-1)%orgs + 1 }
func projectOf(t, projects int) int { return (t-1)%projects + 1 }

// userFacts is what the projects and tasks need to know of a user.
type userFacts struct {
	id     string
	agency bool
}

// taskFacts is what the pairs need to know of a task.
type taskFacts struct {
	project, phase int
	assigned       map[string]bool
}

// generator carries what each step of generate leaves for the next ones. The steps draw from rng
// in a fixed order, which makes the world a function of the scale.
type generator struct {
	sc       scale
	rng      *rand.Rand
	w        *world
	usersOf  [][]userFacts // the users of organization o
	members  [][]userFacts // the members of project p
	internal []int         // the internal phase of project p
	tasks    []taskFacts   // task t
}

// generate builds the world of the scale sc.
func generate(sc scale) *world {
	g := &generator{sc: sc, rng: rand.New(rand.NewPCG(sc.Seed, 0x7a5c9b1e)), w: &world{taskCount: sc.Tasks}}
	g.addOrgs()
	g.addUsers()
	g.addProjects()
	g.addTasks()
	g.addPairs()
	return g.w
}

// addOrgs adds the organizations, each with its agency and two client companies, and the token of
// each one's admin.
func (g *generator) addOrgs() {
	w := g.w
	for o := 1; o <= g.sc.Orgs; o++ {
		w.orgs = append(w.orgs, []any{orgID(o), fmt.Sprintf("Organization %d", o), base, base})
		w.companies = append(w.companies,
			[]any{companyID(o, 0), orgID(o), fmt.Sprintf("Agency %d", o), "AGENCY", base, base},
			[]any{companyID(o, 1), orgID(o), fmt.Sprintf("Client %d-1", o), "CLIENT", base, base},
			[]any{companyID(o, 2), orgID(o), fmt.Sprintf("Client %d-2", o), "CLIENT", base, base})
		w.orgToken = append(w.orgToken, fmt.Sprintf("bench-%s-admin", orgID(o)))
	}
}

// addUsers adds the users, spread over the organizations, and the admins' tokens.
func (g *generator) addUsers() {
	sc, w, rng := g.sc, g.w, g.rng
	g.usersOf = make([][]userFacts, sc.Orgs+1)
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
		g.usersOf[o] = append(g.usersOf[o], userFacts{userID(u), agency})
	}
}

// addProjects adds the projects, each with members drawn from its organization's users and its
// phases, one of them internal.
func (g *generator) addProjects() {
	sc, w, rng := g.sc, g.w, g.rng
	g.members = make([][]userFacts, sc.Projects+1)
	g.internal = make([]int, sc.Projects+1)
	for p := 1; p <= sc.Projects; p++ {
		o := orgOf(p, sc.Orgs)
		w.projects = append(w.projects, []any{projectID(p), orgID(o), fmt.Sprintf("Project %d", p), base, base})
		pool := append([]userFacts(nil), g.usersOf[o]...)
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		g.members[p] = pool[:min(sc.Members, len(pool))]
		for _, m := range g.members[p] {
			w.members = append(w.members, []any{projectID(p), m.id})
		}
		g.internal[p] = 1 + rng.IntN(sc.Phases)
		for k := 1; k <= sc.Phases; k++ {
			w.phases = append(w.phases, []any{phaseID(p, k), projectID(p), fmt.Sprintf("Phase %d", k), k, k == g.internal[p], base, base})
		}
	}
}

// addTasks adds the tasks, spread over the projects, each in a random phase with 0 to
// MaxAssignees assignees that rules 1-3 allow.
func (g *generator) addTasks() {
	sc, w, rng := g.sc, g.w, g.rng
	g.tasks = make([]taskFacts, sc.Tasks+1)
	for t := 1; t <= sc.Tasks; t++ {
		p := projectOf(t, sc.Projects)
		k := 1 + rng.IntN(sc.Phases)
		created := base.Add(time.Duration(t) * time.Second)
		w.tasks = append(w.tasks, []any{taskID(t), orgID(orgOf(p, sc.Orgs)), projectID(p), phaseID(p, k),
			fmt.Sprintf("Task %d", t), taskTypes[rng.IntN(len(taskTypes))], statuses[rng.IntN(len(statuses))], created, created})
		eligible := assignable(g.members[p], k == g.internal[p])
		n := min(rng.IntN(sc.MaxAssignees+1), len(eligible))
		tf := taskFacts{project: p, phase: k, assigned: map[string]bool{}}
		for _, i := range rng.Perm(len(eligible))[:n] {
			tf.assigned[eligible[i].id] = true
			w.assignees = append(w.assignees, []any{taskID(t), eligible[i].id, created.Add(time.Duration(1+rng.IntN(3600)) * time.Second)})
		}
		g.tasks[t] = tf
	}
}

// addPairs draws the pairs: a task and a user that rules 1-3 allow and that is not yet assigned,
// so that an assign-then-unassign pair really changes the set twice and leaves it as it was.
func (g *generator) addPairs() {
	sc, w, rng := g.sc, g.w, g.rng
	for tries := 0; len(w.pairs) < sc.Pairs && tries < 20*sc.Pairs; tries++ {
		t := 1 + rng.IntN(sc.Tasks)
		tf := g.tasks[t]
		var free []userFacts
		for _, u := range assignable(g.members[tf.project], tf.phase == g.internal[tf.project]) {
			if !tf.assigned[u.id] {
				free = append(free, u)
			}
		}
		if len(free) > 0 {
			w.pairs = append(w.pairs, [2]string{taskID(t), free[rng.IntN(len(free))].id})
		}
	}
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
