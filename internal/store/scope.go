package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/taskql/taskql/model"
)

// Scope is what one viewer may see, as the rules package decided it (DESIGN §2). The store applies
// it in SQL, so that filters and pages are cut after visibility, never before.
type Scope struct {
	// OrganizationID is the viewer's organization: nothing outside it exists.
	OrganizationID model.OrganizationID
	// MemberOf, when set, limits projects (and their phases, tasks and events) to those this user
	// is a member of; empty for an org admin, who sees every project.
	MemberOf model.UserID
	// HideInternal hides internal phases and the tasks in them (a client company's member).
	HideInternal bool
	// Fresh asks for a read that sees every write committed so far: from the primary, never from a
	// replica (WithReplica). The rules ask it for a viewer that wrote lately (read-your-writes).
	Fresh bool
}

// visibleProject is the SQL condition that the project whose id is the column col is visible.
func (sc Scope) visibleProject(col string) (string, []any) {
	cond := "EXISTS (SELECT 1 FROM projects vp WHERE vp.id = " + col + " AND vp.organization_id = ?"
	args := []any{sc.OrganizationID}
	if sc.MemberOf != "" {
		cond += " AND EXISTS (SELECT 1 FROM project_members vm WHERE vm.project_id = vp.id AND vm.user_id = ?)"
		args = append(args, sc.MemberOf)
	}
	return cond + ")", args
}

// visibleTask is the SQL condition that the task row with alias t is visible.
func (sc Scope) visibleTask(t string) (string, []any) {
	conds := []string{t + ".organization_id = ?"}
	args := []any{sc.OrganizationID}
	if sc.MemberOf != "" {
		conds = append(conds, "EXISTS (SELECT 1 FROM project_members vm WHERE vm.project_id = "+t+".project_id AND vm.user_id = ?)")
		args = append(args, sc.MemberOf)
	}
	if sc.HideInternal {
		conds = append(conds, "NOT EXISTS (SELECT 1 FROM phases vh WHERE vh.id = "+t+".phase_id AND vh.internal)")
	}
	return strings.Join(conds, " AND "), args
}

// visiblePhase is the SQL condition that the phase row with alias p is visible.
func (sc Scope) visiblePhase(p string) (string, []any) {
	cond, args := sc.visibleProject(p + ".project_id")
	if sc.HideInternal {
		cond += " AND NOT " + p + ".internal"
	}
	return cond, args
}

// Audience is who, among subscribers' tokens, may still hear of changes, and of which tasks.
type Audience struct {
	// Valid holds the tokens that still work: not revoked, their user approved.
	Valid map[string]bool
	// Sees holds, for each task, the valid tokens whose viewer sees it.
	Sees map[model.TaskID]map[string]bool
}

// AudienceOf says, for each token given by its hash, whether it still works and which of the tasks
// its viewer sees now: an org admin of a task's organization sees it; any other user of it if a
// member of the task's project and, for a task in an internal phase, of the agency company. It is
// the Scope of each viewer applied to some tasks, for many viewers in one query (a change is
// delivered to every subscriber for whom it is visible at that moment, DESIGN §4);
// TestAudienceIsWhatEachViewersScopeSees holds the two to the same answers.
func (s *Store) AudienceOf(ctx context.Context, tasks []model.TaskID, hashes []string) (Audience, error) {
	var rows []struct {
		Hash   string
		TaskID *model.TaskID
		Valid  bool
		Sees   bool
	}
	err := s.q(ctx).Table("tokens tk").
		Select(`tk.hash AS hash, t.id AS task_id, (tk.revoked_at IS NULL AND u.is_access_approved) AS valid,
			(u.is_org_admin OR (
				EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = t.project_id AND pm.user_id = u.id)
				AND (c.kind = ? OR NOT ph.internal))) AS sees`, model.CompanyKindAgency).
		Joins("JOIN users u ON u.id = tk.user_id").
		Joins("JOIN companies c ON c.id = u.company_id").
		Joins("LEFT JOIN tasks t ON t.id IN ? AND t.organization_id = u.organization_id", tasks).
		Joins("LEFT JOIN phases ph ON ph.id = t.phase_id").
		Where("tk.hash IN ?", hashes).
		Find(&rows).Error
	if err != nil {
		return Audience{}, fmt.Errorf("audience of tasks: %w", err)
	}
	a := Audience{Valid: map[string]bool{}, Sees: map[model.TaskID]map[string]bool{}}
	for _, r := range rows {
		if !r.Valid {
			continue
		}
		a.Valid[r.Hash] = true
		if r.TaskID != nil && r.Sees {
			if a.Sees[*r.TaskID] == nil {
				a.Sees[*r.TaskID] = map[string]bool{}
			}
			a.Sees[*r.TaskID][r.Hash] = true
		}
	}
	return a, nil
}
