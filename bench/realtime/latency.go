package main

// Test 1: the latency of one change, one at a time, from just before its HTTP request is sent to
// the subscriber's receipt of its message; across processes (mutations through A, subscriber on
// B, through PostgreSQL's NOTIFY) and within one (both on A).

import (
	"context"
	"fmt"
	"time"
)

type latencyResult struct {
	name       string
	n          int // changes made
	lost       int // messages not received within the wait
	mismatched int // a message of another change than the one just made
	failed     int // mutations that failed
	firstErr   string
	lat        dist
	reply      dist // the mutation's HTTP reply
	after      dist // receipt after the reply (negative: before it)
	use        usage
	ran        bool
}

// latencyTest subscribes as Ada to tsk_outbudget on sub, then flips Ada on the task through mut
// n times, one at a time, each after the previous one's message arrived.
func (e *env) latencyTest(ctx context.Context, name string, sub, mut *server) (latencyResult, error) {
	res := latencyResult{name: name}
	g := newGroup()
	s, err := dialSubscriber(ctx, sub.base, adaToken, subscriptionDocument(e.cfg.document),
		map[string]any{"task": latTask}, g, e.cfg.wait)
	if err != nil {
		return res, fmt.Errorf("%s: subscriber: %w", name, err)
	}
	defer s.close()
	t, err := newToggler(ctx, newMutator(mut.base, e.cfg.wait), latTask)
	if err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if err := e.warmUp(ctx, t, g, []*subscriber{s}); err != nil {
		return res, fmt.Errorf("%s: %w", name, err)
	}
	var lats, replies, afters []time.Duration
	m0 := e.mark()
	for i := 0; i < e.cfg.changes && ctx.Err() == nil; i++ {
		before := s.received()
		added, sent, reply, _, err := t.flip(ctx)
		res.n++
		if err != nil {
			res.failed++
			res.firstErr = firstOf(res.firstErr, err.Error())
			time.Sleep(time.Second) // a change that committed anyway is received meanwhile
			continue
		}
		replies = append(replies, reply)
		if !g.waitTotal(ctx, int64(before+1), e.cfg.wait, e.cfg.wait) {
			res.lost++
			continue
		}
		r := s.receipts(before)[0]
		if r.task != 0 || r.added != added { // rateTasks[0] is latTask
			res.mismatched++
			continue
		}
		lats = append(lats, r.at-sent)
		afters = append(afters, r.at-sent-reply)
	}
	res.use = since(m0, e.mark())
	res.lat, res.reply, res.after, res.ran = summarize(lats), summarize(replies), summarize(afters), true
	if why, _, _ := s.status(); why != "" {
		res.firstErr = firstOf(res.firstErr, why)
	}
	logf("%s: %d changes, p50 %s ms, max %s ms", name, res.n, ms(res.lat.p50), ms(res.lat.max))
	return res, ctx.Err()
}

// warmUp makes changes (at most 20, each given 2 s) until every subscriber has received one: a
// subscription is registered by the server a moment after its subscribe message, and a change
// made before it is rightly not delivered to it. Then it waits until deliveries stop for 300 ms.
func (e *env) warmUp(ctx context.Context, t *toggler, g *group, subs []*subscriber) error {
	for try := 1; try <= 20; try++ {
		if _, _, _, _, err := t.flip(ctx); err != nil {
			return fmt.Errorf("warm-up change: %w", err)
		}
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && ctx.Err() == nil && waiting(subs) > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if waiting(subs) == 0 {
			logf("warm-up: every subscriber received a change after %d change(s)", try)
			return quiet(ctx, g, 300*time.Millisecond, e.cfg.wait)
		}
	}
	return fmt.Errorf("warm-up: %d of %d subscribers received nothing after 20 changes", waiting(subs), len(subs))
}

// waiting counts the subscribers that have received nothing and are not ended.
func waiting(subs []*subscriber) int {
	n := 0
	for _, s := range subs {
		if why, _, _ := s.status(); why == "" && s.received() == 0 {
			n++
		}
	}
	return n
}

// quiet waits until the group has received nothing for d, at most limit.
func quiet(ctx context.Context, g *group, d, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last, lastAt := g.received.Load(), time.Now()
	for time.Since(lastAt) < d {
		if time.Now().After(deadline) {
			return fmt.Errorf("deliveries did not stop within %v", limit)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		if n := g.received.Load(); n != last {
			last, lastAt = n, time.Now()
		}
	}
	return nil
}

func firstOf(have, next string) string {
	if have != "" {
		return have
	}
	return next
}
