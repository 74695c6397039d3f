package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The first document: POST /v1/tasks/{task_id}/set-assignee with {"assignee": "usr_…" | null}.

// setAssignee posts set-assignee's body for the task.
func (a *api) setAssignee(token, task, body string) *response {
	a.t.Helper()
	return a.do(http.MethodPost, "/v1/tasks/"+task+"/set-assignee", token, jsonBody(body))
}

// The document's example request, as written (its ids replaced by the world's), answers 200 with
// the whole task: every key the document lists, snake_case, nulls present, lower-case enums,
// the assignee as the full user object, data[] and trigger_event as objects, times in UTC.
func TestSetAssigneeAnswersTheDocumentsTask(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		before := time.Now().Add(-time.Minute)
		var got map[string]any
		a.setAssignee(tokAda, "tsk_02copy", `{"assignee": "usr_ada"}`).want(http.StatusOK, &got)
		modified, err := time.Parse(time.RFC3339Nano, got["modified_at"].(string))
		if err != nil || modified.Before(before) || !strings.HasSuffix(got["modified_at"].(string), "Z") {
			t.Errorf("modified_at %v (%v), want the time of the change in UTC", got["modified_at"], err)
		}
		delete(got, "modified_at")
		var want map[string]any
		if err := json.Unmarshal([]byte(wantCopyTask), &want); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("task (-want +got):\n%s", diff)
		}
	})
}

// wantCopyTask is tsk_02copy after set-assignee usr_ada, but for its modified_at.
const wantCopyTask = `{
	"label": "Write copy", "object": "task", "organization_id": "org_acme", "type": "auto_response_email",
	"id": "tsk_02copy", "action_taken": null,
	"assignee": {
		"email": "ada@acme.test", "family_name": "Lovelace", "given_name": "Ada", "object": "user",
		"organization_id": "org_acme", "id": "usr_ada", "created_at": "2024-01-02T03:04:05.123456Z",
		"dashboard_settings": {"thread_emails_sort_order": "asc"}, "default_email_sender_id": null,
		"invited_by_user_id": "usr_admin", "is_access_approved": true, "is_org_admin": false,
		"modified_at": "2024-01-02T03:04:05.123456Z", "name": "Ada Lovelace", "onboarding_required": false,
		"profile_picture": "https://cdn.acme.test/ada.png", "selected": null
	},
	"assignee_id": "usr_ada", "close_reason": null, "completed_action": {"kind": "email", "draft": true},
	"created_at": "2024-01-02T03:04:05.123456Z",
	"data": [{"object": "task_data", "source": "email", "task_id": "tsk_02copy", "type": "response", "id": "tdt_01reply",
		"created_at": "2024-01-02T03:04:05.123456Z", "data": {"subject": "Re: your order"},
		"modified_at": "2024-01-02T03:04:05.123456Z"}],
	"description": "Answer the customer's email", "error_reason": null, "status": "open",
	"trigger_event": {"name": "email.received", "object": "event", "id": "evt_01trigger", "actor_id": null,
		"created_at": "2024-01-01T12:00:00Z", "data": {"from": "customer@example.test"}, "entity": "email",
		"entity_id": "eml_42", "message": "a customer wrote back", "modified_at": "2024-01-01T12:00:00Z",
		"timestamp": "2024-01-01T12:00:00Z"},
	"trigger_event_id": "evt_01trigger"
}`

// A user id makes the assignees exactly that user; null, or no assignee member at all (as
// GraphQL treats an omitted nullable argument), makes them empty: assignee and assignee_id null.
func TestSetAssigneeReplacesOrClears(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		var task struct {
			Assignee   *struct{ ID string } `json:"assignee"`
			AssigneeID *string              `json:"assignee_id"`
			Status     string               `json:"status"`
			Action     *string              `json:"action_taken"`
		}
		a.setAssignee(tokAda, "tsk_03logo", `{"assignee": "usr_ada"}`).want(http.StatusOK, &task)
		if task.Assignee == nil || task.Assignee.ID != "usr_ada" || task.AssigneeID == nil || *task.AssigneeID != "usr_ada" {
			t.Errorf("assignee %+v, assignee_id %v, want usr_ada", task.Assignee, task.AssigneeID)
		}
		if task.Status != "completed" || task.Action == nil || *task.Action != "complete" {
			t.Errorf("status %q, action_taken %v: enums are lower case", task.Status, task.Action)
		}
		wantIDs(t, "after usr_ada", a.assigneeIDs(tokAda, "tsk_03logo"), []string{"usr_ada"})

		for _, body := range []string{`{"assignee": null}`, `{}`} {
			a.setAssignee(tokAda, "tsk_03logo", `{"assignee": "usr_bob"}`).want(http.StatusOK, nil)
			r := a.setAssignee(tokAda, "tsk_03logo", body).want(http.StatusOK, &task)
			if task.Assignee != nil || task.AssigneeID != nil || !strings.Contains(string(r.Body), `"assignee":null`) {
				t.Errorf("%s: assignee %+v, assignee_id %v, want both null (present)", body, task.Assignee, task.AssigneeID)
			}
			wantIDs(t, body, a.assigneeIDs(tokAda, "tsk_03logo"), []string{})
		}
	})
}

// An offending user is 422 exactly as UNPROCESSABLE in GraphQL: an unknown user (or one of
// another organization) is USER_NOT_FOUND here too, a non-member NOT_PROJECT_MEMBER, a client
// user on an internal phase NOT_AGENCY_MEMBER; nothing changes.
func TestSetAssigneeViolationsAre422(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		cases := []struct{ token, task, user, reason string }{
			{tokAda, "tsk_02copy", "usr_nobody", "USER_NOT_FOUND"},
			{tokAda, "tsk_02copy", "usr_zed", "USER_NOT_FOUND"},
			{tokAda, "tsk_02copy", "usr_dan", "NOT_PROJECT_MEMBER"},
			{tokAdmin, "tsk_01plan", "usr_cat", "NOT_AGENCY_MEMBER"},
		}
		for _, c := range cases {
			e := a.setAssignee(c.token, c.task, `{"assignee": "`+c.user+`"}`).wantError(http.StatusUnprocessableEntity, "UNPROCESSABLE")
			wantIDs(t, c.user+" user_ids", e.UserIDs, []string{c.user})
			if len(e.Violations) != 1 || e.Violations[0].UserID != c.user || e.Violations[0].Reason != c.reason {
				t.Errorf("%s: violations %+v, want one %s", c.user, e.Violations, c.reason)
			}
			if !strings.Contains(e.Message, c.user) {
				t.Errorf("message %q does not name %s", e.Message, c.user)
			}
		}
		wantIDs(t, "tsk_01plan unchanged", a.assigneeIDs(tokAdmin, "tsk_01plan"), []string{"usr_ada"})
		wantIDs(t, "tsk_02copy unchanged", a.assigneeIDs(tokAdmin, "tsk_02copy"), []string{})
	})
}

// A malformed request is 400 before anything is looked up: malformed JSON, a wrong JSON type, a
// member the endpoint does not take (a misspelt "assignee" would otherwise clear the task), a
// malformed id in the path or the body.
func TestSetAssigneeMalformedIs400(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		cases := []struct{ task, body string }{
			{"tsk_02copy", `{"assignee": 123}`},
			{"tsk_02copy", `{"assignee": true}`},
			{"tsk_02copy", `{"assignee": ["usr_ada"]}`},
			{"tsk_02copy", `{"assignee": "123"}`},
			{"tsk_02copy", `{"assignee": "tsk_02copy"}`},
			{"tsk_02copy", `{"asignee": "usr_ada"}`},
			{"tsk_02copy", `{"assignee": "usr_ada"`},
			{"tsk_02copy", `{"assignee": "usr_ada"} {}`},
			{"tsk_02copy", `["usr_ada"]`},
			{"tsk_02copy", `null`},
			{"tsk_02copy", ``},
			{"123", `{"assignee": "usr_ada"}`},
			{"usr_ada", `{"assignee": "usr_ada"}`},
			{"tsk_" + strings.Repeat("x", 40), `{"assignee": "usr_ada"}`},
		}
		for _, c := range cases {
			e := a.setAssignee(tokAda, c.task, c.body).wantError(http.StatusBadRequest, "BAD_USER_INPUT")
			if strings.Contains(c.body, "asignee") && strings.Contains(e.Message, "asignee") {
				t.Errorf("message %q echoes the request", e.Message)
			}
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_02copy"), []string{})
	})
}

// A body that is not application/json is 415 (a form or text/plain post, which a browser sends
// across sites without asking, never runs); a charset parameter is fine.
func TestSetAssigneeNeedsJSON(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/jsonx"} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/v1/tasks/tsk_02copy/set-assignee",
				strings.NewReader(`{"assignee": "usr_ada"}`))
			req.Header.Set("Authorization", "Bearer "+tokAda)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			a.send(req).wantError(http.StatusUnsupportedMediaType, "BAD_USER_INPUT")
		}
		wantIDs(t, "unchanged", a.assigneeIDs(tokAda, "tsk_02copy"), []string{})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/v1/tasks/tsk_02copy/set-assignee",
			strings.NewReader(`{"assignee": "usr_ada"}`))
		req.Header.Set("Authorization", "Bearer "+tokAda)
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		a.send(req).want(http.StatusOK, nil)
	})
}
