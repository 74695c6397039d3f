package seed

import (
	"fmt"

	"github.com/taskql/taskql/internal/auth"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// defineUser makes the row of the world's user at index i, approved unless the world says
// otherwise.
func (c *checker) defineUser(i int, u User) {
	id, ok := own(c, model.ParseUserID, c.users, "users", i, u.ID)
	if !ok {
		return
	}
	owner := "user " + u.ID
	c.required(owner, "firstName", u.FirstName)
	c.required(owner, "lastName", u.LastName)
	c.required(owner, "email", u.Email)
	row := &model.User{
		ID:                    id,
		OrganizationID:        ref(c, model.ParseOrganizationID, owner, "organizationId", u.OrganizationID),
		CompanyID:             ref(c, model.ParseCompanyID, owner, "companyId", u.CompanyID),
		FirstName:             u.FirstName,
		LastName:              u.LastName,
		Email:                 u.Email,
		Avatar:                u.Avatar,
		IsOrgAdmin:            u.IsOrgAdmin,
		IsAccessApproved:      u.IsAccessApproved == nil || *u.IsAccessApproved,
		OnboardingRequired:    u.OnboardingRequired,
		InvitedByID:           optionalRef(c, model.ParseUserID, owner, "invitedById", u.InvitedByID),
		ThreadEmailsSortOrder: model.SortOrderAsc,
		CreatedAt:             c.now,
		ModifiedAt:            c.now,
	}
	c.users[id] = row
	c.userOrder[id] = len(c.rows.users)
	c.rows.users = append(c.rows.users, row)
}

// defineToken makes the row of the world's token at index i: only its hash is stored.
func (c *checker) defineToken(i int, tk Token) {
	owner := fmt.Sprintf("tokens[%d]", i)
	if tk.Token == "" {
		c.problem("%s: token is missing", owner)
		return
	}
	c.rows.tokens = append(c.rows.tokens, &store.Token{
		Hash:      auth.HashToken(tk.Token),
		UserID:    ref(c, model.ParseUserID, owner, "userId", tk.UserID),
		CreatedAt: c.now,
	})
}

// linkUser checks the references of the world's user at index i. Its company must be of its
// organization, and its inviter of the same organization and listed before it, so that the
// users can be inserted in the world's order.
func (c *checker) linkUser(i int, u *model.User) {
	owner := "user " + string(u.ID)
	known(c, c.orgs, owner, "organization", u.OrganizationID)
	if co := known(c, c.companies, owner, "company", u.CompanyID); co != nil && u.OrganizationID != "" && co.OrganizationID != u.OrganizationID {
		c.problem("%s: company %s is not a company of organization %s", owner, co.ID, u.OrganizationID)
	}
	if u.InvitedByID == nil {
		return
	}
	inviter := known(c, c.users, owner, "inviter", *u.InvitedByID)
	if pos, inWorld := c.userOrder[*u.InvitedByID]; inWorld && pos >= i {
		c.problem("%s: inviter %s must be listed before the users it invited", owner, *u.InvitedByID)
		return
	}
	c.sameOrganization(owner, "inviter", inviter, u.OrganizationID)
}

// linkToken checks that the user of the world's token at index i exists.
func (c *checker) linkToken(i int, tk *store.Token) {
	known(c, c.users, fmt.Sprintf("tokens[%d]", i), "user", tk.UserID)
}
