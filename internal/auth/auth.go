// Package auth is the bearer token of DESIGN §2: minting and hashing it, reading it from a
// request, and carrying its viewer in the request's context. Finding the viewer of a token is
// the rules' (Authenticator).
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/taskql/taskql/model"
)

// ErrUnauthenticated means there is no viewer: the token is missing, unknown or revoked (HTTP 401).
var ErrUnauthenticated = errors.New("unauthenticated")

type viewerKey struct{}

// WithViewer returns a context carrying the viewer.
func WithViewer(ctx context.Context, v *model.Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of the request, or nil.
func ViewerFrom(ctx context.Context) *model.Viewer {
	v, _ := ctx.Value(viewerKey{}).(*model.Viewer)
	return v
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header, or "".
func BearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// Authenticator finds the viewer of a token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*model.Viewer, error)
}

// Middleware lets a request through only with a valid token, carrying its viewer. Otherwise
// refuse answers, given the error: a missing, unknown or revoked token (ErrUnauthenticated, sent
// with WWW-Authenticate: Bearer) or one that could not be checked (the database is down).
func Middleware(a Authenticator, refuse func(w http.ResponseWriter, r *http.Request, err error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := a.Authenticate(r.Context(), BearerToken(r.Header.Get("Authorization")))
		if err != nil {
			if errors.Is(err, ErrUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="taskql"`)
			}
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), v)))
	})
}
