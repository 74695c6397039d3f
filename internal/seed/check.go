package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Error is a world that Load refused: it lists every problem found, each naming the entry and
// the reference at fault (`task tsk_x: phase phs_y is not a phase of project prj_z`). Nothing
// was written.
type Error struct {
	Problems []string
}

// Error joins the problems with semicolons.
func (e *Error) Error() string {
	return "invalid world: " + strings.Join(e.Problems, "; ")
}

// rows are a world's rows, in the order they must be inserted for their foreign keys.
type rows struct {
	organizations []*model.Organization
	companies     []*model.Company
	users         []*model.User
	tokens        []*store.Token
	projects      []*model.Project
	members       []*store.ProjectMember
	phases        []*model.Phase
	events        []*model.Event
	tasks         []*model.Task
	taskData      []*model.TaskData
	assignees     []*store.TaskAssignee
}

// checker turns a world into rows, checking every id and every reference on the way.
type checker struct {
	now      time.Time
	problems []string
	rows     rows

	// Every row a reference may name: the world's, then those already in the database.
	orgs      map[model.OrganizationID]*model.Organization
	companies map[model.CompanyID]*model.Company
	users     map[model.UserID]*model.User
	projects  map[model.ProjectID]*model.Project
	phases    map[model.PhaseID]*model.Phase
	events    map[model.EventID]*model.Event
	tasks     map[model.TaskID]*model.Task
	taskData  map[model.TaskDataID]*model.TaskData

	// userOrder is the place of each of the world's users, for invitedById.
	userOrder map[model.UserID]int
}

// check returns the rows of w, or an *Error listing every problem; tx answers for the rows that
// w refers to without defining them.
func check(ctx context.Context, tx *store.Store, w *World, now time.Time) (*rows, error) {
	c := &checker{
		now:       now,
		orgs:      map[model.OrganizationID]*model.Organization{},
		companies: map[model.CompanyID]*model.Company{},
		users:     map[model.UserID]*model.User{},
		projects:  map[model.ProjectID]*model.Project{},
		phases:    map[model.PhaseID]*model.Phase{},
		events:    map[model.EventID]*model.Event{},
		tasks:     map[model.TaskID]*model.Task{},
		taskData:  map[model.TaskDataID]*model.TaskData{},
		userOrder: map[model.UserID]int{},
	}
	c.define(w)
	if err := c.lookup(ctx, tx); err != nil {
		return nil, err
	}
	c.link()
	if len(c.problems) > 0 {
		return nil, &Error{Problems: c.problems}
	}
	return &c.rows, nil
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// define makes the rows of w with their defaults, parsing every id. An entry whose own id is
// malformed or taken is left out; a malformed reference is left empty, reported once.
func (c *checker) define(w *World) {
	for i, o := range w.Organizations {
		id, ok := own(c, model.ParseOrganizationID, c.orgs, "organizations", i, o.ID)
		if !ok {
			continue
		}
		c.required("organization "+o.ID, "name", o.Name)
		row := &model.Organization{ID: id, Name: o.Name, CreatedAt: c.now, ModifiedAt: c.now}
		c.orgs[id] = row
		c.rows.organizations = append(c.rows.organizations, row)
	}
	for i, co := range w.Companies {
		id, ok := own(c, model.ParseCompanyID, c.companies, "companies", i, co.ID)
		if !ok {
			continue
		}
		owner := "company " + co.ID
		c.required(owner, "name", co.Name)
		kind := model.CompanyKind(co.Kind)
		if !kind.IsValid() {
			c.problem("%s: kind %q is not one of %v", owner, co.Kind, model.AllCompanyKind)
		}
		row := &model.Company{
			ID:             id,
			OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", co.OrganizationID),
			Name:           co.Name,
			Kind:           kind,
			CreatedAt:      c.now,
			ModifiedAt:     c.now,
		}
		c.companies[id] = row
		c.rows.companies = append(c.rows.companies, row)
	}
	for i, u := range w.Users {
		id, ok := own(c, model.ParseUserID, c.users, "users", i, u.ID)
		if !ok {
			continue
		}
		owner := "user " + u.ID
		c.required(owner, "firstName", u.FirstName)
		c.required(owner, "lastName", u.LastName)
		c.required(owner, "email", u.Email)
		row := &model.User{
			ID:                    id,
			OrganizationID:        ref(c, model.ParseOrganizationID, owner, "organizationId", u.OrganizationID),
			CompanyID:             ref(c, model.ParseCompanyID, owner, "companyId", u.CompanyID),
			FirstName:             u.FirstName,
			LastName:              u.LastName,
			Email:                 u.Email,
			Avatar:                u.Avatar,
			IsOrgAdmin:            u.IsOrgAdmin,
			IsAccessApproved:      u.IsAccessApproved == nil || *u.IsAccessApproved,
			OnboardingRequired:    u.OnboardingRequired,
			InvitedByID:           optionalRef(c, model.ParseUserID, owner, "invitedById", u.InvitedByID),
			ThreadEmailsSortOrder: model.SortOrderAsc,
			CreatedAt:             c.now,
			ModifiedAt:            c.now,
		}
		c.users[id] = row
		c.userOrder[id] = len(c.rows.users)
		c.rows.users = append(c.rows.users, row)
	}
	for i, tk := range w.Tokens {
		owner := fmt.Sprintf("tokens[%d]", i)
		if tk.Token == "" {
			c.problem("%s: token is missing", owner)
			continue
		}
		c.rows.tokens = append(c.rows.tokens, &store.Token{
			Hash:      auth.HashToken(tk.Token),
			UserID:    ref(c, model.ParseUserID, owner, "userId", tk.UserID),
			CreatedAt: c.now,
		})
	}
	for i, p := range w.Projects {
		id, ok := own(c, model.ParseProjectID, c.projects, "projects", i, p.ID)
		if !ok {
			continue
		}
		owner := "project " + p.ID
		c.required(owner, "name", p.Name)
		row := &model.Project{
			ID:             id,
			OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", p.OrganizationID),
			Name:           p.Name,
			CreatedAt:      c.now,
			ModifiedAt:     c.now,
		}
		c.projects[id] = row
		c.rows.projects = append(c.rows.projects, row)
		for _, m := range refs(c, owner, "memberIds", p.MemberIDs) {
			c.rows.members = append(c.rows.members, &store.ProjectMember{ProjectID: id, UserID: m})
		}
	}
	positions := map[string]int{}
	for i, ph := range w.Phases {
		id, ok := own(c, model.ParsePhaseID, c.phases, "phases", i, ph.ID)
		if !ok {
			continue
		}
		owner := "phase " + ph.ID
		c.required(owner, "name", ph.Name)
		positions[ph.ProjectID]++
		position := positions[ph.ProjectID]
		if ph.Position != nil {
			position = *ph.Position
		}
		row := &model.Phase{
			ID:         id,
			ProjectID:  ref(c, model.ParseProjectID, owner, "projectId", ph.ProjectID),
			Name:       ph.Name,
			Position:   position,
			Internal:   ph.Internal,
			CreatedAt:  c.now,
			ModifiedAt: c.now,
		}
		c.phases[id] = row
		c.rows.phases = append(c.rows.phases, row)
	}
	for i, e := range w.Events {
		id, ok := own(c, model.ParseEventID, c.events, "events", i, e.ID)
		if !ok {
			continue
		}
		owner := "event " + e.ID
		c.required(owner, "name", e.Name)
		c.required(owner, "entity", e.Entity)
		c.required(owner, "entityId", e.EntityID)
		at := c.now
		if e.Timestamp != nil {
			at = e.Timestamp.UTC().Truncate(time.Microsecond)
		}
		row := &model.Event{
			ID:             id,
			OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", e.OrganizationID),
			Name:           e.Name,
			ActorID:        optionalRef(c, model.ParseUserID, owner, "actorId", e.ActorID),
			Entity:         e.Entity,
			EntityID:       e.EntityID,
			Message:        e.Message,
			Data:           e.Data,
			Timestamp:      at,
		}
		c.validJSON(owner, "data", e.Data)
		c.events[id] = row
		c.rows.events = append(c.rows.events, row)
	}
	for i, t := range w.Tasks {
		c.defineTask(i, t)
	}
}

func (c *checker) defineTask(i int, t Task) {
	id, ok := own(c, model.ParseTaskID, c.tasks, "tasks", i, t.ID)
	if !ok {
		return
	}
	owner := "task " + t.ID
	c.required(owner, "label", t.Label)
	var org model.OrganizationID // when absent, link makes it the project's
	if t.OrganizationID != "" {
		org = ref(c, model.ParseOrganizationID, owner, "organizationId", t.OrganizationID)
	}
	status := model.TaskStatusOpen
	if t.Status != "" {
		status = model.TaskStatus(t.Status)
	}
	row := &model.Task{
		ID:              id,
		OrganizationID:  org,
		ProjectID:       ref(c, model.ParseProjectID, owner, "projectId", t.ProjectID),
		PhaseID:         ref(c, model.ParsePhaseID, owner, "phaseId", t.PhaseID),
		Label:           t.Label,
		Description:     t.Description,
		Type:            model.TaskType(t.Type),
		Status:          status,
		CloseReason:     t.CloseReason,
		ErrorReason:     t.ErrorReason,
		CompletedAction: t.CompletedAction,
		TriggerEventID:  optionalRef(c, model.ParseEventID, owner, "triggerEventId", t.TriggerEventID),
		CreatedAt:       c.now,
		ModifiedAt:      c.now,
	}
	if !row.Type.IsValid() {
		c.problem("%s: type %q is not one of %v", owner, t.Type, model.AllTaskType)
	}
	if !row.Status.IsValid() {
		c.problem("%s: status %q is not one of %v", owner, t.Status, model.AllTaskStatus)
	}
	if t.ActionTaken != nil {
		action := model.TaskAction(*t.ActionTaken)
		if !action.IsValid() {
			c.problem("%s: actionTaken %q is not one of %v", owner, *t.ActionTaken, model.AllTaskAction)
		}
		row.ActionTaken = &action
	}
	c.validJSON(owner, "completedAction", t.CompletedAction)
	c.tasks[id] = row
	c.rows.tasks = append(c.rows.tasks, row)

	for j, d := range t.Data {
		dataID, ok := own(c, model.ParseTaskDataID, c.taskData, owner+": data", j, d.ID)
		if !ok {
			continue
		}
		source, typ := model.TaskDataSourceEmail, model.TaskDataTypeResponse
		if d.Source != "" {
			source = model.TaskDataSource(d.Source)
		}
		if d.Type != "" {
			typ = model.TaskDataType(d.Type)
		}
		if !source.IsValid() {
			c.problem("%s: data %s: source %q is not one of %v", owner, d.ID, d.Source, model.AllTaskDataSource)
		}
		if !typ.IsValid() {
			c.problem("%s: data %s: type %q is not one of %v", owner, d.ID, d.Type, model.AllTaskDataType)
		}
		c.validJSON(owner+": data "+d.ID, "data", d.Data)
		dataRow := &model.TaskData{
			ID: dataID, TaskID: id, Source: source, Type: typ, Data: d.Data,
			CreatedAt: c.now, ModifiedAt: c.now,
		}
		c.taskData[dataID] = dataRow
		c.rows.taskData = append(c.rows.taskData, dataRow)
	}
	// Strictly increasing times keep the assignees in the order the world lists them.
	for _, u := range refs(c, owner, "assigneeIds", t.AssigneeIDs) {
		at := c.now.Add(time.Duration(len(c.rows.assignees)) * time.Microsecond)
		c.rows.assignees = append(c.rows.assignees, &store.TaskAssignee{TaskID: id, UserID: u, AssignedAt: at})
	}
}

// required reports an empty string field that the schema needs.
func (c *checker) required(owner, field, value string) {
	if value == "" {
		c.problem("%s: %s is missing", owner, field)
	}
}

// validJSON reports a JSON field that is not JSON (possible in a world built in Go), which
// PostgreSQL would refuse and SQLite would keep.
func (c *checker) validJSON(owner, field string, j model.JSON) {
	if len(j) > 0 && !json.Valid(j) {
		c.problem("%s: %s is not valid JSON", owner, field)
	}
}

// own parses the id of the entry at index i of a list; false when it is malformed or defined
// twice.
func own[ID ~string, T any](c *checker, parse func(string) (ID, error), defined map[ID]*T, list string, i int, s string) (ID, bool) {
	id, err := parse(s)
	if err != nil {
		c.problem("%s[%d]: id %v", list, i, err)
		return "", false
	}
	if defined[id] != nil {
		c.problem("%s[%d]: id %s is defined twice", list, i, id)
		return "", false
	}
	return id, true
}

// ref parses a reference that must be given; "" when it is missing or malformed (reported).
func ref[ID ~string](c *checker, parse func(string) (ID, error), owner, field, s string) ID {
	if s == "" {
		c.problem("%s: %s is missing", owner, field)
		return ""
	}
	id, err := parse(s)
	if err != nil {
		c.problem("%s: %s %v", owner, field, err)
		return ""
	}
	return id
}

// optionalRef parses a reference that may be absent: nil when absent or malformed (reported).
func optionalRef[ID ~string](c *checker, parse func(string) (ID, error), owner, field, s string) *ID {
	if s == "" {
		return nil
	}
	if id := ref(c, parse, owner, field, s); id != "" {
		return &id
	}
	return nil
}

// refs parses a list of user ids; a repeated id is reported and kept once.
func refs(c *checker, owner, field string, ss []string) []model.UserID {
	seen := make(map[model.UserID]bool, len(ss))
	ids := make([]model.UserID, 0, len(ss))
	for i, s := range ss {
		id := ref(c, model.ParseUserID, owner, fmt.Sprintf("%s[%d]", field, i), s)
		switch {
		case id == "":
		case seen[id]:
			c.problem("%s: %s lists %s twice", owner, field, id)
		default:
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// lookup adds to the known rows those of the database that the world refers to, and reports the
// world's rows whose id is already taken there.
func (c *checker) lookup(ctx context.Context, tx *store.Store) error {
	r := &c.rows
	var (
		orgs      []model.OrganizationID
		companies []model.CompanyID
		users     []model.UserID
		projects  []model.ProjectID
		phases    []model.PhaseID
		events    []model.EventID
	)
	for _, co := range r.companies {
		orgs = append(orgs, co.OrganizationID)
	}
	for _, u := range r.users {
		orgs, companies = append(orgs, u.OrganizationID), append(companies, u.CompanyID)
		if u.InvitedByID != nil {
			users = append(users, *u.InvitedByID)
		}
	}
	for _, tk := range r.tokens {
		users = append(users, tk.UserID)
	}
	for _, p := range r.projects {
		orgs = append(orgs, p.OrganizationID)
	}
	for _, m := range r.members {
		users = append(users, m.UserID)
	}
	for _, ph := range r.phases {
		projects = append(projects, ph.ProjectID)
	}
	for _, e := range r.events {
		orgs = append(orgs, e.OrganizationID)
		if e.ActorID != nil {
			users = append(users, *e.ActorID)
		}
	}
	for _, t := range r.tasks {
		orgs, projects, phases = append(orgs, t.OrganizationID), append(projects, t.ProjectID), append(phases, t.PhaseID)
		if t.TriggerEventID != nil {
			events = append(events, *t.TriggerEventID)
		}
	}
	for _, a := range r.assignees {
		users = append(users, a.UserID)
	}
	for _, find := range []func() error{
		func() error { return existing(ctx, c, tx, "organization", c.orgs, orgs, organizationID) },
		func() error { return existing(ctx, c, tx, "company", c.companies, companies, companyID) },
		func() error { return existing(ctx, c, tx, "user", c.users, users, userID) },
		func() error { return existing(ctx, c, tx, "project", c.projects, projects, projectID) },
		func() error { return existing(ctx, c, tx, "phase", c.phases, phases, phaseID) },
		func() error { return existing(ctx, c, tx, "event", c.events, events, eventID) },
		func() error { return existing(ctx, c, tx, "task", c.tasks, nil, taskID) },
		func() error { return existing(ctx, c, tx, "task data", c.taskData, nil, taskDataID) },
	} {
		if err := find(); err != nil {
			return err
		}
	}
	return nil
}

// The ids of the rows, for existing.
func organizationID(o *model.Organization) model.OrganizationID { return o.ID }
func companyID(co *model.Company) model.CompanyID               { return co.ID }
func userID(u *model.User) model.UserID                         { return u.ID }
func projectID(p *model.Project) model.ProjectID                { return p.ID }
func phaseID(ph *model.Phase) model.PhaseID                     { return ph.ID }
func eventID(e *model.Event) model.EventID                      { return e.ID }
func taskID(t *model.Task) model.TaskID                         { return t.ID }
func taskDataID(d *model.TaskData) model.TaskDataID             { return d.ID }

// existing reads the stored rows among the world's own ids (reported: taken) and the wanted
// references (added to known).
func existing[T any, ID ~string](ctx context.Context, c *checker, tx *store.Store, noun string, known map[ID]*T, wanted []ID, idOf func(*T) ID) error {
	ids := make([]ID, 0, len(known)+len(wanted))
	for id := range known {
		ids = append(ids, id)
	}
	for _, id := range wanted {
		if id != "" && known[id] == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	found, err := store.ExistingByID[T](ctx, tx, ids)
	if err != nil {
		return err
	}
	for i := range found {
		row := &found[i]
		if id := idOf(row); known[id] != nil {
			c.problem("%s %s already exists in the database", noun, id)
		} else {
			known[id] = row
		}
	}
	return nil
}

// link checks every reference: it names a known row, of the same organization, and a task's
// phase is one of its project's. It completes what defaults to another row's (a task's
// organization).
func (c *checker) link() {
	r := &c.rows
	agencies := map[model.OrganizationID][]model.CompanyID{}
	for _, co := range r.companies {
		if org := known(c, c.orgs, "company "+string(co.ID), "organization", co.OrganizationID); org != nil && co.Kind == model.CompanyKindAgency {
			agencies[org.ID] = append(agencies[org.ID], co.ID)
		}
	}
	for _, o := range r.organizations {
		if ids := agencies[o.ID]; len(ids) > 1 {
			c.problem("organization %s: companies %v are all AGENCY, and an organization has one agency company", o.ID, ids)
		}
	}
	for i, u := range r.users {
		owner := "user " + string(u.ID)
		known(c, c.orgs, owner, "organization", u.OrganizationID)
		if co := known(c, c.companies, owner, "company", u.CompanyID); co != nil && u.OrganizationID != "" && co.OrganizationID != u.OrganizationID {
			c.problem("%s: company %s is not a company of organization %s", owner, co.ID, u.OrganizationID)
		}
		if u.InvitedByID == nil {
			continue
		}
		inviter := known(c, c.users, owner, "inviter", *u.InvitedByID)
		if pos, inWorld := c.userOrder[*u.InvitedByID]; inWorld && pos >= i {
			c.problem("%s: inviter %s must be listed before the users it invited", owner, *u.InvitedByID)
			continue
		}
		c.sameOrganization(owner, "inviter", inviter, u.OrganizationID)
	}
	for i, tk := range r.tokens {
		known(c, c.users, fmt.Sprintf("tokens[%d]", i), "user", tk.UserID)
	}
	for _, p := range r.projects {
		known(c, c.orgs, "project "+string(p.ID), "organization", p.OrganizationID)
	}
	for _, m := range r.members {
		owner := "project " + string(m.ProjectID)
		c.sameOrganization(owner, "member", known(c, c.users, owner, "member", m.UserID), c.projects[m.ProjectID].OrganizationID)
	}
	for _, ph := range r.phases {
		known(c, c.projects, "phase "+string(ph.ID), "project", ph.ProjectID)
	}
	for _, e := range r.events {
		owner := "event " + string(e.ID)
		known(c, c.orgs, owner, "organization", e.OrganizationID)
		if e.ActorID != nil {
			c.sameOrganization(owner, "actor", known(c, c.users, owner, "actor", *e.ActorID), e.OrganizationID)
		}
	}
	for _, t := range r.tasks {
		c.linkTask(t)
	}
	for _, a := range r.assignees {
		owner := "task " + string(a.TaskID)
		c.sameOrganization(owner, "assignee", known(c, c.users, owner, "assignee", a.UserID), c.tasks[a.TaskID].OrganizationID)
	}
}

func (c *checker) linkTask(t *model.Task) {
	owner := "task " + string(t.ID)
	project := known(c, c.projects, owner, "project", t.ProjectID)
	if project != nil {
		if t.OrganizationID != "" && t.OrganizationID != project.OrganizationID {
			c.problem("%s: organization %s is not the organization %s of project %s", owner, t.OrganizationID, project.OrganizationID, project.ID)
		}
		t.OrganizationID = project.OrganizationID
	}
	if phase := known(c, c.phases, owner, "phase", t.PhaseID); phase != nil && project != nil && phase.ProjectID != project.ID {
		c.problem("%s: phase %s is not a phase of project %s", owner, phase.ID, project.ID)
	}
	if t.TriggerEventID != nil {
		event := known(c, c.events, owner, "trigger event", *t.TriggerEventID)
		if event != nil && t.OrganizationID != "" && event.OrganizationID != t.OrganizationID {
			c.problem("%s: trigger event %s is of organization %s, not %s", owner, event.ID, event.OrganizationID, t.OrganizationID)
		}
	}
}

// known returns the known row of a reference, or reports that it does not exist. An empty id
// was reported as malformed already.
func known[ID ~string, T any](c *checker, rows map[ID]*T, owner, noun string, id ID) *T {
	if id == "" {
		return nil
	}
	if row := rows[id]; row != nil {
		return row
	}
	c.problem("%s: %s %s does not exist", owner, noun, id)
	return nil
}

// sameOrganization reports a user of another organization than org: nothing crosses
// organizations (DESIGN §2).
func (c *checker) sameOrganization(owner, role string, u *model.User, org model.OrganizationID) {
	if u != nil && org != "" && u.OrganizationID != org {
		c.problem("%s: %s %s is of organization %s, not %s", owner, role, u.ID, u.OrganizationID, org)
	}
}
