package faults

import (
	"context"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Pacing of the writers: a pause between two changes, and a shorter wait before sending a
// refused change again, so that the first success after a fault is measured to a few tens of
// milliseconds without flooding two cores.
const (
	pause   = 25 * time.Millisecond
	backoff = 20 * time.Millisecond
)

// op is a change a writer asks for: assignUsers(users), unassignUser(users[0]), or
// setTaskAssignee(users[0], or null when users is empty).
type op struct {
	kind  string // "assignUsers", "unassignUser", "setTaskAssignee"
	users []string
}

// attempt is one request of an op and its answer.
type attempt struct {
	start, end time.Time
	answer     answer
}

// outcome is how an op ended.
type outcome int

const (
	inDoubt     outcome = iota // not acknowledged (yet): it may or may not have taken effect
	acked                      // an attempt was acknowledged
	ruleRefused                // refused by DESIGN §3 (TOO_MANY_ASSIGNEES), as expected: nothing changed
)

// opRecord is an op, what it should do, and every attempt of it.
type opRecord struct {
	op            op
	before, after []string // the assignees before and, if it takes effect, after
	tooMany       bool     // it would pass the limit: UNPROCESSABLE, nothing changes
	attempts      []attempt
	outcome       outcome
	mismatch      string // an acknowledged reply that is not the expected state
}

// writer changes one task, alone, one op at a time; each op is sent again until it is settled.
type writer struct {
	n     int
	rng   *rand.Rand
	state []string // the task's assignees as the settled ops left them
	ops   []*opRecord
}

// nextOp picks the next change: adds of one or two users (sometimes past the limit), removals
// (sometimes of a user who is not assigned), and replacements (sometimes by nobody).
func (w *writer) nextOp() op {
	users := pool()
	w.rng.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
	switch r := w.rng.IntN(10); {
	case r < 4:
		return op{kind: "assignUsers", users: users[:1+w.rng.IntN(2)]}
	case r < 7 && len(w.state) > 0 && w.rng.IntN(4) > 0:
		return op{kind: "unassignUser", users: []string{w.state[w.rng.IntN(len(w.state))]}}
	case r < 7:
		return op{kind: "unassignUser", users: users[:1]}
	case w.rng.IntN(5) == 0:
		return op{kind: "setTaskAssignee"}
	}
	return op{kind: "setTaskAssignee", users: users[:1]}
}

// apply is the assignees after o on state, the assignees being in the order they were assigned
// (users added together in user id order), and whether o would pass the limit instead.
func apply(state []string, o op) (after []string, tooMany bool) {
	switch o.kind {
	case "assignUsers":
		var added []string
		for _, u := range o.users {
			if !slices.Contains(state, u) && !slices.Contains(added, u) {
				added = append(added, u)
			}
		}
		if len(added) > 0 && len(state)+len(added) > maxAssignees {
			return slices.Clone(state), true
		}
		slices.Sort(added)
		return append(slices.Clone(state), added...), false
	case "unassignUser":
		return slices.DeleteFunc(slices.Clone(state), func(u string) bool { return u == o.users[0] }), false
	}
	return slices.Clone(o.users), false
}

// request is the document and variables of o on task.
func (o op) request(task string) (string, map[string]any) {
	switch o.kind {
	case "assignUsers":
		return assignDoc, map[string]any{"t": task, "u": o.users}
	case "unassignUser":
		return unassignDoc, map[string]any{"t": task, "u": o.users[0]}
	}
	var u any
	if len(o.users) > 0 {
		u = o.users[0]
	}
	return setDoc, map[string]any{"t": task, "u": u}
}

// load is the eight writers at work on one server.
type load struct {
	client   *http.Client
	base     string
	writers  []*writer
	soft     chan struct{}      // closed: start no new op
	hard     context.Context    // done: give up the op under way (it stays in doubt)
	cancel   context.CancelFunc // ends hard
	wg       sync.WaitGroup
	stopOnce sync.Once

	mu       sync.Mutex
	inflight map[int]time.Time // writer → start of its request under way
}

// startLoad starts the writers on the server at base; they stop when the test ends at the latest.
func startLoad(t *testing.T, base string) *load {
	l := &load{client: newClient(), base: base, soft: make(chan struct{}), inflight: map[int]time.Time{}}
	l.hard, l.cancel = context.WithCancel(context.Background())
	for n := range writers {
		w := &writer{n: n, rng: rand.New(rand.NewPCG(uint64(n), 42)), state: initialAssignees(n)}
		l.writers = append(l.writers, w)
		l.wg.Go(func() { l.run(w) })
	}
	t.Cleanup(func() { l.stop(0) })
	return l
}

// stop lets each writer settle the op under way for at most settle, then gives it up.
func (l *load) stop(settle time.Duration) {
	l.stopOnce.Do(func() { close(l.soft) })
	done := make(chan struct{})
	go func() { l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(settle):
	}
	l.cancel()
	<-done
	l.client.CloseIdleConnections()
}

func (l *load) run(w *writer) {
	for {
		select {
		case <-l.soft:
			return
		case <-time.After(pause):
		}
		o := w.nextOp()
		rec := &opRecord{op: o, before: slices.Clone(w.state)}
		rec.after, rec.tooMany = apply(w.state, o)
		w.ops = append(w.ops, rec)
		l.settle(w, rec)
		if rec.outcome == inDoubt {
			return
		}
	}
}

// settle sends rec's op until it is acknowledged, refused as expected, or given up.
func (l *load) settle(w *writer, rec *opRecord) {
	doc, vars := rec.op.request(taskOf(w.n))
	for {
		a := l.send(w.n, doc, vars)
		rec.attempts = append(rec.attempts, a)
		switch {
		case a.answer.acknowledged():
			rec.outcome = acked
			if got := a.answer.change().assigneeIDs(); !slices.Equal(got, rec.after) {
				rec.mismatch = a.answer.String()
			}
			w.state = rec.after
			return
		case rec.tooMany && a.answer.code() == "UNPROCESSABLE":
			rec.outcome = ruleRefused
			return
		}
		select {
		case <-l.hard.Done():
			rec.outcome = inDoubt
			return
		case <-time.After(backoff):
		}
	}
}

// send sends one request of writer n, noting it under way while it is.
func (l *load) send(n int, doc string, vars map[string]any) attempt {
	start := time.Now()
	l.mu.Lock()
	l.inflight[n] = start
	l.mu.Unlock()
	a := post(context.Background(), l.client, l.base, token(n), doc, vars)
	l.mu.Lock()
	delete(l.inflight, n)
	l.mu.Unlock()
	return attempt{start: start, end: time.Now(), answer: a}
}

// underWay are the requests under way that started before cutoff, by writer.
func (l *load) underWay(cutoff time.Time) map[int]time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := map[int]time.Time{}
	for n, start := range l.inflight {
		if start.Before(cutoff) {
			m[n] = start
		}
	}
	return m
}

// sample is one answer of /readyz.
type sample struct {
	at     time.Time
	status int // 0: no answer
}

// pollReady asks /readyz every 100 ms until ctx is done and returns the answers.
func pollReady(ctx context.Context, base string) <-chan []sample {
	out := make(chan []sample, 1)
	go func() {
		c := &http.Client{Timeout: 3 * time.Second}
		var samples []sample
		for ctx.Err() == nil {
			s := sample{}
			if resp, err := c.Get(base + "/readyz"); err == nil {
				s.status = resp.StatusCode
				resp.Body.Close()
			}
			s.at = time.Now()
			samples = append(samples, s)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
		out <- samples
	}()
	return out
}
