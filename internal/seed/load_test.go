package seed_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

// world is a small valid world with a second organization, which the bad worlds of check_test.go
// break one reference at a time.
func world() *seed.World {
	return &seed.World{
		Organizations: []seed.Organization{{ID: "org_acme", Name: "Acme"}, {ID: "org_globex", Name: "Globex"}},
		Companies: []seed.Company{
			{ID: "cmp_agency", OrganizationID: "org_acme", Name: "Acme Studio", Kind: "AGENCY"},
			{ID: "cmp_client", OrganizationID: "org_acme", Name: "Bluebird", Kind: "CLIENT"},
			{ID: "cmp_globex", OrganizationID: "org_globex", Name: "Globex HQ", Kind: "AGENCY"},
		},
		Users: []seed.User{
			{ID: "usr_ada", OrganizationID: "org_acme", CompanyID: "cmp_agency", FirstName: "Ada", LastName: "Lovelace", Email: "ada@acme.test"},
			{ID: "usr_bea", OrganizationID: "org_acme", CompanyID: "cmp_client", FirstName: "Bea", LastName: "Baker", Email: "bea@bluebird.test", InvitedByID: "usr_ada"},
			{ID: "usr_gus", OrganizationID: "org_globex", CompanyID: "cmp_globex", FirstName: "Gus", LastName: "Globex", Email: "gus@globex.test"},
		},
		Tokens: []seed.Token{{UserID: "usr_ada", Token: "ada-secret-token"}, {UserID: "usr_bea", Token: "bea-secret-token"}},
		Projects: []seed.Project{
			{ID: "prj_site", OrganizationID: "org_acme", Name: "Website", MemberIDs: []string{"usr_ada", "usr_bea"}},
			{ID: "prj_other", OrganizationID: "org_acme", Name: "Other"},
		},
		Phases: []seed.Phase{
			{ID: "phs_disc", ProjectID: "prj_site", Name: "Discovery", Internal: true},
			{ID: "phs_build", ProjectID: "prj_site", Name: "Build"},
			{ID: "phs_other", ProjectID: "prj_other", Name: "Other"},
		},
		Events: []seed.Event{{ID: "evt_call", OrganizationID: "org_acme", Name: "call.ended", Entity: "call", EntityID: "call_1", ActorID: "usr_ada"}},
		Tasks: []seed.Task{
			{ID: "tsk_copy", ProjectID: "prj_site", PhaseID: "phs_disc", Label: "Write copy", Type: "CALL_ANALYSIS", AssigneeIDs: []string{"usr_ada"}},
			{ID: "tsk_build", ProjectID: "prj_site", PhaseID: "phs_build", Label: "Build it", Type: "AUTO_RESPONSE_CALL",
				Status: "FAILED", TriggerEventID: "evt_call", AssigneeIDs: []string{"usr_bea", "usr_ada"},
				Data: []seed.TaskData{{ID: "tdt_notes", Data: model.JSON(`{"n":1}`)}}},
		},
	}
}

func TestLoadWritesEveryRow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		before := time.Now().UTC().Add(-time.Second)
		if err := seed.Load(t.Context(), st, world()); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{
			"organizations": 2, "companies": 3, "users": 3, "tokens": 2, "projects": 2, "project_members": 2,
			"phases": 3, "events": 1, "tasks": 2, "task_data": 1, "task_assignees": 3,
			"webhooks": 0, "webhook_outbox": 0, "webhook_deliveries": 0,
		}
		if diff := cmp.Diff(want, counts(t, st)); diff != "" {
			t.Errorf("rows per table (-want +got):\n%s", diff)
		}

		var task model.Task
		if err := st.Gorm().First(&task, "id = ?", "tsk_copy").Error; err != nil {
			t.Fatal(err)
		}
		if task.OrganizationID != "org_acme" || task.Status != model.TaskStatusOpen {
			t.Errorf("task tsk_copy: organization %s, status %s; want the project's org_acme and the default OPEN", task.OrganizationID, task.Status)
		}
		if task.CreatedAt.Before(before) || !task.ModifiedAt.Equal(task.CreatedAt) {
			t.Errorf("task tsk_copy: createdAt %v, modifiedAt %v; want both the time of loading", task.CreatedAt, task.ModifiedAt)
		}
		var phase model.Phase
		if err := st.Gorm().First(&phase, "id = ?", "phs_build").Error; err != nil {
			t.Fatal(err)
		}
		if phase.Position != 2 {
			t.Errorf("phase phs_build: position %d, want 2, its place in its project", phase.Position)
		}
		var user model.User
		if err := st.Gorm().First(&user, "id = ?", "usr_bea").Error; err != nil {
			t.Fatal(err)
		}
		if !user.IsAccessApproved || user.Avatar != nil || user.InvitedByID == nil || *user.InvitedByID != "usr_ada" {
			t.Errorf("user usr_bea: approved %v, avatar %v, invited by %v; want the defaults and usr_ada", user.IsAccessApproved, user.Avatar, user.InvitedByID)
		}
	})
}

func TestLoadAtGivesEveryRowTheTimeOfLoading(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
		want := at.UTC().Truncate(time.Microsecond)
		if empty, err := seed.Empty(t.Context(), st); err != nil || !empty {
			t.Fatalf("Empty before loading = %v, %v; want true", empty, err)
		}
		if err := seed.LoadAt(t.Context(), st, world(), at); err != nil {
			t.Fatal(err)
		}
		if empty, err := seed.Empty(t.Context(), st); err != nil || empty {
			t.Errorf("Empty after loading = %v, %v; want false", empty, err)
		}
		var users []model.User
		if err := st.Gorm().Find(&users).Error; err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if !u.CreatedAt.Equal(want) || !u.ModifiedAt.Equal(want) {
				t.Errorf("user %s: createdAt %v, modifiedAt %v; want both %v", u.ID, u.CreatedAt, u.ModifiedAt, want)
			}
		}
		var assigned []store.TaskAssignee
		if err := st.Gorm().Order("assigned_at").Find(&assigned).Error; err != nil {
			t.Fatal(err)
		}
		for i, a := range assigned {
			if w := want.Add(time.Duration(i) * time.Microsecond); !a.AssignedAt.Equal(w) {
				t.Errorf("assignee %d (%s of %s) assigned at %v, want %v", i, a.UserID, a.TaskID, a.AssignedAt, w)
			}
		}
	})
}

// Task.assignee is the first assignee: the order of a world's assigneeIds must survive.
func TestLoadKeepsTheOrderOfAssignees(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := world()
		w.Tasks[1].AssigneeIDs = []string{"usr_bea", "usr_ada"}
		w.Tasks[0].AssigneeIDs = []string{"usr_ada", "usr_bea"}
		if err := seed.Load(t.Context(), st, w); err != nil {
			t.Fatal(err)
		}
		for _, task := range []model.TaskID{"tsk_build", "tsk_copy"} {
			var got []model.UserID
			err := st.Gorm().Model(&store.TaskAssignee{}).Where("task_id = ?", task).Order("assigned_at, user_id DESC").Pluck("user_id", &got).Error
			if err != nil {
				t.Fatal(err)
			}
			var want []model.UserID
			for _, u := range w.Tasks[map[model.TaskID]int{"tsk_copy": 0, "tsk_build": 1}[task]].AssigneeIDs {
				want = append(want, model.UserID(u))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("assignees of %s by assigned_at (-want +got):\n%s", task, diff)
			}
		}
	})
}

func TestLoadStoresTokensHashed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		if err := seed.Load(t.Context(), st, world()); err != nil {
			t.Fatal(err)
		}
		var tokens []store.Token
		if err := st.Gorm().Order("user_id").Find(&tokens).Error; err != nil {
			t.Fatal(err)
		}
		if len(tokens) != 2 {
			t.Fatalf("got %d tokens, want 2", len(tokens))
		}
		for _, tk := range tokens {
			plain := map[model.UserID]string{"usr_ada": "ada-secret-token", "usr_bea": "bea-secret-token"}[tk.UserID]
			if tk.Hash != auth.HashToken(plain) {
				t.Errorf("token of %s is stored as %q, want the hash of its text", tk.UserID, tk.Hash)
			}
		}
		var hits int64
		err := st.Gorm().Model(&store.Token{}).Where("hash LIKE ? OR user_id LIKE ?", "%secret%", "%secret%").Count(&hits).Error
		if err != nil {
			t.Fatal(err)
		}
		if hits != 0 {
			t.Errorf("%d token rows hold a token's plain text", hits)
		}
	})
}

// All or nothing holds also when the database refuses a row that the checks let through: two
// tokens with the same text have the same hash, the tokens table's key.
func TestLoadWritesNothingWhenTheDatabaseRefusesARow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := world()
		w.Tokens[1].Token = w.Tokens[0].Token
		err := seed.Load(t.Context(), st, w)
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Load = %v, want a conflict", err)
		}
		requireEmpty(t, st)
	})
}

// A world may refer to rows loaded before (a test adds tasks to a shared world), but never
// define them again.
func TestLoadRefersToStoredRows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		base := world()
		more := &seed.World{
			Tasks: base.Tasks,
			Users: []seed.User{{ID: "usr_cy", OrganizationID: "org_acme", CompanyID: "cmp_agency", FirstName: "Cy", LastName: "Borg",
				Email: "cy@acme.test", InvitedByID: "usr_ada"}},
		}
		more.Tasks[0].AssigneeIDs = []string{"usr_cy", "usr_ada"}
		base.Tasks = nil
		if err := seed.Load(t.Context(), st, base); err != nil {
			t.Fatal(err)
		}
		if err := seed.Load(t.Context(), st, more); err != nil {
			t.Fatalf("load a world on top of another: %v", err)
		}
		stored := counts(t, st)

		again := &seed.World{
			Organizations: []seed.Organization{{ID: "org_acme", Name: "Acme again"}},
			Tasks: []seed.Task{{ID: "tsk_more", ProjectID: "prj_site", PhaseID: "phs_disc", Label: "More", Type: "CALL_ANALYSIS",
				AssigneeIDs: []string{"usr_gus"}}},
		}
		err := seed.Load(t.Context(), st, again)
		for _, want := range []string{
			"organization org_acme already exists in the database",
			"task tsk_more: assignee usr_gus is of organization org_globex, not org_acme",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load = %v, want it to say %q", err, want)
			}
		}
		if diff := cmp.Diff(stored, counts(t, st)); diff != "" {
			t.Errorf("a refused world changed the rows (-before +after):\n%s", diff)
		}
	})
}

// counts returns the number of rows of every table but the migrations' bookkeeping.
func counts(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	tables, err := st.Gorm().WithContext(t.Context()).Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	n := make(map[string]int64, len(tables))
	for _, table := range tables {
		if table == "schema_migrations" || strings.HasPrefix(table, "sqlite_") {
			continue
		}
		var c int64
		if err := st.Gorm().WithContext(t.Context()).Table(table).Count(&c).Error; err != nil {
			t.Fatal(err)
		}
		n[table] = c
	}
	return n
}

// requireEmpty fails the test when any table holds a row.
func requireEmpty(t *testing.T, st *store.Store) {
	t.Helper()
	for table, n := range counts(t, st) {
		if n != 0 {
			t.Errorf("table %s holds %d rows after a refused load, want none", table, n)
		}
	}
}
