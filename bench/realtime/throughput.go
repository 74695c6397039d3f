package main

// Test 3: throughput. Changes are made through server A at a paced rate, spread over the four
// tasks of prj_outreach (one mutator per task, each change sent after the previous change of its
// task answered, so that each task's changes commit in a known order); the fan-out test's
// subscribers on B receive them. A subscriber's changes of one task arrive in commit order, so
// its j-th message of a task is that task's j-th committed change.

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type rateResult struct {
	offered          float64 // changes per second asked for
	planned          int     // changes the pacer scheduled
	committed        int
	failed           int
	firstErr         string
	firstSend        time.Duration
	lastSend         time.Duration
	maxLag           time.Duration // latest a change was sent after its scheduled time
	subscribers      int           // live when the test started
	expected         int64         // committed × subscribers
	delivered        int64
	inWindow         int64 // delivered by the last send
	mismatched       int64
	lastReceipt      time.Duration
	lat              dist
	use              usage
	peakRSS          int64 // kB, B, sampled every 100 ms
	endedBefore      int64
	endedDuring      int64
	endWhy           string
	drained, ran     bool
	badMessages      int
	badMessageSample string
}

// sentChange is one change a mutator made: when it was sent and its direction.
type sentChange struct {
	sent      time.Duration
	added     bool
	committed bool
}

// throughputTest paces cfg.rate changes per second for cfg.duration through A.
func (e *env) throughputTest(ctx context.Context) (rateResult, error) {
	res := rateResult{offered: e.cfg.rate, planned: int(e.cfg.rate * e.cfg.duration.Seconds())}
	res.endedBefore = e.g.ended.Load()
	res.subscribers = len(e.subs) - int(res.endedBefore)
	togglers := make([]*toggler, len(rateTasks))
	for i, task := range rateTasks {
		t, err := newToggler(ctx, e.ma, task)
		if err != nil {
			return res, fmt.Errorf("throughput: %w", err)
		}
		togglers[i] = t
	}
	bases := make([]int, len(e.subs))
	for i, s := range e.subs {
		bases[i] = s.received()
	}
	total0 := e.g.received.Load()
	stopRSS := e.sampleRSS(&res.peakRSS)
	m0 := e.mark()
	logs := e.pace(ctx, togglers, &res)
	for _, l := range logs {
		for _, c := range l {
			if c.committed {
				res.committed++
			}
		}
	}
	res.expected = int64(res.committed) * int64(res.subscribers)
	res.drained = e.g.waitTotal(ctx, total0+res.expected, e.cfg.wait, 5*time.Second)
	res.use = since(m0, e.mark())
	stopRSS()
	e.match(&res, logs, bases)
	res.endedDuring = e.g.ended.Load() - res.endedBefore
	res.ran = true
	logf("throughput: %d changes committed, %d of %d messages delivered, p50 %s ms, p99 %s ms, %d subscriptions ended",
		res.committed, res.delivered, res.expected, ms(res.lat.p50), ms(res.lat.p99), res.endedDuring)
	return res, ctx.Err()
}

// pace schedules res.planned changes at the offered rate, round robin over the tasks' mutators,
// and returns each task's changes in the order they were made.
func (e *env) pace(ctx context.Context, togglers []*toggler, res *rateResult) [][]sentChange {
	logs := make([][]sentChange, len(togglers))
	queues := make([]chan time.Duration, len(togglers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, t := range togglers {
		queues[i] = make(chan time.Duration, res.planned)
		wg.Go(func() {
			for due := range queues[i] {
				if ctx.Err() != nil {
					continue
				}
				added, sent, _, committed, err := t.flip(ctx)
				logs[i] = append(logs[i], sentChange{sent: sent, added: added, committed: committed})
				mu.Lock()
				res.maxLag = max(res.maxLag, sent-due)
				if err != nil {
					res.failed++
					res.firstErr = firstOf(res.firstErr, err.Error())
				}
				mu.Unlock()
			}
		})
	}
	interval := time.Duration(float64(time.Second) / e.cfg.rate)
	start := now()
	for k := 0; k < res.planned && ctx.Err() == nil; k++ {
		due := start + time.Duration(k)*interval
		if d := due - now(); d > 0 {
			time.Sleep(d)
		}
		queues[k%len(queues)] <- due
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	res.firstSend, res.lastSend = never, 0
	for _, l := range logs {
		for _, c := range l {
			res.firstSend, res.lastSend = min(res.firstSend, c.sent), max(res.lastSend, c.sent)
		}
	}
	return logs
}

// match pairs each subscriber's messages with the changes, task by task, in order, and collects
// the delivery latencies; a message expected and not delivered ranks after all delivered.
func (e *env) match(res *rateResult, logs [][]sentChange, bases []int) {
	committed := make([][]sentChange, len(logs))
	for i, l := range logs {
		for _, c := range l {
			if c.committed {
				committed[i] = append(committed[i], c)
			}
		}
	}
	var lats []time.Duration
	for i, s := range e.subs {
		next := make([]int, len(committed))
		for _, r := range s.receipts(bases[i]) {
			res.delivered++
			res.lastReceipt = max(res.lastReceipt, r.at)
			if r.at <= res.lastSend {
				res.inWindow++
			}
			if r.task < 0 || next[r.task] >= len(committed[r.task]) {
				res.mismatched++
				continue
			}
			c := committed[r.task][next[r.task]]
			next[r.task]++
			if c.added != r.added {
				res.mismatched++
				continue
			}
			lats = append(lats, r.at-c.sent)
		}
		why, bad, badText := s.status()
		res.endWhy = firstOf(res.endWhy, why)
		res.badMessages += bad
		res.badMessageSample = firstOf(res.badMessageSample, badText)
	}
	res.lat = summarizeMissing(lats, max(0, int(res.expected)-len(lats)))
}

// sampleRSS samples B's VmRSS every 100 ms into peak until the returned function is called.
func (e *env) sampleRSS(peak *int64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			*peak = max(*peak, rssKB(e.b.pid))
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
