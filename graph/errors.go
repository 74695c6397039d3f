package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/guard"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/telemetry"
	"github.com/taskql/taskql/model"
)

// The codes of extensions.code are guard's (DESIGN §3); gqlgen sets its own GRAPHQL_PARSE_FAILED,
// GRAPHQL_VALIDATION_FAILED, COMPLEXITY_LIMIT_EXCEEDED and PERSISTED_QUERY_NOT_FOUND.

// unavailableMessage is what a client learns when the database cannot do the work now.
const unavailableMessage = "the service is temporarily unavailable, or the operation ran past its deadline; retry"

// internalMessage is all a client learns of an internal error; the error itself is logged with the
// request id.
const internalMessage = "internal server error"

// violation is one entry of extensions.violations.
type violation struct {
	UserID model.UserID `json:"userId"`
	Reason rules.Reason `json:"reason"`
	// TaskID names the task of a violation of assignUsersToTasks (DESIGN §10).
	TaskID model.TaskID `json:"taskId,omitempty"`
}

// classify is the one table from domain error to client-facing code, message and extensions.
// ok is false for an error no rule produced: an internal one.
func classify(err error) (code, msg string, ext map[string]any, ok bool) {
	var (
		ve *rules.ViolationError
		nf *rules.NotFoundError
		ce *rules.ConflictError
		in *model.InputError
		le *LimitError
	)
	switch {
	case errors.As(err, &ve):
		vs := make([]violation, len(ve.Violations))
		for i, v := range ve.Violations {
			vs[i] = violation{UserID: v.UserID, Reason: v.Reason, TaskID: v.TaskID}
		}
		return guard.CodeUnprocessable, ve.Error(), map[string]any{"userIds": ve.UserIDs(), "violations": vs}, true
	case errors.As(err, &ce):
		return guard.CodeConflict, ce.Error(), map[string]any{"version": ce.Version}, true
	case errors.Is(err, auth.ErrUnauthenticated):
		return guard.CodeUnauthenticated, "authentication required: send Authorization: Bearer <token> with a valid token", nil, true
	case errors.Is(err, rules.ErrAdminOnly):
		return guard.CodeForbidden, "only the organization's admins may manage its webhooks", nil, true
	case errors.Is(err, rules.ErrForbidden):
		return guard.CodeForbidden, "the viewer's access is not approved", nil, true
	case errors.As(err, &nf):
		return guard.CodeNotFound, nf.Error(), nil, true
	case errors.Is(err, rules.ErrNotFound):
		return guard.CodeNotFound, "not found", nil, true
	case errors.As(err, &in):
		return guard.CodeBadUserInput, in.Error(), nil, true
	case errors.As(err, &le):
		return guard.CodeRateLimited, le.Error(), nil, true
	case rules.Unavailable(err):
		return guard.CodeUnavailable, unavailableMessage, nil, true
	}
	return guard.CodeInternal, internalMessage, nil, false
}

// maxMessageRunes bounds an error's message. A message may name what the client sent (a field, an
// enum value, an operation's name); it never repeats more of it than this (DESIGN §7: error
// messages never echo the request).
const maxMessageRunes = 300

// presentError gives every error its extensions.code and masks what no rule produced.
func presentError(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := presentErrorUnbounded(ctx, err)
	if utf8.RuneCountInString(gqlErr.Message) > maxMessageRunes {
		gqlErr.Message = string([]rune(gqlErr.Message)[:maxMessageRunes]) + "…"
	}
	return gqlErr
}

func presentErrorUnbounded(ctx context.Context, err error) *gqlerror.Error {
	gqlErr := graphql.DefaultErrorPresenter(ctx, err)
	code, msg, ext, ok := classify(err)
	if code == guard.CodeUnavailable {
		// The store logs an outage once when it starts; one line a request would drown it.
		slog.DebugContext(ctx, "unavailable", "request_id", guard.RequestID(ctx), "path", gqlErr.Path.String(), "err", err)
	}
	if !ok {
		var own *gqlerror.Error
		if errors.As(err, &own) && own.Err == nil {
			// gqlgen's own error about the request (a bad argument value): it reveals nothing.
			if gqlErr.Extensions == nil || gqlErr.Extensions["code"] == nil {
				gqlErr.Extensions = map[string]any{"code": guard.CodeBadUserInput}
			}
			return gqlErr
		}
		level := slog.LevelError
		if errors.Is(err, context.Canceled) {
			level = slog.LevelDebug // the client hung up: nothing went wrong here
		}
		slog.Log(ctx, level, "internal error", "request_id", guard.RequestID(ctx), "path", gqlErr.Path.String(), "err", err)
	}
	gqlErr.Message = msg
	gqlErr.Extensions = map[string]any{"code": code}
	for k, v := range ext {
		gqlErr.Extensions[k] = v
	}
	return gqlErr
}

// recoverPanic turns a resolver's panic into an internal error, logged with the request id.
func recoverPanic(ctx context.Context, p any) error {
	slog.ErrorContext(ctx, "panic", "request_id", guard.RequestID(ctx), "panic", p)
	return fmt.Errorf("panic: %v", p)
}

// refuse answers a request the auth middleware did not let through: 401 for a missing, unknown or
// revoked token, 503 (UNAVAILABLE, Retry-After) when the database cannot check it now, and 500
// (logged) for anything else.
func refuse(w http.ResponseWriter, r *http.Request, err error) {
	code, msg, _, ok := classify(err)
	status := http.StatusUnauthorized
	switch {
	case code == guard.CodeUnavailable:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case !ok:
		status = http.StatusInternalServerError
		slog.ErrorContext(r.Context(), "authenticate", "request_id", guard.RequestID(r.Context()), "err", err)
	}
	telemetry.RecordOf(r.Context()).Codes(code)
	writeErrors(w, status, gqlerror.List{{Message: msg, Extensions: map[string]any{"code": code}}})
}
