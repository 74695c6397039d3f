package seed

import (
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// defineProject makes the row of the world's project at index i, and those of its members.
func (c *checker) defineProject(i int, p Project) {
	id, ok := own(c, model.ParseProjectID, c.projects, "projects", i, p.ID)
	if !ok {
		return
	}
	owner := "project " + p.ID
	c.required(owner, "name", p.Name)
	row := &model.Project{
		ID:             id,
		OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", p.OrganizationID),
		Name:           p.Name,
		CreatedAt:      c.now,
		ModifiedAt:     c.now,
	}
	c.projects[id] = row
	c.rows.projects = append(c.rows.projects, row)
	for _, m := range refs(c, owner, "memberIds", p.MemberIDs) {
		c.rows.members = append(c.rows.members, &store.ProjectMember{ProjectID: id, UserID: m})
	}
}

// definePhase makes the row of the world's phase at index i. Without a position, it takes its
// place among its project's phases in the world, from 1; positions counts them so far, by the
// project id as the world spells it.
func (c *checker) definePhase(i int, ph Phase, positions map[string]int) {
	id, ok := own(c, model.ParsePhaseID, c.phases, "phases", i, ph.ID)
	if !ok {
		return
	}
	owner := "phase " + ph.ID
	c.required(owner, "name", ph.Name)
	positions[ph.ProjectID]++
	position := positions[ph.ProjectID]
	if ph.Position != nil {
		position = *ph.Position
	}
	row := &model.Phase{
		ID:         id,
		ProjectID:  ref(c, model.ParseProjectID, owner, "projectId", ph.ProjectID),
		Name:       ph.Name,
		Position:   position,
		Internal:   ph.Internal,
		CreatedAt:  c.now,
		ModifiedAt: c.now,
	}
	c.phases[id] = row
	c.rows.phases = append(c.rows.phases, row)
}

// linkProject checks that a project's organization exists.
func (c *checker) linkProject(p *model.Project) {
	known(c, c.orgs, "project "+string(p.ID), "organization", p.OrganizationID)
}

// linkMember checks that a project's member exists and is of the project's organization
// (DESIGN §1: members are users of the same organization).
func (c *checker) linkMember(m *store.ProjectMember) {
	owner := "project " + string(m.ProjectID)
	c.sameOrganization(owner, "member", known(c, c.users, owner, "member", m.UserID), c.projects[m.ProjectID].OrganizationID)
}

// linkPhase checks that a phase's project exists.
func (c *checker) linkPhase(ph *model.Phase) {
	known(c, c.projects, "phase "+string(ph.ID), "project", ph.ProjectID)
}
