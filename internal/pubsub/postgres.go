package pubsub

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"
)

// Postgres is the bus of any number of processes on one PostgreSQL database: Publish is
// pg_notify inside the publishing transaction, which PostgreSQL delivers on commit, to every
// listening session, in commit order; each process listens on a connection of its own (never one
// of a pooler in transaction mode: LISTEN holds a session).
//
// When the listening connection is lost the process reconnects with a growing delay, says so in
// the log once when it is lost and once when it listens again, and delivers nothing it did not
// receive: messages committed while it was away are not delivered.
type Postgres struct {
	channel string
	q       *queue
	stop    context.CancelFunc
	done    chan struct{}
	down    atomic.Bool
	epoch   atomic.Uint64 // how many times the bus has started listening
}

// Backoff bounds the delay before reconnecting the listening connection: it doubles from the
// first to the last while the database stays unreachable.
var Backoff = struct{ First, Last time.Duration }{100 * time.Millisecond, 5 * time.Second}

// NewPostgres starts listening on channel through connections made from url, and returns at once;
// the first connection is made in the background. ready, when not nil, is closed once the bus
// listens for the first time (a test waits for it before it publishes).
func NewPostgres(url, channel string, ready chan<- struct{}) (*Postgres, error) {
	config, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	b := &Postgres{channel: channel, q: newQueue(), stop: stop, done: make(chan struct{})}
	var failures atomic.Int32
	var readyOnce sync.Once
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			if n := failures.Load(); n > 0 {
				sleep(ctx, min(Backoff.First<<min(n-1, 16), Backoff.Last))
			}
			conn, err := pgx.ConnectConfig(ctx, config)
			if err != nil {
				failures.Add(1)
			}
			return conn, err
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil && b.down.CompareAndSwap(false, true) {
				slog.Warn("pubsub: lost the listening connection: changes made meanwhile are not delivered", "channel", channel, "err", err)
			}
		},
		ReconnectDelay: time.Millisecond, // the growing delay is Connect's
	}
	l.Handle(channel, handler{bus: b, listening: func() {
		failures.Store(0)
		b.epoch.Add(1)
		if b.down.CompareAndSwap(true, false) {
			slog.Info("pubsub: listening again", "channel", channel)
		}
		if ready != nil {
			readyOnce.Do(func() { close(ready) })
		}
	}})
	go func() {
		defer close(b.done)
		_ = l.Listen(ctx)
	}()
	return b, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// handler queues each notification; HandleBacklog runs each time the connection listens anew.
type handler struct {
	bus       *Postgres
	listening func()
}

func (h handler) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	h.bus.q.push(n.Payload)
	return nil
}

func (h handler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h.listening()
	return nil
}

// Publish sends the payloads with pg_notify inside tx: PostgreSQL delivers them when tx commits.
func (b *Postgres) Publish(ctx context.Context, tx Tx, payloads ...string) error {
	return tx.Notify(ctx, b.channel, payloads...)
}

// Messages delivers the payloads of every process, in commit order.
func (b *Postgres) Messages() <-chan string { return b.q.out }

// Listening is the number of times the bus has started listening, or 0 while it has lost its
// connection (or has not listened yet).
func (b *Postgres) Listening() uint64 {
	if b.down.Load() {
		return 0
	}
	return b.epoch.Load()
}

// Close stops listening.
func (b *Postgres) Close() error {
	b.stop()
	<-b.done
	b.q.close()
	return nil
}
