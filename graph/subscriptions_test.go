package graph_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/taskql/taskql/graph"
	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/internal/pubsub"
	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §4: Subscription.taskAssigneesChanged over WebSocket and server-sent events.

// live serves a seeded world with real-time delivery: the in-process bus on SQLite, and on
// PostgreSQL LISTEN/NOTIFY, through a listening connection of its own, as across processes.
func live(t *testing.T, st *store.Store, url string, o graph.Options) *api {
	t.Helper()
	seedWorld(t, st)
	return liveServer(t, st, url, o)
}

// liveServer serves st as it is, with real-time delivery.
func liveServer(t *testing.T, st *store.Store, url string, o graph.Options) *api {
	t.Helper()
	var bus pubsub.Bus = pubsub.NewLocal()
	if url != "" {
		ready := make(chan struct{})
		pg, err := pubsub.NewPostgres(url, migrate.Channel, ready)
		if err != nil {
			t.Fatal(err)
		}
		<-ready
		bus = pg
	}
	t.Cleanup(func() { _ = bus.Close() })
	svc := rules.New(st, rules.WithBus(bus))
	go svc.Deliver(context.Background())
	a := serveHandler(t, st, graph.NewServer(svc, o))
	a.svc = svc
	return a
}

// subscribed waits (boundedly) until the server holds n subscriptions: a change made before a
// subscription is registered is rightly not delivered to it.
func (a *api) subscribed(n int) {
	a.t.Helper()
	waitFor(a.t, fmt.Sprintf("%d subscriptions", n), func() bool { return a.svc.Subscriptions() == n })
}

// eachLive runs body on each database with a live server.
func eachLive(t *testing.T, o graph.Options, body func(t *testing.T, a *api)) {
	t.Helper()
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		body(t, live(t, testdb.SQLite(t), "", o))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url := testdb.PostgresURL(t)
		st, err := store.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		body(t, live(t, st, url, o))
	})
}

const changes = `subscription($task: ID, $project: ID) { taskAssigneesChanged(taskId: $task, projectId: $project) {
	id task { id assignees { id } } added { id } removed { id } actor { id } at } }`

// change is what a test reads of a message.
type change struct {
	ID   string `json:"id"`
	Task struct {
		ID        string `json:"id"`
		Assignees []struct {
			ID string `json:"id"`
		} `json:"assignees"`
	} `json:"task"`
	Added, Removed []struct {
		ID string `json:"id"`
	}
	Actor struct {
		ID string `json:"id"`
	} `json:"actor"`
	At string `json:"at"`
}

func ids(users []struct {
	ID string `json:"id"`
}) string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return strings.Join(out, ",")
}

// nextChange reads the next message of subscription id, which must be a change.
func (c *wsClient) nextChange(id string) change {
	c.t.Helper()
	m := c.of(id)
	if m.Type != "next" {
		c.t.Fatalf("subscription %s: %s %s, want a change", id, m.Type, m.Payload)
	}
	var r struct {
		Data struct {
			TaskAssigneesChanged change `json:"taskAssigneesChanged"`
		} `json:"data"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(m.Payload, &r); err != nil || r.Errors != nil {
		c.t.Fatalf("a message that is not a change (%v): %s", err, m.Payload)
	}
	return r.Data.TaskAssigneesChanged
}

// wantChange reads the next change and wants its task, added and removed users and actor.
func (c *wsClient) wantChange(id, task, added, removed, actor string) change {
	c.t.Helper()
	got := c.nextChange(id)
	if got.Task.ID != task || ids(got.Added) != added || ids(got.Removed) != removed || got.Actor.ID != actor {
		c.t.Errorf("change of %s added [%s] removed [%s] by %s; want of %s added [%s] removed [%s] by %s",
			got.Task.ID, ids(got.Added), ids(got.Removed), got.Actor.ID, task, added, removed, actor)
	}
	return got
}

// eventIDs are the ids of a task's events, oldest first, read through the API.
func (a *api) eventIDs(task string) []string {
	a.t.Helper()
	var r struct {
		Task struct {
			Events struct {
				Nodes []struct {
					ID string `json:"id"`
				} `json:"nodes"`
			} `json:"events"`
		} `json:"task"`
	}
	decode(a.t, a.post(tokAdmin, `{ task(id: "`+task+`") { events(first: 100) { nodes { id } } } }`, nil).ok(), &r)
	ids := make([]string, len(r.Task.Events.Nodes))
	for i, n := range r.Task.Events.Nodes {
		ids[i] = n.ID
	}
	return ids
}

// One message per committed change that changed something, with the recorded event's id, the
// net difference and the actor; none for a change that changed nothing or was refused.
func TestSubscribersReceiveEachChange(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		admin := a.connect(tokAdmin)
		admin.subscribe("all", changes, nil)
		ada := a.connect(tokAda)
		ada.subscribe("site", changes, map[string]any{"project": "prj_site"})
		ada.subscribe("logo", changes, map[string]any{"task": "tsk_03logo"})
		a.subscribed(3)

		a.mutate(tokAda, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
		got := admin.wantChange("all", "tsk_03logo", "usr_ada", "", "usr_ada")
		if events := a.eventIDs("tsk_03logo"); got.ID != events[len(events)-1] {
			t.Errorf("the message's id is %s, want the recorded event's %s", got.ID, events[len(events)-1])
		}
		if ids(got.Task.Assignees) != "usr_bob,usr_cat,usr_ada" {
			t.Errorf("the task's assignees are [%s] in the message, want them after the change", ids(got.Task.Assignees))
		}
		ada.wantChange("site", "tsk_03logo", "usr_ada", "", "usr_ada")
		ada.wantChange("logo", "tsk_03logo", "usr_ada", "", "usr_ada")

		a.mutate(tokAda, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`) // changes nothing
		r := a.post(tokAda, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["usr_zed"]) { id } }`, nil)
		if codes := r.codes(); len(codes) != 1 || codes[0] != "UNPROCESSABLE" {
			t.Fatalf("assigning a user of another organization: %v", codes)
		}
		a.mutate(tokAdmin, `setTaskAssignee(taskId: "tsk_03logo", assignee: "usr_bob")`)
		admin.wantChange("all", "tsk_03logo", "", "usr_ada,usr_cat", "usr_admin")
		a.mutate(tokAdmin, `unassignUser(taskId: "tsk_03logo", userId: "usr_bob")`)
		admin.wantChange("all", "tsk_03logo", "", "usr_bob", "usr_admin")
		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_05app", userIds: ["usr_dan"])`) // changes nothing
		a.mutate(tokAdmin, `setTaskAssignee(taskId: "tsk_05app")`)
		admin.wantChange("all", "tsk_05app", "", "usr_dan", "usr_admin")
		// Ada's subscriptions heard the same changes of tsk_03logo, and nothing of prj_app.
		ada.wantChange("site", "tsk_03logo", "", "usr_ada,usr_cat", "usr_admin")
		ada.wantChange("logo", "tsk_03logo", "", "usr_ada,usr_cat", "usr_admin")
	})
}

// DESIGN §2 at delivery: a client company's member never hears of a task in an internal phase,
// and nothing crosses organizations. (Each subscriber's first message is a change it may see,
// made after one it may not: had the first been delivered, it would have come first.)
func TestSubscribersHearOnlyOfWhatTheySee(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		cat := a.connect(tokCat)
		cat.subscribe("all", changes, nil)
		zed := a.connect(tokZed)
		zed.subscribe("all", changes, nil)
		a.subscribed(2)

		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_01plan", userIds: ["usr_bob"])`) // internal phase
		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
		cat.wantChange("all", "tsk_03logo", "usr_ada", "", "usr_admin")
		a.mutate(tokZed, `setTaskAssignee(taskId: "tsk_beta")`)
		zed.wantChange("all", "tsk_beta", "", "usr_zed", "usr_zed")
	})
}

// A task or project the viewer cannot see is NOT_FOUND at once; a malformed id BAD_USER_INPUT.
func TestSubscribingToWhatTheViewerCannotSeeIsNotFound(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		for _, c := range []struct {
			token string
			vars  map[string]any
			code  string
		}{
			{tokCat, map[string]any{"task": "tsk_01plan"}, "NOT_FOUND"},   // an internal phase's task
			{tokZed, map[string]any{"project": "prj_site"}, "NOT_FOUND"},  // another organization's
			{tokAda, map[string]any{"project": "prj_app"}, "NOT_FOUND"},   // not a member
			{tokAda, map[string]any{"task": "usr_ada"}, "BAD_USER_INPUT"}, // not a task id
		} {
			ws := a.connect(c.token)
			ws.subscribe("1", changes, c.vars)
			ws.wantRefused("1", c.code)
		}
	})
}

// DESIGN §4: the token comes in connection_init ({"Authorization": "Bearer …"}, the key in any
// case, "Bearer " optional) or in the upgrade's header; a missing or bad one closes with 4403.
func TestWebSocketsAuthenticateInConnectionInit(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{})
	for name, payload := range map[string]string{
		"no payload":    ``,
		"no token":      `{}`,
		"unknown token": `{"Authorization": "Bearer nope"}`,
		"revoked token": `{"Authorization": "Bearer ` + tokFay + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			ws := a.dialWS("graphql-transport-ws", nil)
			m := wsMessage{Type: "connection_init"}
			if payload != "" {
				m.Payload = json.RawMessage(payload)
			}
			ws.send(m)
			ws.wantClosed(4403)
		})
	}
	for name, payload := range map[string]string{
		"Bearer and the key in lower case": `{"authorization": "Bearer ` + tokAda + `"}`,
		"no Bearer":                        `{"Authorization": "` + tokAda + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			ws := a.dialWS("graphql-transport-ws", nil)
			ws.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(payload)})
			ws.expect("connection_ack")
		})
	}
	t.Run("the upgrade's header", func(t *testing.T) {
		ws := a.dialWS("graphql-transport-ws", http.Header{"Authorization": {"Bearer " + tokAda}})
		ws.send(wsMessage{Type: "connection_init"})
		ws.expect("connection_ack")
	})
}

// DESIGN §4: the other close codes of graphql-transport-ws, as the protocol gives them.
func TestWebSocketsFollowTheProtocolsCloseCodes(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{Limits: graph.Limits{WebSocketMessage: 1 << 10}})
	t.Run("4401: subscribe before connection_ack", func(t *testing.T) {
		ws := a.dialWS("graphql-transport-ws", nil)
		ws.subscribe("1", changes, nil)
		ws.wantClosed(4401)
	})
	t.Run("4409: a subscription id in use", func(t *testing.T) {
		ws := a.connect(tokAda)
		ws.subscribe("1", changes, nil)
		ws.subscribe("1", changes, nil)
		ws.wantClosed(4409)
	})
	t.Run("4429: a second connection_init", func(t *testing.T) {
		ws := a.connect(tokAda)
		ws.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + tokAda + `"}`)})
		ws.wantClosed(4429)
	})
	t.Run("4400: a message that is not one", func(t *testing.T) {
		ws := a.connect(tokAda)
		ws.sendRaw([]byte(`{"id": "1", "payload": {}`))
		ws.wantClosed(4400)
	})
	for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run("4400: a connection_init whose payload is not an object, "+protocol, func(t *testing.T) {
			// gqlgen can read no token from it, and would neither acknowledge nor close.
			ws := a.dialWS(protocol, nil)
			ws.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`"Bearer ` + tokAda + `"`)})
			ws.wantClosed(4400)
		})
	}
	t.Run("4400: a message over the limit", func(t *testing.T) {
		ws := a.connect(tokAda)
		ws.subscribe("1", changes+strings.Repeat(" ", 2<<10), nil)
		ws.wantClosed(4400)
	})
	t.Run("4408: no connection_init in 3 s", func(t *testing.T) {
		ws := a.dialWS("graphql-transport-ws", nil)
		ws.wantClosed(4408)
	})
	t.Run("a subscription id may be used again once complete", func(t *testing.T) {
		ws := a.connect(tokAda)
		ws.subscribe("1", changes, nil)
		a.subscribed(1)
		ws.send(wsMessage{Type: "complete", ID: "1"})
		// gqlgen answers a client's complete with its own (the protocol does not ask for it).
		if m := ws.of("1"); m.Type != "complete" {
			t.Errorf("after complete: %s %s", m.Type, m.Payload)
		}
		a.subscribed(0)
		ws.subscribe("1", changes, nil)
		a.subscribed(1)
		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
		ws.wantChange("1", "tsk_03logo", "usr_ada", "", "usr_admin")
	})
}

// DESIGN §7: a connection holds at most 20 subscriptions, a token 100, across connections; past
// that, subscribe is refused (RATE_LIMITED) and the others go on.
func TestSubscriptionsAreBoundedPerConnectionAndToken(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{Limits: graph.Limits{SubscriptionsPerConnection: 2, SubscriptionsPerToken: 3}})
	refused := func(ws *wsClient, id string) {
		t.Helper()
		ws.subscribe(id, changes, nil)
		ws.wantRefused(id, "RATE_LIMITED")
	}
	// Each subscription runs on its own: wait for one before the next, so that the refused one
	// is the one past the limit.
	one := a.connect(tokAda)
	one.subscribe("a", changes, nil)
	a.subscribed(1)
	one.subscribe("b", changes, nil)
	a.subscribed(2)
	refused(one, "c")
	two := a.connect(tokAda)
	two.subscribe("d", changes, nil)
	a.subscribed(3)
	refused(two, "e")
	one.send(wsMessage{Type: "complete", ID: "a"})
	a.subscribed(2)
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	one.wantChange("b", "tsk_03logo", "usr_ada", "", "usr_admin")
	two.wantChange("d", "tsk_03logo", "usr_ada", "", "usr_admin")
	two.subscribe("f", changes, nil) // a's place, given back
	a.subscribed(3)
	a.mutate(tokAdmin, `unassignUser(taskId: "tsk_03logo", userId: "usr_ada")`)
	two.wantChange("d", "tsk_03logo", "", "usr_ada", "usr_admin")
	two.wantChange("f", "tsk_03logo", "", "usr_ada", "usr_admin")
}

// A revoked token stops the deliveries: its subscription ends at the next change.
func TestARevokedTokenEndsItsSubscriptions(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		ada := a.connect(tokAda)
		ada.subscribe("1", changes, nil)
		a.subscribed(1)
		if _, err := a.st.RevokeTokens(t.Context(), "usr_ada"); err != nil {
			t.Fatal(err)
		}
		a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
		if m := ada.of("1"); m.Type != "complete" {
			t.Errorf("after the revocation: %s %s, want complete", m.Type, m.Payload)
		}
	})
}

// Changes to one task reach a subscriber in the order they committed, whoever made them and
// however they interleave.
func TestChangesOfATaskArriveInCommitOrder(t *testing.T) {
	eachLive(t, graph.Options{}, func(t *testing.T, a *api) {
		ws := a.connect(tokAdmin)
		ws.subscribe("1", changes, map[string]any{"task": "tsk_03logo"})
		a.subscribed(1)
		var wg sync.WaitGroup
		for _, user := range []string{"usr_ada", "usr_bob", "usr_cat", "usr_eve"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 3 {
					a.post(tokAdmin, `mutation { assignUsers(taskId: "tsk_03logo", userIds: ["`+user+`"]) { id } }`, nil)
					a.post(tokAdmin, `mutation { unassignUser(taskId: "tsk_03logo", userId: "`+user+`") { id } }`, nil)
				}
			}()
		}
		wg.Wait()
		// The seeded history has three events; every change since is one more.
		events := a.eventIDs("tsk_03logo")[3:]
		for i, id := range events {
			if got := ws.nextChange("1"); got.ID != id {
				t.Fatalf("message %d is of event %s, want %s (the order of Task.events)", i, got.ID, id)
			}
		}
	})
}

// Server-sent events: a plain HTTP POST with Accept: text/event-stream and the usual header.
func TestServerSentEventsCarryTheChanges(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{})
	body, _ := json.Marshal(map[string]any{"query": changes})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, a.srv.URL+"/query", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+tokAda)
	res, err := a.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("status %d, Content-Type %q", res.StatusCode, ct)
	}
	a.subscribed(1)
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	events := readEvents(t, res.Body)
	for ev := range events {
		if ev.name != "next" {
			continue
		}
		if !strings.Contains(ev.data, `"added":[{"id":"usr_ada"}]`) {
			t.Errorf("event: %s", ev.data)
		}
		return
	}
	t.Fatal("the stream ended without a change")
}

// The legacy graphql-ws subprotocol (connection_init, start, data) works too, and its
// connection stays open past the 3 s of connection_init.
func TestTheLegacyGraphQLWSProtocolWorks(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{})
	ws := a.dialWS("graphql-ws", nil)
	ws.send(wsMessage{Type: "connection_init", Payload: json.RawMessage(`{"Authorization": "Bearer ` + tokAda + `"}`)})
	ws.expect("connection_ack")
	p, _ := json.Marshal(map[string]any{"query": changes})
	ws.send(wsMessage{Type: "start", ID: "1", Payload: p})
	a.subscribed(1)
	// Past the 3 s within which connection_init must come (a legacy socket was once closed then).
	timer := time.NewTimer(3500 * time.Millisecond)
	<-timer.C
	a.mutate(tokAdmin, `assignUsers(taskId: "tsk_03logo", userIds: ["usr_ada"])`)
	if m := ws.expect("data"); !strings.Contains(string(m.Payload), `"usr_ada"`) {
		t.Errorf("data: %s", m.Payload)
	}
}

// Draining closes every WebSocket with 1001 (going away): its client reconnects elsewhere.
func TestDrainingClosesWebSocketsWith1001(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	seedWorld(t, st)
	bus := pubsub.NewLocal()
	t.Cleanup(func() { _ = bus.Close() })
	server := graph.NewServer(rules.New(st, rules.WithBus(bus)), graph.Options{})
	a := serveHandler(t, st, server)
	ws := a.connect(tokAda)
	ws.subscribe("1", changes, nil)
	server.Drain()
	ws.wantClosed(websocket.StatusGoingAway)
}

// event is one server-sent event.
type event struct{ name, data string }

// readEvents reads the events of a stream until it ends (or the test does).
func readEvents(t *testing.T, body io.Reader) <-chan event {
	out := make(chan event)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(body)
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			case line == "" && (ev.name != "" || ev.data != ""):
				select {
				case out <- ev:
				case <-t.Context().Done():
					return
				}
				ev = event{}
			}
		}
	}()
	return out
}

// DESIGN §4: a WebSocket's origin is checked like a CORS origin: a page of an allowed origin may
// open one, another origin's may not; a client that sends no Origin (not a browser) may.
func TestWebSocketOriginsAreCheckedLikeCORS(t *testing.T) {
	t.Parallel()
	a := live(t, testdb.SQLite(t), "", graph.Options{CORSOrigins: []string{"https://app.example"}})
	url := "ws" + strings.TrimPrefix(a.srv.URL, "http") + "/query"
	for origin, ok := range map[string]bool{"https://app.example": true, "https://evil.example": false, "": true} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		conn, res, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
		if conn != nil {
			conn.CloseNow()
		}
		if (err == nil) != ok {
			status := 0
			if res != nil {
				status = res.StatusCode
			}
			t.Errorf("origin %q: upgrade error %v (status %d), want it allowed: %v", origin, err, status, ok)
		}
	}
}
