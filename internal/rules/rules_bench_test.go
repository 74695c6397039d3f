package rules_test

import (
	"testing"

	"github.com/taskql/taskql/bench/fixture"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// The benchmarks of the use cases, below GraphQL, on the small fixture of bench/fixture (40 users,
// 500 tasks), on both databases (docs/PERFORMANCE.md):
//
//	go test -run '^$' -bench . -benchmem ./internal/rules

// benchEach runs a benchmark body on a fresh fixture in SQLite and in PostgreSQL.
func benchEach(b *testing.B, body func(b *testing.B, svc *rules.Service, w *fixture.World)) {
	testdb.Each(b, func(b *testing.B, st *store.Store) {
		w, err := fixture.Load(b.Context(), st, 40, 500)
		if err != nil {
			b.Fatal(err)
		}
		body(b, rules.New(st), w)
	})
}

func benchAdmin(w *fixture.World) *model.Viewer {
	return &model.Viewer{User: w.Admin, CompanyKind: model.CompanyKindAgency}
}

// BenchmarkAssignUsers is one assignUsers of a free user and the unassignUser that undoes it: two
// transactions that each change the set, bump modifiedAt and record an event.
func BenchmarkAssignUsers(b *testing.B) {
	benchEach(b, func(b *testing.B, svc *rules.Service, w *fixture.World) {
		ctx, v := b.Context(), benchAdmin(w)
		ctx, statements := store.CountStatements(ctx)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			p := w.Free[i%len(w.Free)]
			i++
			if _, err := svc.AssignUsers(ctx, v, p.Task, []model.UserID{p.User}); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.UnassignUser(ctx, v, p.Task, p.User); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(statements.Count())/float64(b.N), "statements/op")
	})
}

// BenchmarkTasksPage is what the page request reads below GraphQL: a page of 50 tasks of a
// project, then their phases and their assignees, one batch read each (as the loaders do).
func BenchmarkTasksPage(b *testing.B) {
	benchEach(b, func(b *testing.B, svc *rules.Service, w *fixture.World) {
		ctx, v := b.Context(), benchAdmin(w)
		ctx, statements := store.CountStatements(ctx)
		project, first := fixture.Project, 50
		b.ReportAllocs()
		for b.Loop() {
			page, err := svc.Tasks(ctx, v, rules.TaskFilter{ProjectID: &project}, rules.PageArgs{First: &first})
			if err != nil {
				b.Fatal(err)
			}
			taskIDs := make([]model.TaskID, len(page.Items))
			var phaseIDs []model.PhaseID
			seen := map[model.PhaseID]bool{}
			for i, t := range page.Items {
				taskIDs[i] = t.ID
				if !seen[t.PhaseID] {
					seen[t.PhaseID] = true
					phaseIDs = append(phaseIDs, t.PhaseID)
				}
			}
			if _, err := svc.PhasesByID(ctx, v, phaseIDs); err != nil {
				b.Fatal(err)
			}
			if _, err := svc.AssigneesOf(ctx, v, taskIDs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(statements.Count())/float64(b.N), "statements/op")
	})
}
