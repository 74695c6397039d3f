package model

import (
	"strconv"
	"time"
)

// A task's version (DESIGN §10) is an opaque string that changes exactly when the task's
// modifiedAt does: the microseconds of modifiedAt since the Unix epoch, in base 36. Both databases
// store modifiedAt to the microsecond, and the store makes every change's modifiedAt later than
// the one before by at least a microsecond, even when a clock steps back or two changes fall in
// one microsecond, so two states of a task never share a version. Clients compare versions for
// equality only.

// VersionOf is the version of a task last modified at t.
func VersionOf(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 36) }

// Version is the task's version: it changes exactly when ModifiedAt does.
func (t *Task) Version() string { return VersionOf(t.ModifiedAt) }
