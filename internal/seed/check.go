package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

// checker turns a world into rows, checking every id and every reference on the way. The checks
// of each noun are in the file named after it (check_users.go, check_tasks.go, ...); the reading
// of the rows a world refers to in the database is in check_lookup.go.
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
// malformed or taken is left out; a malformed reference is left empty, reported once. The nouns
// go in the order of their foreign keys, and so do the problems.
func (c *checker) define(w *World) {
	for i, o := range w.Organizations {
		c.defineOrganization(i, o)
	}
	for i, co := range w.Companies {
		c.defineCompany(i, co)
	}
	for i, u := range w.Users {
		c.defineUser(i, u)
	}
	for i, tk := range w.Tokens {
		c.defineToken(i, tk)
	}
	for i, p := range w.Projects {
		c.defineProject(i, p)
	}
	positions := map[string]int{} // the phases so far of each project, for a default position
	for i, ph := range w.Phases {
		c.definePhase(i, ph, positions)
	}
	for i, e := range w.Events {
		c.defineEvent(i, e)
	}
	for i, t := range w.Tasks {
		c.defineTask(i, t)
	}
}

// link checks every reference: it names a known row, of the same organization, and a task's
// phase is one of its project's. It completes what defaults to another row's (a task's
// organization).
func (c *checker) link() {
	r := &c.rows
	c.linkCompanies()
	for i, u := range r.users {
		c.linkUser(i, u)
	}
	for i, tk := range r.tokens {
		c.linkToken(i, tk)
	}
	for _, p := range r.projects {
		c.linkProject(p)
	}
	for _, m := range r.members {
		c.linkMember(m)
	}
	for _, ph := range r.phases {
		c.linkPhase(ph)
	}
	for _, e := range r.events {
		c.linkEvent(e)
	}
	for _, t := range r.tasks {
		c.linkTask(t)
	}
	for _, a := range r.assignees {
		c.linkAssignee(a)
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
