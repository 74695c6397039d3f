// Package auth turns a request's bearer token into the viewer the rules act for (DESIGN §2).
package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/taskql/taskql/internal/rules"
)

type viewerKey struct{}

// WithViewer returns a context carrying the viewer.
func WithViewer(ctx context.Context, v *rules.Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of the request, or nil.
func ViewerFrom(ctx context.Context) *rules.Viewer {
	v, _ := ctx.Value(viewerKey{}).(*rules.Viewer)
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
	Authenticate(ctx context.Context, token string) (*rules.Viewer, error)
}

// Middleware lets a request through only with a valid token, carrying its viewer. A missing,
// unknown or revoked token is refused with 401, WWW-Authenticate: Bearer and an UNAUTHENTICATED
// GraphQL error; refuse writes that body. Other failures (the database is down) are passed to fail.
func Middleware(a Authenticator, refuse func(w http.ResponseWriter, r *http.Request, err error), next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := a.Authenticate(r.Context(), BearerToken(r.Header.Get("Authorization")))
		if err != nil {
			if errors.Is(err, rules.ErrUnauthenticated) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="taskql"`)
			}
			refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithViewer(r.Context(), v)))
	})
}
