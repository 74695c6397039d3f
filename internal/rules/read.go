package rules

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

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
func (s *Service) Task(ctx context.Context, v *model.Viewer, id string) (*model.Task, error) {
	tid, err := model.ParseTaskID(id)
	if err != nil {
		return nil, err
	}
	m, err := s.TasksByID(ctx, v, []model.TaskID{tid})
	return one(m, err, "task", tid)
}

// Tasks lists the visible tasks that pass the filter, oldest first.
func (s *Service) Tasks(ctx context.Context, v *model.Viewer, f *model.TaskFilter, a PageArgs) (*Page[model.Task], error) {
	sf, err := taskFilter(f)
	if err != nil {
		return nil, err
	}
	return list(v, a, func(t *model.Task) Position { return byID(t.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.Task], error) {
			return s.store.Tasks(ctx, sc, sf, p)
		},
		func(ctx context.Context, sc store.Scope) (int, error) { return s.store.CountTasks(ctx, sc, sf) })
}

// ProjectTasks lists a visible project's visible tasks that pass the filter.
func (s *Service) ProjectTasks(ctx context.Context, v *model.Viewer, project *model.Project, f *model.TaskFilter, a PageArgs) (*Page[model.Task], error) {
	pf := model.TaskFilter{}
	if f != nil {
		pf = *f
	}
	id := string(project.ID)
	if pf.ProjectID != nil && *pf.ProjectID != id {
		// A task is in one project: filtering a project's tasks by another project finds none.
		if _, err := taskFilter(&pf); err != nil {
			return nil, err
		}
		if _, err := storePage(a); err != nil {
			return nil, err
		}
		return &Page[model.Task]{Count: func(context.Context) (int, error) { return 0, nil }}, nil
	}
	pf.ProjectID = &id
	return s.Tasks(ctx, v, &pf, a)
}

func taskFilter(f *model.TaskFilter) (store.TaskFilter, error) {
	var sf store.TaskFilter
	if f == nil {
		return sf, nil
	}
	var err error
	if sf.ProjectID, err = optional(f.ProjectID, model.ParseProjectID); err != nil {
		return sf, err
	}
	if sf.PhaseID, err = optional(f.PhaseID, model.ParsePhaseID); err != nil {
		return sf, err
	}
	if sf.AssigneeID, err = optional(f.AssigneeID, model.ParseUserID); err != nil {
		return sf, err
	}
	// A repeated value changes nothing; without repeats a list is as short as its enum.
	sf.Statuses, sf.Types, sf.Unassigned = distinct(f.Status), distinct(f.Type), f.Unassigned
	return sf, nil
}

// distinct returns the values without repeats, in first-seen order.
func distinct[T comparable](values []T) []T {
	seen := make(map[T]bool, len(values))
	out := values[:0:0]
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// MaxSearchLength is the most characters a search may hold: longer than any name or email.
const MaxSearchLength = 256

// searchText checks a search string: at most MaxSearchLength characters, and no NUL, which no
// name or email holds and PostgreSQL's text cannot.
func searchText(s *string) (string, error) {
	if s == nil {
		return "", nil
	}
	if n := utf8.RuneCountInString(*s); n > MaxSearchLength {
		return "", badInput("search must hold at most %d characters, got %d", MaxSearchLength, n)
	}
	if strings.ContainsRune(*s, 0) {
		return "", badInput("search must not contain the NUL character")
	}
	return *s, nil
}

// optional parses an optional id.
func optional[T any](s *string, parse func(string) (T, error)) (*T, error) {
	if s == nil {
		return nil, nil
	}
	id, err := parse(*s)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

// User returns a user of the viewer's organization, or not found.
func (s *Service) User(ctx context.Context, v *model.Viewer, id string) (*model.User, error) {
	uid, err := model.ParseUserID(id)
	if err != nil {
		return nil, err
	}
	m, err := s.UsersByID(ctx, v, []model.UserID{uid})
	return one(m, err, "user", uid)
}

// Users lists the users of the viewer's organization that pass the filter.
func (s *Service) Users(ctx context.Context, v *model.Viewer, f *model.UserFilter, a PageArgs) (*Page[model.User], error) {
	var uf store.UserFilter
	if f != nil {
		var err error
		if uf.ProjectID, err = optional(f.ProjectID, model.ParseProjectID); err != nil {
			return nil, err
		}
		if uf.CompanyID, err = optional(f.CompanyID, model.ParseCompanyID); err != nil {
			return nil, err
		}
		uf.Kind = f.Kind
		if uf.Search, err = searchText(f.Search); err != nil {
			return nil, err
		}
	}
	return s.users(ctx, v, uf, a)
}

func (s *Service) users(ctx context.Context, v *model.Viewer, uf store.UserFilter, a PageArgs) (*Page[model.User], error) {
	return list(v, a, func(u *model.User) Position { return byID(u.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.User], error) {
			return s.store.Users(ctx, sc, uf, p)
		},
		func(ctx context.Context, sc store.Scope) (int, error) { return s.store.CountUsers(ctx, sc, uf) })
}

// ProjectMembers lists the members of a visible project.
func (s *Service) ProjectMembers(ctx context.Context, v *model.Viewer, project *model.Project, a PageArgs) (*Page[model.User], error) {
	return s.users(ctx, v, store.UserFilter{MembersOf: &project.ID}, a)
}

// AssignableUsers lists the users rules 1–3 allow for a visible task: members of its project and,
// on an internal phase, only the agency company's (what an assignee picker needs).
func (s *Service) AssignableUsers(ctx context.Context, v *model.Viewer, task *model.Task, search *string, a PageArgs) (*Page[model.User], error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	text, err := searchText(search)
	if err != nil {
		return nil, err
	}
	phases, err := s.store.PhasesByID(ctx, sc, []model.PhaseID{task.PhaseID})
	phase, err := one(phases, err, "phase", task.PhaseID)
	if err != nil {
		return nil, err
	}
	return s.users(ctx, v, store.UserFilter{MembersOf: &task.ProjectID, AgencyOnly: phase.Internal, Search: text}, a)
}

// Assignees lists a visible task's assignees in assignment order (the second seed document's GET).
func (s *Service) Assignees(ctx context.Context, v *model.Viewer, taskID string) ([]*model.User, error) {
	t, err := s.Task(ctx, v, taskID)
	if err != nil {
		return nil, err
	}
	m, err := s.AssigneesOf(ctx, v, []model.TaskID{t.ID})
	if err != nil {
		return nil, err
	}
	return m[t.ID], nil
}

// TaskEvents lists the events of a visible task, oldest first.
func (s *Service) TaskEvents(ctx context.Context, v *model.Viewer, task *model.Task, a PageArgs) (*Page[model.Event], error) {
	if _, err := scope(v); err != nil {
		return nil, err
	}
	p, err := storePage(a)
	if err != nil {
		return nil, err
	}
	l, err := s.store.EventsOf(ctx, task, p)
	if err != nil {
		return nil, err
	}
	pos := func(e *model.Event) Position { return Position{ID: string(e.ID), Time: e.Timestamp} }
	return page(l, a, pos, func(ctx context.Context) (int, error) { return s.store.CountEventsOf(ctx, task) }), nil
}

// Project returns a visible project, or not found.
func (s *Service) Project(ctx context.Context, v *model.Viewer, id string) (*model.Project, error) {
	pid, err := model.ParseProjectID(id)
	if err != nil {
		return nil, err
	}
	m, err := s.ProjectsByID(ctx, v, []model.ProjectID{pid})
	return one(m, err, "project", pid)
}

// Projects lists the visible projects.
func (s *Service) Projects(ctx context.Context, v *model.Viewer, a PageArgs) (*Page[model.Project], error) {
	return list(v, a, func(p *model.Project) Position { return byID(p.ID) },
		func(sc store.Scope, p store.Page) (store.List[model.Project], error) {
			return s.store.Projects(ctx, sc, p)
		},
		s.store.CountProjects)
}

// Node returns the visible object with this id, whatever its type (the prefix tells).
func (s *Service) Node(ctx context.Context, v *model.Viewer, id string) (model.Node, error) {
	prefix, ok := model.PrefixOf(id)
	if !ok {
		return nil, badInput("%q is not a well-formed id", id)
	}
	var (
		n   model.Node
		err error
	)
	switch prefix {
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
		n, err = node(s.TasksByID(ctx, v, []model.TaskID{model.TaskID(id)}))
	case model.PrefixEvent:
		n, err = node(s.EventsByID(ctx, v, []model.EventID{model.EventID(id)}))
	case model.PrefixTaskData:
		n, err = node(s.TaskDataByID(ctx, v, []model.TaskDataID{model.TaskDataID(id)}))
	default:
		return nil, badInput("%q is not the id of a known type", id)
	}
	if err == nil && n == nil {
		err = notFound("node", id)
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
