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

// MaxVersionLength is the length of the longest version (base 36 of the largest int64, signed).
const MaxVersionLength = 14

// VersionOf is the version of a task last modified at t.
func VersionOf(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 36) }

// Version is the task's version: it changes exactly when ModifiedAt does.
func (t *Task) Version() string { return VersionOf(t.ModifiedAt) }

// ParseVersion checks that s is a version as VersionOf writes it (BAD_USER_INPUT otherwise): a
// well-formed version that is not the task's current one is a conflict, not bad input.
func ParseVersion(s string) (string, error) {
	if len(s) <= MaxVersionLength {
		if n, err := strconv.ParseInt(s, 36, 64); err == nil && strconv.FormatInt(n, 36) == s {
			return s, nil
		}
	}
	if len(s) > 2*MaxVersionLength {
		return "", BadInput("a value of %d bytes is not a well-formed version", len(s))
	}
	return "", BadInput("%q is not a well-formed version", s)
}
