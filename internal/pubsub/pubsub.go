// Package pubsub carries small messages between the server processes that share one database
// (DESIGN §4, §11): a message is published inside the transaction that makes a change, and it is
// delivered to every process, in commit order, only if that transaction commits. It decides
// nothing and knows no GraphQL; what a message means is its publisher's and its consumer's.
//
// Two implementations: PostgreSQL's LISTEN/NOTIFY (Postgres), for any number of processes, and
// in-process (Local), for SQLite, which one process serves. Other kinds of messages (webhooks,
// cache invalidation) use the same Bus.
package pubsub

import (
	"context"
	"sync"
)

// Tx is the writing transaction a message is published in.
type Tx interface {
	// Notify sends the payloads on channel, in order, when the transaction commits, to every
	// process that listens (PostgreSQL's pg_notify); nothing when it rolls back.
	Notify(ctx context.Context, channel string, payloads ...string) error
	// AfterCommit runs fn once the transaction has committed, after any transaction that
	// committed before it ran its own; never when it rolls back.
	AfterCommit(fn func())
}

// Bus publishes messages and delivers those of every process to one consumer.
type Bus interface {
	// Publish sends the payloads, in order, once tx commits.
	Publish(ctx context.Context, tx Tx, payloads ...string) error
	// Messages delivers the payloads committed after the bus started, in commit order. It is
	// closed by Close.
	Messages() <-chan string
	// Listening numbers the stretch of time during which the bus has heard every message: it
	// changes each time the bus listens anew after missing some, and is 0 while it cannot listen.
	// A process that keeps what messages would tell it to forget trusts it only within one.
	Listening() uint64
	// Close stops the bus.
	Close() error
}

// queue is an unbounded FIFO between publishers and the one consumer: a publisher (a committing
// request) never waits for the consumer.
type queue struct {
	mu     sync.Mutex
	items  []string
	wake   chan struct{}
	out    chan string
	closed chan struct{}
	once   sync.Once
}

func newQueue() *queue {
	q := &queue{wake: make(chan struct{}, 1), out: make(chan string), closed: make(chan struct{})}
	go q.pump()
	return q
}

func (q *queue) push(payload string) {
	q.mu.Lock()
	q.items = append(q.items, payload)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pump hands the queued payloads to the consumer, one at a time, in order.
func (q *queue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		items := q.items
		q.items = nil
		q.mu.Unlock()
		for _, p := range items {
			select {
			case q.out <- p:
			case <-q.closed:
				return
			}
		}
		select {
		case <-q.wake:
		case <-q.closed:
			return
		}
	}
}

func (q *queue) close() { q.once.Do(func() { close(q.closed) }) }

// Local is the bus of a single process: a message is delivered after its transaction commits,
// in the order the transactions committed (Tx.AfterCommit keeps it).
type Local struct{ q *queue }

// NewLocal starts an in-process bus.
func NewLocal() *Local { return &Local{q: newQueue()} }

// Publish queues payload for delivery once tx commits.
func (b *Local) Publish(_ context.Context, tx Tx, payloads ...string) error {
	tx.AfterCommit(func() {
		for _, p := range payloads {
			b.q.push(p)
		}
	})
	return nil
}

// Messages delivers the committed payloads.
func (b *Local) Messages() <-chan string { return b.q.out }

// Listening is always 1: the one process hears every message it publishes.
func (b *Local) Listening() uint64 { return 1 }

// Close stops the bus.
func (b *Local) Close() error {
	b.q.close()
	return nil
}
