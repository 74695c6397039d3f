package model

import "time"

// Viewer is the user a request acts for (DESIGN §2), with its company's kind: what visibility and
// the assignment rules need to know of it.
type Viewer struct {
	*User
	CompanyKind CompanyKind
	// TokenHash is the stored form of the token the viewer came with: a subscription checks at
	// each delivery that it is still valid (DESIGN §4). It never reaches a client.
	TokenHash string
}

// TaskAssigneesChange is one committed change of a task's assignees as a subscriber receives it
// (DESIGN §4): the recorded Event's id, so that a client can drop a message it has seen, the
// task as it is now, the net difference, who made it, and when it took effect.
type TaskAssigneesChange struct {
	ID      EventID
	Task    *Task
	Added   []*User
	Removed []*User
	Actor   *User
	At      time.Time
}
