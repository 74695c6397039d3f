package main

// The fresh PostgreSQL database of a run, created and dropped with psql on --db-url-base.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// database is the run's database: its name and the URL the servers open.
type database struct {
	base string // --db-url-base, the maintenance database the run creates it from
	name string
	url  string
}

// createDatabase creates taskql_rt_<random> on the server of base.
func createDatabase(ctx context.Context, base string) (*database, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("--db-url-base %q is not a URL", base)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	db := &database{base: base, name: "taskql_rt_" + hex.EncodeToString(b)}
	u.Path = "/" + db.name
	db.url = u.String()
	if err := psql(ctx, base, "CREATE DATABASE "+db.name); err != nil {
		return nil, err
	}
	return db, nil
}

// drop drops the database, whatever still holds a connection to it. It does not depend on the
// run's context, so that it also runs after a Ctrl-C.
func (db *database) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return psql(ctx, db.base, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)")
}

// psql runs one SQL statement on the database of url, bounded by 30 s.
func psql(ctx context.Context, url, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("psql %q: %v: %s", sql, err, strings.TrimSpace(string(out)))
	}
	return nil
}
