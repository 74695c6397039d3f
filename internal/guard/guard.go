// Package guard protects taskql's HTTP API from abuse before any adapter (GraphQL, REST) looks at
// a request (DESIGN §7): it reads the body whole and bounded before anything else, gives every
// request a sane id, a deadline and its turn among the requests executing at once, and limits the
// rate of requests per token. A refusal is cheap: no database work, bounded memory. It knows
// nothing of GraphQL: each adapter renders a Refusal in its own error shape.
package guard

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Refusal is a request refused by a guard, before any adapter ran.
type Refusal struct {
	// Status is the HTTP status.
	Status int
	// Code is the error code (DESIGN §3), e.g. UNAVAILABLE or RATE_LIMITED.
	Code string
	// Message says what was wrong, for the client; it never echoes the request.
	Message string
	// RetryAfter, when positive, is sent as the Retry-After header (whole seconds, at least 1).
	RetryAfter time.Duration
	// Limit names the limit of DESIGN §7 that refused the request, for the operator's metrics.
	Limit string
}

// The error codes of DESIGN §3: the guards' refusals use some, and both adapters answer every
// domain error with one, the same in GraphQL's extensions.code and in a REST error's code, so a
// client moving from one API to the other keeps its error handling.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeNotFound        = "NOT_FOUND"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeUnprocessable   = "UNPROCESSABLE"
	CodeConflict        = "CONFLICT"
	CodeRateLimited     = "RATE_LIMITED"
	CodeUnavailable     = "UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

// Render writes a refusal in an adapter's error shape.
type Render func(w http.ResponseWriter, r *http.Request, f Refusal)

// Refuse sets the Retry-After header of f and renders it.
func (render Render) Refuse(w http.ResponseWriter, r *http.Request, f Refusal) {
	if f.RetryAfter > 0 {
		secs := int64((f.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	render(w, r, f)
}

// ReadBody reads a request's body whole before the next handler runs, refusing one larger than
// max bytes with 413 (without keeping more than max). The next handler gets the body from memory: a
// client that sends slowly is waited for here, where it holds nothing but its own connection
// (DESIGN §7: no admission slot is taken before the body has been read).
func ReadBody(max int64, render Render, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		raw := r.Body
		var body []byte
		var err error
		if r.ContentLength <= max {
			body, err = io.ReadAll(http.MaxBytesReader(w, raw, max))
		}
		var maxErr *http.MaxBytesError
		switch {
		case r.ContentLength > max || errors.As(err, &maxErr):
			refuseTooLarge(w, r, raw, max, render)
			return
		case err != nil:
			// The client went away or stopped sending in time: nobody is left to answer.
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey{}, body)))
	})
}

// drainBytes is how much more of a body too large ReadBody reads, and discards, after it answered
// 413: a client that writes its whole body before it reads the answer (most scripts do) would
// otherwise find its connection reset and the answer lost. The server's read timeout bounds the
// time it takes.
const drainBytes = 16 << 20

func refuseTooLarge(w http.ResponseWriter, r *http.Request, body io.Reader, max int64, render Render) {
	w.Header().Set("Connection", "close")
	render.Refuse(w, r, Refusal{Status: http.StatusRequestEntityTooLarge, Code: CodeBadUserInput, Limit: "body",
		Message: "the request body is larger than " + strconv.FormatInt(max, 10) + " bytes"})
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	_, _ = io.CopyN(io.Discard, body, drainBytes)
}

type bodyKey struct{}

// Body is the body ReadBody read, for a handler that looks at it before the next one reads it.
func Body(ctx context.Context) []byte {
	b, _ := ctx.Value(bodyKey{}).([]byte)
	return b
}

// Deadline gives the rest of a request at most d (the operation deadline, DESIGN §7): waiting for
// its turn, and every statement it runs, are cancelled when it passes.
func Deadline(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Admission lets at most n requests through at once (n <= 0: no limit); the others wait their
// turn until their deadline, then are refused as UNAVAILABLE. Under overload this keeps latency
// even instead of letting every request slow down together.
func Admission(n int, render Render, next http.Handler) http.Handler {
	if n <= 0 {
		return next
	}
	slots := make(chan struct{}, n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		case <-r.Context().Done():
			if errors.Is(r.Context().Err(), context.DeadlineExceeded) {
				render.Refuse(w, r, Refusal{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Limit: "deadline",
					Message: "the server is too busy to start the request before its deadline; retry", RetryAfter: time.Second})
			}
			return
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

// RequestID is the id of the request, also sent as X-Request-Id, that logs of its errors carry.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithRequestID gives every request an id, sent back as X-Request-Id: the client's own when it is
// 1–64 characters of [A-Za-z0-9._-] (DESIGN §7), else a new random one, so that nothing a client
// sends is echoed into a header or a log line as it came.
func WithRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

func saneRequestID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
