package rules

import "github.com/taskql/taskql/model"

// Condition is what a write asks of its task before it changes anything (DESIGN §10); the zero
// Condition asks nothing.
type Condition struct {
	// version, when ifVersion, is the task's version as the client saw it.
	version   string
	ifVersion bool
}

// IfVersion makes a write conditional: it changes nothing and fails with a *ConflictError unless
// the task's version (model.Task.Version) is still version when the write holds the task's
// lock. A malformed version is bad input.
func IfVersion(version string) Condition { return Condition{version: version, ifVersion: true} }

// condition merges the conditions a use case was given (at most one is expected) and checks their
// form, which needs no data.
func condition(ifs []Condition) (Condition, error) {
	var c Condition
	for _, i := range ifs {
		if !i.ifVersion {
			continue
		}
		if _, err := model.ParseVersion(i.version); err != nil {
			return c, err
		}
		c = i
	}
	return c, nil
}

// check refuses a locked task that no longer is as the condition expects.
func (c Condition) check(t *model.Task) error {
	if c.ifVersion && c.version != t.Version() {
		return &ConflictError{Task: t.ID, Version: t.Version()}
	}
	return nil
}
