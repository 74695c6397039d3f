package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Real-time delivery of DESIGN §4: each committed change of a task's assignees is published, in
// its transaction, on the bus that every server process listens to; each process delivers it to
// its own subscriptions for which it is visible at that moment, in the order changes committed.

// message is what a change publishes: small, so that a notification carries it; a process loads
// what its subscribers need.
type message struct {
	Kind         string               `json:"kind"`
	Event        model.EventID        `json:"event"`
	Task         model.TaskID         `json:"task"`
	Project      model.ProjectID      `json:"project"`
	Organization model.OrganizationID `json:"organization"`
	// Actor wrote the change: every process has its next reads see it (writers.go).
	Actor model.UserID `json:"actor,omitempty"`
}

const kindAssigneesChanged = "assignees"

// publish sends the messages of changes, one per change, inside their transaction, all in one
// statement.
func (s *Service) publish(ctx context.Context, tx *store.Store, done []*AssigneesChanged) error {
	if s.bus == nil || len(done) == 0 {
		return nil
	}
	payloads := make([]string, len(done))
	for i, d := range done {
		t, e := d.Task, d.Event
		m := message{Kind: kindAssigneesChanged, Event: e.ID, Task: t.ID, Project: t.ProjectID, Organization: t.OrganizationID}
		if e.ActorID != nil {
			m.Actor = *e.ActorID
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		payloads[i] = string(b)
	}
	return s.bus.Publish(ctx, tx, payloads...)
}

// subscriptionBuffer is how many changes a subscription may have waiting for its client; one whose
// client falls further behind is ended (it refetches when it subscribes again).
const subscriptionBuffer = 64

// subscription is one client's wish to hear of changes: of one task, of one project's tasks, or of
// every task its viewer sees.
type subscription struct {
	viewer  *model.Viewer
	task    *model.TaskID
	project *model.ProjectID
	out     chan *model.TaskAssigneesChange
	end     context.CancelFunc
}

func (sub *subscription) wants(m message) bool {
	return (sub.task == nil || *sub.task == m.Task) && (sub.project == nil || *sub.project == m.Project)
}

// hub holds the subscriptions of this process, by organization.
type hub struct {
	mu   sync.Mutex
	subs map[model.OrganizationID][]*subscription
}

// SubscribeAssigneesChanged delivers every committed change of a task's assignees that the viewer
// sees at the moment it is delivered, of the task, of the project's tasks, or of every task when
// neither is given; a task or project the viewer cannot see is not found. The channel is closed
// when ctx ends, or when the client falls too far behind.
func (s *Service) SubscribeAssigneesChanged(ctx context.Context, v *model.Viewer, task *model.TaskID, project *model.ProjectID) (<-chan *model.TaskAssigneesChange, error) {
	if _, err := scope(v); err != nil {
		return nil, err
	}
	if s.bus == nil {
		return nil, fmt.Errorf("subscribe: the service has no bus")
	}
	if task != nil {
		if _, err := s.Task(ctx, v, *task); err != nil {
			return nil, err
		}
	}
	if project != nil {
		if _, err := s.Project(ctx, v, *project); err != nil {
			return nil, err
		}
	}
	ctx, end := context.WithCancel(ctx)
	sub := &subscription{viewer: v, task: task, project: project, out: make(chan *model.TaskAssigneesChange, subscriptionBuffer), end: end}
	org := v.OrganizationID
	s.hub.mu.Lock()
	s.hub.subs[org] = append(s.hub.subs[org], sub)
	s.hub.mu.Unlock()
	go func() {
		<-ctx.Done()
		s.hub.mu.Lock()
		s.hub.subs[org] = slices.DeleteFunc(s.hub.subs[org], func(x *subscription) bool { return x == sub })
		if len(s.hub.subs[org]) == 0 {
			delete(s.hub.subs, org)
		}
		s.hub.mu.Unlock()
		close(sub.out)
	}()
	return sub.out, nil
}

// Subscriptions counts the subscriptions of this process.
func (s *Service) Subscriptions() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	n := 0
	for _, subs := range s.hub.subs {
		n += len(subs)
	}
	return n
}

// maxBatch bounds the changes delivered together.
const maxBatch = 256

// Deliver delivers the bus's messages to this process's subscriptions until the bus closes: the
// loop every serving process runs once. Each message is read as it arrives, so that what it tells
// (a viewer wrote, viewers changed) takes effect at once, even while earlier changes are still
// being delivered; the changes wait in a backlog, and those waiting together are delivered
// together, with a constant number of statements for the lot, so that a burst of changes costs
// the database little more than one change.
func (s *Service) Deliver(ctx context.Context) {
	b := &backlog{wake: make(chan struct{}, 1)}
	delivered := make(chan struct{})
	go func() {
		defer close(delivered)
		for {
			batch, ok := b.take(maxBatch)
			if !ok {
				return
			}
			if err := s.deliver(ctx, batch); err != nil {
				slog.WarnContext(ctx, "deliver changes to their subscribers", "changes", len(batch), "err", err)
			}
		}
	}()
	for payload := range s.bus.Messages() {
		b.add(s.decode(nil, payload))
	}
	b.close()
	<-delivered
}

// backlog holds the changes read from the bus until they are delivered, in order.
type backlog struct {
	mu     sync.Mutex
	items  []message
	closed bool
	wake   chan struct{}
}

func (b *backlog) add(ms []message) {
	if len(ms) == 0 {
		return
	}
	b.mu.Lock()
	b.items = append(b.items, ms...)
	b.mu.Unlock()
	b.signal()
}

func (b *backlog) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

func (b *backlog) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// take waits for changes and takes the oldest, at most most of them; false once the backlog is
// closed and empty.
func (b *backlog) take(most int) ([]message, bool) {
	for {
		b.mu.Lock()
		if n := min(len(b.items), most); n > 0 {
			batch := slices.Clone(b.items[:n])
			b.items = b.items[n:]
			b.mu.Unlock()
			return batch, true
		}
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return nil, false
		}
		<-b.wake
	}
}

// decode adds a payload to the batch if it is a change of assignees (a message of another kind,
// or of a newer version, is not ours).
func (s *Service) decode(batch []message, payload string) []message {
	defer s.stats.heard.Add(1) // once what the message tells is known here
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return batch
	}
	switch m.Kind {
	case kindAssigneesChanged:
		s.wrote(m.Actor)
		return append(batch, m)
	case kindViewersChanged:
		if s.viewers != nil {
			s.viewers.forget()
			s.stats.forgotten.Add(1)
		}
	}
	return batch
}

// deliver hands each change of a batch to the subscribers that want it and see its task now, in
// order. It loads the changes once, whatever the number of subscribers, and learns in one query
// which of them see which task.
func (s *Service) deliver(ctx context.Context, batch []message) error {
	ctx, span := tracer.Start(ctx, "rules.deliver", trace.WithAttributes(attribute.Int("taskql.changes", len(batch))))
	defer span.End()
	for _, org := range byOrganization(batch) {
		subs := s.hub.of(org[0].Organization)
		if len(subs) == 0 {
			continue
		}
		changes, audience, err := s.load(ctx, org, subs)
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if !audience.Valid[sub.viewer.TokenHash] {
				sub.end() // the token was revoked, or its user's access withdrawn: no more deliveries
			}
		}
		for i, m := range org {
			if changes[i] != nil {
				s.send(changes[i], m, subs, audience)
			}
		}
	}
	return nil
}

// send hands one change to the subscribers that want it and see its task.
func (s *Service) send(c *model.TaskAssigneesChange, m message, subs []*subscription, audience store.Audience) {
	for _, sub := range subs {
		if !sub.wants(m) || !audience.Sees[m.Task][sub.viewer.TokenHash] {
			continue
		}
		select {
		case sub.out <- c:
			s.stats.delivered.Add(1)
		default:
			sub.end() // too far behind: better ended than silently missing changes
		}
	}
}

// of lists the subscriptions of an organization.
func (h *hub) of(org model.OrganizationID) []*subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.subs[org])
}

// byOrganization splits a batch by organization, each part in its order.
func byOrganization(batch []message) [][]message {
	var parts [][]message
	at := map[model.OrganizationID]int{}
	for _, m := range batch {
		i, ok := at[m.Organization]
		if !ok {
			i = len(parts)
			at[m.Organization] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], m)
	}
	return parts
}

// load reads what the changes of one organization's batch carry (their events, tasks with their
// phases and assignees, and the users they name: three statements, read as the organization) and who among the subscribers sees which
// task (one statement). A change whose event is missing is nil.
func (s *Service) load(ctx context.Context, batch []message, subs []*subscription) ([]*model.TaskAssigneesChange, store.Audience, error) {
	// Fresh: the notification may reach this process before the change reaches a replica.
	org := store.Scope{OrganizationID: batch[0].Organization, Fresh: true}
	eventIDs, taskIDs := make([]model.EventID, len(batch)), make([]model.TaskID, len(batch))
	for i, m := range batch {
		eventIDs[i], taskIDs[i] = m.Event, m.Task
	}
	taskIDs = distinct(taskIDs)
	events, err := s.store.EventsByID(ctx, org, eventIDs)
	if err != nil {
		return nil, store.Audience{}, err
	}
	tasks, err := s.store.TasksByID(ctx, org, taskIDs, store.Everything)
	if err != nil {
		return nil, store.Audience{}, err
	}
	diffs, userIDs := diffsOf(events)
	users, err := s.store.UsersByID(ctx, org, userIDs)
	if err != nil {
		return nil, store.Audience{}, err
	}
	hashes := make([]string, len(subs))
	for i, sub := range subs {
		hashes[i] = sub.viewer.TokenHash
	}
	audience, err := s.store.AudienceOf(ctx, taskIDs, distinct(hashes))
	if err != nil {
		return nil, store.Audience{}, err
	}
	changes := make([]*model.TaskAssigneesChange, len(batch))
	for i, m := range batch {
		e, t := events[m.Event], tasks[m.Task]
		if e == nil || t == nil {
			continue
		}
		d := diffs[e.ID]
		changes[i] = &model.TaskAssigneesChange{ID: e.ID, Task: t, Added: pick(users, d.Added), Removed: pick(users, d.Removed), At: e.Timestamp}
		if e.ActorID != nil {
			changes[i].Actor = users[*e.ActorID]
		}
	}
	return changes, audience, nil
}

// diffData is the data of a change's event.
type diffData struct{ Added, Removed []model.UserID }

// diffsOf reads the events' data, and lists every user they name, their actors included.
func diffsOf(events map[model.EventID]*model.Event) (map[model.EventID]diffData, []model.UserID) {
	diffs := make(map[model.EventID]diffData, len(events))
	var ids []model.UserID
	for id, e := range events {
		var d diffData
		_ = json.Unmarshal(e.Data, &d) // an event this package wrote; at worst it names nobody
		diffs[id] = d
		ids = append(append(ids, d.Added...), d.Removed...)
		if e.ActorID != nil {
			ids = append(ids, *e.ActorID)
		}
	}
	return diffs, distinct(ids)
}

// pick lists the users of ids, in order.
func pick(users map[model.UserID]*model.User, ids []model.UserID) []*model.User {
	out := make([]*model.User, 0, len(ids))
	for _, id := range ids {
		if u := users[id]; u != nil {
			out = append(out, u)
		}
	}
	return out
}

// WithBus publishes every committed change on b (and lets subscriptions hear of them through
// Deliver). Without one, the service publishes nothing and refuses subscriptions.
func WithBus(b pubsub.Bus) Option { return func(s *Service) { s.bus = b } }
