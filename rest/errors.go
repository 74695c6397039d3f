package rest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/model"
)

// errorBody is the one JSON shape of every REST error (DESIGN §9): {"message", "code"}, and for
// a rule violation (422) the offending users as GraphQL's UNPROCESSABLE lists them.
type errorBody struct {
	Message    string         `json:"message"`
	Code       string         `json:"code"`
	UserIDs    []model.UserID `json:"user_ids,omitempty"`
	Violations []violation    `json:"violations,omitempty"`
	// Version is the task's current version, of a conditional write refused (412, CONFLICT).
	Version string `json:"version,omitempty"`

	// status is the HTTP status of an error a parser makes itself (415); 0 lets classify choose.
	status int
}

func (e *errorBody) Error() string { return e.Message }

// violation is one entry of violations: an offending user and the first rule it breaks.
type violation struct {
	UserID model.UserID `json:"user_id"`
	Reason rules.Reason `json:"reason"`
}

// unavailableMessage is what a client learns when the database cannot do the work now.
const unavailableMessage = "the service is temporarily unavailable, or the request ran past its deadline; retry"

// classify is the REST adapter's one table from domain error to HTTP status and error body, the
// statuses REST clients expect for GraphQL's codes. ok is false for an error no rule produced:
// an internal one, whose message reveals nothing.
func classify(err error) (status int, body errorBody, ok bool) {
	var (
		own *errorBody
		ve  *rules.ViolationError
		nf  *rules.NotFoundError
		ce  *rules.ConflictError
		in  *model.InputError
	)
	switch {
	case errors.As(err, &own):
		return own.status, *own, true
	case errors.As(err, &ve):
		vs := make([]violation, len(ve.Violations))
		for i, v := range ve.Violations {
			vs[i] = violation{UserID: v.UserID, Reason: v.Reason}
		}
		return http.StatusUnprocessableEntity, errorBody{Code: guard.CodeUnprocessable, Message: ve.Error(),
			UserIDs: ve.UserIDs(), Violations: vs}, true
	case errors.As(err, &ce):
		return http.StatusPreconditionFailed, errorBody{Code: guard.CodeConflict, Message: ce.Error(), Version: ce.Version}, true
	case errors.Is(err, auth.ErrUnauthenticated):
		return http.StatusUnauthorized, errorBody{Code: guard.CodeUnauthenticated,
			Message: "authentication required: send Authorization: Bearer <token> with a valid token"}, true
	case errors.Is(err, rules.ErrForbidden):
		return http.StatusForbidden, errorBody{Code: guard.CodeForbidden, Message: "the viewer's access is not approved"}, true
	case errors.As(err, &nf):
		return http.StatusNotFound, errorBody{Code: guard.CodeNotFound, Message: nf.Error()}, true
	case errors.Is(err, rules.ErrNotFound):
		return http.StatusNotFound, errorBody{Code: guard.CodeNotFound, Message: "not found"}, true
	case errors.As(err, &in):
		return http.StatusBadRequest, errorBody{Code: guard.CodeBadUserInput, Message: in.Error()}, true
	case rules.Unavailable(err):
		return http.StatusServiceUnavailable, errorBody{Code: guard.CodeUnavailable, Message: unavailableMessage}, true
	}
	return http.StatusInternalServerError, errorBody{Code: guard.CodeInternal, Message: "internal server error"}, false
}

// writeFailure answers a request that failed, whether in a parser, in the rules, or at the auth
// middleware (401 for a missing, unknown or revoked token, which the middleware gives its
// WWW-Authenticate): its status and body by classify; 503 tells when to retry; an internal error
// is logged with the request id, and a client that went away is not.
func writeFailure(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	status, body, ok := classify(err)
	switch {
	case status == http.StatusServiceUnavailable:
		// The store logs an outage once when it starts; one line a request would drown it.
		slog.DebugContext(ctx, "unavailable", "request_id", guard.RequestID(ctx), "err", err)
		w.Header().Set("Retry-After", "1")
	case !ok && errors.Is(err, context.Canceled):
		slog.DebugContext(ctx, "client gone", "request_id", guard.RequestID(ctx), "err", err)
	case !ok:
		slog.ErrorContext(ctx, "internal error", "request_id", guard.RequestID(ctx), "route", Route(r), "err", err)
	case body.Version != "":
		w.Header().Set("ETag", etag(body.Version))
	}
	writeError(w, r, status, body)
}

// writeRefusal renders a guard's refusal (413, 429, 503) in the REST error shape.
func writeRefusal(w http.ResponseWriter, r *http.Request, f guard.Refusal) {
	if f.Limit != "" {
		telemetry.RecordOf(r.Context()).Refused(f.Limit)
	}
	writeError(w, r, f.Status, errorBody{Code: f.Code, Message: f.Message})
}

// writeError writes an error body with its status, and notes its code on the access line.
func writeError(w http.ResponseWriter, r *http.Request, status int, body errorBody) {
	telemetry.RecordOf(r.Context()).Codes(body.Code)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
}
