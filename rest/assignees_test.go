package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/rules"
)

// The second document: GET, POST and DELETE on /api/v1/steps/{step}/assignees, a step being a
// task.

// assign posts the body to the task's assignees.
func (a *api) assign(token, task, body string) *response {
	a.t.Helper()
	return a.do(http.MethodPost, "/api/v1/steps/"+task+"/assignees", token, jsonBody(body))
}

// unassign deletes the user from the task's assignees.
func (a *api) unassign(token, task, user string) *response {
	a.t.Helper()
	return a.do(http.MethodDelete, "/api/v1/steps/"+task+"/assignees/"+user, token, nil)
}

// GET, as the document's example (Accept: application/json), lists the assignee objects in the
// order they were assigned (TestAssignUsersAddsAndAnswersTheFullList shows that order is not the
// ids'); avatar is null when unset; no assignee is an empty array.
func TestListAssigneesInAssignmentOrder(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		var got []assignee
		a.do(http.MethodGet, "/api/v1/steps/tsk_03logo/assignees", tokAda, nil).want(http.StatusOK, &got)
		want := []assignee{
			{ID: "usr_bob", Name: "Bob Builder", FirstName: "Bob", LastName: "Builder", Email: "bob@acme.test"},
			{ID: "usr_cat", Name: "Cat Client", FirstName: "Cat", LastName: "Client", Email: "cat@client.test"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("assignees (-want +got):\n%s", diff)
		}
		r := a.do(http.MethodGet, "/api/v1/steps/tsk_01plan/assignees", tokAda, nil).want(http.StatusOK, &got)
		want = []assignee{{ID: "usr_ada", Name: "Ada Lovelace", FirstName: "Ada", LastName: "Lovelace", Email: "ada@acme.test",
			Avatar: ptr("https://cdn.acme.test/ada.png")}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("assignees (-want +got):\n%s", diff)
		}
		wantBody(t, r, `[{"id":"usr_ada","name":"Ada Lovelace","first_name":"Ada","last_name":"Lovelace","email":"ada@acme.test","avatar":"https://cdn.acme.test/ada.png"}]`)
		wantBody(t, a.do(http.MethodGet, "/api/v1/steps/tsk_02copy/assignees", tokAda, nil).want(http.StatusOK, nil), `[]`)
	})
}

// wantBody compares a body with the JSON expected, byte for byte but for the final newline.
func wantBody(t *testing.T, r *response, want string) {
	t.Helper()
	if got := strings.TrimSpace(string(r.Body)); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
}

// POST, as the document's example (its integer ids replaced by this server's string ids), adds
// the users and answers 201 with the full updated list; users already assigned and repeats are
// kept once and are no error.
func TestAssignUsersAddsAndAnswersTheFullList(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		var got []assignee
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_ada", "usr_eve"]}`).want(http.StatusCreated, &got)
		wantIDs(t, "after adding ada and eve", idsOf(got), []string{"usr_bob", "usr_cat", "usr_ada", "usr_eve"})
		if got[2].Name != "Ada Lovelace" || got[2].Email != "ada@acme.test" {
			t.Errorf("added %+v, want the whole assignee object", got[2])
		}
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_bob", "usr_ada", "usr_bob"]}`).want(http.StatusCreated, &got)
		wantIDs(t, "after repeats", idsOf(got), []string{"usr_bob", "usr_cat", "usr_ada", "usr_eve"})
		wantIDs(t, "GET", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat", "usr_ada", "usr_eve"})
	})
}

// A rule violation is 422 listing every offending user, sorted, with the first rule each breaks,
// exactly as UNPROCESSABLE in GraphQL, and nothing changes (all or nothing).
func TestAssignUsersViolationsAre422(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		e := a.assign(tokAdmin, "tsk_01plan", `{"user_ids": ["usr_zed", "usr_cat", "usr_bob", "usr_dan", "usr_nobody"]}`).
			wantError(http.StatusUnprocessableEntity, "UNPROCESSABLE")
		wantIDs(t, "user_ids", e.UserIDs, []string{"usr_cat", "usr_dan", "usr_nobody", "usr_zed"})
		var got []string
		for _, v := range e.Violations {
			got = append(got, v.UserID+" "+v.Reason)
			if !strings.Contains(e.Message, v.UserID) {
				t.Errorf("message %q does not name %s", e.Message, v.UserID)
			}
		}
		wantIDs(t, "violations", got, []string{"usr_cat NOT_AGENCY_MEMBER", "usr_dan NOT_PROJECT_MEMBER",
			"usr_nobody USER_NOT_FOUND", "usr_zed USER_NOT_FOUND"})
		wantIDs(t, "unchanged", a.assigneeIDs(tokAdmin, "tsk_01plan"), []string{"usr_ada"})
	})
}

// Past the configured most assignees a task may hold, the users the call would add are each
// TOO_MANY_ASSIGNEES (422).
func TestAssignUsersPastTheLimitIs422(t *testing.T) {
	eachDB(t, setup{rules: []rules.Option{rules.WithMaxAssignees(3)}}, func(t *testing.T, a *api) {
		e := a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_eve", "usr_ada"]}`).wantError(http.StatusUnprocessableEntity, "UNPROCESSABLE")
		wantIDs(t, "user_ids", e.UserIDs, []string{"usr_ada", "usr_eve"})
		for _, v := range e.Violations {
			if v.Reason != "TOO_MANY_ASSIGNEES" {
				t.Errorf("violation %+v, want TOO_MANY_ASSIGNEES", v)
			}
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
	})
}

// Malformed is 400, before anything is looked up: the document's own example body, whose ids are
// integers (this server's ids are strings, "usr_…"), other wrong types, user_ids missing, null,
// empty or over 100, a malformed id, a member the endpoint does not take, a malformed step.
func TestAssignUsersMalformedIs400(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		many := make([]string, 101)
		for i := range many {
			many[i] = fmt.Sprintf("usr_%d", i)
		}
		tooMany, _ := json.Marshal(map[string][]string{"user_ids": many})
		cases := []struct{ step, body string }{
			{"tsk_03logo", `{"user_ids": [123, 456]}`},
			{"tsk_03logo", `{"user_ids": ["usr_ada", 456]}`},
			{"tsk_03logo", `{"user_ids": "usr_ada"}`},
			{"tsk_03logo", `{"user_ids": [null]}`},
			{"tsk_03logo", `{}`},
			{"tsk_03logo", `{"user_ids": null}`},
			{"tsk_03logo", `{"user_ids": []}`},
			{"tsk_03logo", string(tooMany)},
			{"tsk_03logo", `{"user_ids": ["123"]}`},
			{"tsk_03logo", `{"user_ids": ["usr_ada"], "replace": true}`},
			{"tsk_03logo", `{"user_ids": ["usr_ada"]`},
			{"123", `{"user_ids": ["usr_ada"]}`},
		}
		for _, c := range cases {
			e := a.assign(tokAda, c.step, c.body).wantError(http.StatusBadRequest, "BAD_USER_INPUT")
			if strings.HasPrefix(c.body, `{"user_ids": [123`) && !strings.Contains(e.Message, "strings, not integers") {
				t.Errorf("message %q does not say that ids are strings", e.Message)
			}
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
	})
}

// POST takes application/json only (415).
func TestAssignUsersNeedsJSON(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		a.do(http.MethodPost, "/api/v1/steps/tsk_03logo/assignees", tokAda, `{"user_ids": ["usr_ada"]}`).
			wantError(http.StatusUnsupportedMediaType, "BAD_USER_INPUT")
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_bob", "usr_cat"})
	})
}

// DELETE, as the document's example, removes the user and answers 204 with no body; a user who
// exists but is not assigned is 204 too (nothing changes); an unknown user, or one of another
// organization, is 404; a malformed id is 400.
func TestUnassignUser(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		r := a.unassign(tokAda, "tsk_03logo", "usr_bob").want(http.StatusNoContent, nil)
		if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("204 with Content-Type %q and body %q", r.Header.Get("Content-Type"), r.Body)
		}
		wantIDs(t, "after bob", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_cat"})
		a.unassign(tokAda, "tsk_03logo", "usr_ada").want(http.StatusNoContent, nil)
		a.unassign(tokAda, "tsk_03logo", "usr_nobody").wantError(http.StatusNotFound, "NOT_FOUND")
		a.unassign(tokAda, "tsk_03logo", "usr_zed").wantError(http.StatusNotFound, "NOT_FOUND")
		a.unassign(tokAda, "tsk_03logo", "123").wantError(http.StatusBadRequest, "BAD_USER_INPUT")
		a.unassign(tokAda, "tsk_03logo", "tsk_03logo").wantError(http.StatusBadRequest, "BAD_USER_INPUT")
		a.unassign(tokAda, "123", "usr_cat").wantError(http.StatusBadRequest, "BAD_USER_INPUT")
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_cat"})
	})
}
