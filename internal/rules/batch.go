package rules

import (
	"context"

	"github.com/taskql/taskql/model"
)

// The batch reads behind the per-request loaders: each returns the visible rows among ids in one
// query, keyed by id; an id missing from the result does not exist for the viewer.

// TasksByID returns the visible tasks among ids.
func (s *Service) TasksByID(ctx context.Context, v *Viewer, ids []model.TaskID) (map[model.TaskID]*model.Task, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.TasksByID(ctx, sc, ids)
}

// UsersByID returns the users of the viewer's organization among ids.
func (s *Service) UsersByID(ctx context.Context, v *Viewer, ids []model.UserID) (map[model.UserID]*model.User, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.UsersByID(ctx, sc, ids)
}

// ProjectsByID returns the visible projects among ids.
func (s *Service) ProjectsByID(ctx context.Context, v *Viewer, ids []model.ProjectID) (map[model.ProjectID]*model.Project, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.ProjectsByID(ctx, sc, ids)
}

// PhasesByID returns the visible phases among ids.
func (s *Service) PhasesByID(ctx context.Context, v *Viewer, ids []model.PhaseID) (map[model.PhaseID]*model.Phase, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.PhasesByID(ctx, sc, ids)
}

// PhasesOfProjects returns the visible phases of each project, by position.
func (s *Service) PhasesOfProjects(ctx context.Context, v *Viewer, ids []model.ProjectID) (map[model.ProjectID][]*model.Phase, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.PhasesOfProjects(ctx, sc, ids)
}

// OrganizationsByID returns the viewer's organization if it is among ids.
func (s *Service) OrganizationsByID(ctx context.Context, v *Viewer, ids []model.OrganizationID) (map[model.OrganizationID]*model.Organization, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.OrganizationsByID(ctx, sc, ids)
}

// CompaniesByID returns the companies of the viewer's organization among ids.
func (s *Service) CompaniesByID(ctx context.Context, v *Viewer, ids []model.CompanyID) (map[model.CompanyID]*model.Company, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.CompaniesByID(ctx, sc, ids)
}

// EventsByID returns the visible events among ids.
func (s *Service) EventsByID(ctx context.Context, v *Viewer, ids []model.EventID) (map[model.EventID]*model.Event, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.EventsByID(ctx, sc, ids)
}

// TaskDataByID returns the visible task data entries among ids.
func (s *Service) TaskDataByID(ctx context.Context, v *Viewer, ids []model.TaskDataID) (map[model.TaskDataID]*model.TaskData, error) {
	sc, err := scope(v)
	if err != nil {
		return nil, err
	}
	return s.store.TaskDataByID(ctx, sc, ids)
}

// AssigneesOf returns the assignees of each visible task among ids, in assignment order.
func (s *Service) AssigneesOf(ctx context.Context, v *Viewer, ids []model.TaskID) (map[model.TaskID][]*model.User, error) {
	// The tasks reached the caller through a visible parent; the store reads only their rows.
	if _, err := scope(v); err != nil {
		return nil, err
	}
	return s.store.AssigneesOf(ctx, ids)
}

// TaskDataOf returns the data entries of each task among ids.
func (s *Service) TaskDataOf(ctx context.Context, v *Viewer, ids []model.TaskID) (map[model.TaskID][]*model.TaskData, error) {
	if _, err := scope(v); err != nil {
		return nil, err
	}
	return s.store.TaskDataOf(ctx, ids)
}
