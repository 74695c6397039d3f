package main

// A subscriber: one WebSocket connection speaking graphql-transport-ws (as graph/wsclient_test.go
// does), with one subscription to taskAssigneesChanged, whose reader records when each change
// arrived, of which task, and whether it added or removed users. The reader does as little as it
// can per message (no JSON decoding of changes): it shares the machine with the servers.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// epoch is the origin of every time this tool records (monotonic).
var epoch = time.Now()

func now() time.Duration { return time.Since(epoch) }

// receipt is one change received: when, of which task (an index of rateTasks, -1 for another),
// and whether it added users (else it removed some).
type receipt struct {
	at    time.Duration
	task  int8
	added bool
}

// group is what a set of subscribers share: counts of changes received and of subscriptions
// ended, and a wake-up for whoever waits on them.
type group struct {
	received atomic.Int64
	ended    atomic.Int64
	wake     chan struct{}
}

func newGroup() *group { return &group{wake: make(chan struct{}, 1)} }

func (g *group) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// waitTotal waits until the group has received target changes in all; it gives up after limit,
// or after idle without any change received. It says whether the target was reached.
func (g *group) waitTotal(ctx context.Context, target int64, limit, idle time.Duration) bool {
	deadline := time.Now().Add(limit)
	last, lastAt := g.received.Load(), time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		n := g.received.Load()
		if n >= target {
			return true
		}
		if n != last {
			last, lastAt = n, time.Now()
		}
		if time.Now().After(deadline) || time.Since(lastAt) > idle {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-g.wake:
		case <-tick.C:
		}
	}
}

type subscriber struct {
	conn  *websocket.Conn
	group *group

	mu      sync.Mutex
	got     []receipt
	endWhy  string // why the subscription ended, when it did
	bad     int    // next messages that were not a change (errors)
	badText string
	closing atomic.Bool
	done    chan struct{} // closed when the reader returns
}

type wsMessage struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// subscriptionDocument is the subscription each subscriber starts: light selects what a change
// carries (no reads per subscriber); full also the task's assignees, as graph's tests do.
func subscriptionDocument(kind string) string {
	task := "task { id }"
	if kind == "full" {
		task = "task { id assignees { id } }"
	}
	return `subscription($task: ID, $project: ID) { taskAssigneesChanged(taskId: $task, projectId: $project) { id ` +
		task + ` added { id } removed { id } actor { id } at } }`
}

// dialSubscriber connects to the server at base, authenticates with token in connection_init,
// waits for connection_ack and starts the subscription, all within limit; its reader runs until
// the connection closes.
func dialSubscriber(ctx context.Context, base, token, doc string, vars map[string]any, g *group, limit time.Duration) (*subscriber, error) {
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, "ws"+strings.TrimPrefix(base, "http")+"/query",
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s := &subscriber{conn: conn, group: g, done: make(chan struct{})}
	init := wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + token + `"}`)}
	if err := s.handshake(dctx, init); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	p, _ := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err := s.send(dctx, wsMessage{Type: "subscribe", ID: "1", Payload: p}); err != nil {
		_ = conn.CloseNow()
		return nil, err
	}
	go s.read(context.WithoutCancel(ctx))
	return s, nil
}

func (s *subscriber) send(ctx context.Context, m wsMessage) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return s.conn.Write(ctx, websocket.MessageText, b)
}

// handshake sends connection_init and reads up to connection_ack, answering pings.
func (s *subscriber) handshake(ctx context.Context, init wsMessage) error {
	if err := s.send(ctx, init); err != nil {
		return fmt.Errorf("connection_init: %w", err)
	}
	for range 10 {
		_, b, err := s.conn.Read(ctx)
		if err != nil {
			return fmt.Errorf("waiting for connection_ack: %w", err)
		}
		var m wsMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("a message that is not JSON: %.200q", b)
		}
		switch m.Type {
		case "connection_ack":
			return nil
		case "ping":
			_ = s.send(ctx, wsMessage{Type: "pong"})
		case "pong", "ka":
		default:
			return fmt.Errorf("got %s %.200s before connection_ack", m.Type, m.Payload)
		}
	}
	return errors.New("no connection_ack in the first 10 messages")
}

// read records the changes until the connection ends. The connection's own context ends when the
// connection is closed: this tool closes every connection it opened.
func (s *subscriber) read(ctx context.Context) {
	defer close(s.done)
	var buf bytes.Buffer
	for {
		_, r, err := s.conn.Reader(ctx)
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if !s.closing.Load() {
				s.end("connection ended: " + err.Error())
			}
			return
		}
		s.handle(ctx, buf.Bytes(), now())
	}
}

var (
	typeNext     = []byte(`"type":"next"`)
	typePing     = []byte(`"type":"ping"`)
	typeComplete = []byte(`"type":"complete"`)
	typeError    = []byte(`"type":"error"`)
	taskPrefix   = []byte(`"task":{"id":"`)
	addedPrefix  = []byte(`"added":[`)
	errorsKey    = []byte(`"errors"`)
)

func (s *subscriber) handle(ctx context.Context, b []byte, at time.Duration) {
	switch {
	case bytes.Contains(b, typeNext):
		if r, ok := parseChange(b, at); ok {
			s.mu.Lock()
			s.got = append(s.got, r)
			s.mu.Unlock()
			s.group.received.Add(1)
			s.group.poke()
			return
		}
		s.mu.Lock()
		s.bad++
		s.badText = string(b[:min(len(b), 400)])
		s.mu.Unlock()
	case bytes.Contains(b, typePing):
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = s.send(wctx, wsMessage{Type: "pong"})
		cancel()
	case bytes.Contains(b, typeComplete), bytes.Contains(b, typeError):
		s.end("the server ended the subscription: " + string(b[:min(len(b), 300)]))
	}
}

// parseChange reads the task and the direction of a change from a next message, without
// decoding it: gqlgen writes the fields in the order of the selection.
func parseChange(b []byte, at time.Duration) (receipt, bool) {
	if bytes.Contains(b, errorsKey) {
		return receipt{}, false
	}
	i := bytes.Index(b, taskPrefix)
	j := bytes.Index(b, addedPrefix)
	if i < 0 || j < 0 || j+len(addedPrefix) >= len(b) {
		return receipt{}, false
	}
	id := b[i+len(taskPrefix):]
	if k := bytes.IndexByte(id, '"'); k >= 0 {
		id = id[:k]
	}
	r := receipt{at: at, task: -1, added: b[j+len(addedPrefix)] != ']'}
	for n, t := range rateTasks {
		if string(id) == t {
			r.task = int8(n)
		}
	}
	return r, true
}

func (s *subscriber) end(why string) {
	s.mu.Lock()
	first := s.endWhy == ""
	if first {
		s.endWhy = why
	}
	s.mu.Unlock()
	if first {
		s.group.ended.Add(1)
		s.group.poke()
	}
}

// receipts is a copy of what the subscriber received from index from on.
func (s *subscriber) receipts(from int) []receipt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if from >= len(s.got) {
		return nil
	}
	return append([]receipt(nil), s.got[from:]...)
}

func (s *subscriber) received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

func (s *subscriber) status() (endWhy string, bad int, badText string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.endWhy, s.bad, s.badText
}

// close closes the connection at once and waits (at most 5 s) for its reader.
func (s *subscriber) close() {
	s.closing.Store(true)
	_ = s.conn.CloseNow()
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
}
