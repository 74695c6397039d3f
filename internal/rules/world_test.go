package rules_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/seed"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The world every use-case test starts from, in a fresh database of its own. Ids name roles, so
// that a test reads as the rule it checks:
//
//	org_a, with the agency company cmp_agency and the client company cmp_client
//	  usr_admin      agency, org admin, member of no project
//	  usr_agent      agency, member of prj_site
//	  usr_agent2     agency, member of prj_site
//	  usr_client     client, member of prj_site
//	  usr_clientout  client, member of no project
//	  usr_outsider   agency, member of prj_other only
//	  usr_pending    agency, member of prj_site, access not approved
//	  prj_site
//	    phs_internal (internal)  tsk_internal  COMPLETED DISABLE_CONTACT   with the data entry tdt_internal
//	    phs_open                 tsk_open      OPEN      CALL_ANALYSIS     with the data entry tdt_open
//	  prj_other
//	    phs_other                tsk_other     OPEN      AUTO_RESPONSE_EMAIL
//	org_b, with the agency company cmp_b
//	  usr_bob        agency, member of prj_b
//	  prj_b / phs_b / tsk_b  OPEN CALL_ANALYSIS  with the data entry tdt_b
//
// No task has an assignee. Every user has the token "token-<id>". Every row was created and last
// modified at base.
type world struct {
	st  *store.Store
	svc *rules.Service
}

// base is when every row of the world was created and last modified.
var base = time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)

// ghost is a well-formed user id that exists in no organization.
const ghost = "usr_ghost"

func newWorld(t *testing.T, st *store.Store, opts ...rules.Option) *world {
	t.Helper()
	w := &world{st: st, svc: rules.New(st, opts...)}
	notApproved := false
	users := []seed.User{
		{ID: "usr_admin", OrganizationID: "org_a", CompanyID: "cmp_agency", FirstName: "Grace", LastName: "Hopper", Email: "grace@acme.test", IsOrgAdmin: true},
		{ID: "usr_agent", OrganizationID: "org_a", CompanyID: "cmp_agency", FirstName: "Ada", LastName: "Lovelace", Email: "ada@acme.test"},
		{ID: "usr_agent2", OrganizationID: "org_a", CompanyID: "cmp_agency", FirstName: "Alan", LastName: "Turing", Email: "alan@acme.test"},
		{ID: "usr_client", OrganizationID: "org_a", CompanyID: "cmp_client", FirstName: "Claire", LastName: "Dupont", Email: "claire@client.test"},
		{ID: "usr_clientout", OrganizationID: "org_a", CompanyID: "cmp_client", FirstName: "Cleo", LastName: "Stranger", Email: "cleo@client.test"},
		{ID: "usr_outsider", OrganizationID: "org_a", CompanyID: "cmp_agency", FirstName: "Oscar", LastName: "Wilde", Email: "oscar@acme.test"},
		{ID: "usr_pending", OrganizationID: "org_a", CompanyID: "cmp_agency", FirstName: "Una", LastName: "Pending", Email: "una@acme.test", IsAccessApproved: &notApproved},
		{ID: "usr_bob", OrganizationID: "org_b", CompanyID: "cmp_b", FirstName: "Bob", LastName: "Other", Email: "bob@bobco.test"},
	}
	w.load(t, &seed.World{
		Organizations: []seed.Organization{{ID: "org_a", Name: "Acme"}, {ID: "org_b", Name: "Bobco"}},
		Companies: []seed.Company{
			{ID: "cmp_agency", OrganizationID: "org_a", Name: "Acme Studio", Kind: "AGENCY"},
			{ID: "cmp_client", OrganizationID: "org_a", Name: "Client Corp", Kind: "CLIENT"},
			{ID: "cmp_b", OrganizationID: "org_b", Name: "Bobco Studio", Kind: "AGENCY"},
		},
		Users:  users,
		Tokens: tokens(users),
		Projects: []seed.Project{
			{ID: "prj_site", OrganizationID: "org_a", Name: "Website", MemberIDs: []string{"usr_agent", "usr_agent2", "usr_client", "usr_pending"}},
			{ID: "prj_other", OrganizationID: "org_a", Name: "Other", MemberIDs: []string{"usr_outsider"}},
			{ID: "prj_b", OrganizationID: "org_b", Name: "Bob's", MemberIDs: []string{"usr_bob"}},
		},
		Phases: []seed.Phase{
			{ID: "phs_internal", ProjectID: "prj_site", Name: "Discovery", Internal: true},
			{ID: "phs_open", ProjectID: "prj_site", Name: "Delivery"},
			{ID: "phs_other", ProjectID: "prj_other", Name: "Only"},
			{ID: "phs_b", ProjectID: "prj_b", Name: "Only"},
		},
		Tasks: []seed.Task{
			{ID: "tsk_internal", ProjectID: "prj_site", PhaseID: "phs_internal", Label: "Research", Type: "DISABLE_CONTACT", Status: "COMPLETED",
				Data: []seed.TaskData{{ID: "tdt_internal", Data: model.JSON(`{"body":"notes"}`)}}},
			{ID: "tsk_open", ProjectID: "prj_site", PhaseID: "phs_open", Label: "Call back", Type: "CALL_ANALYSIS",
				Data: []seed.TaskData{{ID: "tdt_open", Data: model.JSON(`{"body":"hello"}`)}}},
			{ID: "tsk_other", ProjectID: "prj_other", PhaseID: "phs_other", Label: "Reply", Type: "AUTO_RESPONSE_EMAIL"},
			{ID: "tsk_b", ProjectID: "prj_b", PhaseID: "phs_b", Label: "Bob's task", Type: "CALL_ANALYSIS",
				Data: []seed.TaskData{{ID: "tdt_b", Data: model.JSON(`{"body":"bob"}`)}}},
		},
	})
	return w
}

// load adds a world, which may refer to the rows already loaded, every row created at base.
func (w *world) load(t *testing.T, world *seed.World) {
	t.Helper()
	if err := seed.LoadAt(t.Context(), w.st, world, base); err != nil {
		t.Fatalf("load the world: %v", err)
	}
}

// tokens gives every user the token "token-<id>".
func tokens(users []seed.User) []seed.Token {
	out := make([]seed.Token, len(users))
	for i, u := range users {
		out[i] = seed.Token{UserID: u.ID, Token: "token-" + u.ID}
	}
	return out
}

// addMembers adds n agency users of org_a with their tokens, named usr_m000, usr_m001, …, as
// members of a project, and returns their ids in order.
func (w *world) addMembers(t *testing.T, project model.ProjectID, n int) []model.UserID {
	t.Helper()
	var (
		users   []seed.User
		members []store.ProjectMember
		out     []model.UserID
	)
	for i := range n {
		id := fmt.Sprintf("usr_m%03d", i)
		users = append(users, seed.User{ID: id, OrganizationID: "org_a", CompanyID: "cmp_agency",
			FirstName: "Member", LastName: fmt.Sprint(i), Email: fmt.Sprintf("m%03d@acme.test", i)})
		members = append(members, store.ProjectMember{ProjectID: project, UserID: model.UserID(id)})
		out = append(out, model.UserID(id))
	}
	w.load(t, &seed.World{Users: users, Tokens: tokens(users)})
	// A world cannot add members to a project already loaded: the membership rows go in directly.
	if err := w.st.Create(t.Context(), &members); err != nil {
		t.Fatalf("add members: %v", err)
	}
	return out
}

// viewer authenticates a user of the world by its token.
func (w *world) viewer(t *testing.T, id model.UserID) *model.Viewer {
	t.Helper()
	v, err := w.svc.Authenticate(t.Context(), "token-"+string(id))
	if err != nil {
		t.Fatalf("authenticate %s: %v", id, err)
	}
	return v
}

// admin is org_a's admin, who sees every task of org_a: the tests' eyes.
func (w *world) admin(t *testing.T) *model.Viewer { return w.viewer(t, "usr_admin") }

// assign assigns users to a task as the admin, failing the test on any error.
func (w *world) assign(t *testing.T, taskID model.TaskID, users ...model.UserID) {
	t.Helper()
	if _, err := w.svc.AssignUsers(t.Context(), w.admin(t), taskID, users); err != nil {
		t.Fatalf("assign %v to %s: %v", users, taskID, err)
	}
}

// assignees are a task's assignees in order, as its admin sees them.
func (w *world) assignees(t *testing.T, taskID model.TaskID) []model.UserID {
	t.Helper()
	v := w.viewer(t, adminOf(taskID))
	users, err := w.svc.Assignees(t.Context(), v, taskID)
	if err != nil {
		t.Fatalf("assignees of %s: %v", taskID, err)
	}
	out := []model.UserID{}
	for _, u := range users {
		out = append(out, u.ID)
	}
	return out
}

// adminOf is a viewer that sees the task: org_a's admin, or org_b's only user.
func adminOf(taskID model.TaskID) model.UserID {
	if taskID == "tsk_b" {
		return "usr_bob"
	}
	return "usr_admin"
}

// task reads a task as its admin sees it.
func (w *world) task(t *testing.T, taskID model.TaskID) *model.Task {
	t.Helper()
	task, err := w.svc.Task(t.Context(), w.viewer(t, adminOf(taskID)), taskID)
	if err != nil {
		t.Fatalf("task %s: %v", taskID, err)
	}
	return task
}

// eventOf is the id of a task's only event, as its admin sees it.
func (w *world) eventOf(t *testing.T, taskID model.TaskID) model.EventID {
	t.Helper()
	page, err := w.svc.TaskEvents(t.Context(), w.viewer(t, adminOf(taskID)), taskID, rules.PageArgs{})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("events of %s: %v, %v", taskID, page, err)
	}
	return page.Items[0].ID
}

// recorded is an assignees_changed Event as a test compares it.
type recorded struct {
	Name     string
	Actor    model.UserID
	Entity   string
	EntityID string
	Added    []model.UserID
	Removed  []model.UserID
}

// events lists a task's events, oldest first, and their times.
func (w *world) events(t *testing.T, taskID model.TaskID) ([]recorded, []time.Time) {
	t.Helper()
	v := w.viewer(t, adminOf(taskID))
	var (
		out   []recorded
		times []time.Time
		after *rules.Position
	)
	for {
		first := rules.MaxPageSize
		page, err := w.svc.TaskEvents(t.Context(), v, taskID, rules.PageArgs{First: &first, After: after})
		if err != nil {
			t.Fatalf("events of %s: %v", taskID, err)
		}
		for _, e := range page.Items {
			out = append(out, decode(t, e))
			times = append(times, e.Timestamp)
		}
		if !page.HasNext {
			return out, times
		}
		p := page.Position(page.Items[len(page.Items)-1])
		after = &p
	}
}

func decode(t *testing.T, e *model.Event) recorded {
	t.Helper()
	var data struct {
		Added   []model.UserID `json:"added"`
		Removed []model.UserID `json:"removed"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatalf("event %s data %s: %v", e.ID, e.Data, err)
	}
	r := recorded{Name: e.Name, Entity: e.Entity, EntityID: e.EntityID, Added: data.Added, Removed: data.Removed}
	if e.ActorID != nil {
		r.Actor = *e.ActorID
	}
	return r
}

// changed is the event DESIGN §3 requires for one real change of a task's assignees.
func changed(actor model.UserID, taskID model.TaskID, added, removed []model.UserID) recorded {
	if added == nil {
		added = []model.UserID{}
	}
	if removed == nil {
		removed = []model.UserID{}
	}
	return recorded{
		Name: model.EventAssigneesChanged, Actor: actor, Entity: "task", EntityID: string(taskID),
		Added: added, Removed: removed,
	}
}

// us lists user ids.
func us(users ...model.UserID) []model.UserID { return users }

func ptr[T any](v T) *T { return &v }

// wantViolations checks that err refuses a change with exactly these violations.
func wantViolations(t *testing.T, err error, want ...rules.Violation) {
	t.Helper()
	var ve *rules.ViolationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ViolationError (UNPROCESSABLE)", err)
	}
	if diff := cmp.Diff(want, ve.Violations); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	wantIDs := make([]model.UserID, len(want))
	for i, v := range want {
		wantIDs[i] = v.UserID
	}
	slices.Sort(wantIDs)
	wantIDs = slices.Compact(wantIDs) // a bulk change's user may offend on several tasks
	if diff := cmp.Diff(wantIDs, ve.UserIDs()); diff != "" {
		t.Errorf("userIds (-want +got):\n%s", diff)
	}
	for _, id := range wantIDs {
		if !strings.Contains(err.Error(), string(id)) {
			t.Errorf("message %q does not name %s", err.Error(), id)
		}
	}
	if errors.Is(err, rules.ErrNotFound) || errors.Is(err, model.ErrBadInput) || errors.Is(err, rules.ErrForbidden) {
		t.Errorf("err = %v is also another kind of error", err)
	}
}

// wantKind checks that err is of one kind of DESIGN's error codes.
func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want %v", err, kind)
	}
	var ve *rules.ViolationError
	if errors.As(err, &ve) {
		t.Errorf("err = %v is also UNPROCESSABLE", err)
	}
	for _, other := range []error{rules.ErrNotFound, rules.ErrForbidden, auth.ErrUnauthenticated, model.ErrBadInput} {
		if other != kind && errors.Is(err, other) {
			t.Errorf("err = %v is also %v", err, other)
		}
	}
}

// wantBadInput checks that err is BAD_USER_INPUT: malformed input, which reveals nothing.
func wantBadInput(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, model.ErrBadInput) {
		t.Fatalf("err = %v, want bad input", err)
	}
	if errors.Is(err, rules.ErrNotFound) || errors.Is(err, rules.ErrForbidden) {
		t.Errorf("err = %v is also another kind", err)
	}
}

// wantUnchanged checks that a task has these assignees, no event and its modifiedAt of base.
func (w *world) wantUnchanged(t *testing.T, taskID model.TaskID, assignees ...model.UserID) {
	t.Helper()
	w.wantAssignees(t, taskID, assignees...)
	if got, _ := w.events(t, taskID); len(got) != 0 {
		t.Errorf("events of %s = %v, want none", taskID, got)
	}
	if got := w.task(t, taskID).ModifiedAt; !got.Equal(base) {
		t.Errorf("modifiedAt of %s = %v, want %v", taskID, got, base)
	}
}

func (w *world) wantAssignees(t *testing.T, taskID model.TaskID, want ...model.UserID) {
	t.Helper()
	if diff := cmp.Diff(want, w.assignees(t, taskID), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("assignees of %s (-want +got):\n%s", taskID, diff)
	}
}

func (w *world) wantEvents(t *testing.T, taskID model.TaskID, want ...recorded) {
	t.Helper()
	got, _ := w.events(t, taskID)
	// Not EquateEmpty: the event's lists are [] when empty, never null.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events of %s (-want +got):\n%s", taskID, diff)
	}
}

func sorted(users []model.UserID) []model.UserID {
	s := slices.Clone(users)
	slices.Sort(s)
	return s
}

// state is what a call that changes nothing must leave as it was: the assignees, the events and
// modifiedAt.
type state struct {
	assignees []model.UserID
	events    []recorded
	modified  time.Time
}

func (w *world) state(t *testing.T, taskID model.TaskID) state {
	t.Helper()
	events, _ := w.events(t, taskID)
	return state{assignees: w.assignees(t, taskID), events: events, modified: w.task(t, taskID).ModifiedAt}
}

// wantSame checks that a task's assignees, events and modifiedAt are as they were.
func (w *world) wantSame(t *testing.T, taskID model.TaskID, before state) {
	t.Helper()
	w.wantAssignees(t, taskID, before.assignees...)
	w.wantEvents(t, taskID, before.events...)
	if got := w.task(t, taskID).ModifiedAt; !got.Equal(before.modified) {
		t.Errorf("modifiedAt of %s = %v, want %v as it was", taskID, got, before.modified)
	}
}

// wantChanged checks that a task holds these assignees, with one new event since before and
// modifiedAt bumped to its time.
func (w *world) wantChanged(t *testing.T, taskID model.TaskID, before state, event recorded, assignees ...model.UserID) {
	t.Helper()
	w.wantAssignees(t, taskID, assignees...)
	w.wantEvents(t, taskID, append(slices.Clone(before.events), event)...)
	_, times := w.events(t, taskID)
	modified := w.task(t, taskID).ModifiedAt
	if !modified.After(before.modified) {
		t.Errorf("modifiedAt of %s = %v after a change, want after %v", taskID, modified, before.modified)
	}
	if len(times) > 0 && !times[len(times)-1].Equal(modified) {
		t.Errorf("modifiedAt of %s = %v, want the time of its last event %v", taskID, modified, times[len(times)-1])
	}
}
