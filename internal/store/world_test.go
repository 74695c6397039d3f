package store_test

import (
	"testing"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// seededAt is when every row of the world was created and last modified.
var seededAt = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// admin is an org admin's scope of org_a: every project and task of it is visible.
var admin = store.Scope{OrganizationID: "org_a"}

// newWorld inserts the world of the store's tests as rows: the organization org_a with its agency
// company cmp_a, the project prj_a with the phase phs_a and the task tsk_a, and the users a test
// asks for, all of cmp_a and members of prj_a. Every row was created and last modified at seededAt.
func newWorld(t *testing.T, st *store.Store, users ...model.User) {
	t.Helper()
	ts := seededAt
	members := make([]store.ProjectMember, len(users))
	for i := range users {
		users[i].OrganizationID, users[i].CompanyID = "org_a", "cmp_a"
		users[i].IsAccessApproved, users[i].ThreadEmailsSortOrder = true, model.SortOrderAsc
		users[i].CreatedAt, users[i].ModifiedAt = ts, ts
		members[i] = store.ProjectMember{ProjectID: "prj_a", UserID: users[i].ID}
	}
	rows := []any{
		&model.Organization{ID: "org_a", Name: "Acme", CreatedAt: ts, ModifiedAt: ts},
		&model.Company{ID: "cmp_a", OrganizationID: "org_a", Name: "Acme Studio", Kind: model.CompanyKindAgency, CreatedAt: ts, ModifiedAt: ts},
		&model.Project{ID: "prj_a", OrganizationID: "org_a", Name: "Website", CreatedAt: ts, ModifiedAt: ts},
		&model.Phase{ID: "phs_a", ProjectID: "prj_a", Name: "Build", Position: 1, CreatedAt: ts, ModifiedAt: ts},
		&model.Task{ID: "tsk_a", OrganizationID: "org_a", ProjectID: "prj_a", PhaseID: "phs_a", Label: "Write copy",
			Type: model.TaskTypeCallAnalysis, Status: model.TaskStatusOpen, CreatedAt: ts, ModifiedAt: ts},
	}
	if len(users) > 0 {
		rows = append(rows, &users, &members)
	}
	for _, r := range rows {
		if err := st.Create(t.Context(), r); err != nil {
			t.Fatalf("create the world: %T: %v", r, err)
		}
	}
}

// user is a user of the world with a name and an email.
func user(id model.UserID, first, last, email string) model.User {
	return model.User{ID: id, FirstName: first, LastName: last, Email: email}
}
