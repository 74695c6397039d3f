package rules

import (
	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// Who sees what (DESIGN §2), in one place.
//
//   - A viewer sees only its own organization: anything of another organization does not exist
//     for it (NOT_FOUND, never FORBIDDEN: existence must not leak).
//   - An org admin sees every project and task of the organization.
//   - Any other viewer sees the projects it is a member of and their tasks, except that a member
//     of a client company sees no internal phase, nor the tasks in one.
//   - Users and companies of the viewer's organization are visible to it. Phases, events and task
//     data are visible exactly when their project or task is.
//   - A viewer whose access is not approved sees nothing: FORBIDDEN on everything.
//
// scope turns the viewer into a store.Scope, which the store applies in SQL to every read, so that
// filters and pages are cut after visibility, never before. Every read of this package takes ids
// (never a row the caller hands over) and reads through the scope, so no caller can read across
// organizations or into a hidden phase, whatever ids it passes: a foreign or hidden id reads as
// nothing.
func scope(v *model.Viewer) (store.Scope, error) {
	switch {
	case v == nil || v.User == nil:
		return store.Scope{}, auth.ErrUnauthenticated
	case !v.IsAccessApproved:
		return store.Scope{}, ErrForbidden
	}
	sc := store.Scope{OrganizationID: v.OrganizationID}
	if !v.IsOrgAdmin {
		sc.MemberOf = v.ID
		sc.HideInternal = v.CompanyKind != model.CompanyKindAgency
	}
	return sc, nil
}
