package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

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
}

const kindAssigneesChanged = "assignees"

// publish sends the message of a change, inside its transaction.
func (s *Service) publish(ctx context.Context, tx *store.Store, t *model.Task, e *model.Event) error {
	if s.bus == nil {
		return nil
	}
	b, err := json.Marshal(message{Kind: kindAssigneesChanged, Event: e.ID, Task: t.ID, Project: t.ProjectID, Organization: t.OrganizationID})
	if err != nil {
		return err
	}
	return s.bus.Publish(ctx, tx, string(b))
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

// Deliver delivers the bus's messages to this process's subscriptions until the bus closes: the
// loop every serving process runs once.
func (s *Service) Deliver(ctx context.Context) {
	for payload := range s.bus.Messages() {
		var m message
		if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Kind != kindAssigneesChanged {
			continue // a message of another kind, or of a newer version, is not ours
		}
		if err := s.deliver(ctx, m); err != nil {
			slog.WarnContext(ctx, "deliver a change to its subscribers", "event", m.Event, "err", err)
		}
	}
}

// deliver loads one change once, whatever the number of subscribers, learns in one query which of
// them see its task now, and hands it to those.
func (s *Service) deliver(ctx context.Context, m message) error {
	ctx, span := tracer.Start(ctx, "rules.deliver")
	defer span.End()
	s.hub.mu.Lock()
	var subs []*subscription
	for _, sub := range s.hub.subs[m.Organization] {
		if sub.wants(m) {
			subs = append(subs, sub)
		}
	}
	s.hub.mu.Unlock()
	if len(subs) == 0 {
		return nil
	}
	change, err := s.changeOf(ctx, m)
	if err != nil {
		return err
	}
	hashes := make([]string, len(subs))
	for i, sub := range subs {
		hashes[i] = sub.viewer.TokenHash
	}
	audience, err := s.store.Audience(ctx, m.Task, hashes)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		switch st := audience[sub.viewer.TokenHash]; {
		case !st.Valid:
			sub.end() // the token was revoked, or its user's access withdrawn: no more deliveries
			continue
		case !st.Sees:
			continue
		}
		select {
		case sub.out <- change:
			s.stats.delivered.Add(1)
		default:
			sub.end() // too far behind: better ended than silently missing changes
		}
	}
	return nil
}

// changeOf loads what a change's subscribers receive: its event, its task and the users it names,
// read as the organization (each subscriber's visibility is decided apart, by Audience).
func (s *Service) changeOf(ctx context.Context, m message) (*model.TaskAssigneesChange, error) {
	org := store.Scope{OrganizationID: m.Organization}
	events, err := s.store.EventsByID(ctx, org, []model.EventID{m.Event})
	if err != nil {
		return nil, err
	}
	tasks, err := s.store.TasksByID(ctx, org, []model.TaskID{m.Task})
	if err != nil {
		return nil, err
	}
	e, t := events[m.Event], tasks[m.Task]
	if e == nil || t == nil {
		return nil, fmt.Errorf("change %s of task %s: %w", m.Event, m.Task, ErrNotFound)
	}
	var diff struct{ Added, Removed []model.UserID }
	if err := json.Unmarshal(e.Data, &diff); err != nil {
		return nil, fmt.Errorf("change %s: data: %w", e.ID, err)
	}
	ids := slices.Concat(diff.Added, diff.Removed)
	if e.ActorID != nil {
		ids = append(ids, *e.ActorID)
	}
	users, err := s.store.UsersByID(ctx, org, ids)
	if err != nil {
		return nil, err
	}
	c := &model.TaskAssigneesChange{ID: e.ID, Task: t, Added: pick(users, diff.Added), Removed: pick(users, diff.Removed), At: e.Timestamp}
	if e.ActorID != nil {
		c.Actor = users[*e.ActorID]
	}
	return c, nil
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
