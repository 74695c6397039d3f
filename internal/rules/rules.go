// Package rules is where taskql's rules live, one file each: who sees what (DESIGN §2,
// visibility.go), who may be assigned and what the three assignment mutations mean (§3,
// assign.go), with their conditions and the bulk assignment (§10, assign.go), the reads and their
// pages (§4, read.go, batch.go, page.go), the load-aware picker among them (§10, read.go). It knows nothing of
// GraphQL or HTTP: every use case takes a context, the viewer and typed ids parsed by the adapter,
// and returns the errors of errors.go.
package rules

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/webhook"
	"github.com/taskql/taskql/model"
)

// DefaultMaxAssignees is how many assignees a task may hold unless configured otherwise (DESIGN §3).
const DefaultMaxAssignees = 100

// MaxTokenLength is the longest bearer token looked up; the tokens taskql makes are far shorter.
const MaxTokenLength = 256

// MaxUserIDs is the most ids one assignUsers call may list (DESIGN §3).
const MaxUserIDs = 100

// MaxTaskIDs is the most tasks one assignUsersToTasks call may change (DESIGN §10).
const MaxTaskIDs = 50

// Service runs the use cases on a store.
type Service struct {
	store        *store.Store
	maxAssignees int
	changed      []func(AssigneesChanged)
	bus          pubsub.Bus
	hub          hub
	viewers      *viewerCache
	writers      *writers
	guard        webhook.Guard
	stats        struct{ published, delivered, heard, viewerHits, forgotten atomic.Int64 }
}

// tracer makes the spans of the use cases, between the adapter's and the SQL statements' (DESIGN
// §8).
var tracer = otel.Tracer("github.com/taskql/taskql/internal/rules")

// Stats counts what the service published and delivered since it started.
type Stats struct {
	// Published counts the committed changes of assignees this process made and published.
	Published int64
	// Delivered counts the messages this process handed to its subscribers.
	Delivered int64
	// Heard counts the messages this process read from the bus, its own and other processes'.
	Heard int64
	// ViewerHits counts the requests whose viewer this process knew without a statement
	// (WithViewerCache).
	ViewerHits int64
	// ViewersForgotten counts the times this process forgot the viewers it kept, because tokens,
	// users or companies changed (WithViewerCache).
	ViewersForgotten int64
}

// Stats are the service's counts so far.
func (s *Service) Stats() Stats {
	return Stats{Published: s.stats.published.Load(), Delivered: s.stats.delivered.Load(), ViewerHits: s.stats.viewerHits.Load(), Heard: s.stats.heard.Load(),
		ViewersForgotten: s.stats.forgotten.Load()}
}

// Option configures a Service.
type Option func(*Service)

// WithMaxAssignees sets how many assignees a task may hold.
func WithMaxAssignees(n int) Option { return func(s *Service) { s.maxAssignees = n } }

// OnAssigneesChanged registers a function called after every committed change of a task's
// assignees (the feed of real-time updates).
func OnAssigneesChanged(fn func(AssigneesChanged)) Option {
	return func(s *Service) { s.changed = append(s.changed, fn) }
}

// New returns a Service on st.
func New(st *store.Store, opts ...Option) *Service {
	s := &Service{store: st, maxAssignees: DefaultMaxAssignees, hub: hub{subs: map[model.OrganizationID][]*subscription{}}}
	for _, o := range opts {
		o(s)
	}
	if s.viewers != nil {
		s.viewers.bus = s.bus
		if s.bus == nil {
			s.viewers = nil // nothing would tell it to forget
		}
	}
	return s
}

// Authenticate finds the viewer of a bearer token: auth.ErrUnauthenticated when the token is missing,
// unknown or revoked. An unapproved viewer is returned; every use case then refuses it.
func (s *Service) Authenticate(ctx context.Context, token string) (*model.Viewer, error) {
	if token == "" || len(token) > MaxTokenLength {
		// Refused without a query: no token that long was ever made.
		return nil, auth.ErrUnauthenticated
	}
	hash := auth.HashToken(token)
	var r reading
	if s.viewers != nil {
		if v, ok := s.viewers.get(hash); ok {
			s.stats.viewerHits.Add(1)
			return v, nil
		}
		r = s.viewers.reading()
	}
	row, err := s.store.ViewerByTokenHash(ctx, hash)
	if err != nil {
		return nil, notFoundAs(err, auth.ErrUnauthenticated)
	}
	v := &model.Viewer{User: &row.User, CompanyKind: row.CompanyKind, TokenHash: hash}
	if s.viewers != nil {
		s.viewers.keep(hash, v, r)
	}
	return v, nil
}

// Ready tells whether the database answers a read of the busiest table (/readyz).
func (s *Service) Ready(ctx context.Context) error { return s.store.Probe(ctx) }
