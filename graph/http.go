package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/telemetry"
)

// checkBody refuses a POST whose body is not one GraphQL request in JSON: 415 for another media
// type (a form or text/plain post, which a browser sends across sites without a preflight, never
// runs), 400 for JSON that is not one request, with a message of its own: gqlgen would echo the
// body in its error (DESIGN §7: error messages never echo the request), and a JSON array (a batch
// of operations) is refused, not run. The body was read by guard.ReadBody.
func checkBody(render guard.Render, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if !isJSON(r) {
				render.Refuse(w, r, guard.Refusal{Status: http.StatusUnsupportedMediaType, Code: guard.CodeBadUserInput, Limit: "request",
					Message: "a GraphQL request by POST must be application/json"})
				return
			}
			msg, body := bodyProblem(guard.Body(r.Context()))
			if msg != "" {
				render.Refuse(w, r, guard.Refusal{Status: http.StatusBadRequest, Code: guard.CodeBadUserInput, Limit: "request", Message: msg})
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), requestBodyKey{}, body))
		}
		next.ServeHTTP(w, r)
	})
}

func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// requestBody is a GraphQL request's JSON body as checkBody read it, each member as sent, for
// operationOverPOST to decode without reading the whole body again.
type requestBody struct {
	Query, OperationName, Variables, Extensions json.RawMessage
}

type requestBodyKey struct{}

// decode fills raw with the request's members, as decoding the whole body into it would.
func (b *requestBody) decode(raw *graphql.RawParams) error {
	for _, m := range []struct {
		value json.RawMessage
		into  *string
	}{{b.Query, &raw.Query}, {b.OperationName, &raw.OperationName}} {
		switch v := m.value; {
		case len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v):
			*m.into = string(v[1 : len(v)-1]) // no escape: the text between the quotes (bodyProblem checked the JSON)
		case len(v) > 0:
			if err := json.Unmarshal(v, m.into); err != nil {
				return err
			}
		}
	}
	for _, m := range []struct {
		value json.RawMessage
		into  *map[string]any
	}{{b.Variables, &raw.Variables}, {b.Extensions, &raw.Extensions}} {
		if len(m.value) == 0 || string(m.value) == "null" {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(m.value))
		dec.UseNumber() // as gqlgen's transports: numbers keep their text until a scalar reads them
		if err := dec.Decode(m.into); err != nil {
			return err
		}
	}
	return nil
}

// bodyProblem says what is wrong with a GraphQL request's JSON body, or "" and the request.
func bodyProblem(body []byte) (string, *requestBody) {
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) > 0 && body[0] == '[' {
		return "batched operations (a JSON array) are not supported: send one operation per request", nil
	}
	var req requestBody
	if err := json.Unmarshal(body, &req); err != nil {
		return "the request body is not a JSON object of a GraphQL request", nil
	}
	for _, f := range []struct {
		name, want string
		value      json.RawMessage
	}{
		{"query", "a string", req.Query},
		{"operationName", "a string", req.OperationName},
		{"variables", "an object", req.Variables},
		{"extensions", "an object", req.Extensions},
	} {
		if !isKind(f.value, f.want) {
			return f.name + " must be " + f.want + " or null", nil
		}
	}
	return "", &req
}

// isKind tells whether a JSON value is absent, null, or of the kind ("a string", "an object").
func isKind(v json.RawMessage, kind string) bool {
	if len(v) == 0 || string(v) == "null" {
		return true
	}
	switch kind {
	case "a string":
		return v[0] == '"'
	default:
		return v[0] == '{'
	}
}

// writeRefusal renders a guard's refusal as a GraphQL response.
func writeRefusal(w http.ResponseWriter, r *http.Request, f guard.Refusal) {
	rec := telemetry.RecordOf(r.Context())
	rec.Codes(f.Code)
	if f.Limit != "" {
		rec.Refused(f.Limit)
	}
	writeErrors(w, f.Status, gqlerror.List{{Message: f.Message, Extensions: map[string]any{"code": f.Code}}})
}
