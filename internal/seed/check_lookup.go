package seed

import (
	"context"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// references are the ids that the world's rows refer to, by noun; link checks the same
// references.
type references struct {
	orgs      []model.OrganizationID
	companies []model.CompanyID
	users     []model.UserID
	projects  []model.ProjectID
	phases    []model.PhaseID
	events    []model.EventID
}

// lookup adds to the known rows those of the database that the world refers to, and reports the
// world's rows whose id is already taken there.
func (c *checker) lookup(ctx context.Context, tx *store.Store) error {
	want := c.rows.references()
	for _, find := range []func() error{
		func() error { return existing(ctx, c, tx, "organization", c.orgs, want.orgs, organizationID) },
		func() error { return existing(ctx, c, tx, "company", c.companies, want.companies, companyID) },
		func() error { return existing(ctx, c, tx, "user", c.users, want.users, userID) },
		func() error { return existing(ctx, c, tx, "project", c.projects, want.projects, projectID) },
		func() error { return existing(ctx, c, tx, "phase", c.phases, want.phases, phaseID) },
		func() error { return existing(ctx, c, tx, "event", c.events, want.events, eventID) },
		func() error { return existing(ctx, c, tx, "task", c.tasks, nil, taskID) },
		func() error { return existing(ctx, c, tx, "task data", c.taskData, nil, taskDataID) },
	} {
		if err := find(); err != nil {
			return err
		}
	}
	return nil
}

// references collects what the rows refer to.
func (r *rows) references() references {
	var w references
	for _, co := range r.companies {
		w.orgs = append(w.orgs, co.OrganizationID)
	}
	for _, u := range r.users {
		w.orgs, w.companies = append(w.orgs, u.OrganizationID), append(w.companies, u.CompanyID)
		if u.InvitedByID != nil {
			w.users = append(w.users, *u.InvitedByID)
		}
	}
	for _, tk := range r.tokens {
		w.users = append(w.users, tk.UserID)
	}
	for _, p := range r.projects {
		w.orgs = append(w.orgs, p.OrganizationID)
	}
	for _, m := range r.members {
		w.users = append(w.users, m.UserID)
	}
	for _, ph := range r.phases {
		w.projects = append(w.projects, ph.ProjectID)
	}
	for _, e := range r.events {
		w.orgs = append(w.orgs, e.OrganizationID)
		if e.ActorID != nil {
			w.users = append(w.users, *e.ActorID)
		}
	}
	for _, t := range r.tasks {
		w.orgs, w.projects, w.phases = append(w.orgs, t.OrganizationID), append(w.projects, t.ProjectID), append(w.phases, t.PhaseID)
		if t.TriggerEventID != nil {
			w.events = append(w.events, *t.TriggerEventID)
		}
	}
	for _, a := range r.assignees {
		w.users = append(w.users, a.UserID)
	}
	return w
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
