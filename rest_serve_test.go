package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// DESIGN §9: serve answers the REST documents on the API's own port, with the demo tokens, as the
// README's curl examples show (each example's request and answer is a row here).
func TestServeServesTheRESTDocumentsOnTheSamePort(t *testing.T) {
	eachDatabase(t, func(t *testing.T, _ string) {
		s := startServe(t, "--addr", "127.0.0.1:0")
		base, _ := s.waitForURL(t)
		const katherine = `{"id":"usr_katherine","name":"Katherine Johnson","first_name":"Katherine","last_name":"Johnson","email":"katherine@acme.test","avatar":"https://avatars.acme.test/katherine.png"}`
		const ada = `{"id":"usr_ada","name":"Ada Lovelace","first_name":"Ada","last_name":"Lovelace","email":"ada@acme.test","avatar":null}`
		const grace = `{"id":"usr_grace","name":"Grace Hopper","first_name":"Grace","last_name":"Hopper","email":"grace@acme.test","avatar":null}`
		cases := []struct {
			method, path, body string
			status             int
			want               string // a part of the answer
		}{
			{"POST", "/v1/tasks/tsk_outcontacts/set-assignee", `{"assignee": "usr_grace"}`, 200,
				`"object":"task","organization_id":"org_acme","type":"recommendation_new_contact","id":"tsk_outcontacts"`},
			{"GET", "/api/v1/steps/tsk_outbudget/assignees", "", 200, `[` + katherine + `]`},
			{"POST", "/api/v1/steps/tsk_outbudget/assignees", `{"user_ids": ["usr_grace", "usr_ada"]}`, 201,
				`[` + katherine + `,` + ada + `,` + grace + `]`},
			{"DELETE", "/api/v1/steps/tsk_outbudget/assignees/usr_ada", "", 204, ``},
			{"POST", "/api/v1/steps/tsk_outbudget/assignees", `{"user_ids": ["usr_bea", "usr_alan", "usr_nobody"]}`, 422,
				`{"message":"these users cannot be assigned to the task: usr_alan, usr_bea, usr_nobody","code":"UNPROCESSABLE",` +
					`"user_ids":["usr_alan","usr_bea","usr_nobody"],"violations":[{"user_id":"usr_alan","reason":"NOT_PROJECT_MEMBER"},` +
					`{"user_id":"usr_bea","reason":"NOT_AGENCY_MEMBER"},{"user_id":"usr_nobody","reason":"USER_NOT_FOUND"}]}`},
			{"POST", "/api/v1/steps/tsk_outbudget/assignees", `{"user_ids": [123, 456]}`, 400, `"code":"BAD_USER_INPUT"`},
			{"GET", "/api/v1/steps/tsk_launchplan/assignees", "", 404, `{"message":"task tsk_launchplan not found","code":"NOT_FOUND"}`},
			{"GET", "/openapi.json", "", 200, `"openapi": "3.1.0"`},
		}
		for _, c := range cases {
			req, err := http.NewRequestWithContext(t.Context(), c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer demo-ada-token")
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status || !strings.Contains(string(body), c.want) || (c.want == "" && len(body) > 0) {
				t.Errorf("%s %s: %d %s\nwant %d with %s", c.method, c.path, res.StatusCode, body, c.status, c.want)
			}
		}
		if err := s.stop(t); err != nil {
			t.Fatalf("serve returned %v, want nil", err)
		}
	})
}
