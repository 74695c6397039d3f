package graph_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/webhook"
	"github.com/taskql/taskql/model"
)

// testSecret is a well-formed signing secret: whsec_ and the base64 of 32 bytes.
var testSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

const (
	createWebhookDoc = `mutation($u: String!, $s: String!) { createWebhook(url: $u, secret: $s) { id url } }`
	webhooksDoc      = `{ webhooks { id url } }`
	deleteWebhookDoc = `mutation($id: ID!) { deleteWebhook(id: $id) }`
	nodeWebhookDoc   = `query($id: ID!) { node(id: $id) { ... on Webhook { id url } } }`
)

// DESIGN §10: only an organization's admins register, list and remove its webhooks (FORBIDDEN for
// anyone else); nobody sees another organization's webhooks (NOT_FOUND); the secret is never
// returned; a malformed URL or secret, or a loopback or private target, is BAD_USER_INPUT and
// registers nothing.
func TestWebhooksAreForOrgAdminsOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		forbidden := `{"message": "only the organization's admins may manage its webhooks", "path": ["%s"], "extensions": {"code": "FORBIDDEN"}}`
		const url = "https://hooks.acme.test/taskql"
		a.post(tokAda, createWebhookDoc, map[string]any{"u": url, "s": testSecret}).
			wantError(`{"createWebhook": null}`, strings.ReplaceAll(forbidden, "%s", "createWebhook"))
		a.post(tokCat, webhooksDoc, nil).wantError(`null`, strings.ReplaceAll(forbidden, "%s", "webhooks"))

		created := a.post(tokAdmin, createWebhookDoc, map[string]any{"u": url, "s": testSecret})
		if strings.Contains(string(created.Body), strings.TrimPrefix(testSecret, "whsec_")) {
			t.Errorf("createWebhook returned the secret: %s", created.Body)
		}
		var c struct{ CreateWebhook struct{ ID, URL string } }
		decode(t, created.ok(), &c)
		id := c.CreateWebhook.ID
		if !strings.HasPrefix(id, "whk_") || c.CreateWebhook.URL != url {
			t.Fatalf("createWebhook = %+v", c.CreateWebhook)
		}
		a.post(tokAdmin, webhooksDoc, nil).wantData(`{"webhooks": [{"id": "` + id + `", "url": "` + url + `"}]}`)
		a.post(tokAdmin, nodeWebhookDoc, map[string]any{"id": id}).wantData(`{"node": {"id": "` + id + `", "url": "` + url + `"}}`)
		a.post(tokAda, deleteWebhookDoc, map[string]any{"id": id}).
			wantError(`{"deleteWebhook": null}`, strings.ReplaceAll(forbidden, "%s", "deleteWebhook"))
		// Not an admin, or of another organization: the webhook does not exist for them.
		for _, tok := range []string{tokAda, tokZed} {
			r := a.post(tok, nodeWebhookDoc, map[string]any{"id": id})
			if got := r.codes(); len(got) != 1 || got[0] != "NOT_FOUND" {
				t.Errorf("node(%s) with %s: codes %v, want NOT_FOUND; body %s", id, tok, got, r.Body)
			}
		}

		// A webhook of Beta: Acme's admin neither lists, reads nor removes it.
		beta := &model.Webhook{ID: "whk_beta", OrganizationID: "org_beta", URL: "https://hooks.beta.test/", CreatedAt: seededAt}
		if err := a.st.CreateWebhook(t.Context(), beta, testSecret); err != nil {
			t.Fatal(err)
		}
		a.post(tokAdmin, webhooksDoc, nil).wantData(`{"webhooks": [{"id": "` + id + `", "url": "` + url + `"}]}`)
		a.post(tokAdmin, deleteWebhookDoc, map[string]any{"id": "whk_beta"}).wantError(`{"deleteWebhook": null}`,
			`{"message": "webhook whk_beta not found", "path": ["deleteWebhook"], "extensions": {"code": "NOT_FOUND"}}`)
		if r := a.post(tokAdmin, nodeWebhookDoc, map[string]any{"id": "whk_beta"}); len(r.codes()) != 1 || r.codes()[0] != "NOT_FOUND" {
			t.Errorf("node(whk_beta) for Acme's admin: %s", r.Body)
		}

		for _, bad := range []struct{ url, secret string }{
			{"http://127.0.0.1:8080/hook", testSecret},
			{"http://localhost/hook", testSecret},
			{"http://10.1.2.3/hook", testSecret},
			{"http://169.254.169.254/latest/meta-data", testSecret},
			{"http://[::1]/hook", testSecret},
			{"ftp://hooks.acme.test/", testSecret},
			{"https://user:pass@hooks.acme.test/", testSecret},
			{"/relative", testSecret},
			{url, "not-a-secret"},
			{url, "whsec_" + base64.StdEncoding.EncodeToString([]byte("short"))},
		} {
			r := a.post(tokAdmin, createWebhookDoc, map[string]any{"u": bad.url, "s": bad.secret})
			if got := r.codes(); len(got) != 1 || got[0] != "BAD_USER_INPUT" {
				t.Errorf("createWebhook(%q, %q): codes %v, want BAD_USER_INPUT; body %s", bad.url, bad.secret, got, r.Body)
			}
		}

		a.post(tokAdmin, deleteWebhookDoc, map[string]any{"id": id}).wantData(`{"deleteWebhook": "` + id + `"}`)
		a.post(tokAdmin, webhooksDoc, nil).wantData(`{"webhooks": []}`)
		a.post(tokAdmin, deleteWebhookDoc, map[string]any{"id": id}).wantError(`{"deleteWebhook": null}`,
			`{"message": "webhook `+id+` not found", "path": ["deleteWebhook"], "extensions": {"code": "NOT_FOUND"}}`)
	})
}

// receiver is a webhook endpoint that verifies each request's signature, fails the first
// failures requests with HTTP 500 and accepts the others.
type receiver struct {
	t        *testing.T
	failures int
	mu       sync.Mutex
	got      []http.Header
	bodies   [][]byte
	accepted chan []byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key, _ := webhook.ParseSecret(testSecret)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("Webhook-Id") + "." + r.Header.Get("Webhook-Timestamp") + "." + string(body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); r.Header.Get("Webhook-Signature") != want {
		rc.t.Errorf("Webhook-Signature %q, want %q", r.Header.Get("Webhook-Signature"), want)
	}
	rc.mu.Lock()
	rc.got, rc.bodies = append(rc.got, r.Header.Clone()), append(rc.bodies, body)
	n := len(rc.got)
	rc.mu.Unlock()
	if n <= rc.failures {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	rc.accepted <- body
}

// DESIGN §10: a change's event reaches its organization's webhook (and no other organization's
// change does), signed; a failed attempt is retried; every attempt is recorded and readable
// through the API, in order, with its outcome.
func TestWebhookDeliversEveryAttemptRecorded(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		rc := &receiver{t: t, failures: 1, accepted: make(chan []byte, 4)}
		endpoint := httptest.NewServer(rc)
		t.Cleanup(endpoint.Close)
		var c struct{ CreateWebhook struct{ ID string } }
		decode(t, a.post(tokAdmin, createWebhookDoc, map[string]any{"u": endpoint.URL + "/hook", "s": testSecret}).ok(), &c)

		// Beta's change enters no outbox of Acme's; Ada's does.
		a.post(tokZed, `mutation { setTaskAssignee(taskId: "tsk_beta", assignee: null) { id } }`, nil).ok()
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_01plan", userIds: ["usr_bob"]) { id } }`, nil).ok()
		// A call that changes nothing, and one refused, record no event: nothing enters the outbox.
		a.post(tokAda, `mutation { assignUsers(taskId: "tsk_01plan", userIds: ["usr_bob"]) { id } }`, nil).ok()
		if got := a.post(tokAda, `mutation { assignUsers(taskId: "tsk_01plan", userIds: ["usr_gus"]) { id } }`, nil).codes(); len(got) != 1 || got[0] != "UNPROCESSABLE" {
			t.Fatalf("assigning a client user to an internal phase: %v, want UNPROCESSABLE", got)
		}
		var outbox int
		if err := a.st.Gorm().Raw("SELECT count(*) FROM webhook_outbox").Scan(&outbox).Error; err != nil || outbox != 1 {
			t.Fatalf("outbox holds %d rows (%v), want 1: Ada's change, not Beta's, nor the call that changed nothing, nor the refused one", outbox, err)
		}
		var ev struct {
			Task struct {
				Events struct {
					Nodes []struct{ ID, Timestamp string }
				}
			}
		}
		decode(t, a.post(tokAda, `{ task(id: "tsk_01plan") { events { nodes { id timestamp } } } }`, nil).ok(), &ev)
		last := ev.Task.Events.Nodes[len(ev.Task.Events.Nodes)-1]

		w := webhook.New(a.st, webhook.Config{Guard: webhook.Guard{AllowPrivate: true}, Poll: 20 * time.Millisecond,
			Backoff: webhook.Backoff{Base: 10 * time.Millisecond, Max: 10 * time.Millisecond, Horizon: time.Hour, Jitter: func() float64 { return 0 }}})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { defer close(done); w.Run(ctx) }()
		defer func() { cancel(); <-done }()

		var body []byte
		select {
		case body = <-rc.accepted:
		case <-time.After(15 * time.Second):
			t.Fatal("no delivery accepted within 15 s")
		}
		jsonEqual(t, "payload", `{"type": "task.assignees_changed", "timestamp": "`+last.Timestamp+`", "data": {"id": "`+last.ID+`",
			"organizationId": "org_acme", "taskId": "tsk_01plan", "added": ["usr_bob"], "removed": [], "actorId": "usr_ada", "at": "`+last.Timestamp+`"}}`, body)
		rc.mu.Lock()
		for _, h := range rc.got {
			if h.Get("Webhook-Id") != last.ID || h.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v, want Webhook-Id %s and JSON", h, last.ID)
			}
		}
		rc.mu.Unlock()

		// The second attempt is recorded once its answer is in: poll the API for it, for a while.
		const deliveriesDoc = `query($id: ID!) { node(id: $id) { ... on Webhook { deliveries { totalCount
			nodes { eventId attempt outcome statusCode error } } } } }`
		want := `{"node": {"deliveries": {"totalCount": 2, "nodes": [
			{"eventId": "` + last.ID + `", "attempt": 1, "outcome": "REJECTED", "statusCode": 500, "error": "the endpoint answered HTTP 500"},
			{"eventId": "` + last.ID + `", "attempt": 2, "outcome": "DELIVERED", "statusCode": 200, "error": null}]}}}`
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := a.post(tokAdmin, deliveriesDoc, map[string]any{"id": c.CreateWebhook.ID})
			var n struct {
				Node struct{ Deliveries struct{ Nodes []any } }
			}
			decode(t, r.ok(), &n)
			// The page and its count are two reads: the record may land between them.
			if len(n.Node.Deliveries.Nodes) >= 2 || time.Now().After(deadline) {
				r.wantData(want)
				break
			}
			time.Sleep(20 * time.Millisecond) // polling the API for the record, bounded by deadline
		}
		if n := len(rc.got); n != 2 {
			t.Errorf("the endpoint got %d requests, want 2 (one failed, one accepted)", n)
		}
		if s := w.Stats(); s.Attempts[model.WebhookOutcomeDelivered] != 1 || s.Attempts[model.WebhookOutcomeRejected] != 1 {
			t.Errorf("stats %+v, want 1 delivered and 1 rejected", s.Attempts)
		}
		var rows int
		if err := a.st.Gorm().Raw("SELECT count(*) FROM webhook_outbox WHERE delivered").Scan(&rows).Error; err != nil || rows != 1 {
			t.Errorf("outbox: %d rows delivered (%v), want 1", rows, err)
		}
	}, rules.WithWebhookGuard(webhook.Guard{AllowPrivate: true}))
}

// DESIGN §10: a bulk call writes one outbox row per webhook for each task it changed, each naming
// that task's event, and none for a task it left as it was; a refused bulk call writes none.
func TestABulkCallFillsTheOutboxPerChangedTask(t *testing.T) {
	eachDB(t, func(t *testing.T, a *api) {
		for _, path := range []string{"/one", "/two"} {
			a.post(tokAdmin, createWebhookDoc, map[string]any{"u": "http://127.0.0.1:9" + path, "s": testSecret}).ok()
		}
		// gus is no member of the project: the whole call is refused.
		if got := a.post(tokAda, `mutation { assignUsersToTasks(taskIds: ["tsk_03logo", "tsk_02copy"], userIds: ["usr_gus"]) { id } }`, nil).codes(); len(got) != 1 || got[0] != "UNPROCESSABLE" {
			t.Fatalf("a bulk call with a user of no project: %v, want UNPROCESSABLE", got)
		}
		// tsk_01plan already holds ada: it does not change.
		a.post(tokAda, `mutation { assignUsersToTasks(taskIds: ["tsk_03logo", "tsk_01plan", "tsk_02copy"], userIds: ["usr_ada"]) { id } }`, nil).ok()

		var rows []struct{ Entity string }
		if err := a.st.Gorm().Raw(`SELECT e.entity_id AS entity FROM webhook_outbox o JOIN events e ON e.id = o.event_id
			ORDER BY e.entity_id`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.Entity)
		}
		if want := "tsk_02copy tsk_02copy tsk_03logo tsk_03logo"; strings.Join(got, " ") != want {
			t.Errorf("outbox rows name the events of [%s], want [%s]: one per webhook of each changed task", strings.Join(got, " "), want)
		}
	}, rules.WithWebhookGuard(webhook.Guard{AllowPrivate: true}))
}
