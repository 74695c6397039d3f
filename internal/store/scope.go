package store

import (
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
