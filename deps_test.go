package main

import (
	"runtime/debug"
	"testing"

	"golang.org/x/mod/semver"
)

// The GraphQL stack is at least at the versions that fixed the denial-of-service bugs DESIGN §7's
// limits rely on: gqlparser's parser token limit and gqlgen's use of it (v2.5.18, v0.17.91). A
// downgrade, direct or through another module, fails here.
func TestDependenciesAreAtLeastTheirDenialOfServiceFixes(t *testing.T) {
	floors := map[string]string{
		"github.com/99designs/gqlgen":    "v0.17.91",
		"github.com/vektah/gqlparser/v2": "v2.5.18",
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	for _, dep := range info.Deps {
		if dep.Replace != nil {
			dep = dep.Replace
		}
		floor, ok := floors[dep.Path]
		if !ok {
			continue
		}
		delete(floors, dep.Path)
		if semver.Compare(dep.Version, floor) < 0 {
			t.Errorf("%s is %s, older than %s", dep.Path, dep.Version, floor)
		}
	}
	for path := range floors {
		t.Errorf("%s is not a dependency of the server", path)
	}
}
