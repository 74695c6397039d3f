// Package testworld is the world every end-to-end test of the adapters (graph, rest) starts from:
// one world, so that a REST answer and a GraphQL answer can be read side by side. Two
// organizations: Acme (the one the tests look at) and Beta (whose ids must never be visible from
// Acme). Rows are inserted as they are, with fixed times, so that responses are the same on every
// run and on both databases.
//
//	Acme, agency company cmp_studio, client company cmp_client
//	  usr_admin   org admin (studio), member of nothing        token tok-admin
//	  usr_ada     studio, member of prj_site and prj_docs      token tok-ada
//	  usr_bob     studio, member of prj_site
//	  usr_cat     client, member of prj_site                   token tok-cat
//	  usr_dan     studio, member of prj_app                    token tok-dan
//	  usr_eve     studio, member of prj_site, NOT approved     token tok-eve
//	  usr_fay     studio, whose only token is revoked          token tok-fay (revoked)
//	  usr_gus     client, member of nothing
//
//	  prj_site  phases phs_disc (position 1, internal), phs_build (2), phs_alpha (3)
//	    tsk_01plan  phs_disc   CALL_ANALYSIS        OPEN       assignees [ada]
//	    tsk_02copy  phs_build  AUTO_RESPONSE_EMAIL  OPEN       no assignee, trigger evt_01trigger, data tdt_01reply
//	    tsk_03logo  phs_build  DISABLE_CONTACT      COMPLETED  assignees [bob, cat], events evt_03, evt_02, evt_04
//	    tsk_04test  phs_alpha  CALL_ANALYSIS        FAILED     no assignee
//	  prj_app   phase phs_app
//	    tsk_05app   phs_app    SCHEDULED_CALL_APPROVAL CLOSED  assignees [dan]
//	  prj_docs  no phases, no tasks
//
//	Beta, agency company cmp_bstudio
//	  usr_zed  studio, member of prj_beta                     token tok-zed
//	  prj_beta, phs_beta, tsk_beta (assignee zed, event evt_beta, data tdt_beta)
package testworld

import (
	"slices"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The world's bearer tokens.
const (
	TokAdmin = "tok-admin"
	TokAda   = "tok-ada"
	TokCat   = "tok-cat"
	TokDan   = "tok-dan"
	TokEve   = "tok-eve"
	TokFay   = "tok-fay"
	TokZed   = "tok-zed"
)

// SeededAt is the createdAt and modifiedAt of every seeded row.
var SeededAt = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// SeededModifiedAt is SeededAt as the API writes it.
const SeededModifiedAt = "2024-01-02T03:04:05.123456Z"

func at(day int) time.Time { return time.Date(2024, 1, day, 12, 0, 0, 0, time.UTC) }

func ptr[T any](v T) *T { return &v }

// Seed inserts the world into a fresh database, its rows in the order their references need.
func Seed(t testing.TB, st *store.Store) {
	t.Helper()
	for _, rows := range slices.Concat(worldPeople(), worldProjects(), worldTasks()) {
		if err := st.Create(t.Context(), rows); err != nil {
			t.Fatalf("seed world: %T: %v", rows, err)
		}
	}
}

// worldPeople are the world's organizations, companies, users and tokens.
func worldPeople() []any {
	ts := SeededAt
	orgs := []model.Organization{
		{ID: "org_acme", Name: "Acme", CreatedAt: ts, ModifiedAt: ts},
		{ID: "org_beta", Name: "Beta", CreatedAt: ts, ModifiedAt: ts},
	}
	companies := []model.Company{
		{ID: "cmp_studio", OrganizationID: "org_acme", Name: "Acme Studio", Kind: model.CompanyKindAgency, CreatedAt: ts, ModifiedAt: ts},
		{ID: "cmp_client", OrganizationID: "org_acme", Name: "Client Co", Kind: model.CompanyKindClient, CreatedAt: ts, ModifiedAt: ts},
		{ID: "cmp_bstudio", OrganizationID: "org_beta", Name: "Beta Studio", Kind: model.CompanyKindAgency, CreatedAt: ts, ModifiedAt: ts},
	}
	user := func(id model.UserID, org model.OrganizationID, cmp model.CompanyID, first, last, email string) model.User {
		return model.User{ID: id, OrganizationID: org, CompanyID: cmp, FirstName: first, LastName: last, Email: email,
			IsAccessApproved: true, ThreadEmailsSortOrder: model.SortOrderAsc, CreatedAt: ts, ModifiedAt: ts}
	}
	admin := user("usr_admin", "org_acme", "cmp_studio", "Alice", "Admin", "alice@acme.test")
	admin.IsOrgAdmin = true
	ada := user("usr_ada", "org_acme", "cmp_studio", "Ada", "Lovelace", "ada@acme.test")
	ada.Avatar = ptr("https://cdn.acme.test/ada.png")
	ada.InvitedByID = ptr(model.UserID("usr_admin"))
	bob := user("usr_bob", "org_acme", "cmp_studio", "Bob", "Builder", "bob@acme.test")
	cat := user("usr_cat", "org_acme", "cmp_client", "Cat", "Client", "cat@client.test")
	dan := user("usr_dan", "org_acme", "cmp_studio", "Dan", "Dev", "dan@acme.test")
	eve := user("usr_eve", "org_acme", "cmp_studio", "Eve", "Waiting", "eve@acme.test")
	eve.IsAccessApproved = false
	fay := user("usr_fay", "org_acme", "cmp_studio", "Fay", "Former", "fay@acme.test")
	gus := user("usr_gus", "org_acme", "cmp_client", "Gus", "Guest", "gus@client.test")
	zed := user("usr_zed", "org_beta", "cmp_bstudio", "Zed", "Beta", "zed@beta.test")
	users := []model.User{admin, ada, bob, cat, dan, eve, fay, gus, zed}

	tokens := []store.Token{}
	for user, tok := range map[model.UserID]string{
		"usr_admin": TokAdmin, "usr_ada": TokAda, "usr_cat": TokCat, "usr_dan": TokDan,
		"usr_eve": TokEve, "usr_fay": TokFay, "usr_zed": TokZed,
	} {
		tokens = append(tokens, store.Token{Hash: auth.HashToken(tok), UserID: user, CreatedAt: ts})
	}
	for i := range tokens {
		if tokens[i].UserID == "usr_fay" {
			tokens[i].RevokedAt = ptr(at(3))
		}
	}
	return []any{&orgs, &companies, &users, &tokens}
}

// worldProjects are the world's projects, their members and phases, and its events.
func worldProjects() []any {
	ts := SeededAt
	projects := []model.Project{
		{ID: "prj_site", OrganizationID: "org_acme", Name: "Website", CreatedAt: ts, ModifiedAt: ts},
		{ID: "prj_app", OrganizationID: "org_acme", Name: "App", CreatedAt: ts, ModifiedAt: ts},
		{ID: "prj_docs", OrganizationID: "org_acme", Name: "Docs", CreatedAt: ts, ModifiedAt: ts},
		{ID: "prj_beta", OrganizationID: "org_beta", Name: "Beta site", CreatedAt: ts, ModifiedAt: ts},
	}
	members := []store.ProjectMember{
		{ProjectID: "prj_site", UserID: "usr_ada"}, {ProjectID: "prj_site", UserID: "usr_bob"},
		{ProjectID: "prj_site", UserID: "usr_cat"}, {ProjectID: "prj_site", UserID: "usr_eve"},
		{ProjectID: "prj_app", UserID: "usr_dan"},
		{ProjectID: "prj_docs", UserID: "usr_ada"},
		{ProjectID: "prj_beta", UserID: "usr_zed"},
	}
	phases := []model.Phase{
		{ID: "phs_disc", ProjectID: "prj_site", Name: "Discovery", Position: 1, Internal: true, CreatedAt: ts, ModifiedAt: ts},
		{ID: "phs_build", ProjectID: "prj_site", Name: "Build", Position: 2, CreatedAt: ts, ModifiedAt: ts},
		{ID: "phs_alpha", ProjectID: "prj_site", Name: "Alpha test", Position: 3, CreatedAt: ts, ModifiedAt: ts},
		{ID: "phs_app", ProjectID: "prj_app", Name: "Ship", Position: 1, CreatedAt: ts, ModifiedAt: ts},
		{ID: "phs_beta", ProjectID: "prj_beta", Name: "Beta phase", Position: 1, Internal: true, CreatedAt: ts, ModifiedAt: ts},
	}
	history := func(id model.EventID, task string, day int, added, removed string) model.Event {
		return model.Event{ID: id, OrganizationID: "org_acme", Name: model.EventAssigneesChanged, ActorID: ptr(model.UserID("usr_admin")),
			Entity: "task", EntityID: task, Data: model.JSON(`{"added": ` + added + `, "removed": ` + removed + `}`), Timestamp: at(day)}
	}
	events := []model.Event{
		{ID: "evt_01trigger", OrganizationID: "org_acme", Name: "email.received", Entity: "email", EntityID: "eml_42",
			Message: ptr("a customer wrote back"), Data: model.JSON(`{"from": "customer@example.test"}`), Timestamp: at(1)},
		// Oldest first is by timestamp, then id: evt_03hist (day 2), then evt_02hist and evt_04hist (day 3).
		history("evt_02hist", "tsk_03logo", 3, `["usr_cat"]`, `[]`),
		history("evt_03hist", "tsk_03logo", 2, `["usr_bob"]`, `[]`),
		history("evt_04hist", "tsk_03logo", 3, `[]`, `[]`),
		history("evt_05plan", "tsk_01plan", 2, `["usr_ada"]`, `[]`),
		{ID: "evt_beta", OrganizationID: "org_beta", Name: model.EventAssigneesChanged, ActorID: ptr(model.UserID("usr_zed")),
			Entity: "task", EntityID: "tsk_beta", Data: model.JSON(`{"added": ["usr_zed"], "removed": []}`), Timestamp: at(2)},
	}
	return []any{&projects, &members, &phases, &events}
}

// worldTasks are the world's tasks, their assignees and data.
func worldTasks() []any {
	ts := SeededAt
	task := func(id model.TaskID, org model.OrganizationID, prj model.ProjectID, phs model.PhaseID, label string, typ model.TaskType, status model.TaskStatus) model.Task {
		return model.Task{ID: id, OrganizationID: org, ProjectID: prj, PhaseID: phs, Label: label, Type: typ, Status: status, CreatedAt: ts, ModifiedAt: ts}
	}
	plan := task("tsk_01plan", "org_acme", "prj_site", "phs_disc", "Plan the site", model.TaskTypeCallAnalysis, model.TaskStatusOpen)
	copyTask := task("tsk_02copy", "org_acme", "prj_site", "phs_build", "Write copy", model.TaskTypeAutoResponseEmail, model.TaskStatusOpen)
	copyTask.Description = ptr("Answer the customer's email")
	copyTask.TriggerEventID = ptr(model.EventID("evt_01trigger"))
	copyTask.CompletedAction = model.JSON(`{"kind": "email", "draft": true}`)
	logo := task("tsk_03logo", "org_acme", "prj_site", "phs_build", "Draw logo", model.TaskTypeDisableContact, model.TaskStatusCompleted)
	logo.ActionTaken = ptr(model.TaskActionComplete)
	test := task("tsk_04test", "org_acme", "prj_site", "phs_alpha", "Test the site", model.TaskTypeCallAnalysis, model.TaskStatusFailed)
	test.ErrorReason = ptr("the browser crashed")
	app := task("tsk_05app", "org_acme", "prj_app", "phs_app", "Ship the app", model.TaskTypeScheduledCallApproval, model.TaskStatusClosed)
	app.ActionTaken = ptr(model.TaskActionClose)
	app.CloseReason = ptr("duplicate")
	beta := task("tsk_beta", "org_beta", "prj_beta", "phs_beta", "Beta work", model.TaskTypeCallAnalysis, model.TaskStatusOpen)
	tasks := []model.Task{plan, copyTask, logo, test, app, beta}

	assignees := []store.TaskAssignee{
		{TaskID: "tsk_01plan", UserID: "usr_ada", AssignedAt: at(2)},
		// Cat's id sorts after bob's but cat was assigned later: the order is bob, cat.
		{TaskID: "tsk_03logo", UserID: "usr_cat", AssignedAt: at(3)},
		{TaskID: "tsk_03logo", UserID: "usr_bob", AssignedAt: at(2)},
		{TaskID: "tsk_05app", UserID: "usr_dan", AssignedAt: at(2)},
		{TaskID: "tsk_beta", UserID: "usr_zed", AssignedAt: at(2)},
	}
	data := []model.TaskData{
		{ID: "tdt_01reply", TaskID: "tsk_02copy", Source: model.TaskDataSourceEmail, Type: model.TaskDataTypeResponse,
			Data: model.JSON(`{"subject": "Re: your order"}`), CreatedAt: ts, ModifiedAt: ts},
		{ID: "tdt_beta", TaskID: "tsk_beta", Source: model.TaskDataSourceEmail, Type: model.TaskDataTypeResponse,
			Data: model.JSON(`{"subject": "beta"}`), CreatedAt: ts, ModifiedAt: ts},
	}

	return []any{&tasks, &assignees, &data}
}
