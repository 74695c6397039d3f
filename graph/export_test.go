package graph

import "time"

// SetLoaderWait sets how long the loaders gather keys, for BenchmarkLoaderWait; it returns the
// function that restores the wait.
func SetLoaderWait(d time.Duration) (restore func()) {
	old := loaderWait
	loaderWait = d
	return func() { loaderWait = old }
}

// FastServed is how many operations the fast path of s answered (graph/fast.go).
func FastServed(s *Server) int64 { return s.gql.fast.Load() }
