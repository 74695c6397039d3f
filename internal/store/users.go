package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/taskql/taskql/model"
)

// UserFilter narrows a user list (DESIGN §4 UserFilter).
type UserFilter struct {
	ProjectID *model.ProjectID
	CompanyID *model.CompanyID
	Kind      *model.CompanyKind
	// Search is a case-insensitive substring of the name or the email.
	Search string
	// MembersOf, when set, keeps only members of this project, which the caller has already found
	// visible (a task's assignable users, rule 2).
	MembersOf *model.ProjectID
	// AgencyOnly keeps only members of the agency company (rule 3).
	AgencyOnly bool
}

func (s *Store) users(ctx context.Context, sc Scope) *gorm.DB {
	return s.q(ctx).Model(&model.User{}).Where("users.organization_id = ?", sc.OrganizationID)
}

func (s *Store) filteredUsers(ctx context.Context, sc Scope, f UserFilter) *gorm.DB {
	q := s.users(ctx, sc)
	if f.ProjectID != nil {
		// Membership of a project the viewer cannot see is not shown.
		cond, args := sc.visibleProject("fm.project_id")
		q = q.Where("EXISTS (SELECT 1 FROM project_members fm WHERE fm.user_id = users.id AND fm.project_id = ? AND "+cond+")",
			append([]any{*f.ProjectID}, args...)...)
	}
	if f.MembersOf != nil {
		q = q.Where("EXISTS (SELECT 1 FROM project_members fm WHERE fm.user_id = users.id AND fm.project_id = ?)", *f.MembersOf)
	}
	if f.CompanyID != nil {
		q = q.Where("users.company_id = ?", *f.CompanyID)
	}
	if f.AgencyOnly {
		k := model.CompanyKindAgency
		f.Kind = &k
	}
	if f.Kind != nil {
		q = q.Where("EXISTS (SELECT 1 FROM companies fc WHERE fc.id = users.company_id AND fc.kind = ?)", *f.Kind)
	}
	if f.Search != "" {
		q = q.Where(s.search(f.Search))
	}
	return q
}

// Users lists the users of the scope's organization that pass the filter, by id.
func (s *Store) Users(ctx context.Context, sc Scope, f UserFilter, p Page) (List[model.User], error) {
	return routed(ctx, s, sc, func(s *Store) (List[model.User], error) {
		l, err := pageByID[model.User](s.filteredUsers(ctx, sc, f), "users.id", p)
		if err != nil {
			return l, fmt.Errorf("list users: %w", err)
		}
		return l, nil
	})
}

// CountUsers counts the users that pass the filter.
func (s *Store) CountUsers(ctx context.Context, sc Scope, f UserFilter) (int, error) {
	return routed(ctx, s, sc, func(s *Store) (int, error) {
		n, err := count(ctx, s.filteredUsers(ctx, sc, f))
		if err != nil {
			return 0, fmt.Errorf("count users: %w", err)
		}
		return n, nil
	})
}

// UsersByID returns the users of the scope's organization among ids, keyed by id.
func (s *Store) UsersByID(ctx context.Context, sc Scope, ids []model.UserID) (map[model.UserID]*model.User, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.UserID]*model.User, error) {
		var rows []*model.User
		if err := s.users(ctx, sc).Where("users.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("users by id: %w", err)
		}
		return byKey(rows, func(u *model.User) model.UserID { return u.ID }), nil
	})
}

// CandidateFacts is what the assignment rules need to know of one user (DESIGN §3), with the
// user itself.
type CandidateFacts struct {
	*model.User
	ProjectMember bool
	Agency        bool
}

// Candidates returns the facts of the users among ids that exist in the organization, as
// candidates for the tasks of each of projects, in one query whatever the number of ids and
// projects. A user missing from a project's facts does not exist there.
func (s *Store) Candidates(ctx context.Context, org model.OrganizationID, projects []model.ProjectID, ids []model.UserID) (map[model.ProjectID]map[model.UserID]CandidateFacts, error) {
	var rows []struct {
		model.User       `gorm:"embedded"`
		CandidateAgency  bool
		CandidateProject *model.ProjectID
	}
	err := s.q(ctx).Table("users").
		Select(`users.*, companies.kind = ? AS candidate_agency, pm.project_id AS candidate_project`, model.CompanyKindAgency).
		Joins("JOIN companies ON companies.id = users.company_id").
		Joins("LEFT JOIN project_members pm ON pm.user_id = users.id AND pm.project_id IN ?", projects).
		Where("users.organization_id = ? AND users.id IN ?", org, ids).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("candidate facts: %w", err)
	}
	users := make(map[model.UserID]*model.User, len(rows))
	agency := make(map[model.UserID]bool, len(rows))
	member := map[model.ProjectID]map[model.UserID]bool{}
	for i := range rows {
		r := &rows[i]
		if users[r.ID] == nil {
			users[r.ID], agency[r.ID] = &r.User, r.CandidateAgency
		}
		if r.CandidateProject != nil {
			if member[*r.CandidateProject] == nil {
				member[*r.CandidateProject] = map[model.UserID]bool{}
			}
			member[*r.CandidateProject][r.ID] = true
		}
	}
	m := make(map[model.ProjectID]map[model.UserID]CandidateFacts, len(projects))
	for _, p := range projects {
		m[p] = make(map[model.UserID]CandidateFacts, len(users))
		for id, u := range users {
			m[p][id] = CandidateFacts{User: u, ProjectMember: member[p][id], Agency: agency[id]}
		}
	}
	return m, nil
}

// Viewer is the user a token belongs to, with its company's kind.
type Viewer struct {
	model.User  `gorm:"embedded"`
	CompanyKind model.CompanyKind
}

// ViewerByTokenHash finds the user of an unrevoked token by the token's hash.
func (s *Store) ViewerByTokenHash(ctx context.Context, hash string) (*Viewer, error) {
	var v Viewer
	err := s.q(ctx).Table("tokens").
		Select("users.*, companies.kind AS company_kind").
		Joins("JOIN users ON users.id = tokens.user_id").
		Joins("JOIN companies ON companies.id = users.company_id").
		Where("tokens.hash = ? AND tokens.revoked_at IS NULL", hash).
		Take(&v).Error
	if err != nil {
		return nil, fmt.Errorf("viewer by token: %w", translate(err))
	}
	return &v, nil
}

// CreateToken stores a token's hash for a user.
func (s *Store) CreateToken(ctx context.Context, user model.UserID, hash string) error {
	var n int64
	if err := s.q(ctx).Model(&model.User{}).Where("id = ?", user).Count(&n).Error; err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("create token: user %s: %w", user, ErrNotFound)
	}
	return translate(s.q(ctx).Create(&Token{Hash: hash, UserID: user, CreatedAt: now()}).Error)
}

// RevokeTokens revokes every token of a user at once, returning how many were live.
func (s *Store) RevokeTokens(ctx context.Context, user model.UserID) (int, error) {
	res := s.q(ctx).Model(&Token{}).Where("user_id = ? AND revoked_at IS NULL", user).Update("revoked_at", now())
	if res.Error != nil {
		return 0, fmt.Errorf("revoke tokens: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}
