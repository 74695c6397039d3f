package main

// Changes made over HTTP: Ada assigned to a task (assignUsers) or unassigned from it
// (unassignUser), each a real change of its assignees, hence one message to each subscriber.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// mutator sends GraphQL requests to one server, as Ada, on kept-alive loopback connections.
type mutator struct {
	base   string
	client *http.Client
}

func newMutator(base string, timeout time.Duration) *mutator {
	return &mutator{base: base, client: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 16,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		},
	}}
}

const (
	assignDoc   = `mutation($t: ID!, $u: ID!) { assignUsers(taskId: $t, userIds: [$u]) { id } }`
	unassignDoc = `mutation($t: ID!, $u: ID!) { unassignUser(taskId: $t, userId: $u) { id } }`
	holdsDoc    = `query($t: ID!) { task(id: $t) { assignees { id } } }`
)

// gqlReply is the part of a reply this tool reads.
type gqlReply struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
}

// post sends one operation and decodes its reply; an HTTP status other than 200, or GraphQL
// errors, are errors. sent is the moment just before the request was handed to the client.
func (m *mutator) post(ctx context.Context, doc string, vars map[string]any) (r gqlReply, sent time.Duration, err error) {
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		return r, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.base+"/query", bytes.NewReader(body))
	if err != nil {
		return r, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adaToken)
	sent = now()
	resp, err := m.client.Do(req)
	if err != nil {
		return r, sent, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return r, sent, err
	}
	if resp.StatusCode != http.StatusOK {
		return r, sent, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return r, sent, fmt.Errorf("reply not JSON: %.300s", b)
	}
	if len(r.Errors) > 0 {
		return r, sent, fmt.Errorf("%s: %s", r.Errors[0].Extensions.Code, r.Errors[0].Message)
	}
	return r, sent, nil
}

// toggle assigns Ada to the task (add) or unassigns her; it returns when the request was sent
// and how long the reply took.
func (m *mutator) toggle(ctx context.Context, task string, add bool) (sent, reply time.Duration, err error) {
	doc := unassignDoc
	if add {
		doc = assignDoc
	}
	_, sent, err = m.post(ctx, doc, map[string]any{"t": task, "u": adaUser})
	return sent, now() - sent, err
}

// holdsAda reads whether Ada is among the task's assignees.
func (m *mutator) holdsAda(ctx context.Context, task string) (bool, error) {
	r, _, err := m.post(ctx, holdsDoc, map[string]any{"t": task})
	if err != nil {
		return false, err
	}
	var d struct {
		Task *struct {
			Assignees []struct {
				ID string `json:"id"`
			} `json:"assignees"`
		} `json:"task"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.Task == nil {
		return false, fmt.Errorf("task %s: no task in %.200s", task, r.Data)
	}
	for _, u := range d.Task.Assignees {
		if u.ID == adaUser {
			return true, nil
		}
	}
	return false, nil
}

// toggler flips Ada on one task, knowing whether she holds it.
type toggler struct {
	m    *mutator
	task string
	has  bool
}

func newToggler(ctx context.Context, m *mutator, task string) (*toggler, error) {
	has, err := m.holdsAda(ctx, task)
	if err != nil {
		return nil, err
	}
	return &toggler{m: m, task: task, has: has}, nil
}

// flip makes the next change: it returns its direction, when it was sent, the reply time, and
// whether it committed. After an error it reads the task again: the change may have committed.
func (t *toggler) flip(ctx context.Context) (added bool, sent, reply time.Duration, committed bool, err error) {
	added = !t.has
	sent, reply, err = t.m.toggle(ctx, t.task, added)
	if err == nil {
		t.has = added
		return added, sent, reply, true, nil
	}
	if has, err2 := t.m.holdsAda(context.WithoutCancel(ctx), t.task); err2 == nil {
		t.has = has
	}
	return added, sent, reply, t.has == added, err
}
