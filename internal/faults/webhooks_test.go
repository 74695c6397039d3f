package faults

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// The webhooks' world: one organization whose admin registers the webhook, and hookTasks tasks
// whose assignees hookWriters writers toggle between two users, so that every change changes
// something and records one event.
const (
	hookTasks       = 4
	hookChanges     = 12 // per task and phase
	hookFailures    = 5  // the receiver fails its first deliveries
	hookHoldAt      = 15 // and holds this one until the server delivering it is killed
	hookAdminToken  = "tok-hooks-admin"
	hookWriterToken = "tok-hooks-writer"
)

// hookSecret signs the deliveries: whsec_ and the base64 of 32 bytes.
var hookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("faults-webhook-secret-32-bytes!!"))

// hookArgs let the server deliver to the loopback receiver, with short timeouts and retries: a
// lease (twice the timeout) of 4 s, a first retry after 50–100 ms.
var hookArgs = []string{"--webhook-allow-private", "--webhook-timeout", "2s", "--webhook-retry-base", "100ms", "--webhook-poll", "100ms"}

func hookTask(n int) string { return fmt.Sprintf("tsk_h%d", n) }

// writeHookFixture writes the webhooks' world and returns its path.
func writeHookFixture(t *testing.T) string {
	t.Helper()
	type obj = map[string]any
	user := func(id string, admin bool) obj {
		return obj{"id": id, "organizationId": "org_hooks", "companyId": "cmp_hooks", "firstName": id, "lastName": "Hooks",
			"email": id + "@hooks.test", "isOrgAdmin": admin}
	}
	var tasks []obj
	for n := range hookTasks {
		tasks = append(tasks, obj{"id": hookTask(n), "projectId": "prj_hooks", "phaseId": "phs_hooks", "label": "hook task",
			"description": nil, "type": "CALL_ANALYSIS", "status": "OPEN", "assigneeIds": []string{}})
	}
	world := obj{
		"organizations": []obj{{"id": "org_hooks", "name": "Hooks"}},
		"companies":     []obj{{"id": "cmp_hooks", "organizationId": "org_hooks", "name": "Hooks Studio", "kind": "AGENCY"}},
		"users":         []obj{user("usr_hadmin", true), user("usr_hwriter", false), user("usr_ha", false), user("usr_hb", false)},
		"tokens":        []obj{{"userId": "usr_hadmin", "token": hookAdminToken}, {"userId": "usr_hwriter", "token": hookWriterToken}},
		"projects":      []obj{{"id": "prj_hooks", "organizationId": "org_hooks", "name": "Hooks", "memberIds": []string{"usr_hwriter", "usr_ha", "usr_hb"}}},
		"phases":        []obj{{"id": "phs_hooks", "projectId": "prj_hooks", "name": "Work", "position": 1, "internal": false}},
		"tasks":         tasks,
	}
	b, err := json.Marshal(world)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hooks.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// hookReceiver is the webhook endpoint: it verifies every request's signature, fails the first
// hookFailures requests with HTTP 500, holds request number hookHoldAt until released, and
// accepts the others. It notes every request that arrives while another of the same Webhook-Id
// is under way: two attempts of one event at once.
type hookReceiver struct {
	key     []byte
	held    chan string   // the held request's Webhook-Id
	release chan struct{} // closed: the held request answers

	mu        sync.Mutex
	arrivals  int
	badSigs   int
	overlaps  []string
	inflight  map[string]bool
	accepted  map[string]int       // Webhook-Id → times answered 2xx
	firstSeen map[string]time.Time // Webhook-Id → first answered 2xx
	lastAt    time.Time            // the last 2xx answer
}

func newHookReceiver(t *testing.T) *hookReceiver {
	key, err := base64.StdEncoding.DecodeString(hookSecret[len("whsec_"):])
	if err != nil {
		t.Fatal(err)
	}
	return &hookReceiver{key: key, held: make(chan string, 1), release: make(chan struct{}), inflight: map[string]bool{},
		accepted: map[string]int{}, firstSeen: map[string]time.Time{}}
}

func (rc *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id := r.Header.Get("Webhook-Id")
	mac := hmac.New(sha256.New, rc.key)
	mac.Write([]byte(id + "." + r.Header.Get("Webhook-Timestamp") + "." + string(body)))
	good := hmac.Equal([]byte(r.Header.Get("Webhook-Signature")), []byte("v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil))))
	rc.mu.Lock()
	rc.arrivals++
	n := rc.arrivals
	if !good {
		rc.badSigs++
	}
	if rc.inflight[id] {
		rc.overlaps = append(rc.overlaps, id)
	}
	rc.inflight[id] = true
	rc.mu.Unlock()
	defer func() {
		rc.mu.Lock()
		delete(rc.inflight, id)
		rc.mu.Unlock()
	}()
	switch {
	case !good:
		w.WriteHeader(http.StatusUnauthorized)
		return
	case n <= hookFailures:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case n == hookHoldAt:
		rc.held <- id
		<-rc.release
	}
	rc.mu.Lock()
	rc.accepted[id]++
	if _, ok := rc.firstSeen[id]; !ok {
		rc.firstSeen[id] = time.Now()
	}
	rc.lastAt = time.Now()
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// missing are the ids among want the receiver has not accepted yet, and the time by which it had
// accepted the others.
func (rc *hookReceiver) missing(want []string) (n int, last time.Time) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range want {
		at, ok := rc.firstSeen[id]
		if !ok {
			n++
		} else if at.After(last) {
			last = at
		}
	}
	return n, last
}

// toggle changes task n's assignees from one user to the other, count times, through the servers
// in turn; it stops at the first change not acknowledged (its server was killed).
func toggle(c *http.Client, servers []*server, n, count int) {
	for i := range count {
		u := []string{"usr_ha", "usr_hb"}[i%2]
		a := post(context.Background(), c, servers[i%len(servers)].base, hookWriterToken, setDoc, map[string]any{"t": hookTask(n), "u": u})
		if !a.acknowledged() {
			return
		}
	}
}

// changeAll runs the toggles of every task at once and waits for them.
func changeAll(servers []*server) {
	c := newClient()
	var wg sync.WaitGroup
	for n := range hookTasks {
		wg.Go(func() { toggle(c, servers, n, hookChanges) })
	}
	wg.Wait()
}

// (g) Webhooks (DESIGN §10) through a receiver that fails its first deliveries and a server killed
// (SIGKILL) mid-delivery, restarted beside a second process on the same database: every event
// committed is delivered, none is invented, duplicates come only from the deliveries the kill
// interrupted (at least once), no event is ever being delivered twice at once, every attempt but
// those the kill interrupted is recorded and readable through the API, and both processes stop
// cleanly on SIGTERM.
func TestWebhooksDeliveredThroughFailuresAndAKill(t *testing.T) {
	c := testdb.PrivateCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := c.Exec(ctx, "postgres", "CREATE DATABASE hooks"); err != nil {
		t.Fatal(err)
	}
	url := c.URL("hooks")
	runTaskql(t, url, "seed", "--file", writeHookFixture(t))
	rc := newHookReceiver(t)
	endpoint := httptest.NewServer(rc)
	defer endpoint.Close()
	defer func() {
		select {
		case <-rc.release:
		default:
			close(rc.release)
		}
	}()

	first := startServer(t, url, nil, hookArgs...)
	reg := post(ctx, newClient(), first.base, hookAdminToken,
		`mutation($u: String!, $s: String!) { createWebhook(url: $u, secret: $s) { id } }`,
		map[string]any{"u": endpoint.URL + "/hooks", "s": hookSecret})
	var created struct{ ID string }
	if reg.status != http.StatusOK || len(reg.reply.Errors) > 0 || json.Unmarshal(reg.reply.Data["createWebhook"], &created) != nil {
		t.Fatalf("createWebhook: %s", reg)
	}

	// Phase 1: changes through the first server, until it is killed while the receiver holds one
	// of its deliveries.
	changed := make(chan struct{})
	go func() { defer close(changed); changeAll([]*server{first}) }()
	var heldID string
	select {
	case heldID = <-rc.held:
	case <-time.After(45 * time.Second):
		t.Fatalf("no delivery reached number %d within 45 s (%d arrived)\n%s", hookHoldAt, rc.arrivals, first.stderr)
	}
	first.kill()
	close(rc.release)
	<-changed

	// Phase 2: the server restarted, and a second process beside it, both delivering; more
	// changes through both.
	restarted := time.Now()
	withMetrics := append(slices.Clone(hookArgs), "--metrics-addr", "127.0.0.1:0")
	again := startServer(t, url, nil, withMetrics...)
	second := startServer(t, url, nil, withMetrics...)
	var before []string
	db := c.Superuser(t, "hooks")
	events := func() []string {
		rows, err := db.QueryContext(ctx, `SELECT id FROM events WHERE name = 'task.assignees_changed' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	before = events()
	changeAll([]*server{again, second})
	all := events()

	// Drained: every event accepted, and every attempt recorded (the outbox settled). The rows of
	// the events of before the kill settle first; those the kill left claimed, once their lease ends.
	pendingOf := func(ids []string) int {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_outbox WHERE done_at IS NULL AND event_id = ANY ($1::text[])`,
			"{"+strings.Join(ids, ",")+"}").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	deadline := time.Now().Add(40 * time.Second)
	var beforeDrained, allDrained time.Time
	for {
		if beforeDrained.IsZero() && pendingOf(before) == 0 {
			beforeDrained = time.Now()
		}
		n, _ := rc.missing(all)
		pending := pendingOf(all)
		if n == 0 && pending == 0 {
			allDrained = time.Now()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 40 s, %d of %d events not delivered, %d outbox rows pending", n, len(all), pending)
		}
		time.Sleep(50 * time.Millisecond) // polling the receiver and the outbox, bounded by deadline
	}

	rc.mu.Lock()
	arrivals, badSigs, overlaps := rc.arrivals, rc.badSigs, rc.overlaps
	duplicates, invented := 0, 0
	known := map[string]bool{}
	for _, id := range all {
		known[id] = true
	}
	for id, n := range rc.accepted {
		duplicates += n - 1
		if !known[id] {
			invented++
		}
	}
	heldAccepted := rc.accepted[heldID]
	rc.mu.Unlock()

	var recorded, rejected, delivered, notDelivered int
	err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE outcome = 'REJECTED'), count(*) FILTER (WHERE outcome = 'DELIVERED')
		FROM webhook_deliveries`).Scan(&recorded, &rejected, &delivered)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM webhook_outbox WHERE NOT delivered`).Scan(&notDelivered); err != nil {
		t.Fatal(err)
	}
	t.Logf("webhook figures: %d events (%d before the kill), %d deliveries (requests received), %d accepted, %d duplicates, "+
		"%d failed on purpose, %d attempts recorded (%d REJECTED, %d DELIVERED), 2 processes after the restart",
		len(all), len(before), arrivals, arrivals-hookFailures, duplicates, hookFailures, recorded, rejected, delivered)
	t.Logf("drain after the restart (2 processes; outbox polled every 50 ms): the %d events of before the kill all delivered and recorded %v after it "+
		"(the rows the kill left claimed wait for their 4 s lease), all %d events %v after it (the %d changes of after the restart included)",
		len(before), beforeDrained.Sub(restarted).Round(time.Millisecond), len(all), allDrained.Sub(restarted).Round(time.Millisecond), len(all)-len(before))

	// Both processes delivered: each is woken by the changes made through it.
	for i, srv := range []*server{again, second} {
		n := webhookAttempts(t, srv)
		t.Logf("process %d after the restart made %v attempts", i+1, n)
		if n == 0 {
			t.Errorf("process %d after the restart made no attempt: the two did not share the outbox", i+1)
		}
	}
	if badSigs > 0 {
		t.Errorf("%d requests with a bad signature", badSigs)
	}
	if invented > 0 {
		t.Errorf("%d events delivered that were never committed", invented)
	}
	if len(overlaps) > 0 {
		t.Errorf("an event was being delivered twice at once: %v", overlaps)
	}
	if heldAccepted < 2 {
		t.Errorf("the event whose delivery the kill interrupted (%s) was accepted %d times, want again after the lease", heldID, heldAccepted)
	}
	// At least once: a duplicate comes only from an attempt the kill interrupted, at most one per
	// attempt under way then (8 a process).
	if duplicates < 1 || duplicates > 8 {
		t.Errorf("%d duplicates, want 1 (the held delivery) to 8 (every attempt under way at the kill)", duplicates)
	}
	if lost := arrivals - recorded; lost < 1 || lost > 8 || notDelivered > 0 {
		t.Errorf("%d requests received, %d attempts recorded, %d events not delivered: want every attempt but those the kill interrupted (1 to 8) recorded, every event delivered",
			arrivals, recorded, notDelivered)
	}
	if delivered != len(all) {
		t.Errorf("%d attempts recorded DELIVERED, want one per event (%d)", delivered, len(all))
	}
	// The attempts are readable through the API.
	a := post(ctx, newClient(), second.base, hookAdminToken, `query($id: ID!) { node(id: $id) { ... on Webhook { deliveries { totalCount } } } }`,
		map[string]any{"id": created.ID})
	var node struct {
		Deliveries struct{ TotalCount int } `json:"deliveries"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.reply.Data["node"], &node) != nil || node.Deliveries.TotalCount != recorded {
		t.Errorf("Webhook.deliveries.totalCount: %s, want %d", a, recorded)
	}
	again.stop(t)
	second.stop(t)
}

// webhookAttempts is the sum of taskql_webhook_attempts_total that srv serves on its
// --metrics-addr, which it logs as it starts.
func webhookAttempts(t *testing.T, srv *server) float64 {
	t.Helper()
	var addr string
	for _, l := range srv.logs() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal([]byte(l.raw), &line) == nil && line.Msg == "serving metrics" {
			addr = line.Addr
		}
	}
	if addr == "" {
		t.Fatalf("the server did not log its metrics address\n%s", srv.stderr)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, "taskql_webhook_attempts_total{"); ok {
			var n float64
			if _, err := fmt.Sscan(rest[strings.LastIndex(rest, " ")+1:], &n); err == nil {
				sum += n
			}
		}
	}
	return sum
}
