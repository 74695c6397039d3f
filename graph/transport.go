package graph

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskql/taskql/internal/guard"
)

// queryOverGET runs a query sent by GET (GraphQL over HTTP), as gqlgen's transport.GET does, with
// the codes and statuses a client can act on: malformed parameters are 400 BAD_USER_INPUT, and a
// mutation is 405 Method Not Allowed (Allow: POST) and never runs. gqlgen's own answers those
// without extensions.code (and the mutation with 406). A document refused before it executes is
// answered as operationOverPOST answers it.
type queryOverGET struct{}

var _ graphql.Transport = queryOverGET{}

func (queryOverGET) Supports(r *http.Request) bool {
	return r.Method == http.MethodGet && r.Header.Get("Upgrade") == ""
}

func (queryOverGET) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	q := r.URL.Query()
	raw := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName"), Headers: r.Header}
	raw.ReadTime.Start = graphql.Now()
	for name, into := range map[string]*map[string]any{"variables": &raw.Variables, "extensions": &raw.Extensions} {
		if v := q.Get(name); v != "" {
			dec := json.NewDecoder(strings.NewReader(v))
			dec.UseNumber()
			if err := dec.Decode(into); err != nil {
				writeErrors(w, http.StatusBadRequest, gqlerror.List{{Message: name + " must be a JSON object",
					Extensions: map[string]any{"code": guard.CodeBadUserInput}}})
				return
			}
		}
	}
	raw.ReadTime.End = graphql.Now()

	execute(w, r, exec, raw, contentType, true)
}

// operationOverPOST runs a GraphQL request sent by POST in JSON, as gqlgen's transport.POST
// does (the same statuses: 422 for a document that does not parse or validate, 400 when the
// client asked for application/graphql-response+json), with one difference: such a refusal,
// made before the operation executes, has no data entry in application/graphql-response+json,
// as GraphQL over HTTP says a 4xx answer must not; gqlgen writes "data": null. checkBody has
// refused the bodies that are not one JSON GraphQL request already.
type operationOverPOST struct{}

var _ graphql.Transport = operationOverPOST{}

func (operationOverPOST) Supports(r *http.Request) bool {
	return r.Method == http.MethodPost && r.Header.Get("Upgrade") == "" && isJSON(r)
}

func (operationOverPOST) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	contentType := responseContentType(r)
	w.Header().Set("Content-Type", contentType)
	raw := &graphql.RawParams{Headers: r.Header}
	raw.ReadTime.Start = graphql.Now()
	var err error
	if body, ok := r.Context().Value(requestBodyKey{}).(*requestBody); ok {
		err = body.decode(raw)
	} else {
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		err = dec.Decode(raw)
	}
	if err != nil {
		writeErrors(w, http.StatusBadRequest, gqlerror.List{{Message: "the request body is not a JSON object of a GraphQL request",
			Extensions: map[string]any{"code": guard.CodeBadUserInput}}})
		return
	}
	raw.ReadTime.End = graphql.Now()
	execute(w, r, exec, raw, contentType, false)
}

// execute runs the operation of a request its transport has read, answered in contentType; a
// queriesOnly transport (GET) refuses a mutation or subscription with 405 and runs nothing.
func execute(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor, raw *graphql.RawParams, contentType string, queriesOnly bool) {
	opCtx, errs := exec.CreateOperationContext(r.Context(), raw)
	if errs != nil {
		status := http.StatusOK
		if errcode.GetErrorKind(errs) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if contentType == graphqlResponseJSON {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		resp := exec.DispatchError(graphql.WithOperationContext(r.Context(), opCtx), errs)
		if contentType == graphqlResponseJSON && status >= http.StatusBadRequest {
			writeResponseWithoutData(w, resp)
			return
		}
		writeResponse(w, resp)
		return
	}
	if queriesOnly && opCtx.Operation.Operation != ast.Query {
		w.Header().Set("Allow", "POST")
		writeErrors(w, http.StatusMethodNotAllowed, gqlerror.List{{Message: "a " + string(opCtx.Operation.Operation) +
			" must be sent by POST; GET runs queries only", Extensions: map[string]any{"code": guard.CodeBadUserInput}}})
		return
	}
	responses, ctx := exec.DispatchOperation(r.Context(), opCtx)
	writeResponse(w, responses(ctx))
}

// graphqlResponseJSON is the media type of GraphQL over HTTP's responses.
const graphqlResponseJSON = "application/graphql-response+json"

// responseContentType answers in the media type the client accepts: application/json unless it
// asks for application/graphql-response+json first (gqlgen's transports choose the same).
func responseContentType(r *http.Request) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return "application/json"
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return "application/json"
		case graphqlResponseJSON:
			return graphqlResponseJSON
		}
	}
	return graphqlResponseJSON
}

// writeResponseWithoutData writes a response to a request that did not execute, without its
// data entry (graphql.Response always writes one).
func writeResponseWithoutData(w http.ResponseWriter, resp *graphql.Response) {
	writeResponse(w, struct {
		Errors     gqlerror.List  `json:"errors"`
		Extensions map[string]any `json:"extensions,omitempty"`
	}{resp.Errors, resp.Extensions})
}

func writeResponse(w http.ResponseWriter, resp any) {
	if r, ok := resp.(*graphql.Response); ok && len(r.Errors) == 0 && r.Label == "" && r.Path == nil && r.HasNext == nil &&
		len(r.Extensions) == 0 && len(r.Data) > 0 {
		// The common answer, data alone: the executor wrote it as compact JSON, which
		// json.Marshal would scan once more to check and compact it.
		_, _ = w.Write([]byte(`{"data":`))
		_, _ = w.Write(r.Data)
		_, _ = w.Write([]byte(`}`))
		return
	}
	b, err := json.Marshal(resp)
	if err != nil {
		b = []byte(`{"errors":[{"message":"` + internalMessage + `","extensions":{"code":"` + guard.CodeInternal + `"}}],"data":null}`)
	}
	_, _ = w.Write(b)
}
