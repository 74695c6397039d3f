// Package statement_test measures what one SQL statement costs the server's own CPU, by the way it
// is issued (docs/PERFORMANCE.md, "the cost per statement"): the store's method through GORM,
// the same SQL through GORM's Raw with a hand-written scan, through database/sql alone, and, for
// reference, through pgx's own interface (which the fixed stack does not use). The statement is
// the one every request runs first: the viewer of a bearer token.
//
//	go test -run '^$' -bench . -benchmem ./bench/statement
package statement_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/taskql/taskql/bench/fixture"
	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

const viewerSQL = `SELECT users.id, users.organization_id, users.company_id, users.first_name, users.last_name,
	users.email, users.is_org_admin, users.is_access_approved, companies.kind
	FROM tokens JOIN users ON users.id = tokens.user_id JOIN companies ON companies.id = users.company_id
	WHERE tokens.hash = $1 AND tokens.revoked_at IS NULL LIMIT 1`

// cpuTime is the CPU time this process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs one statement per iteration and reports the client's CPU per statement, besides
// the wall time (which includes PostgreSQL's share).
func measure(b *testing.B, one func() error) {
	b.ReportAllocs()
	start := cpuTime(b)
	for b.Loop() {
		if err := one(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N)/1e3, "cpu-µs/op")
}

func BenchmarkViewerStatement(b *testing.B) {
	ctx, url := b.Context(), testdb.PostgresURL(b)
	st, err := store.Open(ctx, url, store.WithStatementCounting())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if _, err := fixture.Load(ctx, st, 40, 10); err != nil {
		b.Fatal(err)
	}
	hash := auth.HashToken(fixture.Token)
	b.Run("store-gorm", func(b *testing.B) {
		measure(b, func() error {
			_, err := st.ViewerByTokenHash(ctx, hash)
			return err
		})
	})
	b.Run("gorm-raw-rows", func(b *testing.B) {
		db := st.Gorm().WithContext(ctx)
		measure(b, func() error {
			rows, err := db.Raw(viewerSQL, hash).Rows()
			if err != nil {
				return err
			}
			defer rows.Close()
			var u model.User
			var kind model.CompanyKind
			for rows.Next() {
				if err := rows.Scan(&u.ID, &u.OrganizationID, &u.CompanyID, &u.FirstName, &u.LastName,
					&u.Email, &u.IsOrgAdmin, &u.IsAccessApproved, &kind); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	})
	b.Run("database-sql", func(b *testing.B) {
		db, err := st.Gorm().DB()
		if err != nil {
			b.Fatal(err)
		}
		measure(b, func() error {
			var u model.User
			var kind model.CompanyKind
			return db.QueryRowContext(ctx, viewerSQL, hash).Scan(&u.ID, &u.OrganizationID, &u.CompanyID,
				&u.FirstName, &u.LastName, &u.Email, &u.IsOrgAdmin, &u.IsAccessApproved, &kind)
		})
	})
	b.Run("pgx", func(b *testing.B) {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = conn.Close(ctx) })
		measure(b, func() error {
			var u model.User
			var kind model.CompanyKind
			return conn.QueryRow(ctx, viewerSQL, hash).Scan(&u.ID, &u.OrganizationID, &u.CompanyID,
				&u.FirstName, &u.LastName, &u.Email, &u.IsOrgAdmin, &u.IsAccessApproved, &kind)
		})
	})
}
