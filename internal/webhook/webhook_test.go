package webhook

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/model"
)

// The Standard Webhooks specification's published example: matching it is what lets a receiver
// verify taskql's deliveries with any library of that specification.
func TestSignMatchesTheStandardWebhooksExample(t *testing.T) {
	key, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestParseSecretRefusesWhatIsNotWhsecAndEnoughBytes(t *testing.T) {
	for _, s := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!",
		"whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)), "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65))} {
		if _, err := ParseSecret(s); !errors.Is(err, ErrSecret) {
			t.Errorf("ParseSecret(%q) = %v, want ErrSecret", s, err)
		}
	}
}

// message is a claimed outbox row of an event, as the worker gets it from the store.
func message(url, secret string) store.WebhookMessage {
	actor := model.UserID("usr_ada")
	return store.WebhookMessage{WebhookID: "whk_1", EventID: "evt_1", Attempt: 1, URL: url, Secret: secret,
		Event: model.Event{ID: "evt_1", OrganizationID: "org_acme", Name: model.EventAssigneesChanged, ActorID: &actor, Entity: "task",
			EntityID: "tsk_1", Data: model.JSON(`{"added": ["usr_bob"], "removed": []}`), Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}}
}

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// A receiver that verifies as the README shows accepts what the worker sends, and refuses it with
// another secret, a changed body, or a timestamp far from now.
func TestReceiverVerifiesAsTheReadmeShows(t *testing.T) {
	type got struct {
		header http.Header
		body   []byte
	}
	requests := make(chan got, 1)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := verify(secret, r.Header, body, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
		requests <- got{r.Header, body}
	}))
	defer endpoint.Close()
	w := New(nil, Config{Guard: Guard{AllowPrivate: true}})
	status, err := w.post(t.Context(), message(endpoint.URL, secret), time.Now())
	if err != nil || status != http.StatusOK {
		t.Fatalf("post: HTTP %d, %v; want 200 (the receiver verified the signature)", status, err)
	}
	r := <-requests
	if id := r.header.Get("Webhook-Id"); id != "evt_1" {
		t.Errorf("Webhook-Id = %q, want the event's id", id)
	}
	if diff := cmp.Diff(`{"type":"task.assignees_changed","timestamp":"2026-01-02T03:04:05.000006Z","data":{"id":"evt_1",`+
		`"organizationId":"org_acme","taskId":"tsk_1","added":["usr_bob"],"removed":[],"actorId":"usr_ada","at":"2026-01-02T03:04:05.000006Z"}}`,
		string(r.body)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if err := verify("whsec_"+base64.StdEncoding.EncodeToString(make([]byte, 24)), r.header, r.body, time.Now()); err == nil {
		t.Error("verify accepted the request with another secret")
	}
	if err := verify(secret, r.header, append(r.body[:len(r.body)-1:len(r.body)-1], ' ', '}'), time.Now()); err == nil {
		t.Error("verify accepted a changed body")
	}
	if err := verify(secret, r.header, r.body, time.Now().Add(10*time.Minute)); err == nil {
		t.Error("verify accepted a request 10 minutes old")
	}
}

// The schedule of retries (DESIGN §10): exponential from Base, at most Max apart, with equal
// jitter (between half the delay and all of it), for at most Horizon after the event entered the
// outbox.
func TestBackoffSchedule(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fixed := func(f float64) func() float64 { return func() float64 { return f } }
	b := Backoff{Base: 5 * time.Second, Max: time.Hour, Horizon: 24 * time.Hour}
	for _, c := range []struct {
		name    string
		attempt int
		jitter  float64
		want    time.Duration
	}{
		{"first retry, least jitter: half of Base", 1, 0, 2500 * time.Millisecond},
		{"first retry, most jitter: Base", 1, 1, 5 * time.Second},
		{"second retry doubles", 2, 1, 10 * time.Second},
		{"fifth retry", 5, 0.5, 60 * time.Second},
		{"capped at Max", 12, 1, time.Hour},
		{"capped at Max however many attempts", 200, 0, 30 * time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			b.Jitter = fixed(c.jitter)
			next, ok := b.Next(c.attempt, t0, t0)
			if !ok || next.Sub(t0) != c.want {
				t.Errorf("Next(%d) = +%v %v, want +%v", c.attempt, next.Sub(t0), ok, c.want)
			}
		})
	}
	t.Run("given up when the next attempt would pass the horizon", func(t *testing.T) {
		b.Jitter = fixed(0)
		if _, ok := b.Next(30, t0, t0.Add(23*time.Hour+31*time.Minute)); ok {
			t.Error("an attempt past 24 h was scheduled")
		}
		if _, ok := b.Next(30, t0, t0.Add(23*time.Hour+29*time.Minute)); !ok {
			t.Error("an attempt within 24 h was given up")
		}
	})
	t.Run("the default schedule over 24 h", func(t *testing.T) {
		d := DefaultBackoff
		d.Jitter = fixed(0.5)
		now, attempts := t0, 1
		for {
			next, ok := d.Next(attempts, t0, now)
			if !ok {
				break
			}
			now, attempts = next, attempts+1
		}
		if attempts < 30 || attempts > 45 || now.Sub(t0) > 24*time.Hour || now.Sub(t0) < 23*time.Hour {
			t.Errorf("%d attempts, the last %v after the first; want 30–45 spread over the 24 h", attempts, now.Sub(t0))
		}
		t.Logf("DefaultBackoff with average jitter: %d attempts, the last %v after the first", attempts, now.Sub(t0).Round(time.Minute))
	})
}

func TestGuardRefusesLoopbackPrivateAndLinkLocal(t *testing.T) {
	for _, c := range []struct {
		addr    string
		allowed bool
	}{
		{"127.0.0.1", false}, {"127.1.2.3", false}, {"::1", false}, {"::ffff:127.0.0.1", false},
		{"10.0.0.1", false}, {"172.16.5.4", false}, {"192.168.1.1", false}, {"fd00::1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"100.64.0.1", false}, {"0.0.0.0", false}, {"0.1.2.3", false},
		{"::", false}, {"224.0.0.1", false}, {"ff02::1", false},
		{"8.8.8.8", true}, {"93.184.215.14", true}, {"2606:4700:4700::1111", true}, {"172.32.0.1", true},
	} {
		addr := netip.MustParseAddr(c.addr)
		if got := (Guard{}).Allows(addr); got != c.allowed {
			t.Errorf("Guard{}.Allows(%s) = %v, want %v", addr, got, c.allowed)
		}
		if !(Guard{AllowPrivate: true}).Allows(addr) {
			t.Errorf("Guard{AllowPrivate}.Allows(%s) = false", addr)
		}
	}
}

// The guard holds when connecting, on the address dialled, whatever the URL said when it was
// registered: a name that resolves to a loopback address (as after DNS rebinding) is refused,
// and the endpoint never hears of it.
func TestDeliveryToLoopbackIsRefusedWhenConnecting(t *testing.T) {
	var hits atomic.Int32
	endpoint := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer endpoint.Close()
	w := New(nil, Config{})
	for _, url := range []string{endpoint.URL, strings.Replace(endpoint.URL, "127.0.0.1", "localhost", 1)} {
		status, err := w.post(context.Background(), message(url, secret), time.Now())
		outcome, code, text := classify(status, err)
		if !errors.Is(err, ErrRefused) || outcome != model.WebhookOutcomeRefused || code != nil || text == nil || strings.Contains(*text, "127.0.0.1") {
			t.Errorf("post %s: %v, %s %v %v; want ErrRefused, REFUSED without a status, naming no address", url, err, outcome, code, text)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the endpoint got %d requests, want none", n)
	}
}

func TestCheckURL(t *testing.T) {
	for _, c := range []struct {
		url          string
		allowPrivate bool
		ok           bool
	}{
		{"https://hooks.example.test/taskql?x=1", false, true},
		{"http://93.184.215.14:8080/hook", false, true},
		{"http://127.0.0.1:8080/hook", false, false},
		{"http://127.0.0.1:8080/hook", true, true},
		{"http://localhost/hook", false, false},
		{"http://api.localhost./hook", false, false},
		{"http://[fd00::1]/hook", false, false},
		{"http://192.168.0.10/hook", false, false},
		{"ftp://hooks.example.test/", true, false},
		{"https://u:p@hooks.example.test/", true, false},
		{"https:///nohost", true, false},
		{"hooks.example.test/taskql", true, false},
		{"https://hooks.example.test/" + strings.Repeat("a", MaxURLLength), true, false},
		// IPv4 in the forms receivers' tools read (127.1, decimal, hex, octal): refused even where
		// private targets are allowed, since the guard checks only the usual form.
		{"http://127.1:8080/hook", false, false},
		{"http://2130706433/hook", false, false},
		{"http://0x7f000001/hook", false, false},
		{"http://017700000001/hook", false, false},
		{"http://127.0.0.1.:8080/hook", false, false},
		{"http://10.1/hook", true, false},
		{"http://[::ffff:127.0.0.1]/hook", false, false},
		{"http://hooks.example.test.:443/", false, true},
		{"http://hooks-1.example.test/", false, true},
		{"https://hooks.example.test:99999/x", true, false},
		{"https://hooks.example.test:0/x", true, false},
		{"https://hooks.example.test:65535/x", false, true},
	} {
		err := Guard{AllowPrivate: c.allowPrivate}.CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("CheckURL(%.60q, allowPrivate %v) = %v, want ok %v", c.url, c.allowPrivate, err, c.ok)
		}
	}
}
