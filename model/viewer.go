package model

// Viewer is the user a request acts for (DESIGN §2), with its company's kind: what visibility and
// the assignment rules need to know of it.
type Viewer struct {
	*User
	CompanyKind CompanyKind
}
