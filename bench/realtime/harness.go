package main

// The run's environment: the database, the two servers, the mutator on A and the fan-out's
// subscribers on B; set up in order and torn down, by process id, whatever happened.

import (
	"context"
	"fmt"
	"sync"
)

type env struct {
	cfg  config
	db   *database
	a, b *server
	ma   *mutator      // changes through A
	g    *group        // the fan-out subscribers' counts
	subs []*subscriber // the fan-out subscribers, on B
}

// setUp creates the database and starts A (which loads the demo world into it) and, once A
// serves, B. The env it returns, even with an error, holds what was started.
func setUp(ctx context.Context, cfg config, rep *report) (*env, error) {
	e := &env{cfg: cfg, g: newGroup()}
	db, err := createDatabase(ctx, cfg.dbURLBase)
	if err != nil {
		return nil, err
	}
	e.db, rep.database = db, db.name
	logf("database %s created", db.name)
	if e.a, err = startServer(ctx, cfg, "A", db.url); err != nil {
		return e, err
	}
	if e.b, err = startServer(ctx, cfg, "B", db.url); err != nil {
		return e, err
	}
	rep.pids = fmt.Sprintf("A pid %d (%s), B pid %d (%s)", e.a.pid, e.a.base, e.b.pid, e.b.base)
	rep.rssIdle = [2]int64{rssKB(e.a.pid), rssKB(e.b.pid)}
	e.ma = newMutator(e.a.base, cfg.wait)
	rep.servers = []*server{e.a, e.b}
	return e, nil
}

// runTests runs the three tests in order, recording each in the report as it ends; a test that
// fails stops the run.
func (e *env) runTests(ctx context.Context, rep *report) error {
	cross, err := e.latencyTest(ctx, "cross-process: mutation through A, subscriber on B", e.b, e.a)
	rep.latency = append(rep.latency, cross)
	if err != nil {
		return err
	}
	same, err := e.latencyTest(ctx, "same process: mutation through A, subscriber on A", e.a, e.a)
	rep.latency = append(rep.latency, same)
	if err != nil {
		return err
	}
	rep.fanout, err = e.fanoutTest(ctx)
	if err != nil {
		return err
	}
	rep.rate, err = e.throughputTest(ctx)
	return err
}

// tearDown closes the subscribers, stops both servers by their process ids, and drops the
// database.
func (e *env) tearDown() {
	var wg sync.WaitGroup
	for _, s := range e.subs {
		wg.Go(s.close)
	}
	wg.Wait()
	for _, s := range []*server{e.b, e.a} {
		if s != nil {
			s.stop()
		}
	}
	if e.db != nil {
		if err := e.db.drop(); err != nil {
			logf("dropping %s: %v", e.db.name, err)
		} else {
			logf("database %s dropped", e.db.name)
		}
	}
}
