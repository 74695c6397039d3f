package rest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/taskql/taskql/rest"
)

// The OpenAPI document cannot drift from the handlers: every REST response any test of this
// package gets passes through validating, which checks it against the document with
// kin-openapi's openapi3filter (the document is OpenAPI 3.1, so its schemas are JSON Schema
// 2020-12: openapi3filter enables that validator for 3.1 documents). Every status must be one the
// operation declares, every body must match its schema (the schemas forbid extra keys and
// require every key, so a key missing or added fails), declared headers must be there, and a
// response declared without content must have no body. A response no operation answers (an
// unknown path, 404; a method the path does not serve, 405 with Allow) must still be the error
// shape.

// spec is the embedded document, loaded and validated once.
var spec = sync.OnceValues(func() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rest.OpenAPI)
	if err != nil {
		return nil, fmt.Errorf("load openapi.json: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
})

// router finds a request's operation in the document.
var router = sync.OnceValues(func() (routers.Router, error) {
	doc, err := spec()
	if err != nil {
		return nil, err
	}
	return gorillamux.NewRouter(doc)
})

// validating is an http.RoundTripper that checks each REST response against the document and
// fails the test on a mismatch; GraphQL responses pass unchecked.
type validating struct {
	t    *testing.T
	base http.RoundTripper
}

func (v *validating) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := v.base.RoundTrip(req)
	if err != nil || !rest.Serves(req.URL.Path) {
		return res, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if err := conforms(req, res.StatusCode, res.Header, body); err != nil {
		v.t.Errorf("%s %s answered %d, which openapi.json does not allow: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, body)
	}
	return res, nil
}

// conforms checks one response against the document.
func conforms(req *http.Request, status int, header http.Header, body []byte) error {
	r, err := router()
	if err != nil {
		return err
	}
	route, params, err := r.FindRoute(req)
	var routeErr *routers.RouteError
	if errors.As(err, &routeErr) {
		return unrouted(status, header, body)
	}
	if err != nil {
		return err
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return err
	}
	if declared := route.Operation.Responses.Status(status); declared != nil && len(declared.Value.Content) == 0 && len(body) > 0 {
		return fmt.Errorf("a body where the document declares none")
	}
	return nil
}

// unrouted checks a response to a request no operation of the document takes: 404 or 405 (with
// Allow), in the error shape.
func unrouted(status int, header http.Header, body []byte) error {
	switch {
	case status == http.StatusMethodNotAllowed && header.Get("Allow") == "":
		return fmt.Errorf("405 without Allow")
	case status != http.StatusMethodNotAllowed && status != http.StatusNotFound:
		return fmt.Errorf("no operation of the document answers this request, yet it answered %d", status)
	}
	return matchesSchema("Error", header, body)
}

// matchesSchema checks a JSON body against a schema of the document's components.
func matchesSchema(name string, header http.Header, body []byte) error {
	doc, err := spec()
	if err != nil {
		return err
	}
	if ct := header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return doc.Components.Schemas[name].Value.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors())
}

// The document is a valid OpenAPI 3.1 document, and describes exactly the adapter's routes.
func TestTheOpenAPIDocumentIsValidAndComplete(t *testing.T) {
	t.Parallel()
	doc, err := spec()
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	var got []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			got = append(got, method+" "+path)
		}
	}
	want := []string{
		"DELETE " + rest.RouteAssignee, "GET " + rest.RouteAssignees, "GET " + rest.RouteOpenAPI,
		"POST " + rest.RouteAssignees, "POST " + rest.RouteSetAssignee,
	}
	slices.Sort(got)
	wantIDs(t, "operations", got, want)
}

// The validator is not vacuous: a task missing a key, a key too many, a wrong enum case, a
// status the operation does not declare, a body on a 204 and a task without its ETag are each
// refused.
func TestTheValidatorRefusesDrift(t *testing.T) {
	t.Parallel()
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	req := func(method, path string) *http.Request {
		r, _ := http.NewRequest(method, "http://taskql.test"+path, nil)
		return r
	}
	assignees := req(http.MethodGet, "/api/v1/steps/tsk_1/assignees")
	cases := []struct {
		name   string
		req    *http.Request
		status int
		body   string
	}{
		{"an assignee without avatar", assignees, 200, `[{"id":"usr_a","name":"A B","first_name":"A","last_name":"B","email":"a@b.c"}]`},
		{"an assignee with a key too many", assignees, 200, `[{"id":"usr_a","name":"A B","first_name":"A","last_name":"B","email":"a@b.c","avatar":null,"x":1}]`},
		{"an integer id", assignees, 200, `[{"id":123,"name":"A B","first_name":"A","last_name":"B","email":"a@b.c","avatar":null}]`},
		{"an undeclared status", assignees, 418, `{"message":"m","code":"NOT_FOUND"}`},
		{"an unknown code", assignees, 404, `{"message":"m","code":"MISSING"}`},
		{"a body on 204", req(http.MethodDelete, "/api/v1/steps/tsk_1/assignees/usr_a"), 204, `{}`},
		{"a task type in upper case", req(http.MethodPost, "/v1/tasks/tsk_1/set-assignee"), 200, strings.Replace(exampleTask, `"call_analysis"`, `"CALL_ANALYSIS"`, 1)},
		{"a task without trigger_event", req(http.MethodPost, "/v1/tasks/tsk_1/set-assignee"), 200, strings.Replace(exampleTask, `"trigger_event": null,`, ``, 1)},
	}
	for _, c := range cases {
		if err := conforms(c.req, c.status, jsonHeader, []byte(c.body)); err == nil {
			t.Errorf("%s: passed", c.name)
		}
	}
	// The example task passes with its ETag (the task's version, DESIGN §10), and not without.
	if err := conforms(req(http.MethodPost, "/v1/tasks/tsk_1/set-assignee"), 200, jsonHeader, []byte(exampleTask)); err == nil {
		t.Error("a task without its ETag: passed")
	}
	withETag := http.Header{"Content-Type": {"application/json"}, "Etag": {`"kq3a9z"`}}
	if err := conforms(req(http.MethodPost, "/v1/tasks/tsk_1/set-assignee"), 200, withETag, []byte(exampleTask)); err != nil {
		t.Errorf("the example task: %v", err)
	}
}

// exampleTask is a task the document allows, for TestTheValidatorRefusesDrift.
const exampleTask = `{"label": "L", "object": "task", "organization_id": "org_a", "type": "call_analysis", "id": "tsk_1",
	"action_taken": null, "assignee": null, "assignee_id": null, "close_reason": null, "completed_action": null,
	"created_at": "2024-01-02T03:04:05Z", "data": [], "description": null, "error_reason": null,
	"modified_at": "2024-01-02T03:04:05Z", "status": "open", "trigger_event": null, "trigger_event_id": null}`
