package seed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

func TestLoadRefusesABadWorldAndWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		edit func(w *seed.World)
		want string
	}{
		{"malformed id", func(w *seed.World) { w.Users[0].ID = "ada" },
			`users[0]: id "ada" is not a well-formed usr_ id`},
		{"id of the wrong type", func(w *seed.World) { w.Tasks[0].ProjectID = "phs_disc" },
			`task tsk_copy: projectId "phs_disc" is not a well-formed prj_ id`},
		{"id defined twice", func(w *seed.World) { w.Users = append(w.Users, w.Users[0]) },
			`users[3]: id usr_ada is defined twice`},
		{"missing reference", func(w *seed.World) { w.Users[0].CompanyID = "" },
			`user usr_ada: companyId is missing`},
		{"missing label", func(w *seed.World) { w.Tasks[0].Label = "" },
			`task tsk_copy: label is missing`},
		{"unknown organization", func(w *seed.World) { w.Companies[0].OrganizationID = "org_nope" },
			`company cmp_agency: organization org_nope does not exist`},
		{"unknown company", func(w *seed.World) { w.Users[0].CompanyID = "cmp_nope" },
			`user usr_ada: company cmp_nope does not exist`},
		{"company of another organization", func(w *seed.World) { w.Users[0].CompanyID = "cmp_globex" },
			`user usr_ada: company cmp_globex is not a company of organization org_acme`},
		{"inviter listed after", func(w *seed.World) { w.Users[0].InvitedByID = "usr_bea" },
			`user usr_ada: inviter usr_bea must be listed before the users it invited`},
		{"inviter of another organization", func(w *seed.World) { w.Users[2].InvitedByID = "usr_ada" },
			`user usr_gus: inviter usr_ada is of organization org_acme, not org_globex`},
		{"two agencies", func(w *seed.World) { w.Companies[1].Kind = "AGENCY" },
			`organization org_acme: companies [cmp_agency cmp_client] are all AGENCY`},
		{"token of an unknown user", func(w *seed.World) { w.Tokens[1].UserID = "usr_nope" },
			`tokens[1]: user usr_nope does not exist`},
		{"unknown member", func(w *seed.World) { w.Projects[0].MemberIDs[1] = "usr_nope" },
			`project prj_site: member usr_nope does not exist`},
		{"member of another organization", func(w *seed.World) { w.Projects[0].MemberIDs[1] = "usr_gus" },
			`project prj_site: member usr_gus is of organization org_globex, not org_acme`},
		{"member listed twice", func(w *seed.World) { w.Projects[0].MemberIDs[1] = "usr_ada" },
			`project prj_site: memberIds lists usr_ada twice`},
		{"phase of an unknown project", func(w *seed.World) { w.Phases[2].ProjectID = "prj_nope" },
			`phase phs_other: project prj_nope does not exist`},
		{"actor of another organization", func(w *seed.World) { w.Events[0].ActorID = "usr_gus" },
			`event evt_call: actor usr_gus is of organization org_globex, not org_acme`},
		{"unknown project", func(w *seed.World) { w.Tasks[0].ProjectID = "prj_nope" },
			`task tsk_copy: project prj_nope does not exist`},
		{"unknown phase", func(w *seed.World) { w.Tasks[0].PhaseID = "phs_nope" },
			`task tsk_copy: phase phs_nope does not exist`},
		{"phase of another project", func(w *seed.World) { w.Tasks[0].PhaseID = "phs_other" },
			`task tsk_copy: phase phs_other is not a phase of project prj_site`},
		{"organization other than the project's", func(w *seed.World) { w.Tasks[0].OrganizationID = "org_globex" },
			`task tsk_copy: organization org_globex is not the organization org_acme of project prj_site`},
		{"unknown trigger event", func(w *seed.World) { w.Tasks[1].TriggerEventID = "evt_nope" },
			`task tsk_build: trigger event evt_nope does not exist`},
		{"unknown assignee", func(w *seed.World) { w.Tasks[0].AssigneeIDs = []string{"usr_nope"} },
			`task tsk_copy: assignee usr_nope does not exist`},
		{"assignee of another organization", func(w *seed.World) { w.Tasks[0].AssigneeIDs = []string{"usr_ada", "usr_gus"} },
			`task tsk_copy: assignee usr_gus is of organization org_globex, not org_acme`},
		{"assignee listed twice", func(w *seed.World) { w.Tasks[1].AssigneeIDs = []string{"usr_bea", "usr_bea"} },
			`task tsk_build: assigneeIds lists usr_bea twice`},
		{"malformed assignee", func(w *seed.World) { w.Tasks[1].AssigneeIDs = []string{"cmp_agency"} },
			`task tsk_build: assigneeIds[0] "cmp_agency" is not a well-formed usr_ id`},
		{"company kind", func(w *seed.World) { w.Companies[1].Kind = "client" },
			`company cmp_client: kind "client" is not one of [AGENCY CLIENT]`},
		{"task type", func(w *seed.World) { w.Tasks[0].Type = "CALL" },
			`task tsk_copy: type "CALL" is not one of`},
		{"task status", func(w *seed.World) { w.Tasks[0].Status = "DONE" },
			`task tsk_copy: status "DONE" is not one of`},
		{"task action", func(w *seed.World) { a := "FINISH"; w.Tasks[0].ActionTaken = &a },
			`task tsk_copy: actionTaken "FINISH" is not one of`},
		{"task data source", func(w *seed.World) { w.Tasks[1].Data[0].Source = "SMS" },
			`task tsk_build: data tdt_notes: source "SMS" is not one of [EMAIL]`},
		{"task data JSON", func(w *seed.World) { w.Tasks[1].Data[0].Data = model.JSON(`{"n":`) },
			`task tsk_build: data tdt_notes: data is not valid JSON`},
		{"task data id", func(w *seed.World) { w.Tasks[1].Data[0].ID = "tsk_notes" },
			`task tsk_build: data[0]: id "tsk_notes" is not a well-formed tdt_ id`},
	}
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				w := world()
				tt.edit(w)
				err := seed.Load(t.Context(), st, w)
				var invalid *seed.Error
				if !errors.As(err, &invalid) {
					t.Fatalf("Load = %v, want a *seed.Error", err)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Load = %q, want it to say %q", err, tt.want)
				}
				// Later problems may follow from the first (a user left out is not there to be a
				// member); the first is the cause.
				if !strings.Contains(invalid.Problems[0], tt.want) {
					t.Errorf("first problem = %q, want %q", invalid.Problems[0], tt.want)
				}
				requireEmpty(t, st)
			})
		}
	})
}

func TestLoadListsEveryProblem(t *testing.T) {
	w := world()
	w.Users[0].CompanyID = "cmp_nope"
	w.Tasks[0].PhaseID = "phs_other"
	w.Tasks[1].Type = "CALL"
	err := seed.Load(t.Context(), testdb.SQLite(t), w)
	var invalid *seed.Error
	if !errors.As(err, &invalid) {
		t.Fatalf("Load = %v, want a *seed.Error", err)
	}
	if len(invalid.Problems) != 3 {
		t.Errorf("problems = %q, want 3", invalid.Problems)
	}
}
