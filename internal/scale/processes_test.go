package scale

import (
	"net/http"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/testdb"
)

// DESIGN §11: three `taskql serve` processes on one PostgreSQL database behave as one. They start
// together on an empty database (their migrations take turns), then concurrent clients send them
// calls round-robin: DESIGN §3's invariants hold (no duplicate, no lost add, the limit kept, one
// event per real change), every process's subscriber hears every change, and a token revoked by
// `taskql token revoke` is refused by every process once its notification arrived.
func TestThreeProcessesBehaveAsOne(t *testing.T) {
	c := testdb.PrivateCluster(t)
	env := []string{"DATABASE_URL=" + database(t, c, "scale")}
	servers := startServers(t, 3, env, "--max-assignees", "6")
	seedWorld(t, env)
	behaveAsOne(t, servers, env)
}

// calls is how many calls of each task the load sends; workers how many at once.
const (
	callsPerTask = 60
	workers      = 24
)

// behaveAsOne runs the load against the servers and checks what DESIGN §3 and §4 promise, then
// revokes a token with env.
func behaveAsOne(t *testing.T, servers []*server, env []string) {
	t.Helper()
	streams := make([]*stream, len(servers))
	for i, s := range servers {
		s.listening(t, tokAdmin)
		streams[i] = subscribe(t, s.base, tokAdmin)
		s.waitMetric(t, "taskql_subscriptions_active", 10*time.Second, func(v float64) bool { return v >= 1 })
	}
	started := time.Now()
	outcomes := drive(t, servers, calls(callsPerTask), workers)
	took := time.Since(started)
	refused := checkOutcomes(t, outcomes)
	ids := checkHistories(t, servers[len(servers)-1].base, outcomes)
	for _, s := range servers { // tsk_union holds the limit now, whatever the interleaving
		a := post(t, s.base, token(0), `mutation { assignUsers(taskId: "tsk_union", userIds: ["usr_p6"]) { id } }`, nil)
		if a.code() != "UNPROCESSABLE" || len(a.Errors[0].Extensions.Violations) != 1 ||
			a.Errors[0].Extensions.Violations[0].Reason != "TOO_MANY_ASSIGNEES" {
			t.Errorf("%s: a call past the limit: %+v, want UNPROCESSABLE TOO_MANY_ASSIGNEES", s.name, a.Errors)
		}
	}
	for i, s := range streams {
		checkHeard(t, servers[i].name+"'s subscriber", s, ids)
	}
	t.Logf("%d calls over %d processes in %s (%d refused at the limit); %d and %d events; every subscriber heard them all",
		len(outcomes), len(servers), took.Round(time.Millisecond), refused, len(ids["tsk_mix"]), len(ids["tsk_union"]))
	revokeEverywhere(t, servers, env)
}

// revokeEverywhere: once every server keeps the viewer of usr_v5's token, `taskql token revoke`
// revokes it, and every server refuses it as soon as it has heard the notification (it counts
// taskql_viewers_forgotten_total).
func revokeEverywhere(t *testing.T, servers []*server, env []string) {
	t.Helper()
	forgotten := make([]float64, len(servers))
	for i, s := range servers {
		s.listening(t, token(5))
		forgotten[i] = s.metric(t, "taskql_viewers_forgotten_total")
	}
	revoked := time.Now()
	taskql(t, env, "token", "revoke", "--user", viewer(5))
	for i, s := range servers {
		s.waitMetric(t, "taskql_viewers_forgotten_total", 5*time.Second, func(v float64) bool { return v > forgotten[i] })
		if a := post(t, s.base, token(5), `{ viewer { id } }`, nil); a.Status != http.StatusUnauthorized || a.code() != "UNAUTHENTICATED" {
			t.Errorf("%s: the revoked token: HTTP %d %q, want 401 UNAUTHENTICATED", s.name, a.Status, a.code())
		}
		if a := post(t, s.base, token(4), `{ viewer { id } }`, nil); a.Status != http.StatusOK {
			t.Errorf("%s: another viewer's token after the revocation: HTTP %d %+v", s.name, a.Status, a.Errors)
		}
	}
	t.Logf("the revoked token was refused by all %d processes %s after `taskql token revoke` began",
		len(servers), time.Since(revoked).Round(time.Millisecond))
}
