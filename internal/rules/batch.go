package rules

import (
	"context"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The batch reads behind the per-request loaders: each returns the visible rows among ids in one
// query, keyed by id; an id missing from the result does not exist for the viewer.

// TasksByID returns the visible tasks among ids.
func (s *Service) TasksByID(ctx context.Context, v *model.Viewer, ids []model.TaskID) (map[model.TaskID]*model.Task, error) {
	return scoped(ctx, s, v, ids, func(ctx context.Context, sc store.Scope, ids []model.TaskID) (map[model.TaskID]*model.Task, error) {
		return s.store.TasksByID(ctx, sc, ids, store.With{})
	})
}

// UsersByID returns the users of the viewer's organization among ids.
func (s *Service) UsersByID(ctx context.Context, v *model.Viewer, ids []model.UserID) (map[model.UserID]*model.User, error) {
	return scoped(ctx, s, v, ids, s.store.UsersByID)
}

// ProjectsByID returns the visible projects among ids.
func (s *Service) ProjectsByID(ctx context.Context, v *model.Viewer, ids []model.ProjectID) (map[model.ProjectID]*model.Project, error) {
	return scoped(ctx, s, v, ids, s.store.ProjectsByID)
}

// PhasesByID returns the visible phases among ids.
func (s *Service) PhasesByID(ctx context.Context, v *model.Viewer, ids []model.PhaseID) (map[model.PhaseID]*model.Phase, error) {
	return scoped(ctx, s, v, ids, s.store.PhasesByID)
}

// PhasesOfProjects returns the visible phases of each project, by position.
func (s *Service) PhasesOfProjects(ctx context.Context, v *model.Viewer, ids []model.ProjectID) (map[model.ProjectID][]*model.Phase, error) {
	return scoped(ctx, s, v, ids, s.store.PhasesOfProjects)
}

// OrganizationsByID returns the viewer's organization if it is among ids.
func (s *Service) OrganizationsByID(ctx context.Context, v *model.Viewer, ids []model.OrganizationID) (map[model.OrganizationID]*model.Organization, error) {
	return scoped(ctx, s, v, ids, s.store.OrganizationsByID)
}

// CompaniesByID returns the companies of the viewer's organization among ids.
func (s *Service) CompaniesByID(ctx context.Context, v *model.Viewer, ids []model.CompanyID) (map[model.CompanyID]*model.Company, error) {
	return scoped(ctx, s, v, ids, s.store.CompaniesByID)
}

// EventsByID returns the visible events among ids.
func (s *Service) EventsByID(ctx context.Context, v *model.Viewer, ids []model.EventID) (map[model.EventID]*model.Event, error) {
	return scoped(ctx, s, v, ids, s.store.EventsByID)
}

// TaskDataByID returns the visible task data entries among ids.
func (s *Service) TaskDataByID(ctx context.Context, v *model.Viewer, ids []model.TaskDataID) (map[model.TaskDataID]*model.TaskData, error) {
	return scoped(ctx, s, v, ids, s.store.TaskDataByID)
}

// AssigneesOf returns the assignees of each visible task among ids, in assignment order.
func (s *Service) AssigneesOf(ctx context.Context, v *model.Viewer, ids []model.TaskID) (map[model.TaskID][]*model.User, error) {
	return scoped(ctx, s, v, ids, s.store.AssigneesOf)
}

// TaskDataOf returns the data entries of each visible task among ids.
func (s *Service) TaskDataOf(ctx context.Context, v *model.Viewer, ids []model.TaskID) (map[model.TaskID][]*model.TaskData, error) {
	return scoped(ctx, s, v, ids, s.store.TaskDataOf)
}

// scoped runs a batch read of the store in the viewer's scope.
func scoped[K, V any](ctx context.Context, s *Service, v *model.Viewer, ids []K, read func(context.Context, store.Scope, []K) (V, error)) (V, error) {
	sc, err := s.scope(v)
	if err != nil {
		var zero V
		return zero, err
	}
	return read(ctx, sc, ids)
}
