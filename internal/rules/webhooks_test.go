package rules_test

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/taskql/taskql/internal/rules"
	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/testdb"
	"github.com/taskql/taskql/model"
)

var webhookSecret = "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 32))

// A webhook of another organization does not exist for an org admin (DESIGN §10): its deliveries
// read as none, deleting it is NOT_FOUND and leaves it, node(id:) is NOT_FOUND, and the list of
// webhooks leaves it out. The same reads of the admin's own webhook find it first, so that a leak
// would show. Only org admins use webhooks at all: the others are FORBIDDEN.
// (The webhook reads are left out of readsOfIDs: no viewer of org_b there is an admin.)
func TestWebhooksOfAnotherOrganizationDoNotExist(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := t.Context()
		admin := w.admin(t)
		own, err := w.svc.CreateWebhook(ctx, admin, "https://hooks.acme.test/", webhookSecret)
		if err != nil {
			t.Fatal(err)
		}
		foreign := &model.Webhook{ID: "whk_b", OrganizationID: "org_b", URL: "https://hooks.bobco.test/", CreatedAt: time.Now().UTC()}
		if err := st.CreateWebhook(ctx, foreign, webhookSecret); err != nil {
			t.Fatal(err)
		}
		// A change in each organization, and an attempt recorded for each outbox row.
		w.assign(t, "tsk_open", "usr_agent")
		if _, err := w.svc.AssignUsers(ctx, w.viewer(t, "usr_bob"), "tsk_b", []model.UserID{"usr_bob"}); err != nil {
			t.Fatal(err)
		}
		msgs, err := st.ClaimWebhookMessages(ctx, time.Now().Add(time.Second), time.Minute, 10)
		if err != nil || len(msgs) != 2 {
			t.Fatalf("claimed %d outbox rows (%v), want one per organization's change", len(msgs), err)
		}
		for _, m := range msgs {
			d := &model.WebhookDelivery{ID: model.NewID[model.WebhookDeliveryID](model.PrefixDelivery), WebhookID: m.WebhookID,
				EventID: m.EventID, Attempt: m.Attempt, At: time.Now().UTC(), Outcome: model.WebhookOutcomeDelivered}
			if _, err := st.FinishAttempt(ctx, m, d, nil); err != nil {
				t.Fatal(err)
			}
		}

		count := func(id model.WebhookID) (int, error) {
			p, err := w.svc.WebhookDeliveries(ctx, admin, id, rules.PageArgs{})
			if err != nil {
				return 0, err
			}
			n, err := p.Count(ctx)
			if n != len(p.Items) {
				t.Errorf("deliveries of %s: %d items, totalCount %d", id, len(p.Items), n)
			}
			return n, err
		}
		if n, err := count(own.ID); n != 1 || err != nil {
			t.Errorf("own webhook's deliveries: %d, %v; want 1", n, err)
		}
		if n, err := count(foreign.ID); n != 0 || err != nil {
			t.Errorf("org_b's webhook's deliveries read by org_a's admin: %d, %v; want none", n, err)
		}
		if _, err := w.svc.Node(ctx, admin, model.NodeID(own.ID)); err != nil {
			t.Errorf("node(own webhook): %v", err)
		}
		if _, err := w.svc.Node(ctx, admin, model.NodeID(foreign.ID)); !isNotFound(err) {
			t.Errorf("node(org_b's webhook) = %v, want NOT_FOUND", err)
		}
		list, err := w.svc.Webhooks(ctx, admin)
		if err != nil || len(list) != 1 || list[0].ID != own.ID {
			t.Errorf("webhooks of org_a's admin = %v, %v; want only its own", list, err)
		}
		if _, err := w.svc.DeleteWebhook(ctx, admin, foreign.ID); !isNotFound(err) {
			t.Errorf("deleting org_b's webhook = %v, want NOT_FOUND", err)
		}
		if left, err := st.WebhooksByID(ctx, "org_b", []model.WebhookID{foreign.ID}); err != nil || len(left) != 1 {
			t.Errorf("org_b's webhook after org_a's admin tried to delete it: %v, %v", left, err)
		}

		// Not an admin: FORBIDDEN, whatever the id; and nothing through node(id:).
		member := w.viewer(t, "usr_agent")
		for name, call := range map[string]func() error{
			"CreateWebhook": func() error {
				_, err := w.svc.CreateWebhook(ctx, member, "https://hooks.acme.test/", webhookSecret)
				return err
			},
			"Webhooks":      func() error { _, err := w.svc.Webhooks(ctx, member); return err },
			"DeleteWebhook": func() error { _, err := w.svc.DeleteWebhook(ctx, member, own.ID); return err },
			"WebhookDeliveries": func() error {
				_, err := w.svc.WebhookDeliveries(ctx, member, own.ID, rules.PageArgs{})
				return err
			},
		} {
			if err := call(); !errors.Is(err, rules.ErrAdminOnly) {
				t.Errorf("%s by a member who is not an admin = %v, want FORBIDDEN (ErrAdminOnly)", name, err)
			}
		}
		if _, err := w.svc.Node(ctx, member, model.NodeID(own.ID)); !isNotFound(err) {
			t.Errorf("node(webhook) for a member who is not an admin = %v, want NOT_FOUND", err)
		}
	})
}

// The outbox's lease (DESIGN §10): a claimed row is not due again until the lease ends, then it
// is claimed again as the next attempt; the attempt whose lease ended can no longer settle the
// row (it is fenced by the attempt number), though it is recorded. Removing the webhook drops its
// rows, and an attempt under way then is recorded nowhere and fails nothing.
func TestOutboxLeaseFencesAndRemovalDrops(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		w := newWorld(t, st)
		ctx := t.Context()
		hook, err := w.svc.CreateWebhook(ctx, w.admin(t), "https://hooks.acme.test/", webhookSecret)
		if err != nil {
			t.Fatal(err)
		}
		w.assign(t, "tsk_open", "usr_agent")
		t0 := time.Now().Add(time.Second)
		const lease = time.Minute
		claim := func(at time.Time) []store.WebhookMessage {
			t.Helper()
			msgs, err := st.ClaimWebhookMessages(ctx, at, lease, 10)
			if err != nil {
				t.Fatal(err)
			}
			return msgs
		}
		first := claim(t0)
		if len(first) != 1 || first[0].Attempt != 1 {
			t.Fatalf("first claim: %+v, want attempt 1 of the one row", first)
		}
		if again := claim(t0.Add(lease - time.Millisecond)); len(again) != 0 {
			t.Fatalf("claimed again before the lease ended: %+v", again)
		}
		second := claim(t0.Add(lease))
		if len(second) != 1 || second[0].Attempt != 2 {
			t.Fatalf("claim after the lease: %+v, want attempt 2", second)
		}
		record := func(m store.WebhookMessage) *model.WebhookDelivery {
			return &model.WebhookDelivery{ID: model.NewID[model.WebhookDeliveryID](model.PrefixDelivery), WebhookID: m.WebhookID,
				EventID: m.EventID, Attempt: m.Attempt, At: time.Now().UTC(), Outcome: model.WebhookOutcomeDelivered}
		}
		if settled, err := st.FinishAttempt(ctx, first[0], record(first[0]), nil); err != nil || settled {
			t.Errorf("the attempt whose lease ended settled the row: %v, %v", settled, err)
		}
		b, err := st.WebhookBacklog(ctx)
		if err != nil || b.Rows != 1 {
			t.Errorf("backlog %+v, %v; want the row still pending", b, err)
		}
		if _, err := w.svc.DeleteWebhook(ctx, w.admin(t), hook.ID); err != nil {
			t.Fatal(err)
		}
		if settled, err := st.FinishAttempt(ctx, second[0], record(second[0]), nil); err != nil || settled {
			t.Errorf("finishing an attempt of a removed webhook: %v, %v; want nothing settled, no error", settled, err)
		}
		if b, err := st.WebhookBacklog(ctx); err != nil || b.Rows != 0 {
			t.Errorf("backlog after removal %+v, %v; want none", b, err)
		}
		var left int
		if err := st.Gorm().Raw("SELECT count(*) FROM webhook_deliveries").Scan(&left).Error; err != nil || left != 0 {
			t.Errorf("%d deliveries left after removal (%v), want none", left, err)
		}
	})
}
