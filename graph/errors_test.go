package graph_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// errorCase is a request and the exact data and single error it must answer.
type errorCase struct {
	name, token, query, data, err string
}

func runErrorCases(t *testing.T, a *api, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := c.token
			if token == "" {
				token = tokAdmin
			}
			a.post(token, c.query, nil).wantError(c.data, c.err)
		})
	}
}

// codeErr is the JSON of one error with this message, path and code.
func codeErr(code, message, path string) string {
	return fmt.Sprintf(`{"message": %q, "path": %s, "extensions": {"code": %q}}`, message, path, code)
}

func badInput(message, path string) string { return codeErr("BAD_USER_INPUT", message, path) }
func notFound(message, path string) string { return codeErr("NOT_FOUND", message, path) }

func cursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// DESIGN §4: an id whose form or prefix is wrong for its argument is BAD_USER_INPUT; for node,
// task, user and project a null field with the error, and for a non-null field its parent null.
func TestMalformedIDsAreBadUserInput(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		long := "tsk_" + strings.Repeat("a", 29)     // 33 characters
		suffix28 := "tsk_" + strings.Repeat("b", 28) // 32 characters, but the suffix holds 1–27
		runErrorCases(t, a, []errorCase{
			{"user id as task id", "", `{ task(id: "usr_ada") { id } }`, `{"task": null}`,
				badInput(`"usr_ada" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id without suffix", "", `{ task(id: "tsk_") { id } }`, `{"task": null}`,
				badInput(`"tsk_" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id with a dash", "", `{ task(id: "tsk_bad-id") { id } }`, `{"task": null}`,
				badInput(`"tsk_bad-id" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id of 33 characters", "", `{ task(id: "` + long + `") { id } }`, `{"task": null}`,
				badInput(`"`+long+`" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id with a suffix of 28 characters", "", `{ task(id: "` + suffix28 + `") { id } }`, `{"task": null}`,
				badInput(`"`+suffix28+`" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id with a non-ASCII letter", "", `{ task(id: "tsk_café") { id } }`, `{"task": null}`,
				badInput(`"tsk_café" is not a well-formed tsk_ id`, `["task"]`)},
			{"empty task id", "", `{ task(id: "") { id } }`, `{"task": null}`,
				badInput(`"" is not a well-formed tsk_ id`, `["task"]`)},
			{"task id as user id", "", `{ user(id: "tsk_02copy") { id } }`, `{"user": null}`,
				badInput(`"tsk_02copy" is not a well-formed usr_ id`, `["user"]`)},
			{"user id as project id", "", `{ project(id: "usr_ada") { id } }`, `{"project": null}`,
				badInput(`"usr_ada" is not a well-formed prj_ id`, `["project"]`)},
			{"project id as assignees task id", "", `{ assignees(taskId: "prj_site") { id } }`, `null`,
				badInput(`"prj_site" is not a well-formed tsk_ id`, `["assignees"]`)},
			{"node id without prefix", "", `{ node(id: "nope") { id } }`, `{"node": null}`,
				badInput(`"nope" is not a well-formed id`, `["node"]`)},
			{"node id of no known type", "", `{ node(id: "xyz_abc") { id } }`, `{"node": null}`,
				badInput(`"xyz_abc" is not the id of a known type`, `["node"]`)},
			{"user id as assignUsers task id", "", `mutation { assignUsers(taskId: "usr_ada", userIds: ["usr_ada"]) { id } }`, `{"assignUsers": null}`,
				badInput(`"usr_ada" is not a well-formed tsk_ id`, `["assignUsers"]`)},
			{"malformed user id in userIds", "", `mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_ada", "ada"]) { id } }`, `{"assignUsers": null}`,
				badInput(`"ada" is not a well-formed usr_ id`, `["assignUsers"]`)},
			{"task id as assignee", "", `mutation { setTaskAssignee(taskId: "tsk_02copy", assignee: "tsk_02copy") { id } }`, `{"setTaskAssignee": null}`,
				badInput(`"tsk_02copy" is not a well-formed usr_ id`, `["setTaskAssignee"]`)},
			{"user id as setTaskAssignee task id", "", `mutation { setTaskAssignee(taskId: "usr_ada", assignee: null) { id } }`, `{"setTaskAssignee": null}`,
				badInput(`"usr_ada" is not a well-formed tsk_ id`, `["setTaskAssignee"]`)},
			{"project id as unassigned user", "", `mutation { unassignUser(taskId: "tsk_03logo", userId: "prj_site") { id } }`, `{"unassignUser": null}`,
				badInput(`"prj_site" is not a well-formed usr_ id`, `["unassignUser"]`)},
			{"user id as unassignUser task id", "", `mutation { unassignUser(taskId: "usr_bob", userId: "usr_bob") { id } }`, `{"unassignUser": null}`,
				badInput(`"usr_bob" is not a well-formed tsk_ id`, `["unassignUser"]`)},
			{"user id as TaskFilter.projectId", "", `{ tasks(filter: {projectId: "usr_ada"}) { totalCount } }`, `null`,
				badInput(`"usr_ada" is not a well-formed prj_ id`, `["tasks"]`)},
			{"task id as TaskFilter.phaseId", "", `{ tasks(filter: {phaseId: "tsk_02copy"}) { totalCount } }`, `null`,
				badInput(`"tsk_02copy" is not a well-formed phs_ id`, `["tasks"]`)},
			{"task id as TaskFilter.assigneeId", "", `{ tasks(filter: {assigneeId: "tsk_02copy"}) { totalCount } }`, `null`,
				badInput(`"tsk_02copy" is not a well-formed usr_ id`, `["tasks"]`)},
			{"project id as UserFilter.companyId", "", `{ users(filter: {companyId: "prj_site"}) { totalCount } }`, `null`,
				badInput(`"prj_site" is not a well-formed cmp_ id`, `["users"]`)},
			{"company id as UserFilter.projectId", "", `{ users(filter: {projectId: "cmp_studio"}) { totalCount } }`, `null`,
				badInput(`"cmp_studio" is not a well-formed prj_ id`, `["users"]`)},
			{"bad filter of Project.tasks", "", `{ project(id: "prj_site") { tasks(filter: {projectId: "usr_ada"}) { totalCount } } }`, `{"project": null}`,
				badInput(`"usr_ada" is not a well-formed prj_ id`, `["project", "tasks"]`)},
		})
	})
}

// DESIGN §4: first outside 1–100 or a malformed cursor is BAD_USER_INPUT, never clamped.
func TestPageArgumentsOutOfRangeAreBadUserInput(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		var cases []errorCase
		for _, first := range []int{0, 101, -1} {
			msg := fmt.Sprintf("first must be between 1 and 100, got %d", first)
			f := fmt.Sprint(first)
			cases = append(cases,
				errorCase{"tasks first " + f, "", `{ tasks(first: ` + f + `) { totalCount } }`, `null`, badInput(msg, `["tasks"]`)},
				errorCase{"users first " + f, "", `{ users(first: ` + f + `) { totalCount } }`, `null`, badInput(msg, `["users"]`)},
				errorCase{"projects first " + f, "", `{ projects(first: ` + f + `) { totalCount } }`, `null`, badInput(msg, `["projects"]`)},
				errorCase{"Project.members first " + f, "", `{ project(id: "prj_site") { members(first: ` + f + `) { totalCount } } }`, `{"project": null}`, badInput(msg, `["project", "members"]`)},
				errorCase{"Project.tasks first " + f, "", `{ project(id: "prj_site") { tasks(first: ` + f + `) { totalCount } } }`, `{"project": null}`, badInput(msg, `["project", "tasks"]`)},
				errorCase{"Task.events first " + f, "", `{ task(id: "tsk_03logo") { events(first: ` + f + `) { totalCount } } }`, `{"task": null}`, badInput(msg, `["task", "events"]`)},
				errorCase{"Task.assignableUsers first " + f, "", `{ task(id: "tsk_03logo") { assignableUsers(first: ` + f + `) { totalCount } } }`, `{"task": null}`, badInput(msg, `["task", "assignableUsers"]`)},
			)
		}
		for _, after := range []struct{ name, cursor string }{
			{"not base64", "!!!"},
			{"empty", ""},
			{"unknown version", cursor("v3:task:tsk_02copy")},
			{"a version 1 cursor, which named no list", cursor("v1:tsk_02copy")},
			{"no id", cursor("v2:task:")},
			{"not an id", cursor("v2:task:nope")},
			{"bad time", cursor("v2:event:evt_02hist:noon")},
			{"too many parts", cursor("v2:task:tsk_02copy:1:2")},
		} {
			msg := "after is not a valid cursor"
			q := fmt.Sprintf("(after: %q)", after.cursor)
			cases = append(cases,
				errorCase{"tasks after " + after.name, "", `{ tasks` + q + ` { totalCount } }`, `null`, badInput(msg, `["tasks"]`)},
				errorCase{"users after " + after.name, "", `{ users` + q + ` { totalCount } }`, `null`, badInput(msg, `["users"]`)},
				errorCase{"projects after " + after.name, "", `{ projects` + q + ` { totalCount } }`, `null`, badInput(msg, `["projects"]`)},
				errorCase{"Task.events after " + after.name, "", `{ task(id: "tsk_03logo") { events` + q + ` { totalCount } } }`, `{"task": null}`, badInput(msg, `["task", "events"]`)},
			)
		}
		runErrorCases(t, a, cases)
	})
}

// DESIGN §4: a cursor that is not one of this list's is BAD_USER_INPUT: a cursor of a list of
// users given to a list of tasks, and the reverse, never reads as a position of the other list.
func TestACursorOfAnotherListIsBadUserInput(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		end := func(query string, path ...string) string {
			var c string
			decode(t, field(path...)(a.post(tokAdmin, query, nil).ok()), &c)
			return c
		}
		users := end(`{ users(first: 1) { pageInfo { endCursor } } }`, "users", "pageInfo", "endCursor")
		tasks := end(`{ tasks(first: 1) { pageInfo { endCursor } } }`, "tasks", "pageInfo", "endCursor")
		events := end(`{ task(id: "tsk_03logo") { events(first: 1) { pageInfo { endCursor } } } }`, "task", "events", "pageInfo", "endCursor")
		msg := "after is not a valid cursor"
		runErrorCases(t, a, []errorCase{
			{"a users cursor to tasks", "", `{ tasks(after: "` + users + `") { totalCount } }`, `null`, badInput(msg, `["tasks"]`)},
			{"a tasks cursor to users", "", `{ users(after: "` + tasks + `") { totalCount } }`, `null`, badInput(msg, `["users"]`)},
			{"a tasks cursor to projects", "", `{ projects(after: "` + tasks + `") { totalCount } }`, `null`, badInput(msg, `["projects"]`)},
			{"an events cursor to tasks", "", `{ tasks(after: "` + events + `") { totalCount } }`, `null`, badInput(msg, `["tasks"]`)},
		})
		// A list of users of another field is one of its kind: its cursors are positions there too.
		a.post(tokAdmin, `{ project(id: "prj_site") { members(after: "`+users+`") { nodes { id } } } }`, nil).
			wantData(`{"project": {"members": {"nodes": [{"id": "usr_bob"}, {"id": "usr_cat"}, {"id": "usr_eve"}]}}}`)
	})
}

// DESIGN §4: a well-formed id that does not exist, or that the viewer cannot see, is NOT_FOUND:
// a null field with the error.
func TestUnknownIDsAreNotFound(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		runErrorCases(t, a, []errorCase{
			{"task", "", `{ task(id: "tsk_nope") { id } }`, `{"task": null}`, notFound("task tsk_nope not found", `["task"]`)},
			{"user", "", `{ user(id: "usr_nope") { id } }`, `{"user": null}`, notFound("user usr_nope not found", `["user"]`)},
			{"project", "", `{ project(id: "prj_nope") { id } }`, `{"project": null}`, notFound("project prj_nope not found", `["project"]`)},
			{"node", "", `{ node(id: "tsk_nope") { id } }`, `{"node": null}`, notFound("node tsk_nope not found", `["node"]`)},
			{"task id with the longest suffix", "", `{ task(id: "tsk_` + strings.Repeat("c", 27) + `") { id } }`, `{"task": null}`,
				notFound("task tsk_"+strings.Repeat("c", 27)+" not found", `["task"]`)},
			{"node of every type", "", `{ node(id: "evt_nope") { id } }`, `{"node": null}`, notFound("node evt_nope not found", `["node"]`)},
			{"assignees", "", `{ assignees(taskId: "tsk_nope") { id } }`, `null`, notFound("task tsk_nope not found", `["assignees"]`)},
			{"assignees of an internal task for a client member", tokCat, `{ assignees(taskId: "tsk_01plan") { id } }`, `null`,
				notFound("task tsk_01plan not found", `["assignees"]`)},
		})
		// The other fields of the document survive.
		r := a.post(tokAdmin, `{ task(id: "tsk_nope") { id } viewer { id } t: task(id: "tsk_02copy") { id } }`, nil)
		r.wantError(`{"task": null, "viewer": {"id": "usr_admin"}, "t": {"id": "tsk_02copy"}}`, notFound("task tsk_nope not found", `["task"]`))
	})
}

// gqlgen's own codes: a document that does not parse, or does not validate against the schema,
// is refused before anything runs (HTTP 422, no data).
func TestInvalidDocumentsAreRefusedWithGqlgensCodes(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name, query string
			vars        map[string]any
			code        string
		}{
			{"unclosed selection", `{ viewer {`, nil, "GRAPHQL_PARSE_FAILED"},
			{"not GraphQL", `SELECT * FROM users`, nil, "GRAPHQL_PARSE_FAILED"},
			{"unknown field", `{ viewer { password } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"missing required argument", `{ task { id } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"argument of the wrong type", `{ tasks(first: "ten") { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"unknown enum value", `{ tasks(filter: {status: [DONE]}) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
			{"variable of the wrong type", `query($n: Int) { tasks(first: $n) { totalCount } }`, map[string]any{"n": "ten"}, "GRAPHQL_VALIDATION_FAILED"},
			{"unknown enum value in a variable", `query($s: [TaskStatus!]) { tasks(filter: {status: $s}) { totalCount } }`, map[string]any{"s": []string{"DONE"}}, "GRAPHQL_VALIDATION_FAILED"},
			{"null for a required variable", `mutation($t: ID!) { unassignUser(taskId: $t, userId: "usr_bob") { id } }`, map[string]any{"t": nil}, "GRAPHQL_VALIDATION_FAILED"},
			{"mutation field in a query", `{ assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob"]) { id } }`, nil, "GRAPHQL_VALIDATION_FAILED"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := a.post(tokAdmin, c.query, c.vars)
				if r.Status != http.StatusUnprocessableEntity {
					t.Errorf("status = %d, want 422", r.Status)
				}
				if r.Data != nil && string(r.Data) != "null" {
					t.Errorf("data = %s, want none", r.Data)
				}
				codes := r.codes()
				if len(codes) == 0 {
					t.Fatalf("no errors; body %s", r.Body)
				}
				for _, code := range codes {
					if code != c.code {
						t.Errorf("code = %s, want %s; body %s", code, c.code, r.Body)
					}
				}
			})
		}
		// The refused mutation changed nothing.
		a.post(tokAdmin, `{ task(id: "tsk_02copy") { assignees { id } } }`, nil).wantData(`{"task": {"assignees": []}}`)
	})
}

// DESIGN §3: a query whose complexity passes the limit is COMPLEXITY_LIMIT_EXCEEDED.
func TestComplexityLimitExceeded(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	a := serve(t, st, graph.Options{Limits: graph.Limits{Complexity: 5}})
	a.post(tokAdmin, `{ viewer { id } }`, nil).ok()
	r := a.post(tokAdmin, `{ tasks { nodes { id label project { id name } phase { id name } assignees { id name } } } }`, nil)
	if got := r.codes(); len(got) != 1 || got[0] != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("codes = %v, want [COMPLEXITY_LIMIT_EXCEEDED]; body %s", got, r.Body)
	}
}

// leaks lists what an internal error must never show a client: SQL, table names, driver text.
var leaks = []string{"select", "insert", "update ", "delete", "from ", "sql", "table", "relation", "task_data",
	"events", "gorm", "pq:", "pgx", "boom", "closed", "database", "panic"}

func wantNoLeak(t *testing.T, r *response) {
	t.Helper()
	body := strings.ToLower(string(r.Body))
	for _, s := range leaks {
		if strings.Contains(body, s) {
			t.Errorf("the body shows %q: %s", s, r.Body)
		}
	}
}

// DESIGN §3: INTERNAL_SERVER_ERROR's message reveals nothing internal. A database that is gone
// fails authentication itself: HTTP 500, not 401 (the token may be fine).
func TestInternalErrorsRevealNothing(t *testing.T) {
	t.Run("database closed", func(t *testing.T) {
		eachDB(t, func(t *testing.T, a *api) {
			if err := a.st.Close(); err != nil {
				t.Fatal(err)
			}
			r := a.post(tokAda, `{ viewer { id } }`, nil)
			if r.Status != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", r.Status)
			}
			if h := r.Header.Get("WWW-Authenticate"); h != "" {
				t.Errorf("WWW-Authenticate = %q on an internal error, want none", h)
			}
			r.wantData(`null`)
			r.wantErrors(`[{"message": "internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]`)
			wantNoLeak(t, r)
		})
	})

	t.Run("table gone under a field", func(t *testing.T) {
		eachDB(t, func(t *testing.T, a *api) {
			execSQL(t, a.st, `DROP TABLE task_data`)
			r := a.post(tokAda, `{ viewer { id } task(id: "tsk_02copy") { id data { id } } }`, nil)
			r.wantError(`{"viewer": {"id": "usr_ada"}, "task": null}`,
				`{"message": "internal server error", "path": ["task", "data"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}`)
			wantNoLeak(t, r)
		})
	})

	// All or nothing: a change whose event cannot be recorded is rolled back as a whole.
	t.Run("event insert fails inside a mutation", func(t *testing.T) {
		eachDB(t, func(t *testing.T, a *api) {
			switch a.st.Dialect() {
			case migrate.Postgres:
				execSQL(t, a.st, `CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom in events'; END $$`)
				execSQL(t, a.st, `CREATE TRIGGER boom BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION boom()`)
			default:
				execSQL(t, a.st, `CREATE TRIGGER boom BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'boom in events'); END`)
			}
			before := a.task("tsk_03logo")
			for _, m := range []struct{ name, call string }{
				{"assignUsers", `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`},
				{"setTaskAssignee", `setTaskAssignee(taskId: "tsk_03logo", assignee: null)`},
				{"unassignUser", `unassignUser(taskId: "tsk_03logo", userId: "usr_bob")`},
			} {
				r := a.post(tokAda, `mutation { `+m.call+` { id } }`, nil)
				r.wantError(`{"`+m.name+`": null}`,
					`{"message": "internal server error", "path": ["`+m.name+`"], "extensions": {"code": "INTERNAL_SERVER_ERROR"}}`)
				wantNoLeak(t, r)
			}
			wantNoChange(t, before, a.task("tsk_03logo"))
		})
	})
}

func execSQL(t *testing.T, st *store.Store, sql string) {
	t.Helper()
	if err := st.Gorm().WithContext(t.Context()).Exec(sql).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
