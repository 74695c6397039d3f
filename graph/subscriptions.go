package graph

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// Subscriptions (DESIGN §4) over WebSocket and server-sent events: the bounds on how many a
// connection and a token may hold, authentication from connection_init, and the resolver's
// plumbing. Which changes a subscriber sees is the rules' (rules.SubscribeAssigneesChanged).

// subscriptionLimits bound the subscriptions of one WebSocket connection and of one token, across
// connections and processes' requests of this process (DESIGN §7: 20 and 100).
type subscriptionLimits struct {
	perConnection, perToken int

	mu      sync.Mutex
	byToken map[string]int
}

func newSubscriptionLimits(perConnection, perToken int) *subscriptionLimits {
	return &subscriptionLimits{perConnection: perConnection, perToken: perToken, byToken: map[string]int{}}
}

type connectionKey struct{}

// connection counts the subscriptions of one WebSocket connection.
type connection struct{ subscriptions atomic.Int32 }

// withConnection starts counting a connection's subscriptions.
func withConnection(ctx context.Context) context.Context {
	return context.WithValue(ctx, connectionKey{}, &connection{})
}

// acquire takes one subscription for the viewer's token and connection, or refuses it
// (RATE_LIMITED); release gives it back.
func (l *subscriptionLimits) acquire(ctx context.Context, v *model.Viewer) (release func(), err error) {
	c, _ := ctx.Value(connectionKey{}).(*connection)
	if c != nil && c.subscriptions.Add(1) > int32(l.perConnection) {
		c.subscriptions.Add(-1)
		return nil, limited("this connection already holds %d subscriptions", l.perConnection)
	}
	l.mu.Lock()
	if l.byToken[v.TokenHash] >= l.perToken {
		l.mu.Unlock()
		if c != nil {
			c.subscriptions.Add(-1)
		}
		return nil, limited("this token already holds %d subscriptions", l.perToken)
	}
	l.byToken[v.TokenHash]++
	l.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			if l.byToken[v.TokenHash]--; l.byToken[v.TokenHash] <= 0 {
				delete(l.byToken, v.TokenHash)
			}
			l.mu.Unlock()
			if c != nil {
				c.subscriptions.Add(-1)
			}
		})
	}, nil
}

// LimitError refuses a subscription over its limits (RATE_LIMITED).
type LimitError struct{ Msg string }

func (e *LimitError) Error() string { return e.Msg }

func limited(format string, n int) error { return &LimitError{Msg: fmt.Sprintf(format, n)} }

// subscribe runs a subscription of the rules within the limits, and releases its place when it
// ends.
func subscribe[T any](ctx context.Context, limits *subscriptionLimits, start func(context.Context) (<-chan T, error)) (<-chan T, error) {
	v := viewer(ctx)
	if v == nil {
		return nil, auth.ErrUnauthenticated
	}
	release, err := limits.acquire(ctx, v)
	if err != nil {
		refused(ctx, "subscriptions")
		return nil, err
	}
	ch, err := start(ctx)
	if err != nil {
		release()
		return nil, err
	}
	context.AfterFunc(ctx, release)
	return ch, nil
}

// connectionInit authenticates a WebSocket connection from its connection_init payload
// ({"Authorization": "Bearer <token>"}, the key in any case, "Bearer " optional), or else from the
// upgrade request's Authorization header. A missing or bad token closes the socket with 4403
// (Forbidden); a database that cannot check it now, with 1013 (try again later). The context
// given is returned with the error: gqlgen needs it to close the socket.
func connectionInit(svc *rules.Service) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		token := ""
		for k, v := range payload {
			if s, ok := v.(string); ok && strings.EqualFold(k, "Authorization") {
				token = strings.TrimSpace(s)
				if t := auth.BearerToken(s); t != "" {
					token = t
				}
			}
		}
		if token == "" {
			token, _ = ctx.Value(upgradeTokenKey{}).(string)
		}
		v, err := svc.Authenticate(ctx, token)
		if err != nil {
			code, reason := closeForbidden, "Forbidden"
			if rules.Unavailable(err) {
				code, reason = closeTryAgainLater, "Try again later"
			}
			return transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason), nil, err
		}
		return withConnection(auth.WithViewer(ctx, v)), nil, nil
	}
}

type upgradeTokenKey struct{}

// withUpgradeToken keeps the upgrade request's bearer token for connectionInit.
func withUpgradeToken(ctx context.Context, header string) context.Context {
	return context.WithValue(ctx, upgradeTokenKey{}, auth.BearerToken(header))
}
