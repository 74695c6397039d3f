package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Config configures a Worker; zero fields take the defaults.
type Config struct {
	Guard Guard
	// Timeout bounds one attempt, connecting and reading the answer included (default 10 s).
	Timeout time.Duration
	// Lease is how long a claimed row is not due again (default twice Timeout): a row whose
	// worker died mid-delivery is delivered again after it. It must exceed Timeout, so that no two
	// attempts of one row are ever under way at once.
	Lease time.Duration
	// Poll is how often the outbox is read when nothing tells the worker of new rows (default 1 s):
	// a change made through this process wakes it at once, one made through another process is
	// seen within Poll.
	Poll time.Duration
	// Concurrency is how many attempts are under way at once (default 8).
	Concurrency int
	Backoff     Backoff
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultTimeout is the default bound of one attempt.
const DefaultTimeout = 10 * time.Second

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Lease <= c.Timeout {
		c.Lease = 2 * c.Timeout
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
	if c.Backoff.Base <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Worker delivers the outbox of one database. Every serve process runs one.
type Worker struct {
	st       *store.Store
	cfg      Config
	client   *http.Client
	nudge    chan struct{}
	outcomes sync.Map // model.WebhookOutcome → *atomic.Int64
	backlog  atomic.Pointer[store.Backlog]
	down     atomic.Bool // the last read of the outbox failed
}

// New returns a worker of the outbox of st.
func New(st *store.Store, cfg Config) *Worker {
	cfg = cfg.withDefaults()
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, past the guard
		DialContext:           cfg.Guard.dialer(&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}),
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   cfg.Concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	w := &Worker{st: st, cfg: cfg, nudge: make(chan struct{}, 1), client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect is an answer like any other that is not 2xx: following it would reach a
		// target nobody registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	for _, o := range model.AllWebhookOutcome {
		w.outcomes.Store(o, new(atomic.Int64))
	}
	return w
}

// Nudge tells the worker that rows may be due: a change committed in this process.
func (w *Worker) Nudge() {
	select {
	case w.nudge <- struct{}{}:
	default:
	}
}

// Stats are the worker's figures, for the metrics.
type Stats struct {
	// Attempts counts this process's attempts by outcome.
	Attempts map[model.WebhookOutcome]int64
	// Backlog is the outbox's rows not yet delivered nor given up, every process's, as last read.
	Backlog int
	// OldestAge is how long the oldest of them has waited (0 when none).
	OldestAge time.Duration
}

// Stats are the worker's figures now.
func (w *Worker) Stats() Stats {
	s := Stats{Attempts: map[model.WebhookOutcome]int64{}}
	w.outcomes.Range(func(k, v any) bool {
		s.Attempts[k.(model.WebhookOutcome)] = v.(*atomic.Int64).Load()
		return true
	})
	if b := w.backlog.Load(); b != nil && b.Rows > 0 {
		s.Backlog, s.OldestAge = b.Rows, max(0, w.cfg.Now().Sub(b.Oldest))
	}
	return s
}

// Run delivers until ctx is done, then waits for the attempts under way to end (each within
// Timeout) and returns: a row claimed but never finished is delivered again after its lease.
func (w *Worker) Run(ctx context.Context) {
	slots := make(chan struct{}, w.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	var measured time.Time
	for ctx.Err() == nil {
		if time.Since(measured) >= w.cfg.Poll {
			measured = time.Now()
			if b, err := w.st.WebhookBacklog(ctx); err == nil {
				w.backlog.Store(&b)
			}
		}
		if free := cap(slots) - len(slots); free > 0 {
			msgs, err := w.st.ClaimWebhookMessages(ctx, w.cfg.Now(), w.cfg.Lease, free)
			w.observe(err)
			for _, m := range msgs {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() { <-slots; w.Nudge() }()
					w.attempt(context.WithoutCancel(ctx), m)
				})
			}
			if err == nil && len(msgs) == free {
				continue // more may be due
			}
		}
		select {
		case <-ctx.Done():
		case <-w.nudge:
		case <-time.After(w.cfg.Poll):
		}
	}
}

// observe logs a failure to read the outbox once, and its end once, not once per poll.
func (w *Worker) observe(err error) {
	switch {
	case err != nil && !w.down.Swap(true) && !errors.Is(err, context.Canceled):
		slog.Warn("webhook outbox unreachable", "error", err)
	case err == nil && w.down.Swap(false):
		slog.Info("webhook outbox reachable again")
	}
}

// attempt makes one attempt of a claimed row and records it.
func (w *Worker) attempt(ctx context.Context, m store.WebhookMessage) {
	start := w.cfg.Now().UTC().Truncate(time.Microsecond)
	d := &model.WebhookDelivery{ID: model.NewID[model.WebhookDeliveryID](model.PrefixDelivery), WebhookID: m.WebhookID,
		EventID: m.EventID, Attempt: m.Attempt, At: start}
	status, err := w.post(ctx, m, start)
	d.DurationMs = int(w.cfg.Now().Sub(start).Milliseconds())
	d.Outcome, d.StatusCode, d.Error = classify(status, err)
	var next *time.Time
	if d.Outcome != model.WebhookOutcomeDelivered {
		if at, ok := w.cfg.Backoff.Next(m.Attempt, m.CreatedAt, w.cfg.Now()); ok {
			next = &at
		}
	}
	finish, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	if _, err := w.st.FinishAttempt(finish, m, d, next); err != nil {
		slog.Warn("webhook attempt not recorded: delivered again after its lease", "webhook", m.WebhookID, "event", m.EventID,
			"attempt", m.Attempt, "error", err)
	}
	if next == nil && d.Outcome != model.WebhookOutcomeDelivered {
		slog.Warn("webhook event given up after 24 hours of attempts", "webhook", m.WebhookID, "event", m.EventID, "attempts", m.Attempt)
	}
	if c, ok := w.outcomes.Load(d.Outcome); ok {
		c.(*atomic.Int64).Add(1)
	}
}

// post sends the event signed and returns the answer's status.
func (w *Worker) post(ctx context.Context, m store.WebhookMessage, at time.Time) (int, error) {
	key, err := ParseSecret(m.Secret)
	if err != nil {
		return 0, err
	}
	body, err := Payload(m.Event)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	id := string(m.EventID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "taskql-webhooks")
	req.Header.Set("Webhook-Id", id)
	req.Header.Set("Webhook-Timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("Webhook-Signature", Sign(key, id, at, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// classify tells how an attempt ended, in words that name no address.
func classify(status int, err error) (model.WebhookOutcome, *int, *string) {
	text := func(s string) *string { return &s }
	var ne net.Error
	switch {
	case err == nil && status >= 200 && status < 300:
		return model.WebhookOutcomeDelivered, &status, nil
	case err == nil:
		return model.WebhookOutcomeRejected, &status, text(fmt.Sprintf("the endpoint answered HTTP %d", status))
	case errors.Is(err, ErrRefused):
		return model.WebhookOutcomeRefused, nil, text("refused: " + ErrRefused.Error())
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return model.WebhookOutcomeUnreachable, nil, text("no answer within the timeout")
	}
	return model.WebhookOutcomeUnreachable, nil, text("could not connect, or the connection failed")
}

// Payload is the body POSTed for an event: Standard Webhooks' {type, timestamp, data}, data
// holding the facts of the subscription's event (DESIGN §4): its id, the task, the users added
// and removed, the actor and when.
func Payload(e model.Event) ([]byte, error) {
	var change struct {
		Added   []model.UserID `json:"added"`
		Removed []model.UserID `json:"removed"`
	}
	if err := json.Unmarshal(e.Data, &change); err != nil {
		return nil, fmt.Errorf("payload of %s: %w", e.ID, err)
	}
	at := e.Timestamp.UTC().Format(time.RFC3339Nano)
	return json.Marshal(payload{Type: e.Name, Timestamp: at, Data: payloadData{ID: e.ID, OrganizationID: e.OrganizationID,
		TaskID: model.TaskID(e.EntityID), Added: nonNil(change.Added), Removed: nonNil(change.Removed), ActorID: e.ActorID, At: at}})
}

type payload struct {
	Type      string      `json:"type"`
	Timestamp string      `json:"timestamp"`
	Data      payloadData `json:"data"`
}

type payloadData struct {
	ID             model.EventID        `json:"id"`
	OrganizationID model.OrganizationID `json:"organizationId"`
	TaskID         model.TaskID         `json:"taskId"`
	Added          []model.UserID       `json:"added"`
	Removed        []model.UserID       `json:"removed"`
	ActorID        *model.UserID        `json:"actorId"`
	At             string               `json:"at"`
}

func nonNil(ids []model.UserID) []model.UserID {
	if ids == nil {
		return []model.UserID{}
	}
	return ids
}
