package rules

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The reads of DESIGN §4. Each takes the viewer and ids, and reads through the viewer's scope
// (visibility.go): an id the viewer cannot see reads as not found, or as nothing in a list.

// Viewer returns the viewer itself.
func (s *Service) Viewer(_ context.Context, v *model.Viewer) (*model.User, error) {
	if _, err := scope(v); err != nil {
		return nil, err
	}
	return v.User, nil
}

// one picks the row with id from a batch read, or not found.
func one[K ~string, T any](m map[K]*T, err error, what string, id K) (*T, error) {
	if err != nil {
		return nil, err
	}
	if t, ok := m[id]; ok {
		return t, nil
	}
	return nil, notFound(what, string(id))
}

// Task returns a visible task, or not found.
func (s *Service) Task(ctx context.Context, v *model.Viewer, id model.TaskID) (*model.Task, error) {
	return s.TaskWith(ctx, v, id, Relations{})
}

// TaskWith is Task with the relations asked for read along.
func (s *Service) TaskWith(ctx context.Context, v *model.Viewer, id model.TaskID, want Relations) (*model.Task, error) {
	sc, err := s.scope(v)
	if err != nil {
		return nil, err
	}
	m, err := s.store.TasksByID(ctx, sc, []model.TaskID{id}, want.with())
	return one(m, err, "task", id)
}

// TaskFilter narrows a task list (DESIGN §4 TaskFilter), its ids parsed. A repeated status or
// type changes nothing.
type TaskFilter = store.TaskFilter

// Tasks lists the visible tasks that pass the filter, oldest first.
func (s *Service) Tasks(ctx context.Context, v *model.Viewer, f TaskFilter, a PageArgs) (*Page[model.Task], error) {
	return s.TasksWith(ctx, v, f, a, Relations{})
}

// TasksWith is Tasks with the relations asked for read along: a page of tasks with their phases
// and assignees is one statement, whatever its size.
func (s *Service) TasksWith(ctx context.Context, v *model.Viewer, f TaskFilter, a PageArgs, want Relations) (*Page[model.Task], error) {
	// Without repeats a list of statuses or types is as short as its enum.
	f.Statuses, f.Types = distinct(f.Statuses), distinct(f.Types)
	return list(s, v, a, func(t *model.Task) Position { return byID(t.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.Task], error) {
			return s.store.Tasks(ctx, sc, f, p, want.with())
		},
		func(ctx context.Context, sc store.Scope) (int, error) { return s.store.CountTasks(ctx, sc, f) })
}

// ProjectTasks lists the visible tasks of a project that pass the filter: none when the project
// is not visible.
func (s *Service) ProjectTasks(ctx context.Context, v *model.Viewer, project model.ProjectID, f TaskFilter, a PageArgs) (*Page[model.Task], error) {
	return s.ProjectTasksWith(ctx, v, project, f, a, Relations{})
}

// ProjectTasksWith is ProjectTasks with the relations asked for read along.
func (s *Service) ProjectTasksWith(ctx context.Context, v *model.Viewer, project model.ProjectID, f TaskFilter, a PageArgs, want Relations) (*Page[model.Task], error) {
	if f.ProjectID != nil && *f.ProjectID != project {
		// A task is in one project: filtering a project's tasks by another project finds none.
		if _, err := scope(v); err != nil {
			return nil, err
		}
		if _, err := storePage(a); err != nil {
			return nil, err
		}
		return &Page[model.Task]{count: func(context.Context) (int, error) { return 0, nil }}, nil
	}
	f.ProjectID = &project
	return s.TasksWith(ctx, v, f, a, want)
}

// distinct returns the values without repeats, in first-seen order.
func distinct[T comparable](values []T) []T {
	out := values[:0:0]
	for _, v := range values {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// MaxSearchLength is the most characters a search may hold: longer than any name or email.
const MaxSearchLength = 256

// searchText checks a search string: at most MaxSearchLength characters, and no NUL, which no
// name or email holds and PostgreSQL's text cannot.
func searchText(s string) (string, error) {
	if n := utf8.RuneCountInString(s); n > MaxSearchLength {
		return "", badInput("search must hold at most %d characters, got %d", MaxSearchLength, n)
	}
	if strings.ContainsRune(s, 0) {
		return "", badInput("search must not contain the NUL character")
	}
	return s, nil
}

// User returns a user of the viewer's organization, or not found.
func (s *Service) User(ctx context.Context, v *model.Viewer, id model.UserID) (*model.User, error) {
	m, err := s.UsersByID(ctx, v, []model.UserID{id})
	return one(m, err, "user", id)
}

// UserFilter narrows a user list (DESIGN §4 UserFilter), its ids parsed.
type UserFilter struct {
	ProjectID *model.ProjectID
	CompanyID *model.CompanyID
	Kind      *model.CompanyKind
	// Search is a case-insensitive substring of the name or the email.
	Search string
}

// Users lists the users of the viewer's organization that pass the filter; a project filter
// counts only a visible project's members.
func (s *Service) Users(ctx context.Context, v *model.Viewer, f UserFilter, a PageArgs) (*Page[model.User], error) {
	text, err := searchText(f.Search)
	if err != nil {
		return nil, err
	}
	return s.users(ctx, v, store.UserFilter{ProjectID: f.ProjectID, CompanyID: f.CompanyID, Kind: f.Kind, Search: text}, a)
}

func (s *Service) users(ctx context.Context, v *model.Viewer, uf store.UserFilter, a PageArgs) (*Page[model.User], error) {
	return list(s, v, a, func(u *model.User) Position { return byID(u.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.User], error) {
			return s.store.Users(ctx, sc, uf, p)
		},
		func(ctx context.Context, sc store.Scope) (int, error) { return s.store.CountUsers(ctx, sc, uf) })
}

// ProjectMembers lists the members of a project: none when the project is not visible.
func (s *Service) ProjectMembers(ctx context.Context, v *model.Viewer, project model.ProjectID, a PageArgs) (*Page[model.User], error) {
	return s.users(ctx, v, store.UserFilter{ProjectID: &project}, a)
}

// UserOrder is the order of a task's assignable users: ByID, ByName or ByLoad (DESIGN §10).
type UserOrder = store.UserOrder

// The orders of a task's assignable users.
const (
	ByID   = store.ByID
	ByName = store.ByName
	ByLoad = store.ByLoad
)

// Assignable is a page of a task's assignable users with each one's open assigned count: the
// tasks assigned to it whose status is OPEN, PROCESSING or ASSIGNED_TO_AGENT, among those the
// viewer sees (DESIGN §10), read in the page's statement.
type Assignable struct {
	*Page[model.User]
	OpenAssigned map[model.UserID]int
}

// AssignableUsers lists the users rules 1–3 allow for a visible task: members of its project and,
// on an internal phase, only the agency company's (what an assignee picker needs), in an order,
// least loaded first with ByLoad.
func (s *Service) AssignableUsers(ctx context.Context, v *model.Viewer, task model.TaskID, search string, order UserOrder, a PageArgs) (*Assignable, error) {
	sc, err := s.scope(v)
	if err != nil {
		return nil, err
	}
	text, err := searchText(search)
	if err != nil {
		return nil, err
	}
	p, err := storePage(a)
	if err != nil {
		return nil, err
	}
	at, err := s.store.PlacementOf(ctx, sc, task)
	if err != nil {
		return nil, notFoundAs(err, notFound("task", string(task)))
	}
	f := store.UserFilter{MembersOf: &at.ProjectID, AgencyOnly: at.Internal, Search: text}
	l, err := s.store.AssignableUsers(ctx, sc, f, order, p)
	if err != nil {
		return nil, err
	}
	out := &Assignable{OpenAssigned: make(map[model.UserID]int, len(l.Items))}
	users := store.List[model.User]{Items: make([]*model.User, len(l.Items)), HasNext: l.HasNext}
	for i, u := range l.Items {
		users.Items[i] = &u.User
		out.OpenAssigned[u.ID] = u.OpenAssigned
	}
	out.Page = page(users, a, func(u *model.User) Position { return byID(u.ID) },
		func(ctx context.Context) (int, error) { return s.store.CountUsers(ctx, sc, f) })
	return out, nil
}

// OpenAssignedCounts counts, for each user of the viewer's organization among ids, the open tasks
// assigned to it among those the viewer sees (DESIGN §10).
func (s *Service) OpenAssignedCounts(ctx context.Context, v *model.Viewer, ids []model.UserID) (map[model.UserID]int, error) {
	return scoped(ctx, s, v, ids, s.store.OpenAssignedCounts)
}

// Assignees lists a visible task's assignees in assignment order (the second seed document's GET).
func (s *Service) Assignees(ctx context.Context, v *model.Viewer, task model.TaskID) ([]*model.User, error) {
	_, users, err := s.TaskAssignees(ctx, v, task)
	return users, err
}

// TaskAssignees is Assignees with the task itself, whose version a conditional write then gives
// (DESIGN §10).
func (s *Service) TaskAssignees(ctx context.Context, v *model.Viewer, task model.TaskID) (*model.Task, []*model.User, error) {
	t, err := s.Task(ctx, v, task)
	if err != nil {
		return nil, nil, err
	}
	m, err := s.AssigneesOf(ctx, v, []model.TaskID{task})
	if err != nil {
		return nil, nil, err
	}
	return t, m[task], nil
}

// Primary is the primary assignee of a task whose assignees, in assignment order, are given: the
// first of them, or nobody (DESIGN §1: the first document's single assignee).
func Primary(assignees []*model.User) *model.User {
	if len(assignees) == 0 {
		return nil
	}
	return assignees[0]
}

// TaskEvents lists the events of a visible task, oldest first: none when the task is not visible.
func (s *Service) TaskEvents(ctx context.Context, v *model.Viewer, task model.TaskID, a PageArgs) (*Page[model.Event], error) {
	sc, err := s.scope(v)
	if err != nil {
		return nil, err
	}
	p, err := storePage(a)
	if err != nil {
		return nil, err
	}
	l, err := s.store.EventsOf(ctx, sc, task, p)
	if err != nil {
		return nil, err
	}
	pos := func(e *model.Event) Position { return Position{ID: string(e.ID), Time: e.Timestamp} }
	return page(l, a, pos, func(ctx context.Context) (int, error) { return s.store.CountEventsOf(ctx, sc, task) }), nil
}

// Project returns a visible project, or not found.
func (s *Service) Project(ctx context.Context, v *model.Viewer, id model.ProjectID) (*model.Project, error) {
	m, err := s.ProjectsByID(ctx, v, []model.ProjectID{id})
	return one(m, err, "project", id)
}

// Projects lists the visible projects.
func (s *Service) Projects(ctx context.Context, v *model.Viewer, a PageArgs) (*Page[model.Project], error) {
	return list(s, v, a, func(p *model.Project) Position { return byID(p.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.Project], error) {
			return s.store.Projects(ctx, sc, p)
		},
		s.store.CountProjects)
}

// Node returns the visible object with this id, whatever its type (the prefix tells).
func (s *Service) Node(ctx context.Context, v *model.Viewer, id model.NodeID) (model.Node, error) {
	var (
		n   model.Node
		err error
	)
	switch id.Prefix() {
	case model.PrefixOrganization:
		n, err = node(s.OrganizationsByID(ctx, v, []model.OrganizationID{model.OrganizationID(id)}))
	case model.PrefixCompany:
		n, err = node(s.CompaniesByID(ctx, v, []model.CompanyID{model.CompanyID(id)}))
	case model.PrefixUser:
		n, err = node(s.UsersByID(ctx, v, []model.UserID{model.UserID(id)}))
	case model.PrefixProject:
		n, err = node(s.ProjectsByID(ctx, v, []model.ProjectID{model.ProjectID(id)}))
	case model.PrefixPhase:
		n, err = node(s.PhasesByID(ctx, v, []model.PhaseID{model.PhaseID(id)}))
	case model.PrefixTask:
		// Read with its phase and assignees, which a client may ask of a task it reached this way.
		n, err = node(scoped(ctx, s, v, []model.TaskID{model.TaskID(id)}, func(ctx context.Context, sc store.Scope, ids []model.TaskID) (map[model.TaskID]*model.Task, error) {
			return s.store.TasksByID(ctx, sc, ids, store.Everything)
		}))
	case model.PrefixEvent:
		n, err = node(s.EventsByID(ctx, v, []model.EventID{model.EventID(id)}))
	case model.PrefixTaskData:
		n, err = node(s.TaskDataByID(ctx, v, []model.TaskDataID{model.TaskDataID(id)}))
	case model.PrefixWebhook:
		n, err = node(webhookNode(ctx, v, model.WebhookID(id), s.store.WebhooksByID))
	case model.PrefixDelivery:
		n, err = node(webhookNode(ctx, v, model.WebhookDeliveryID(id), s.store.WebhookDeliveriesByID))
	}
	if err == nil && n == nil {
		err = notFound("node", string(id))
	}
	return n, err
}

// node takes the single row of a one-id batch read as a Node.
func node[K comparable, T any, PT interface {
	*T
	model.Node
}](m map[K]*T, err error) (model.Node, error) {
	if err != nil {
		return nil, err
	}
	for _, t := range m {
		return PT(t), nil
	}
	return nil, nil
}
