package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// requestTimeout is longer than the server's deadline (10 s): the server always answers first, so
// no attempt is still running on the server when its writer sends the next.
const requestTimeout = 20 * time.Second

// newClient is an HTTP client for a few concurrent writers.
func newClient() *http.Client {
	return &http.Client{
		Timeout:   requestTimeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: 2 * writers, DisableCompression: true},
	}
}

// The three mutations (DESIGN §3), each aliased `change` so that their replies read alike.
const (
	assignDoc   = `mutation($t: ID!, $u: [ID!]!) { change: assignUsers(taskId: $t, userIds: $u) { id assignees { id } } }`
	unassignDoc = `mutation($t: ID!, $u: ID!) { change: unassignUser(taskId: $t, userId: $u) { id assignees { id } } }`
	setDoc      = `mutation($t: ID!, $u: ID) { change: setTaskAssignee(taskId: $t, assignee: $u) { id assignees { id } } }`
	historyDoc  = `query($t: ID!, $after: String) { task(id: $t) { assignees { id }
		events(first: 100, after: $after) { nodes { name data actor { id } timestamp } pageInfo { hasNextPage endCursor } } } }`
)

// answer is an HTTP answer of the API, or the error that stood for one.
type answer struct {
	status     int    // 0: no HTTP answer (err)
	retryAfter string // the Retry-After header
	body       []byte // as received
	err        error
	reply      reply // the body decoded, when it is JSON
}

// reply is a GraphQL response.
type reply struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

// post sends one GraphQL request with the token and returns its answer.
func post(ctx context.Context, c *http.Client, base, tok, doc string, vars map[string]any) answer {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return answer{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/query", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if a.body, a.err = io.ReadAll(resp.Body); a.err == nil {
		_ = json.Unmarshal(a.body, &a.reply)
	}
	return a
}

// code is the answer's refusal code: the first error's extensions.code, "HTTP <status>" for an
// answer without one, "transport" when no HTTP answer came, "" when there is no error.
func (a answer) code() string {
	switch {
	case a.status == 0:
		return "transport"
	case len(a.reply.Errors) > 0 && a.reply.Errors[0].Extensions.Code != "":
		return a.reply.Errors[0].Extensions.Code
	case len(a.reply.Errors) > 0 || a.status != http.StatusOK:
		return fmt.Sprintf("HTTP %d", a.status)
	}
	return ""
}

// change is the task a mutation returned under the alias change, or nil.
func (a answer) change() *taskReply {
	raw, ok := a.reply.Data["change"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var t taskReply
	if json.Unmarshal(raw, &t) != nil {
		return nil
	}
	return &t
}

// acknowledged tells whether the server said the change took effect: HTTP 200, the mutation's
// data, and no error.
func (a answer) acknowledged() bool {
	return a.status == http.StatusOK && len(a.reply.Errors) == 0 && a.change() != nil
}

func (a answer) String() string {
	if a.status == 0 {
		return fmt.Sprintf("no answer: %v", a.err)
	}
	return fmt.Sprintf("HTTP %d %s", a.status, bytes.TrimSpace(a.body))
}

type taskReply struct {
	ID        string `json:"id"`
	Assignees []struct {
		ID string `json:"id"`
	} `json:"assignees"`
}

func (t *taskReply) assigneeIDs() []string {
	ids := make([]string, len(t.Assignees))
	for i, a := range t.Assignees {
		ids[i] = a.ID
	}
	return ids
}

// event is one event of a task's history; data is {"added": [...], "removed": [...]}.
type event struct {
	Name string `json:"name"`
	Data struct {
		Added   []string `json:"added"`
		Removed []string `json:"removed"`
	} `json:"data"`
	Actor     struct{ ID string } `json:"actor"`
	Timestamp time.Time           `json:"timestamp"`
}

// history reads a task's assignees and every event of its history, oldest first, page by page.
func history(ctx context.Context, c *http.Client, base, tok, task string) (assignees []string, events []event, err error) {
	var after any
	for range 100 {
		a := post(ctx, c, base, tok, historyDoc, map[string]any{"t": task, "after": after})
		var page struct {
			Assignees []struct{ ID string } `json:"assignees"`
			Events    struct {
				Nodes    []event `json:"nodes"`
				PageInfo struct {
					HasNextPage bool   `json:"hasNextPage"`
					EndCursor   string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"events"`
		}
		if a.status != http.StatusOK || len(a.reply.Errors) > 0 || json.Unmarshal(a.reply.Data["task"], &page) != nil {
			return nil, nil, fmt.Errorf("history of %s: %s", task, a)
		}
		assignees = assignees[:0]
		for _, u := range page.Assignees {
			assignees = append(assignees, u.ID)
		}
		events = append(events, page.Events.Nodes...)
		if !page.Events.PageInfo.HasNextPage {
			return slices.Clone(assignees), events, nil
		}
		after = page.Events.PageInfo.EndCursor
	}
	return nil, nil, fmt.Errorf("history of %s: more than 100 pages", task)
}
