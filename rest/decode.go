package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/model"
)

// decodeJSON reads a request's body, which guard.ReadBody has read whole, into dst: one JSON
// object of the members dst has, of their types, and nothing after it. Anything else is 415 (not
// application/json) or 400, with a message of its own: the decoder's would echo the body
// (DESIGN §7: error messages never echo the request). what describes the expected body for the
// client.
func decodeJSON(r *http.Request, dst any, what string) error {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return &errorBody{status: http.StatusUnsupportedMediaType, Code: guard.CodeBadUserInput,
			Message: "the request body must be application/json: " + what}
	}
	body := guard.Body(r.Context())
	if len(bytes.TrimSpace(body)) == 0 || bytes.TrimSpace(body)[0] != '{' {
		return model.BadInput("the request body must be a JSON object: %s", what)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return model.BadInput("the request body has a member of the wrong JSON type: %s", what)
	case err != nil:
		// Malformed JSON, or a member this endpoint does not take (a misspelt "assignee" must not
		// be read as an absent one, which would clear the task's assignees).
		return model.BadInput("the request body is not valid JSON of the expected members: %s", what)
	}
	if _, err := dec.Token(); err != io.EOF {
		return model.BadInput("the request body must hold one JSON object and nothing after it: %s", what)
	}
	return nil
}
