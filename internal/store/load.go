package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/model"
)

// The load-aware picker (DESIGN §10): how many open tasks each user holds, as the viewer sees
// them, read in the statement of the page that lists the users.

// OpenStatuses are the statuses of a task still to be worked on: what a user's open assigned
// count counts.
var OpenStatuses = []model.TaskStatus{model.TaskStatusOpen, model.TaskStatusProcessing, model.TaskStatusAssignedToAgent}

// UserOrder is the order of a list of users.
type UserOrder int

// The orders of a list of users; each ends with the id, so that it is total.
const (
	// ByID orders users by id.
	ByID UserOrder = iota
	// ByName orders users by name (first name, a space, last name), byte by byte on both
	// databases, then by id.
	ByName
	// ByLoad orders users by their open assigned count, least loaded first, then by name, then by
	// id.
	ByLoad
)

// openAssigned is the SQL expression of how many tasks the scope sees that are assigned to the
// user row u and open (an index on task_assignees (user_id, task_id) serves it).
func (sc Scope) openAssigned(u string) (string, []any) {
	cond, args := sc.visibleTask("lt")
	return "(SELECT count(*) FROM task_assignees la JOIN tasks lt ON lt.id = la.task_id WHERE la.user_id = " + u +
		".id AND lt.status IN ? AND " + cond + ")", append([]any{OpenStatuses}, args...)
}

// name is the SQL expression of the name of the user row u, compared byte by byte: SQLite's
// default, and PostgreSQL's "C" collation, whatever the database's locale.
func (s *Store) name(u string) string {
	expr := "(" + u + ".first_name || ' ' || " + u + ".last_name)"
	if s.dialect == migrate.Postgres {
		expr += ` COLLATE "C"`
	}
	return expr
}

// orderKeys are the SQL expressions an order sorts the user row u by, with their arguments.
func (s *Store) orderKeys(sc Scope, order UserOrder, u string) ([]string, []any) {
	switch order {
	case ByName:
		return []string{s.name(u), u + ".id"}, nil
	case ByLoad:
		load, args := sc.openAssigned(u)
		return []string{load, s.name(u), u + ".id"}, args
	}
	return []string{u + ".id"}, nil
}

// Loaded is a user with its open assigned count.
type Loaded struct {
	model.User `gorm:"embedded"`
	// OpenAssigned counts the open tasks assigned to the user that the scope sees.
	OpenAssigned int
}

// AssignableUsers lists the users that pass the filter in an order, each with its open assigned
// count, in one statement. After a position, the page starts after the user of its id, its keys
// computed anew (a load changes between pages; the order stays total).
func (s *Store) AssignableUsers(ctx context.Context, sc Scope, f UserFilter, order UserOrder, p Page) (List[Loaded], error) {
	return routed(ctx, s, sc, func(s *Store) (List[Loaded], error) {
		load, loadArgs := sc.openAssigned("users")
		q := s.filteredUsers(ctx, sc, f).Select("users.*, "+load+" AS open_assigned", loadArgs...)
		keys, keyArgs := s.orderKeys(sc, order, "users")
		if p.AfterID != "" {
			at, atArgs := s.orderKeys(sc, order, "cu")
			q = q.Where("("+strings.Join(keys, ", ")+") > (SELECT "+strings.Join(at, ", ")+" FROM users cu WHERE cu.id = ? AND cu.organization_id = ?)",
				append(append(keyArgs, atArgs...), p.AfterID, sc.OrganizationID)...)
		}
		if order == ByLoad {
			keys[0] = "open_assigned" // the count of the select list, not computed again
		}
		for _, k := range keys {
			q = q.Order(k)
		}
		l, err := fetchPage[Loaded](q, p)
		if err != nil {
			return l, fmt.Errorf("assignable users: %w", err)
		}
		return l, nil
	})
}

// OpenAssignedCounts counts, for each user of the scope's organization among ids, the open tasks
// assigned to it that the scope sees, in one statement; a user of another organization is
// missing from the result.
func (s *Store) OpenAssignedCounts(ctx context.Context, sc Scope, ids []model.UserID) (map[model.UserID]int, error) {
	return routed(ctx, s, sc, func(s *Store) (map[model.UserID]int, error) {
		load, args := sc.openAssigned("users")
		var rows []struct {
			ID model.UserID
			N  int
		}
		if err := s.users(ctx, sc).Select("users.id AS id, "+load+" AS n", args...).Where("users.id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("open assigned counts: %w", err)
		}
		m := make(map[model.UserID]int, len(rows))
		for _, r := range rows {
			m[r.ID] = r.N
		}
		return m, nil
	})
}
