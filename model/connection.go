package model

// PageInfo is the Relay page information of a connection (DESIGN §4).
type PageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}
