package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/taskql/taskql/model"
)

func (s *Store) projects(ctx context.Context, sc Scope) *gorm.DB {
	cond, args := sc.visibleProject("projects.id")
	return s.q(ctx).Model(&model.Project{}).Where(cond, args...)
}

// Projects lists the visible projects, by id.
func (s *Store) Projects(ctx context.Context, sc Scope, p Page) (List[model.Project], error) {
	return routed(ctx, s, sc, func(s *Store) (List[model.Project], error) {
		l, err := pageByID[model.Project](s.projects(ctx, sc), "projects.id", p)
		if err != nil {
			return l, fmt.Errorf("list projects: %w", err)
		}
		return l, nil
	})
}

// CountProjects counts the visible projects.
func (s *Store) CountProjects(ctx context.Context, sc Scope) (int, error) {
	return routed(ctx, s, sc, func(s *Store) (int, error) {
		n, err := count(ctx, s.projects(ctx, sc))
		if err != nil {
			return 0, fmt.Errorf("count projects: %w", err)
		}
		return n, nil
	})
}

// ProjectsByID returns the visible projects among ids, keyed by id.
func (s *Store) ProjectsByID(ctx context.Context, sc Scope, ids []model.ProjectID) (map[model.ProjectID]*model.Project, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.ProjectID]*model.Project, error) {
		var rows []*model.Project
		if err := s.projects(ctx, sc).Where("projects.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("projects by id: %w", err)
		}
		return byKey(rows, func(p *model.Project) model.ProjectID { return p.ID }), nil
	})
}

func (s *Store) phases(ctx context.Context, sc Scope) *gorm.DB {
	cond, args := sc.visiblePhase("phases")
	return s.q(ctx).Model(&model.Phase{}).Where(cond, args...)
}

// PhasesByID returns the visible phases among ids, keyed by id.
func (s *Store) PhasesByID(ctx context.Context, sc Scope, ids []model.PhaseID) (map[model.PhaseID]*model.Phase, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.PhaseID]*model.Phase, error) {
		var rows []*model.Phase
		if err := s.phases(ctx, sc).Where("phases.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("phases by id: %w", err)
		}
		return byKey(rows, func(p *model.Phase) model.PhaseID { return p.ID }), nil
	})
}

// PhasesOfProjects returns the visible phases of each project, by position then id.
func (s *Store) PhasesOfProjects(ctx context.Context, sc Scope, ids []model.ProjectID) (map[model.ProjectID][]*model.Phase, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.ProjectID][]*model.Phase, error) {
		var rows []*model.Phase
		err := s.phases(ctx, sc).Where("phases.project_id IN ?", ids).Order("phases.position, phases.id").Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("phases of projects: %w", err)
		}
		return groupBy(rows, func(p *model.Phase) model.ProjectID { return p.ProjectID }), nil
	})
}

// OrganizationsByID returns the scope's organization if it is among ids: no other exists for it.
func (s *Store) OrganizationsByID(ctx context.Context, sc Scope, ids []model.OrganizationID) (map[model.OrganizationID]*model.Organization, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.OrganizationID]*model.Organization, error) {
		var rows []*model.Organization
		err := s.q(ctx).Where("id IN ? AND id = ?", ids, sc.OrganizationID).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("organizations by id: %w", err)
		}
		return byKey(rows, func(o *model.Organization) model.OrganizationID { return o.ID }), nil
	})
}

// CompaniesByID returns the companies of the scope's organization among ids, keyed by id.
func (s *Store) CompaniesByID(ctx context.Context, sc Scope, ids []model.CompanyID) (map[model.CompanyID]*model.Company, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.CompanyID]*model.Company, error) {
		var rows []*model.Company
		err := s.q(ctx).Where("id IN ? AND organization_id = ?", ids, sc.OrganizationID).Find(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("companies by id: %w", err)
		}
		return byKey(rows, func(c *model.Company) model.CompanyID { return c.ID }), nil
	})
}

// groupBy groups rows by a key, keeping their order.
func groupBy[K comparable, T any](rows []*T, key func(*T) K) map[K][]*T {
	m := make(map[K][]*T)
	for _, r := range rows {
		m[key(r)] = append(m[key(r)], r)
	}
	return m
}
