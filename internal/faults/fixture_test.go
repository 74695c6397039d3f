package faults

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The world the writers work in (DESIGN §5): one organization, its agency company, a project
// whose members are everybody, and a public phase. Writer n is the user usr_w<n>, with the token
// tok-faults-w<n>, and alone changes the task tsk_w<n>, whose assignees it picks from the pool
// usr_p0 … usr_p4; the task starts with one of them.
const (
	writers      = 8
	poolSize     = 5
	maxAssignees = 3 // serve --max-assignees: the pool is larger, so the writers meet the limit
)

// actor is writer n's user, the actor of the events it causes.
func actor(n int) string { return fmt.Sprintf("usr_w%d", n) }

func token(n int) string { return fmt.Sprintf("tok-faults-w%d", n) }

func taskOf(n int) string { return fmt.Sprintf("tsk_w%d", n) }

func poolUser(i int) string { return fmt.Sprintf("usr_p%d", i) }

// initialAssignees are the assignees task n starts with.
func initialAssignees(n int) []string { return []string{poolUser(n % poolSize)} }

// pool are the users the writers assign.
func pool() []string {
	users := make([]string, poolSize)
	for i := range users {
		users[i] = poolUser(i)
	}
	return users
}

// writeFixture writes the world to a fixture file in the test's directory and returns its path.
func writeFixture(t *testing.T) string {
	t.Helper()
	type obj = map[string]any
	var users, tokens, tasks []obj
	var members []string
	user := func(id, first string) {
		users = append(users, obj{"id": id, "organizationId": "org_faults", "companyId": "cmp_faults",
			"firstName": first, "lastName": "Faults", "email": id + "@faults.test", "isOrgAdmin": false})
		members = append(members, id)
	}
	for i := range poolSize {
		user(poolUser(i), fmt.Sprintf("Pool%d", i))
	}
	for n := range writers {
		user(actor(n), fmt.Sprintf("Writer%d", n))
		tokens = append(tokens, obj{"userId": actor(n), "token": token(n)})
		tasks = append(tasks, obj{"id": taskOf(n), "projectId": "prj_faults", "phaseId": "phs_faults",
			"label": fmt.Sprintf("Task of writer %d", n), "description": nil, "type": "CALL_ANALYSIS",
			"status": "OPEN", "assigneeIds": initialAssignees(n)})
	}
	world := obj{
		"organizations": []obj{{"id": "org_faults", "name": "Faults"}},
		"companies":     []obj{{"id": "cmp_faults", "organizationId": "org_faults", "name": "Faults Studio", "kind": "AGENCY"}},
		"users":         users,
		"tokens":        tokens,
		"projects":      []obj{{"id": "prj_faults", "organizationId": "org_faults", "name": "Faults", "memberIds": members}},
		"phases":        []obj{{"id": "phs_faults", "projectId": "prj_faults", "name": "Work", "position": 1, "internal": false}},
		"tasks":         tasks,
	}
	b, err := json.MarshalIndent(world, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
