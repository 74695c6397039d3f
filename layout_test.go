package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The imports go one way (STYLE.md): graph reaches data only through the rules package, and the
// rules know nothing of GraphQL or HTTP. This test keeps resolvers thin by construction.
func TestImportsGoOneWay(t *testing.T) {
	forbidden := map[string][]string{
		"./graph":          {"gorm.io/gorm", "github.com/taskql/taskql/internal/store"},
		"./internal/rules": {"github.com/99designs/gqlgen", "github.com/vektah/gqlparser/v2", "net/http", "github.com/taskql/taskql/graph"},
		"./model":          {"gorm.io/gorm", "github.com/taskql/taskql/internal"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			for _, b := range bad {
				if imp == b || strings.HasPrefix(imp, b+"/") {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
}
