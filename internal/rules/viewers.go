package rules

import (
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/model"
)

// Who a token belongs to is asked at every request and changes rarely: a process may keep the
// viewers of the tokens it has seen (WithViewerCache), and then a request needs no statement to
// know who asks. Whatever changes tokens, users or companies, in any process or by hand in SQL,
// makes the database publish a message on the bus (a trigger of migration 0004), and every
// process then forgets every viewer it kept. The cache is trusted only while the bus listens, and
// only for what was kept since it last started to listen: a message missed while its connection
// was lost cannot leave a revoked token working.

// kindViewersChanged is the message of a change to tokens, users or companies.
const kindViewersChanged = "viewers"

// viewerCacheSize bounds the viewers kept: one per live token seen lately.
const viewerCacheSize = 10_000

type viewerCache struct {
	bus     pubsub.Bus
	entries *otter.Cache[string, keptViewer]

	mu  sync.Mutex
	gen uint64 // the invalidations so far
}

type keptViewer struct {
	viewer *model.Viewer
	epoch  uint64 // the bus's Listening when it was read
}

// WithViewerCache keeps the viewers of tokens for at most ttl, forgotten at once when any process
// changes tokens, users or companies; the service must have a bus (WithBus) whose messages
// reach it through Deliver, on a database that publishes such changes (PostgreSQL).
func WithViewerCache(ttl time.Duration) Option {
	return func(s *Service) {
		s.viewers = &viewerCache{entries: otter.Must(&otter.Options[string, keptViewer]{
			MaximumSize:      viewerCacheSize,
			ExpiryCalculator: otter.ExpiryWriting[string, keptViewer](ttl),
		})}
	}
}

// get returns the kept viewer of a token's hash, if the bus has heard every message since it was
// kept.
func (c *viewerCache) get(hash string) (*model.Viewer, bool) {
	e, ok := c.entries.GetIfPresent(hash)
	if !ok || e.epoch == 0 || e.epoch != c.bus.Listening() {
		return nil, false
	}
	return e.viewer, true
}

// reading is what a read of a viewer must know to keep it afterwards: the invalidations and the
// bus's listening before it read.
type reading struct{ gen, epoch uint64 }

func (c *viewerCache) reading() reading {
	c.mu.Lock()
	defer c.mu.Unlock()
	return reading{gen: c.gen, epoch: c.bus.Listening()}
}

// keep keeps a viewer read after r, unless something was invalidated meanwhile: the read may have
// seen the state before the change.
func (c *viewerCache) keep(hash string, v *model.Viewer, r reading) {
	if r.epoch == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == r.gen {
		c.entries.Set(hash, keptViewer{viewer: v, epoch: r.epoch})
	}
}

// forget drops every kept viewer.
func (c *viewerCache) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.InvalidateAll()
}
