package rest_test

import (
	"net/http"
	"testing"
)

// DESIGN §10 on REST: responses about a task carry its version as ETag; If-Match with that ETag
// makes a write conditional, and a write from a stale version is 412 with the error body and the
// current version (in the body and as ETag), changing nothing.
func TestIfMatchMakesWritesConditional(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		get := func() string {
			a.t.Helper()
			r := a.do(http.MethodGet, "/api/v1/steps/tsk_02copy/assignees", tokAda, nil).want(http.StatusOK, nil)
			return r.Header.Get("ETag")
		}
		seen := get()
		if len(seen) < 3 || seen[0] != '"' {
			t.Fatalf("ETag %q, want a strong entity tag", seen)
		}
		writes := []struct {
			method, path string
			body         any
			status       int
		}{
			{http.MethodPost, "/api/v1/steps/tsk_02copy/assignees", jsonBody(`{"user_ids": ["usr_bob"]}`), http.StatusCreated},
			{http.MethodPost, "/v1/tasks/tsk_02copy/set-assignee", jsonBody(`{"assignee": "usr_ada"}`), http.StatusOK},
			{http.MethodDelete, "/api/v1/steps/tsk_02copy/assignees/usr_ada", nil, http.StatusNoContent},
		}
		for _, w := range writes {
			// The first of two clients that saw the same version wins, and learns the new one.
			r := a.doIf(w.method, w.path, tokAda, w.body, seen).want(w.status, nil)
			now := get()
			if tag := r.Header.Get("ETag"); tag == seen || tag != now {
				t.Fatalf("%s %s answered ETag %q; was %q, now %q", w.method, w.path, tag, seen, now)
			}
			// The second loses: 412, CONFLICT, the current version, nothing changed.
			before := a.assigneeIDs(tokAda, "tsk_02copy")
			e := a.doIf(w.method, w.path, tokAda, w.body, seen).wantError(http.StatusPreconditionFailed, "CONFLICT")
			if `"`+e.Version+`"` != now {
				t.Errorf("412 carries version %q, want %s", e.Version, now)
			}
			wantIDs(t, "assignees after a 412", a.assigneeIDs(tokAda, "tsk_02copy"), before)
			if get() != now {
				t.Errorf("a 412 changed the task's version")
			}
			seen = now
		}

		// * asks nothing, and a list passes when one of its tags is the current version (RFC 9110
		// §13.1.1); the comparison is strong, so a weak tag never matches, nor does what is no
		// entity tag: 412, nothing changed. An invisible task is 404 whatever the version.
		add := func(tags string) *response {
			return a.doIf(http.MethodPost, "/api/v1/steps/tsk_02copy/assignees", tokAda, jsonBody(`{"user_ids": ["usr_bob"]}`), tags)
		}
		add("*").want(http.StatusCreated, nil)
		seen = get()
		for _, other := range []string{`W/` + seen, `"Not-A-Version", W/` + seen, `abc`, `""`} {
			before := a.assigneeIDs(tokAda, "tsk_02copy")
			if e := add(other).wantError(http.StatusPreconditionFailed, "CONFLICT"); `"`+e.Version+`"` != seen {
				t.Errorf("If-Match: %s: 412 carries version %q, want %s", other, e.Version, seen)
			}
			wantIDs(t, "assignees after a 412", a.assigneeIDs(tokAda, "tsk_02copy"), before)
		}
		add(`"Not-A-Version", `+seen).want(http.StatusCreated, nil)
		a.doIf(http.MethodDelete, "/api/v1/steps/tsk_beta/assignees/usr_zed", tokAda, nil, `"1"`).wantError(http.StatusNotFound, "NOT_FOUND")
	})
}
