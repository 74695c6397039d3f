package seed

import (
	"time"

	"github.com/taskql/taskql/model"
)

// defineEvent makes the row of the world's event at index i, which happened at the time of
// loading unless the world says when.
func (c *checker) defineEvent(i int, e Event) {
	id, ok := own(c, model.ParseEventID, c.events, "events", i, e.ID)
	if !ok {
		return
	}
	owner := "event " + e.ID
	c.required(owner, "name", e.Name)
	c.required(owner, "entity", e.Entity)
	c.required(owner, "entityId", e.EntityID)
	at := c.now
	if e.Timestamp != nil {
		at = e.Timestamp.UTC().Truncate(time.Microsecond)
	}
	row := &model.Event{
		ID:             id,
		OrganizationID: ref(c, model.ParseOrganizationID, owner, "organizationId", e.OrganizationID),
		Name:           e.Name,
		ActorID:        optionalRef(c, model.ParseUserID, owner, "actorId", e.ActorID),
		Entity:         e.Entity,
		EntityID:       e.EntityID,
		Message:        e.Message,
		Data:           e.Data,
		Timestamp:      at,
	}
	c.validJSON(owner, "data", e.Data)
	c.events[id] = row
	c.rows.events = append(c.rows.events, row)
}

// linkEvent checks that an event's organization exists, and its actor, when it has one, is of
// that organization.
func (c *checker) linkEvent(e *model.Event) {
	owner := "event " + string(e.ID)
	known(c, c.orgs, owner, "organization", e.OrganizationID)
	if e.ActorID != nil {
		c.sameOrganization(owner, "actor", known(c, c.users, owner, "actor", *e.ActorID), e.OrganizationID)
	}
}
