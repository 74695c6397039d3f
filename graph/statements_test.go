package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// statementWorld has one project with 120 members (every other one of the client company) and
// 120 tasks in two phases (one internal), each with two assignees: big enough that a per-row
// query would show in the counts.
func statementWorld() *seed.World {
	w := &seed.World{
		Organizations: []seed.Organization{{ID: "org_s", Name: "S"}},
		Companies: []seed.Company{
			{ID: "cmp_sagency", OrganizationID: "org_s", Name: "Agency", Kind: "AGENCY"},
			{ID: "cmp_sclient", OrganizationID: "org_s", Name: "Client", Kind: "CLIENT"},
		},
		Projects: []seed.Project{{ID: "prj_s", OrganizationID: "org_s", Name: "P"}},
		Phases: []seed.Phase{
			{ID: "phs_sopen", ProjectID: "prj_s", Name: "Open"},
			{ID: "phs_sinternal", ProjectID: "prj_s", Name: "Internal", Internal: true},
		},
		Tokens: []seed.Token{{UserID: "usr_s000", Token: "statement-admin"}},
	}
	for i := range 120 {
		company := "cmp_sagency"
		if i%2 == 1 {
			company = "cmp_sclient"
		}
		id := fmt.Sprintf("usr_s%03d", i)
		w.Users = append(w.Users, seed.User{ID: id, OrganizationID: "org_s", CompanyID: company,
			FirstName: "U", LastName: fmt.Sprint(i), Email: id + "@s.test", IsOrgAdmin: i == 0})
		w.Projects[0].MemberIDs = append(w.Projects[0].MemberIDs, id)
	}
	for i := range 120 {
		phase := "phs_sopen"
		if i%2 == 1 {
			phase = "phs_sinternal"
		}
		w.Tasks = append(w.Tasks, seed.Task{ID: fmt.Sprintf("tsk_s%03d", i), ProjectID: "prj_s", PhaseID: phase,
			Label: "T", Type: "CALL_ANALYSIS", AssigneeIDs: []string{"usr_s000", "usr_s002"}})
	}
	return w
}

// countingServer serves the real handler and reports how many SQL statements each request ran.
func countingServer(t *testing.T, st *store.Store) (post func(query string, vars map[string]any) (int, map[string]any)) {
	t.Helper()
	if err := seed.Load(context.Background(), st, statementWorld()); err != nil {
		t.Fatal(err)
	}
	// What these tests count is statements, not time: the deadline is long enough for the largest
	// document (4,900 pairs written and 5,000 read back on SQLite) on a machine as loaded as CI's,
	// where it once took 12.9 s against 0.5 s alone.
	h := graph.NewServer(rules.New(st), graph.Options{Limits: graph.Limits{Deadline: 2 * time.Minute}})
	var counter *store.StatementCounter
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := store.CountStatements(r.Context())
		counter = c
		h.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)
	return func(query string, vars map[string]any) (int, map[string]any) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/query", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer statement-admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		if out["errors"] != nil {
			t.Fatalf("errors: %v", out["errors"])
		}
		return counter.Count(), out
	}
}

const pageQuery = `query($p: ID!, $n: Int!) { tasks(filter: {projectId: $p}, first: $n) {
	nodes { id label status phase { id name internal } assignees { id name email } } } }`

// The page read of the benchmark runs two statements whatever its size: the viewer's token, then
// the page with each task's phase and assignees (look-ahead: what the selection shows is read
// along). Through edges and fragments as through nodes; one task with its assignees the same.
func TestStatementCountOfTaskPageIsConstant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		post := countingServer(t, st)
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			tasks       int
		}{
			{"first 5", pageQuery, map[string]any{"p": "prj_s", "n": 5}, 5},
			{"first 100", pageQuery, map[string]any{"p": "prj_s", "n": 100}, 100},
			{"edges and a fragment", `query($p: ID!) { tasks(filter: {projectId: $p}, first: 100) {
				edges { node { ...T } } } } fragment T on Task { id phase { name } assignee { id } assignees { name } }`,
				map[string]any{"p": "prj_s"}, 100},
			{"one task", `{ task(id: "tsk_s001") { id phase { internal } assignees { id email } } }`, nil, 1},
		} {
			n, out := post(c.query, c.vars)
			if got := countTasks(out["data"].(map[string]any)); got != c.tasks {
				t.Fatalf("%s gave %d tasks, want %d", c.name, got, c.tasks)
			}
			if n != 2 {
				t.Errorf("%s ran %d statements, want 2 (the token, the tasks with their relations)", c.name, n)
			}
		}
	})
}

// countTasks counts the tasks of a response: a task's data, or a page's nodes or edges.
func countTasks(data map[string]any) int {
	if _, ok := data["task"]; ok {
		return 1
	}
	page := data["tasks"].(map[string]any)
	if nodes, ok := page["nodes"]; ok {
		return len(nodes.([]any))
	}
	return len(page["edges"].([]any))
}

// assignUsers checks and writes any number of users with the same statements.
func TestStatementCountOfAssignUsersIsConstant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		post := countingServer(t, st)
		const m = `mutation($t: ID!, $u: [ID!]!) { assignUsers(taskId: $t, userIds: $u) { id assignees { id } } }`
		one, _ := post(m, map[string]any{"t": "tsk_s000", "u": []string{"usr_s001"}})
		var hundred []string
		for i := 3; len(hundred) < 98; i++ {
			hundred = append(hundred, fmt.Sprintf("usr_s%03d", i))
		}
		many, out := post(m, map[string]any{"t": "tsk_s002", "u": hundred})
		got := out["data"].(map[string]any)["assignUsers"].(map[string]any)["assignees"].([]any)
		if len(got) != 100 {
			t.Fatalf("task holds %d assignees, want 100", len(got))
		}
		if one != many {
			t.Errorf("statements: 1 user ran %d, 98 users ran %d; want the same", one, many)
		}
		t.Logf("assignUsers runs %d statements", many)
	})
}

// DESIGN §10, the load-aware picker: a page of a task's assignable users, least loaded first and
// each with its openAssignedCount, is one statement whatever its size, the counts included
// (selecting openAssignedCount costs nothing more); elsewhere the counts of a list of users are
// one statement for the list.
func TestStatementCountOfAssignableUsersByLoadIsConstant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		post := countingServer(t, st)
		const picker = `query($n: Int!, $after: String) { task(id: "tsk_s000") {
			assignableUsers(first: $n, after: $after, orderBy: LOAD) { nodes { id openAssignedCount } pageInfo { endCursor } } } }`
		const plain = `query($n: Int!) { task(id: "tsk_s000") { assignableUsers(first: $n, orderBy: LOAD) { nodes { id } } } }`
		type page struct {
			Nodes []struct {
				ID                string
				OpenAssignedCount int
			}
			PageInfo struct{ EndCursor string }
		}
		read := func(out map[string]any) page {
			var p page
			b, _ := json.Marshal(out["data"].(map[string]any)["task"].(map[string]any)["assignableUsers"])
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			return p
		}
		five, _ := post(picker, map[string]any{"n": 5})
		hundred, out := post(picker, map[string]any{"n": 100})
		first := read(out)
		rest, out := post(picker, map[string]any{"n": 100, "after": first.PageInfo.EndCursor})
		last := read(out)
		without, _ := post(plain, map[string]any{"n": 100})
		// 120 members; usr_s000 and usr_s002 hold the 120 open tasks, the others none.
		if len(first.Nodes) != 100 || len(last.Nodes) != 20 {
			t.Fatalf("pages of %d and %d users, want 100 and 20", len(first.Nodes), len(last.Nodes))
		}
		for i, n := range append(first.Nodes, last.Nodes...) {
			want := 0
			if i >= 118 {
				want = 120
			}
			if n.OpenAssignedCount != want {
				t.Errorf("user %d (%s) of the load order counts %d, want %d", i, n.ID, n.OpenAssignedCount, want)
			}
		}
		if five != hundred || hundred != rest || hundred != without {
			t.Errorf("statements: first 5 ran %d, first 100 %d, the next page %d, without the counts %d; want the same", five, hundred, rest, without)
		}
		t.Logf("a task's assignable users by load, with their counts, run %d statements (the token, the task, its placement, the page)", hundred)

		const users = `query($n: Int!) { users(first: $n) { nodes { id openAssignedCount } } }`
		few, _ := post(users, map[string]any{"n": 5})
		many, _ := post(users, map[string]any{"n": 100})
		if few != many {
			t.Errorf("statements: users with their counts ran %d for 5, %d for 100; want the same", few, many)
		}
		t.Logf("a page of users with their counts runs %d statements", many)
	})
}

// DESIGN §10: assignUsersToTasks runs as many statements for one task and one user as for 50 tasks
// and 98 users: the tasks locked in one statement, the users' facts for every project in one, the
// assignees in one, every change and its event written in one (on PostgreSQL; a few on SQLite).
func TestStatementCountOfAssignUsersToTasksIsConstant(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		post := countingServer(t, st)
		const m = `mutation($t: [ID!]!, $u: [ID!]!) { assignUsersToTasks(taskIds: $t, userIds: $u) { id assignees { id } } }`
		one, _ := post(m, map[string]any{"t": []string{"tsk_s100"}, "u": []string{"usr_s001"}})
		var tasks, users []string
		for i := 0; len(tasks) < 50; i += 2 { // the tasks of the phase that is not internal
			tasks = append(tasks, fmt.Sprintf("tsk_s%03d", i))
		}
		for i := 3; len(users) < 98; i++ {
			users = append(users, fmt.Sprintf("usr_s%03d", i))
		}
		many, out := post(m, map[string]any{"t": tasks, "u": users})
		got := out["data"].(map[string]any)["assignUsersToTasks"].([]any)
		if len(got) != 50 {
			t.Fatalf("%d tasks replied, want 50", len(got))
		}
		for _, task := range got {
			if n := len(task.(map[string]any)["assignees"].([]any)); n != 100 {
				t.Fatalf("a task holds %d assignees, want 100", n)
			}
		}
		if one != many {
			t.Errorf("statements: 1 task and 1 user ran %d, 50 tasks and 98 users ran %d; want the same", one, many)
		}
		t.Logf("assignUsersToTasks runs %d statements", many)
	})
}
