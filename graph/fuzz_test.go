package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/testdb"
)

// FuzzHandler sends whole POST /query bodies, as an approved org admin, through the handler
// `taskql serve` serves, over SQLite seeded once with the test world. Whatever the body, the server
// answers with a status DESIGN §3 and §7 name, a GraphQL response, no INTERNAL_SERVER_ERROR (input
// a client sent is valid or BAD_USER_INPUT), nothing of its SQL or driver, and no refusal that
// echoes the request (DESIGN §7).
//
// The fuzzer's mutations really run: the world's assignees drift from one input to the next,
// which the properties do not depend on.
//
//	go test -run '^$' -fuzz '^FuzzHandler$' -fuzztime 20s ./graph
func FuzzHandler(f *testing.F) {
	for _, seed := range handlerSeeds() {
		f.Add([]byte(seed))
	}
	st := testdb.SQLite(f)
	seedWorld(f, st)
	h := graph.NewServer(rules.New(st), graph.Options{MaxInFlight: 4 * runtime.NumCPU()})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tokAdmin)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, body, rec.Code, rec.Body.Bytes())
	})
}

// answerStatuses are the statuses /query may answer a request with a valid token: 200 (a
// GraphQL response, errors included), 400 (not one GraphQL request), 401, 413 (body too large),
// 422 (a document that does not parse or validate), 429 (rate limited), 503 (no slot, database
// away). 500 is not among them: it means an internal error.
var answerStatuses = []int{200, 400, 401, 413, 422, 429, 503}

// answerCodes are DESIGN §3's extensions.code values, INTERNAL_SERVER_ERROR left out.
var answerCodes = []string{"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "UNPROCESSABLE",
	"CONFLICT", "RATE_LIMITED", "UNAVAILABLE", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED",
	"COMPLEXITY_LIMIT_EXCEEDED", "PERSISTED_QUERY_NOT_FOUND"}

// internalTerms are words of the server's insides (SQL errors, the ORM, the drivers, a Go crash)
// that no answer may show unless the client sent them itself: unlike "select" or "table" (see
// leaks), none of them appears in the schema, the test world or a message of the API.
var internalTerms = []string{"sqlstate", "gorm", "pgx", "sqlite", "panic", "goroutine"}

// maxMessageRunes is graph's bound on an error's message (DESIGN §7: messages never echo the
// request, so what they quote of it is short).
const maxMessageRunes = 300

// echoMarker is a string no answer may repeat outside data: a refusal never echoes the request.
const echoMarker = "ZZECHO"

// checkAnswer asserts what holds for every answer of /query to any body.
func checkAnswer(t *testing.T, body []byte, status int, answer []byte) {
	t.Helper()
	if !slices.Contains(answerStatuses, status) {
		t.Errorf("status %d, want one of %v\nbody:   %q\nanswer: %s", status, answerStatuses, body, answer)
	}
	var res struct {
		Data   *json.RawMessage `json:"data"`
		Errors *[]struct {
			Message    *string        `json:"message"`
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(answer, &res); err != nil {
		t.Fatalf("the answer is not a GraphQL response (%v), status %d\nbody:   %q\nanswer: %s", err, status, body, answer)
	}
	var members map[string]json.RawMessage
	_ = json.Unmarshal(answer, &members)
	if _, ok := members["data"]; !ok {
		if _, ok := members["errors"]; !ok {
			t.Errorf("the answer has neither data nor errors, status %d\nbody:   %q\nanswer: %s", status, body, answer)
		}
	}
	if status != http.StatusOK && res.Errors == nil {
		t.Errorf("status %d without errors\nbody:   %q\nanswer: %s", status, body, answer)
	}
	if res.Errors != nil {
		for _, e := range *res.Errors {
			code, _ := e.Extensions["code"].(string)
			if e.Message == nil || !slices.Contains(answerCodes, code) {
				t.Errorf("an error with code %q (message present: %v), want one of %v\nbody:   %q\nanswer: %s",
					code, e.Message != nil, answerCodes, body, answer)
			}
			if e.Message != nil && utf8.RuneCountInString(*e.Message) > maxMessageRunes+1 {
				t.Errorf("a message of %d characters: what a message repeats of the request is bounded\nbody:   %q",
					utf8.RuneCountInString(*e.Message), body)
			}
		}
	}
	lower := strings.ToLower(string(answer))
	sent := sentText(body)
	for _, term := range internalTerms {
		if strings.Contains(lower, term) && !strings.Contains(sent, term) {
			t.Errorf("the answer shows %q, which the request did not send\nbody:   %q\nanswer: %s", term, body, answer)
		}
	}
	// A 200 answer may hold the marker in data (a value the client asked for); any other status
	// is a refusal, whose message must not repeat what was sent.
	if status != http.StatusOK && strings.Contains(string(echoable(answer)), echoMarker) {
		t.Errorf("a refusal (status %d) echoes the request\nbody:   %q\nanswer: %s", status, body, answer)
	}
}

// echoable is the part of an answer that must not echo the request: all of it, except the errors
// gqlgen reports about the document itself, which quote the part they point at (`Cannot query
// field "X"`, `operation X not found`), as every GraphQL server's do; the length of every message
// is bounded instead (checkAnswer).
func echoable(answer []byte) []byte {
	var res map[string]json.RawMessage
	if json.Unmarshal(answer, &res) != nil {
		return answer
	}
	var errs []json.RawMessage
	if json.Unmarshal(res["errors"], &errs) != nil {
		return answer
	}
	kept := errs[:0]
	for _, raw := range errs {
		var e struct {
			Extensions struct{ Code string } `json:"extensions"`
		}
		_ = json.Unmarshal(raw, &e)
		if c := e.Extensions.Code; c != "GRAPHQL_PARSE_FAILED" && c != "GRAPHQL_VALIDATION_FAILED" {
			kept = append(kept, raw)
		}
	}
	res["errors"], _ = json.Marshal(kept)
	out, _ := json.Marshal(res)
	return out
}

// sentText is everything the client sent, in lower case, as raw bytes and with the escapes of
// JSON and of GraphQL strings (\uXXXX, \n, …) decoded, so that an answer that repeats an id or
// a name of the request is not taken for a leak.
func sentText(body []byte) string {
	parts := []string{string(body)}
	var v any
	if json.Unmarshal(body, &v) == nil {
		var walk func(any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				parts = append(parts, v, unescapeGraphQL(v))
			case []any:
				for _, x := range v {
					walk(x)
				}
			case map[string]any:
				for k, x := range v {
					parts = append(parts, k)
					walk(x)
				}
			}
		}
		walk(v)
	}
	parts = append(parts, unescapeGraphQL(string(body)))
	return strings.ToLower(strings.Join(parts, "\n"))
}

var unicodeEscape = regexp.MustCompile(`\\u[0-9A-Fa-f]{4}|\\u\{[0-9A-Fa-f]{1,6}\}`)

// unescapeGraphQL decodes the \u escapes of GraphQL (and JSON) strings wherever they are.
func unescapeGraphQL(s string) string {
	return unicodeEscape.ReplaceAllStringFunc(s, func(esc string) string {
		hex := strings.Trim(esc[2:], "{}")
		r, err := strconv.ParseUint(hex, 16, 32)
		if err != nil || !utf8.ValidRune(rune(r)) {
			return esc
		}
		return string(rune(r))
	})
}

// handlerSeeds are bodies that reach each layer of the handler: the body check, the parser and
// its limits, validation, complexity, persisted queries, the resolvers and the rules.
func handlerSeeds() []string {
	gql := func(query string, vars string) string {
		q, _ := json.Marshal(query)
		if vars == "" {
			return `{"query":` + string(q) + `}`
		}
		return `{"query":` + string(q) + `,"variables":` + vars + `}`
	}
	deep := strings.Repeat("tasks { nodes { project { ", 20) + "id" + strings.Repeat(" } } }", 20)
	return []string{
		// Valid queries and mutations.
		gql(`{ viewer { id name } tasks(first: 2) { nodes { id label phase { name internal } assignees { id } } pageInfo { hasNextPage endCursor } } }`, ""),
		`{"query":"query Page($first: Int, $after: String) { tasks(first: $first, after: $after) { edges { cursor node { id } } totalCount } }","operationName":"Page","variables":{"first":1,"after":"djE6dHNrXzAxcGxhbg"}}`,
		gql(`mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_bob", "usr_ada"]) { id assigneeId assignees { id } events { nodes { name data } } } }`, ""),
		gql(`mutation($t: ID!, $u: ID) { setTaskAssignee(taskId: $t, assignee: $u) { id assignee { id name } } }`, `{"t":"tsk_03logo","u":"usr_cat"}`),
		gql(`mutation { assignUsers(taskId: "tsk_01plan", userIds: ["usr_cat", "usr_dan", "usr_nobody", "usr_zed"]) { id } unassignUser(taskId: "tsk_01plan", userId: "usr_ada") { id } }`, ""),
		gql(`{ users(filter: {search: "%' OR 1=1 --"}) { nodes { id email } } node(id: "usr_ZZECHO") { id } task(id: "usr_ada") { id } }`, ""),
		// Bodies that are not one GraphQL request.
		`{"query": "{ viewer { id } }"`,
		`[{"query":"{ viewer { id } }"},{"query":"{ viewer { name } }"}]`,
		`{"query": 5, "variables": "ZZECHO"}`,
		``,
		`{"query":"{ viewer { id } }","variables":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`,
		"{\"query\":\"{ viewer { id \xff\xfe name } }\"}",
		"{\"query\":\"{ viewer { id } }\",\"ZZECHO\xc3\":\"\\ud800\"}",
		// Documents refused by the parser, validation and the limits.
		gql(`{ ZZECHO { id } }`, ""),
		gql(`{ viewer { id `, ""),
		gql(`{ `+deep+` }`, ""),
		gql(`fragment A on Query { viewer { id } ...B } fragment B on Query { ...A } { ...A }`, ""),
		gql(`query($n: Int, $t: ID!) { tasks(first: $n) { totalCount } task(id: $t) { id } }`, `{"n":"ten","t":{"ZZECHO":[1]}}`),
		gql(`{ tasks(first: 100) { nodes { project { tasks(first: 100) { nodes { project { tasks(first: 100) { nodes { id } } } } } } } } }`, ""),
		gql(`{ tasks(first: 0, after: "ZZECHO") { totalCount } projects(first: 99999999999) { totalCount } }`, ""),
		gql(`subscription { taskAssigneesChanged { id added } }`, ""),
		gql(`{ __schema { types { name fields { name } } } }`, ""),
		gql(`query A { viewer { id } } query B { viewer { name } }`, ""),
		// Automatic persisted queries: an unknown hash, and a document with its hash.
		`{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"0000000000000000000000000000000000000000000000000000000000000000"}}}`,
		`{"query":"{ viewer { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"3c5cde484c335605fe71515655ff4723f67a754f9af53cb4c54aed06e64f87ee"}}}`,
		`{"query":"{ viewer { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"ZZECHO"}}}`,
	}
}
