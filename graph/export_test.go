package graph

import "time"

// SetLoaderWait sets how long the loaders gather keys, for BenchmarkLoaderWait; it returns the
// function that restores the wait.
func SetLoaderWait(d time.Duration) (restore func()) {
	old := loaderWait
	loaderWait = d
	return func() { loaderWait = old }
}
