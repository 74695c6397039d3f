package seed

import "github.com/taskql/taskql/model"

// defineOrganization makes the row of the world's organization at index i.
func (c *checker) defineOrganization(i int, o Organization) {
	id, ok := own(c, model.ParseOrganizationID, c.orgs, "organizations", i, o.ID)
	if !ok {
		return
	}
	c.required("organization "+o.ID, "name", o.Name)
	row := &model.Organization{ID: id, Name: o.Name, CreatedAt: c.now, ModifiedAt: c.now}
	c.orgs[id] = row
	c.rows.organizations = append(c.rows.organizations, row)
}

// defineCompany makes the row of the world's company at index i; its kind must be one the schema
// knows.
func (c *checker) defineCompany(i int, co Company) {
	id, ok := own(c, model.ParseCompanyID, c.companies, "companies", i, co.ID)
	if !ok {
		return
	}
	owner := "company " + co.ID
	c.required(owner, "name", co.Name)
	kind := model.CompanyKind(co.Kind)
	if !kind.IsValid() {
		c.problem("%s: kind %q is not one of %v", owner, co.Kind, model.AllCompanyKind)
	}
	row := &model.Company{
		ID:             id,
		OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", co.OrganizationID),
		Name:           co.Name,
		Kind:           kind,
		CreatedAt:      c.now,
		ModifiedAt:     c.now,
	}
	c.companies[id] = row
	c.rows.companies = append(c.rows.companies, row)
}

// linkCompanies checks that each company's organization exists, and that an organization of the
// world has at most one agency company (DESIGN §1): rule 3 asks whether a user is of the agency.
func (c *checker) linkCompanies() {
	agencies := map[model.OrganizationID][]model.CompanyID{}
	for _, co := range c.rows.companies {
		if org := known(c, c.orgs, "company "+string(co.ID), "organization", co.OrganizationID); org != nil && co.Kind == model.CompanyKindAgency {
			agencies[org.ID] = append(agencies[org.ID], co.ID)
		}
	}
	for _, o := range c.rows.organizations {
		if ids := agencies[o.ID]; len(ids) > 1 {
			c.problem("organization %s: companies %v are all AGENCY, and an organization has one agency company", o.ID, ids)
		}
	}
}
