package graph_test

import (
	"net/http"
	"strings"
	"testing"
)

// DESIGN §2: every request to /query carries Authorization: Bearer <token>; a missing, malformed,
// unknown or revoked token is HTTP 401 with WWW-Authenticate: Bearer and an UNAUTHENTICATED error.
func TestQueryWithoutAValidTokenIs401Unauthenticated(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, c := range []struct {
			name          string
			authorization string // the header as sent; "" sends none
		}{
			{"missing header", ""},
			{"empty bearer token", "Bearer "},
			{"another scheme", "Basic " + tokAda},
			{"token without a scheme", tokAda},
			{"unknown token", "Bearer not-a-token"},
			{"revoked token", "Bearer " + tokFay},
		} {
			t.Run(c.name, func(t *testing.T) {
				for _, method := range []string{http.MethodPost, http.MethodGet} {
					req, err := http.NewRequestWithContext(t.Context(), method, a.srv.URL+"/query?query=%7Bviewer%7Bid%7D%7D", strings.NewReader(`{"query":"{ viewer { id } }"}`))
					if err != nil {
						t.Fatal(err)
					}
					req.Header.Set("Content-Type", "application/json")
					if c.authorization != "" {
						req.Header.Set("Authorization", c.authorization)
					}
					r := a.send(req)
					if r.Status != http.StatusUnauthorized {
						t.Errorf("%s: status = %d, want 401", method, r.Status)
					}
					if h := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("%s: WWW-Authenticate = %q, want it to start with Bearer", method, h)
					}
					r.wantData(`null`)
					r.wantErrors(`[{"message": "authentication required: send Authorization: Bearer <token> with a valid token",
						"extensions": {"code": "UNAUTHENTICATED"}}]`)
				}
			})
		}
	})
}

// The scheme of the Authorization header is case-insensitive (RFC 9110 §11.1).
func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(`{"query":"{ viewer { id } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "bearer "+tokAda)
		r := a.send(req)
		r.ok()
		r.wantData(`{"viewer": {"id": "usr_ada"}}`)
	})
}

// DESIGN §2: a viewer whose isAccessApproved is false gets FORBIDDEN on everything.
func TestUnapprovedViewerIsForbiddenEverything(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		forbidden := `"message": "the viewer's access is not approved", "extensions": {"code": "FORBIDDEN"}`
		for _, c := range []struct {
			name, query, data, path string
		}{
			{"viewer", `{ viewer { id } }`, `null`, `["viewer"]`},
			{"task", `{ task(id: "tsk_02copy") { id } }`, `{"task": null}`, `["task"]`},
			{"tasks", `{ tasks { totalCount } }`, `null`, `["tasks"]`},
			{"user", `{ user(id: "usr_eve") { id } }`, `{"user": null}`, `["user"]`},
			{"users", `{ users { totalCount } }`, `null`, `["users"]`},
			{"project", `{ project(id: "prj_site") { id } }`, `{"project": null}`, `["project"]`},
			{"projects", `{ projects { totalCount } }`, `null`, `["projects"]`},
			{"node", `{ node(id: "tsk_02copy") { id } }`, `{"node": null}`, `["node"]`},
			{"assignees", `{ assignees(taskId: "tsk_03logo") { id } }`, `null`, `["assignees"]`},
			{"setTaskAssignee", `mutation { setTaskAssignee(taskId: "tsk_02copy", assignee: "usr_eve") { id } }`, `{"setTaskAssignee": null}`, `["setTaskAssignee"]`},
			{"assignUsers", `mutation { assignUsers(taskId: "tsk_02copy", userIds: ["usr_eve"]) { id } }`, `{"assignUsers": null}`, `["assignUsers"]`},
			{"unassignUser", `mutation { unassignUser(taskId: "tsk_03logo", userId: "usr_bob") { id } }`, `{"unassignUser": null}`, `["unassignUser"]`},
		} {
			t.Run(c.name, func(t *testing.T) {
				a.post(tokEve, c.query, nil).wantError(c.data, `{`+forbidden+`, "path": `+c.path+`}`)
			})
		}
		// Nothing changed.
		a.post(tokAdmin, `{ a: task(id: "tsk_02copy") { assignees { id } } b: task(id: "tsk_03logo") { assignees { id } } }`, nil).
			wantData(`{"a": {"assignees": []}, "b": {"assignees": [{"id": "usr_bob"}, {"id": "usr_cat"}]}}`)
	})
}

// DESIGN §2, §4: the playground, /healthz and /readyz need no token.
func TestPublicRoutesNeedNoToken(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		get := func(path string) *response {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			return a.send(req)
		}
		for _, path := range []string{"/healthz", "/readyz"} {
			r := get(path)
			if r.Status != http.StatusOK {
				t.Errorf("GET %s: status = %d, want 200; body %s", path, r.Status, r.Body)
			}
			jsonEqual(t, path, `{"status": "ok"}`, r.Body)
		}
		r := get("/")
		if r.Status != http.StatusOK {
			t.Errorf("GET /: status = %d, want 200", r.Status)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET /: Content-Type = %q, want text/html", ct)
		}
		body := string(r.Body)
		for _, want := range []string{"<html", "graphiql", "/query"} {
			if !strings.Contains(strings.ToLower(body), strings.ToLower(want)) {
				t.Errorf("GET /: the page does not mention %q:\n%.500s", want, body)
			}
		}
		if r := get("/no-such-page"); r.Status != http.StatusNotFound {
			t.Errorf("GET /no-such-page: status = %d, want 404", r.Status)
		}
	})
}

// /readyz says whether the database answers; /healthz only that the process lives.
func TestReadyzFailsWhenTheDatabaseIsGone(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		if err := a.st.Close(); err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusServiceUnavailable} {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r := a.send(req); r.Status != want {
				t.Errorf("GET %s: status = %d, want %d", path, r.Status, want)
			}
		}
	})
}

// Every answer carries an X-Request-Id, the caller's when it sent one, so that a client can quote
// it and the logs of an internal error can be found.
func TestEveryResponseCarriesARequestID(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		r := a.post(tokAda, `{ viewer { id } }`, nil)
		if r.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id on a response")
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, a.srv.URL+"/query", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Request-Id", "req-123")
		if got := a.send(req).Header.Get("X-Request-Id"); got != "req-123" {
			t.Errorf("X-Request-Id = %q, want the caller's req-123 (also on a 401)", got)
		}
	})
}

// The viewer is the token's user, with everything the first seed document's user object holds.
func TestViewerIsTheTokensUser(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		r := a.post(tokAda, `{ viewer { id name firstName lastName email avatar isOrgAdmin isAccessApproved onboardingRequired
			organization { id name } company { id name kind organization { id } } invitedBy { id name }
			defaultEmailSenderId dashboardSettings { threadEmailsSortOrder } createdAt modifiedAt } }`, nil)
		r.ok()
		golden(t, "viewer", r.Data)
	})
}
