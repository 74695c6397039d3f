package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// The fast path (graph/fast.go) is a second executor for some queries: it must answer every
// document byte for byte as gqlgen does, and hand back to gqlgen whatever it does not serve.

// fastCase is one request sent to a server with the fast path and to one without.
type fastCase struct {
	name, token, query string
	vars               map[string]any
	get                bool // sent by GET instead of POST
	fast               bool // whether the fast path answers it (false: gqlgen does)
}

const (
	everyUserField = `id name firstName lastName email avatar isOrgAdmin isAccessApproved onboardingRequired
		defaultEmailSenderId createdAt modifiedAt __typename`
	everyTaskField = `id label description type status actionTaken closeReason errorReason completedAction
		triggerEventId createdAt modifiedAt version __typename
		phase { id name position internal __typename }
		assignee { ` + everyUserField + ` } assigneeId assignees { ` + everyUserField + ` }`
)

// directivesQuery has aliases, fragments, and fields that its variables $yes and $no include or skip.
const directivesQuery = `query Q($t: ID!, $yes: Boolean!, $no: Boolean!) {
	__typename
	first: task(id: $t) { ...core ... on Node { id } phase { __typename ... on Phase { n: name } }
		who: assignees { n: name ... { email } ... on User @include(if: $yes) { id } } }
	again: task(id: $t) { id @include(if: $yes) label @include(if: $no) status @skip(if: $yes) version @skip(if: $no) }
	q: __typename
}
fragment core on Task { __typename id label l2: label id }`

var fastCases = []fastCase{
	{name: "the benchmark's page", token: tokAdmin, fast: true, vars: map[string]any{"p": "prj_site"},
		query: benchPageQuery},
	{name: "the benchmark's task", token: tokAdmin, fast: true, vars: map[string]any{"t": "tsk_03logo"},
		query: benchTaskQuery},
	{name: "the page by GET", token: tokAda, fast: true, get: true, vars: map[string]any{"p": "prj_site"},
		query: benchPageQuery},
	{name: "every field of a task with data", token: tokAdmin, fast: true,
		query: `{ task(id: "tsk_02copy") { ` + everyTaskField + ` } }`},
	{name: "every field of a task with two assignees", token: tokAda, fast: true,
		query: `{ task(id: "tsk_03logo") { ` + everyTaskField + ` } }`},
	{name: "every field of a closed task", token: tokDan, fast: true,
		query: `{ task(id: "tsk_05app") { ` + everyTaskField + ` } }`},
	{name: "strings that need escaping", token: tokAdmin, fast: true,
		query: `{ task(id: "tsk_04test") { label description errorReason closeReason assignees { name } } viewer { name firstName lastName email avatar } }`},
	{name: "aliases, fragments, @include and @skip", token: tokAdmin, fast: true,
		vars:  map[string]any{"t": "tsk_03logo", "yes": true, "no": false},
		query: directivesQuery},
	{name: "@include and @skip the other way", token: tokAdmin, fast: true,
		vars:  map[string]any{"t": "tsk_03logo", "yes": false, "no": true},
		query: directivesQuery},
	{name: "several operations, none named", token: tokAdmin,
		query: `query A { viewer { id } } query B { task(id: "tsk_01plan") { id } }`},
	{name: "a connection's every field", token: tokAdmin, fast: true,
		query: `{ tasks(filter: {projectId: "prj_site"}, first: 2) { totalCount
			edges { cursor node { id assignees { id } } }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } __typename } }`},
	{name: "an empty connection", token: tokAdmin, fast: true,
		query: `{ tasks(filter: {projectId: "prj_docs"}) { totalCount edges { cursor } nodes { id }
			pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`},
	{name: "filters and a variable first", token: tokAdmin, fast: true,
		vars:  map[string]any{"n": 3, "f": map[string]any{"status": []string{"OPEN", "FAILED"}, "unassigned": true}},
		query: `query($n: Int, $f: TaskFilter) { tasks(filter: $f, first: $n) { nodes { id status } } }`},
	{name: "the viewer", token: tokCat, fast: true, query: `{ viewer { ` + everyUserField + ` } }`},
	{name: "a task of another organization", token: tokAdmin,
		query: `{ task(id: "tsk_beta") { id } }`},
	{name: "a malformed id", token: tokAdmin, query: `{ task(id: "nope") { id } }`},
	{name: "first out of range", token: tokAdmin, query: `{ tasks(first: 0) { nodes { id } } }`},
	{name: "a malformed cursor", token: tokAdmin, query: `{ tasks(after: "nope") { nodes { id } } }`},
	{name: "a field with a resolver", token: tokAdmin, query: `{ task(id: "tsk_01plan") { id project { id } } }`},
	{name: "a field of an assignee with a resolver", token: tokAdmin,
		query: `{ task(id: "tsk_01plan") { assignees { company { id } } } }`},
	{name: "introspection", token: tokAdmin, query: `{ __schema { queryType { name } } }`},
	{name: "a viewer not approved", token: tokEve, query: `{ viewer { id } }`},
	{name: "a mutation", token: tokAdmin,
		query: `mutation { unassignUser(taskId: "tsk_04test", userId: "usr_bob") { id } }`},
}

// oddStrings gives a task and a user text that a JSON writer must escape.
func oddStrings(t testing.TB, st *store.Store) {
	t.Helper()
	const odd = "quote \" backslash \\ tab \t newline \n return \r controls \x01\x1f\x7f <b>&amp;</b> é 日本 \u2028\u2029 😀 '"
	for _, q := range []string{
		`UPDATE tasks SET label = ?, description = ?, error_reason = ? WHERE id = 'tsk_04test'`,
		`UPDATE users SET first_name = ?, last_name = ?, avatar = ? WHERE id = 'usr_admin'`,
	} {
		if err := st.Gorm().Exec(q, odd, odd+"2", "\\\""+odd).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestFastPathAnswersAsGQLGen(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		seedWorld(t, st)
		oddStrings(t, st)
		h := graph.NewServer(rules.New(st), graph.Options{})
		fast := serveHandler(t, st, h)
		slow := serve(t, st, graph.Options{GQLGenOnly: true})
		send := func(a *api, c fastCase) *response {
			if c.get {
				return a.get(c.token, c.query, c.vars)
			}
			return a.post(c.token, c.query, c.vars)
		}
		cases := append(fastCases, nextPage(t, slow))
		// Twice: the second time, each document's compiled plan is the one kept from the first.
		for _, c := range append(cases, cases...) {
			before := graph.FastServed(h)
			got := send(fast, c)
			served := graph.FastServed(h) - before
			want := send(slow, c)
			if got.Status != want.Status || !bytes.Equal(got.Body, want.Body) ||
				got.Header.Get("Content-Type") != want.Header.Get("Content-Type") {
				t.Errorf("%s: the fast path answered %d %s\n%s\ngqlgen %d %s\n%s", c.name,
					got.Status, got.Header.Get("Content-Type"), got.Body, want.Status, want.Header.Get("Content-Type"), want.Body)
			}
			if wantServed := map[bool]int64{true: 1}[c.fast]; served != wantServed {
				t.Errorf("%s: the fast path answered %d operations, want %d", c.name, served, wantServed)
			}
		}
	})
}

// nextPage is the case of a page after the first, at the cursor gqlgen gave.
func nextPage(t *testing.T, a *api) fastCase {
	t.Helper()
	const q = `query($after: String) { tasks(filter: {projectId: "prj_site"}, first: 2, after: $after) {
		edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`
	var first struct {
		Tasks struct{ PageInfo struct{ EndCursor string } }
	}
	if err := json.Unmarshal(a.post(tokAdmin, q, nil).ok(), &first); err != nil {
		t.Fatal(err)
	}
	return fastCase{name: "the second page", token: tokAdmin, fast: true, query: q,
		vars: map[string]any{"after": first.Tasks.PageInfo.EndCursor}}
}

// FuzzFastPath sends any request body to a server with the fast path and to one without, on one
// world, and requires the same answer. Mutations are left out: each would change the world for
// the other server.
func FuzzFastPath(f *testing.F) {
	for _, c := range fastCases {
		body, err := json.Marshal(map[string]any{"query": c.query, "variables": c.vars})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	st := testdb.SQLite(f)
	seedWorld(f, st)
	oddStrings(f, st)
	fast := graph.NewServer(rules.New(st), graph.Options{})
	slow := graph.NewServer(rules.New(st), graph.Options{GQLGenOnly: true})
	f.Fuzz(func(t *testing.T, body []byte) {
		if lower := bytes.ToLower(body); bytes.Contains(lower, []byte("mutation")) || bytes.Contains(lower, []byte("subscription")) {
			t.Skip("a mutation would change the world between the two servers")
		}
		answer := func(h http.Handler) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tokAdmin)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		got, want := answer(fast), answer(slow)
		if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("body %q: the fast path answered %d\n%s\ngqlgen %d\n%s", body, got.Code, got.Body, want.Code, want.Body)
		}
	})
}
