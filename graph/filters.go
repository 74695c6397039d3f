package graph

import (
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/model"
)

// The arguments of GraphQL are parsed here, at the edge: the rules take typed ids, and a malformed
// one is BAD_USER_INPUT before anything is read.

// taskFilter parses a TaskFilter.
func taskFilter(f *model.TaskFilter) (rules.TaskFilter, error) {
	var tf rules.TaskFilter
	if f == nil {
		return tf, nil
	}
	var err error
	if tf.ProjectID, err = optionalID(f.ProjectID, model.ParseProjectID); err != nil {
		return tf, err
	}
	if tf.PhaseID, err = optionalID(f.PhaseID, model.ParsePhaseID); err != nil {
		return tf, err
	}
	if tf.AssigneeID, err = optionalID(f.AssigneeID, model.ParseUserID); err != nil {
		return tf, err
	}
	tf.Statuses, tf.Types, tf.Unassigned = f.Status, f.Type, f.Unassigned
	return tf, nil
}

// userFilter parses a UserFilter.
func userFilter(f *model.UserFilter) (rules.UserFilter, error) {
	var uf rules.UserFilter
	if f == nil {
		return uf, nil
	}
	var err error
	if uf.ProjectID, err = optionalID(f.ProjectID, model.ParseProjectID); err != nil {
		return uf, err
	}
	if uf.CompanyID, err = optionalID(f.CompanyID, model.ParseCompanyID); err != nil {
		return uf, err
	}
	uf.Kind, uf.Search = f.Kind, deref(f.Search)
	return uf, nil
}

// optionalID parses an optional id.
func optionalID[T any](s *string, parse func(string) (T, error)) (*T, error) {
	if s == nil {
		return nil, nil
	}
	id, err := parse(*s)
	if err != nil {
		return nil, err
	}
	return &id, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ifVersionOf is the condition of a write given ifVersion, or none (DESIGN §10).
func ifVersionOf(ifVersion *string) []rules.Condition {
	if ifVersion == nil {
		return nil
	}
	return []rules.Condition{rules.IfVersion(*ifVersion)}
}
