package scale

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The world of the tests (DESIGN §5): one organization, its agency company, one project whose
// members are everybody, in a public phase. The org admin usr_admin (token tok-admin) subscribes
// and checks; the viewers usr_v0 … usr_v5 (tokens tok-v0 …) make the changes; the pool usr_p0 …
// usr_p9 are assigned. tsk_mix starts with usr_p0; the other tasks with nobody.
const (
	viewers  = 6
	poolSize = 10
	tokAdmin = "tok-admin"
)

var tasks = []string{"tsk_mix", "tsk_union", "tsk_read"}

func viewer(n int) string { return fmt.Sprintf("usr_v%d", n) }
func token(n int) string  { return fmt.Sprintf("tok-v%d", n) }
func pool(i int) string   { return fmt.Sprintf("usr_p%d", i) }

// seedWorld writes the world into a fixture file and loads it with `taskql seed --file`.
func seedWorld(t *testing.T, env []string) {
	t.Helper()
	type obj = map[string]any
	var users, tokens, taskRows []obj
	var members []string
	user := func(id string, admin bool) {
		users = append(users, obj{"id": id, "organizationId": "org_s", "companyId": "cmp_s", "firstName": id,
			"lastName": "Scale", "email": id + "@scale.test", "isOrgAdmin": admin})
		members = append(members, id)
	}
	user("usr_admin", true)
	tokens = append(tokens, obj{"userId": "usr_admin", "token": tokAdmin})
	for n := range viewers {
		user(viewer(n), false)
		tokens = append(tokens, obj{"userId": viewer(n), "token": token(n)})
	}
	for i := range poolSize {
		user(pool(i), false)
	}
	for _, id := range tasks {
		row := obj{"id": id, "projectId": "prj_s", "phaseId": "phs_s", "label": id, "type": "CALL_ANALYSIS", "status": "OPEN"}
		if id == "tsk_mix" {
			row["assigneeIds"] = []string{pool(0)}
		}
		taskRows = append(taskRows, row)
	}
	world := obj{
		"organizations": []obj{{"id": "org_s", "name": "Scale"}},
		"companies":     []obj{{"id": "cmp_s", "organizationId": "org_s", "name": "Scale Studio", "kind": "AGENCY"}},
		"users":         users, "tokens": tokens,
		"projects": []obj{{"id": "prj_s", "organizationId": "org_s", "name": "Scale", "memberIds": members}},
		"phases":   []obj{{"id": "phs_s", "projectId": "prj_s", "name": "Work", "position": 1}},
		"tasks":    taskRows,
	}
	b, err := json.Marshal(world)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	taskql(t, env, "seed", "--file", path)
}

// listening waits, at most 10 s, until the server keeps the viewer of tok, which it does only
// while its bus listens: from then on it hears every other process's changes.
func (s *server) listening(t *testing.T, tok string) {
	t.Helper()
	before := s.metric(t, "taskql_viewer_cache_hits_total")
	deadline := time.Now().Add(10 * time.Second)
	for s.metric(t, "taskql_viewer_cache_hits_total") <= before {
		if time.Now().After(deadline) {
			t.Fatalf("%s: no request found the viewer of %s kept within 10 s: its bus does not listen\n%s", s.name, tok, s.stderr)
		}
		if a := post(t, s.base, tok, `{ viewer { id } }`, nil); a.Status != http.StatusOK || a.code() != "" {
			t.Fatalf("%s: viewer of %s: HTTP %d %+v", s.name, tok, a.Status, a.Errors)
		}
	}
}

// event is an entry of a task's history.
type event struct {
	ID   string `json:"id"`
	Data struct {
		Added   []string `json:"added"`
		Removed []string `json:"removed"`
	} `json:"data"`
}

const historyDoc = `query($t: ID!, $after: String) { task(id: $t) { assignees { id }
	events(first: 100, after: $after) { nodes { id data } pageInfo { hasNextPage endCursor } } } }`

// history reads a task's assignees and its whole history, oldest first, as the admin.
func history(t *testing.T, base, task string) (assignees []string, events []event) {
	t.Helper()
	var after any
	for {
		a := post(t, base, tokAdmin, historyDoc, map[string]any{"t": task, "after": after})
		var got struct {
			Assignees []struct{ ID string }
			Events    struct {
				Nodes    []event
				PageInfo struct {
					HasNextPage bool
					EndCursor   string
				}
			}
		}
		if a.code() != "" {
			t.Fatalf("history of %s: %+v", task, a.Errors)
		}
		a.field(t, "task", &got)
		assignees = assignees[:0]
		for _, u := range got.Assignees {
			assignees = append(assignees, u.ID)
		}
		events = append(events, got.Events.Nodes...)
		if !got.Events.PageInfo.HasNextPage {
			return assignees, events
		}
		after = got.Events.PageInfo.EndCursor
	}
}

// replay applies a history to a task's first assignees, and reports every step that no serial
// order of the calls could have made: an event that changes nothing, adds a user already there or
// removes one absent (a lost update), or leaves more than most.
func replay(first []string, events []event, most int) (final []string, problems []string) {
	set := slices.Clone(first)
	for i, e := range events {
		if len(e.Data.Added)+len(e.Data.Removed) == 0 {
			problems = append(problems, fmt.Sprintf("event %d (%s) changes nothing", i, e.ID))
		}
		for _, u := range e.Data.Removed {
			if !slices.Contains(set, u) {
				problems = append(problems, fmt.Sprintf("event %d removes %s, not assigned then", i, u))
			}
			set = slices.DeleteFunc(set, func(x string) bool { return x == u })
		}
		for _, u := range e.Data.Added {
			if slices.Contains(set, u) {
				problems = append(problems, fmt.Sprintf("event %d adds %s, assigned already: a lost update", i, u))
			}
			set = append(set, u)
		}
		if len(set) > most {
			problems = append(problems, fmt.Sprintf("event %d leaves %d assignees, over the limit %d", i, len(set), most))
		}
	}
	return set, problems
}

// sorted is a sorted copy.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
