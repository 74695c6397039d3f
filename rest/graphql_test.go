package rest_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// DESIGN §9: both APIs see and change the same data through the same rules, record the same
// events and publish the same subscription messages.

// taskView is what these tests read of a task through GraphQL.
type taskView struct {
	ModifiedAt string `json:"modifiedAt"`
	Assignees  []struct {
		ID string `json:"id"`
	} `json:"assignees"`
	Events struct {
		Nodes []eventView `json:"nodes"`
	} `json:"events"`
}

type eventView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Actor struct {
		ID string `json:"id"`
	} `json:"actor"`
	EntityID string          `json:"entityId"`
	Data     json.RawMessage `json:"data"`
}

// graphTask reads a task through GraphQL.
func (a *api) graphTask(token, id string) taskView {
	a.t.Helper()
	data := a.graphql(token, `query($id: ID!) { task(id: $id) { modifiedAt assignees { id }
		events(first: 100) { nodes { id name actor { id } entityId data } } } }`, map[string]any{"id": id})
	var out struct{ Task taskView }
	if err := json.Unmarshal(data, &out); err != nil {
		a.t.Fatal(err)
	}
	return out.Task
}

func (v taskView) assigneeIDs() []string {
	out := []string{}
	for _, u := range v.Assignees {
		out = append(out, u.ID)
	}
	return out
}

// lastEvent is the newest event of the task, and how many it has.
func (v taskView) lastEvent(t *testing.T) (eventView, int) {
	t.Helper()
	if len(v.Events.Nodes) == 0 {
		t.Fatal("the task has no event")
	}
	return v.Events.Nodes[len(v.Events.Nodes)-1], len(v.Events.Nodes)
}

// A change made through REST is GraphQL's: the same assignees, the same modifiedAt, and one
// event in Task.events with the REST viewer as actor and the net change as data; a REST call
// that changes nothing records nothing.
func TestARESTChangeIsSeenThroughGraphQL(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		before := len(a.graphTask(tokAda, "tsk_03logo").Events.Nodes)
		var task struct {
			ModifiedAt string `json:"modified_at"`
		}
		a.setAssignee(tokAda, "tsk_03logo", `{"assignee": "usr_ada"}`).want(http.StatusOK, &task)
		g := a.graphTask(tokAdmin, "tsk_03logo")
		wantIDs(t, "GraphQL's assignees", g.assigneeIDs(), []string{"usr_ada"})
		if g.ModifiedAt != task.ModifiedAt {
			t.Errorf("GraphQL's modifiedAt %s, REST's modified_at %s", g.ModifiedAt, task.ModifiedAt)
		}
		wantEvent(t, g, before+1, "usr_ada", `{"added":["usr_ada"],"removed":["usr_bob","usr_cat"]}`)

		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_bob"]}`).want(http.StatusCreated, nil)
		wantEvent(t, a.graphTask(tokAdmin, "tsk_03logo"), before+2, "usr_ada", `{"added":["usr_bob"],"removed":[]}`)
		a.unassign(tokAdmin, "tsk_03logo", "usr_ada").want(http.StatusNoContent, nil)
		g = a.graphTask(tokAdmin, "tsk_03logo")
		wantEvent(t, g, before+3, "usr_admin", `{"added":[],"removed":["usr_ada"]}`)
		wantIDs(t, "GraphQL's assignees", g.assigneeIDs(), []string{"usr_bob"})

		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_bob"]}`).want(http.StatusCreated, nil)
		a.unassign(tokAda, "tsk_03logo", "usr_cat").want(http.StatusNoContent, nil)
		if _, n := a.graphTask(tokAdmin, "tsk_03logo").lastEvent(t); n != before+3 {
			t.Errorf("%d events after calls that changed nothing, want %d", n, before+3)
		}
	})
}

// wantEvent checks the task's newest event and how many it has.
func wantEvent(t *testing.T, g taskView, count int, actor, data string) {
	t.Helper()
	e, n := g.lastEvent(t)
	if n != count || e.Name != "task.assignees_changed" || e.Actor.ID != actor || e.EntityID != "tsk_03logo" {
		t.Errorf("event %d of %d: %+v, want task.assignees_changed by %s", n, count, e, actor)
	}
	if diff := cmp.Diff(data, compact(t, e.Data)); diff != "" {
		t.Errorf("event data (-want +got):\n%s", diff)
	}
}

func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// A change made through GraphQL is REST's: GET lists the assignees a GraphQL mutation left, in
// their order, and a rule violation reads the same in both.
func TestAGraphQLChangeIsSeenThroughREST(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		a.graphql(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_eve", "usr_ada"]) { id } }`, nil)
		wantIDs(t, "REST's assignees", a.assigneeIDs(tokCat, "tsk_03logo"), []string{"usr_bob", "usr_cat", "usr_ada", "usr_eve"})
		a.graphql(tokAda, `mutation { setTaskAssignee(taskId: "tsk_03logo", assignee: null) { id } }`, nil)
		wantIDs(t, "REST's assignees", a.assigneeIDs(tokCat, "tsk_03logo"), []string{})
	})
}

// The task object is GraphQL's Task under the README's mapping of names.
func TestTheTaskObjectIsGraphQLsTask(t *testing.T) {
	eachDB(t, setup{}, func(t *testing.T, a *api) {
		var rest map[string]any
		a.setAssignee(tokAda, "tsk_02copy", `{"assignee": "usr_ada"}`).want(http.StatusOK, &rest)
		data := a.graphql(tokAda, `{ task(id: "tsk_02copy") { label __typename organization { id } type id actionTaken
			assignee { email lastName firstName __typename organization { id } id createdAt dashboardSettings { threadEmailsSortOrder }
				defaultEmailSenderId invitedBy { id } isAccessApproved isOrgAdmin modifiedAt name onboardingRequired avatar }
			assigneeId closeReason completedAction createdAt data { id source type data createdAt modifiedAt } description errorReason
			modifiedAt status triggerEvent { id name actor { id } entity entityId message data timestamp } triggerEventId } }`, nil)
		var g struct{ Task map[string]any }
		if err := json.Unmarshal(data, &g); err != nil {
			t.Fatal(err)
		}
		gt, ga := g.Task, g.Task["assignee"].(map[string]any)
		ra := rest["assignee"].(map[string]any)
		pairs := []struct{ rest, graph any }{
			{rest["label"], gt["label"]}, {rest["object"], lowerOf(gt["__typename"])},
			{rest["organization_id"], idOf(gt["organization"])}, {rest["type"], lowerOf(gt["type"])}, {rest["id"], gt["id"]},
			{rest["action_taken"], gt["actionTaken"]}, {rest["assignee_id"], gt["assigneeId"]}, {rest["close_reason"], gt["closeReason"]},
			{rest["completed_action"], gt["completedAction"]}, {rest["created_at"], gt["createdAt"]}, {rest["description"], gt["description"]},
			{rest["error_reason"], gt["errorReason"]}, {rest["modified_at"], gt["modifiedAt"]}, {rest["status"], lowerOf(gt["status"])},
			{rest["trigger_event_id"], gt["triggerEventId"]},
			{ra["email"], ga["email"]}, {ra["family_name"], ga["lastName"]}, {ra["given_name"], ga["firstName"]},
			{ra["object"], lowerOf(ga["__typename"])}, {ra["organization_id"], idOf(ga["organization"])}, {ra["id"], ga["id"]},
			{ra["created_at"], ga["createdAt"]}, {ra["invited_by_user_id"], idOf(ga["invitedBy"])},
			{ra["is_access_approved"], ga["isAccessApproved"]}, {ra["is_org_admin"], ga["isOrgAdmin"]}, {ra["modified_at"], ga["modifiedAt"]},
			{ra["name"], ga["name"]}, {ra["onboarding_required"], ga["onboardingRequired"]}, {ra["profile_picture"], ga["avatar"]},
			{ra["default_email_sender_id"], ga["defaultEmailSenderId"]},
			{ra["dashboard_settings"].(map[string]any)["thread_emails_sort_order"], lowerOf(ga["dashboardSettings"].(map[string]any)["threadEmailsSortOrder"])},
		}
		for i, p := range pairs {
			if diff := cmp.Diff(p.graph, p.rest); diff != "" {
				t.Errorf("pair %d (-graphql +rest):\n%s", i, diff)
			}
		}
		rd, gd := rest["data"].([]any)[0].(map[string]any), gt["data"].([]any)[0].(map[string]any)
		re, ge := rest["trigger_event"].(map[string]any), gt["triggerEvent"].(map[string]any)
		for i, p := range []struct{ rest, graph any }{
			{rd["id"], gd["id"]}, {rd["source"], lowerOf(gd["source"])}, {rd["type"], lowerOf(gd["type"])}, {rd["data"], gd["data"]},
			{rd["created_at"], gd["createdAt"]}, {rd["modified_at"], gd["modifiedAt"]},
			{re["id"], ge["id"]}, {re["name"], ge["name"]}, {re["actor_id"], idOf(ge["actor"])}, {re["entity"], ge["entity"]},
			{re["entity_id"], ge["entityId"]}, {re["message"], ge["message"]}, {re["data"], ge["data"]},
			{re["timestamp"], ge["timestamp"]}, {re["created_at"], ge["timestamp"]}, {re["modified_at"], ge["timestamp"]},
		} {
			if diff := cmp.Diff(p.graph, p.rest); diff != "" {
				t.Errorf("data or event pair %d (-graphql +rest):\n%s", i, diff)
			}
		}
	})
}

// lowerOf is a GraphQL enum or type name as the documents write it.
func lowerOf(v any) any { return strings.ToLower(v.(string)) }

// idOf is the id of a GraphQL object, or nil.
func idOf(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["id"]
	}
	return nil
}

// A change made through REST publishes the same subscription message as GraphQL's: a subscriber
// over server-sent events hears it, with the id of the event Task.events lists.
func TestARESTChangeReachesSubscribers(t *testing.T) {
	eachDB(t, setup{live: true}, func(t *testing.T, a *api) {
		body := `{"query": "subscription { taskAssigneesChanged(taskId: \"tsk_03logo\") { id task { id } added { id } removed { id } actor { id } } }"}`
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tokCat)
		res, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("subscribe: %d", res.StatusCode)
		}
		waitFor(t, "the subscription", func() bool { return a.svc.Subscriptions() == 1 })
		a.assign(tokAda, "tsk_03logo", `{"user_ids": ["usr_ada"]}`).want(http.StatusCreated, nil)
		msg := nextMessage(t, res.Body)
		e, _ := a.graphTask(tokAdmin, "tsk_03logo").lastEvent(t)
		want := `{"data":{"taskAssigneesChanged":{"id":"` + e.ID + `","task":{"id":"tsk_03logo"},"added":[{"id":"usr_ada"}],"removed":[],"actor":{"id":"usr_ada"}}}}`
		if diff := cmp.Diff(want, msg); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	})
}

// nextMessage reads server-sent events until the first "next" one, and returns its data.
func nextMessage(t *testing.T, body io.Reader) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(body)
		name := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:") && name == "next":
				got <- strings.TrimSpace(strings.TrimPrefix(line, "data:"))
				return
			}
		}
		close(got)
	}()
	select {
	case m, ok := <-got:
		if !ok {
			t.Fatal("the stream ended without a message")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
	}
	return ""
}

// waitFor polls cond until it holds, for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
