package main

// The harness: what this tool creates around the findings (a temp dir, the database) and the
// demo-world ids the findings use, found through the API.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// harness owns what this tool creates: a temp dir, the database, the running server.
type harness struct {
	cfg     config
	tmp     string
	dbURL   string
	pgDB    string // the fresh PostgreSQL database, when --db postgres
	cluster *cluster
	ids     ids
}

// ids are demo-world ids discovered through the API.
type ids struct {
	task, project, assignee string // a task that has an assignee
}

func newHarness(ctx context.Context, cfg config) (*harness, error) {
	tmp, err := os.MkdirTemp("", "taskql-hostile-")
	if err != nil {
		return nil, err
	}
	h := &harness{cfg: cfg, tmp: tmp}
	switch cfg.db {
	case "sqlite":
		h.dbURL = "sqlite:" + filepath.Join(tmp, "taskql.db")
	case "postgres":
		h.pgDB = "taskql_hostile_" + randomHex(4)
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := psql(cctx, "postgres", "CREATE DATABASE "+h.pgDB); err != nil {
			h.pgDB = ""
			h.close()
			return nil, err
		}
		h.dbURL = fmt.Sprintf("postgres://postgres@%s:%s/%s", pgHost, pgPort, h.pgDB)
	}
	logf("database %s", h.dbURL)
	return h, nil
}

// close drops the database and removes the temp dir; it does not depend on a context that a
// Ctrl-C cancelled.
func (h *harness) close() {
	if h.pgDB != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := psql(ctx, "postgres", "DROP DATABASE IF EXISTS "+h.pgDB+" WITH (FORCE)"); err != nil {
			logf("dropping database %s: %v", h.pgDB, err)
		} else {
			logf("dropped database %s", h.pgDB)
		}
	}
	_ = os.RemoveAll(h.tmp)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// discover starts the server once (which migrates the empty database and loads the demo world)
// and finds a task with an assignee through the API, as the admin.
func (h *harness) discover(ctx context.Context) error {
	srv, err := h.startServer(ctx, h.dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	if !strings.Contains(srv.stdout.tail(sinkKeep), adaToken) {
		logf("note: the server did not print %s on start; using it anyway", adaToken)
	}
	const q = `{ tasks(first: 50) { nodes { id project { id } assignees { id } } } }`
	r := postGraphQL(ctx, newClient(10*time.Second), srv.base, gqlBody(q, nil), adaToken, nil)
	if !r.ok() {
		return fmt.Errorf("%s answered %s: %s", q, r.label(), tailString(string(r.Body), 300))
	}
	var data struct {
		Data struct {
			Tasks struct {
				Nodes []struct {
					ID        string
					Project   struct{ ID string }
					Assignees []struct{ ID string }
				}
			}
		}
	}
	if err := json.Unmarshal(r.Body, &data); err != nil {
		return err
	}
	for _, t := range data.Data.Tasks.Nodes {
		if len(t.Assignees) > 0 {
			h.ids = ids{task: t.ID, project: t.Project.ID, assignee: t.Assignees[0].ID}
			logf("ids: task %s (project %s) assigned to %s", t.ID, t.Project.ID, t.Assignees[0].ID)
			return nil
		}
	}
	logf("note: no task with an assignee among the first 50; F10 cannot run")
	return nil
}
