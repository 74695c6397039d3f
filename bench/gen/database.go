package main

// The database side: the benchmark database dropped and created, migrated, and the world
// bulk-loaded into it with COPY.

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/taskql/taskql/internal/store"
)

// sameWorld tells whether the database exists and was built with these flags.
func sameWorld(ctx context.Context, dbURL string, sc scale) bool {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return false
	}
	defer conn.Close(ctx)
	var params string
	if err := conn.QueryRow(ctx, "SELECT params FROM bench.meta").Scan(&params); err != nil {
		return false
	}
	return params == sc.String()
}

// createDatabase drops the database name on server, if it exists, and creates it empty.
func createDatabase(ctx context.Context, server, name string) error {
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", server, err)
	}
	defer conn.Close(ctx)
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

// migrate applies the server's own migrations, as `taskql migrate` does.
func migrate(ctx context.Context, dbURL string) error {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.Migrate(ctx)
	return err
}

// load copies the world into the migrated database, with the pairs and the scale in the bench
// schema, in one transaction; then it vacuums and analyzes.
func load(ctx context.Context, dbURL string, w *world, sc scale) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"organizations", []string{"id", "name", "created_at", "modified_at"}, w.orgs},
		{"companies", []string{"id", "organization_id", "name", "kind", "created_at", "modified_at"}, w.companies},
		{"users", []string{"id", "organization_id", "company_id", "first_name", "last_name", "email", "is_org_admin", "created_at", "modified_at"}, w.users},
		{"tokens", []string{"hash", "user_id", "created_at"}, w.tokens},
		{"projects", []string{"id", "organization_id", "name", "created_at", "modified_at"}, w.projects},
		{"project_members", []string{"project_id", "user_id"}, w.members},
		{"phases", []string{"id", "project_id", "name", "position", "internal", "created_at", "modified_at"}, w.phases},
		{"tasks", []string{"id", "organization_id", "project_id", "phase_id", "label", "type", "status", "created_at", "modified_at"}, w.tasks},
		{"task_assignees", []string{"task_id", "user_id", "assigned_at"}, w.assignees},
	} {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	pairs := make([][]any, len(w.pairs))
	for i, p := range w.pairs {
		pairs[i] = []any{i + 1, p[0], p[1]}
	}
	for _, s := range []string{
		"CREATE SCHEMA bench",
		"CREATE TABLE bench.meta (params TEXT NOT NULL)",
		"CREATE TABLE bench.pairs (n INTEGER PRIMARY KEY, task_id TEXT NOT NULL, user_id TEXT NOT NULL)",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"bench", "pairs"}, []string{"n", "task_id", "user_id"}, pgx.CopyFromRows(pairs)); err != nil {
		return fmt.Errorf("copy pairs: %w", err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO bench.meta VALUES ($1)", sc.String()); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	// Fresh statistics and visibility maps, as a database that has been running a while has.
	if _, err := conn.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	return nil
}
