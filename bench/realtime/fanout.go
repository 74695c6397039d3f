package main

// Test 2: fan-out. Many subscribers, each on a WebSocket of its own, subscribe on server B to the
// changes of prj_outreach; single changes are made through server A, one after the other, and
// each is timed from just before its request to the receipt by the median and the last
// subscriber. B's RSS is read before the subscribers connect and after; B's CPU per change.

import (
	"context"
	"fmt"
	"sync"
	"time"
)

type fanoutResult struct {
	want, connected int
	connectErrs     int
	connectErr      string
	connectTime     time.Duration
	rssBefore       int64 // kB, B before the subscribers connect
	rssConnected    int64 // kB, B 1 s after they connected
	rssWarm         int64 // kB, B after each received its first change
	rounds          []fanRound
	ran             bool
}

type fanRound struct {
	received, lost, mismatched int
	median, last               time.Duration
	use                        usage
}

// connectAll opens the subscribers on B, cfg.dialers at a time, spread over fanTokens.
func (e *env) connectAll(ctx context.Context, res *fanoutResult) {
	n := e.cfg.subscribers
	subs := make([]*subscriber, n)
	errs := make([]error, n)
	doc := subscriptionDocument(e.cfg.document)
	vars := map[string]any{"project": fanProject}
	sem := make(chan struct{}, e.cfg.dialers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			subs[i], errs[i] = dialSubscriber(ctx, e.b.base, fanTokens[i%len(fanTokens)], doc, vars, e.g, e.cfg.wait)
		})
	}
	wg.Wait()
	res.connectTime = time.Since(start)
	for i, s := range subs {
		if errs[i] != nil {
			res.connectErrs++
			res.connectErr = firstOf(res.connectErr, errs[i].Error())
			continue
		}
		e.subs = append(e.subs, s)
	}
	res.connected = len(e.subs)
	logf("fan-out: %d of %d subscribers connected in %.1f s", res.connected, n, res.connectTime.Seconds())
}

// fanoutTest connects the subscribers (kept for the throughput test), warms them up, and times
// cfg.fanoutRounds single changes.
func (e *env) fanoutTest(ctx context.Context) (fanoutResult, error) {
	res := fanoutResult{want: e.cfg.subscribers, rssBefore: rssKB(e.b.pid)}
	e.connectAll(ctx, &res)
	if res.connected == 0 {
		return res, fmt.Errorf("fan-out: no subscriber connected: %s", res.connectErr)
	}
	time.Sleep(time.Second)
	res.rssConnected = rssKB(e.b.pid)
	t, err := newToggler(ctx, e.ma, latTask)
	if err != nil {
		return res, fmt.Errorf("fan-out: %w", err)
	}
	if err := e.warmUp(ctx, t, e.g, e.subs); err != nil {
		return res, fmt.Errorf("fan-out: %w", err)
	}
	res.rssWarm, res.ran = rssKB(e.b.pid), true
	for range e.cfg.fanoutRounds {
		if ctx.Err() != nil {
			break
		}
		r, err := e.fanRound(ctx, t)
		if err != nil {
			return res, err
		}
		res.rounds = append(res.rounds, r)
		logf("fan-out: %d received, median %s ms, last %s ms, B CPU %.2f s", r.received, ms(r.median), ms(r.last), r.use.b)
		if err := quiet(ctx, e.g, 300*time.Millisecond, e.cfg.wait); err != nil {
			return res, err
		}
	}
	return res, ctx.Err()
}

// fanRound makes one change through A and waits until every live subscriber has received it.
func (e *env) fanRound(ctx context.Context, t *toggler) (fanRound, error) {
	var r fanRound
	bases := make([]int, len(e.subs))
	for i, s := range e.subs {
		bases[i] = s.received()
	}
	live := int64(len(e.subs)) - e.g.ended.Load()
	total0 := e.g.received.Load()
	m0 := e.mark()
	added, sent, _, _, err := t.flip(ctx)
	if err != nil {
		return r, fmt.Errorf("fan-out change: %w", err)
	}
	e.g.waitTotal(ctx, total0+live, e.cfg.wait, e.cfg.wait)
	r.use = since(m0, e.mark())
	var lats []time.Duration
	for i, s := range e.subs {
		rs := s.receipts(bases[i])
		switch {
		case len(rs) == 0:
			r.lost++
		case rs[0].task != 0 || rs[0].added != added:
			r.mismatched++
		default:
			lats = append(lats, rs[0].at-sent)
		}
	}
	d := summarize(lats)
	r.received, r.median, r.last = d.n, d.p50, d.max
	return r, nil
}
