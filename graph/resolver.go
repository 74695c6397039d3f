// Package graph is taskql's GraphQL adapter and nothing else: gqlgen's generated executor, thin
// resolvers that translate arguments and call the rules package, per-request loaders, cursors and
// the one table from domain errors to extensions.code.
package graph

import (
	"context"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

//go:generate go run github.com/99designs/gqlgen generate

// Resolver holds what resolvers may reach: the rules, never the store, and the bounds on the
// subscriptions of a connection and a token.
type Resolver struct {
	Rules         *rules.Service
	subscriptions *subscriptionLimits
}

// viewer is the request's viewer, put in the context by the auth middleware.
func viewer(ctx context.Context) *model.Viewer { return auth.ViewerFrom(ctx) }
