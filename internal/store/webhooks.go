package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/taskql/taskql/internal/migrate"
	"github.com/taskql/taskql/model"
)

// webhookRow is a webhook with its signing secret, which never leaves the store but for the
// delivery worker (WebhookMessage).
type webhookRow struct {
	model.Webhook
	Secret string
}

func (webhookRow) TableName() string { return "webhooks" }

// outboxRow is one event to deliver to one webhook (DESIGN §10), written in the change's
// transaction (WriteChange).
type outboxRow struct {
	WebhookID     model.WebhookID `gorm:"primaryKey"`
	EventID       model.EventID   `gorm:"primaryKey"`
	Attempts      int
	NextAttemptAt time.Time
	CreatedAt     time.Time
	DoneAt        *time.Time
	Delivered     bool
}

func (outboxRow) TableName() string { return "webhook_outbox" }

// CreateWebhook stores a new webhook and its secret.
func (s *Store) CreateWebhook(ctx context.Context, w *model.Webhook, secret string) error {
	if err := s.q(ctx).Create(&webhookRow{Webhook: *w, Secret: secret}).Error; err != nil {
		return fmt.Errorf("create webhook: %w", translate(err))
	}
	return nil
}

// CountWebhooks counts an organization's webhooks.
func (s *Store) CountWebhooks(ctx context.Context, org model.OrganizationID) (int, error) {
	n, err := count(ctx, s.q(ctx).Model(&model.Webhook{}).Where("organization_id = ?", org))
	if err != nil {
		return 0, fmt.Errorf("count webhooks: %w", err)
	}
	return n, nil
}

// Webhooks lists an organization's webhooks, oldest first (ids sort by creation time).
func (s *Store) Webhooks(ctx context.Context, org model.OrganizationID) ([]*model.Webhook, error) {
	var rows []*model.Webhook
	if err := s.q(ctx).Where("organization_id = ?", org).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	return rows, nil
}

// WebhooksByID returns the organization's webhooks among ids, keyed by id.
func (s *Store) WebhooksByID(ctx context.Context, org model.OrganizationID, ids []model.WebhookID) (map[model.WebhookID]*model.Webhook, error) {
	var rows []*model.Webhook
	if err := s.q(ctx).Where("organization_id = ? AND id IN ?", org, ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("webhooks by id: %w", err)
	}
	return byKey(rows, func(w *model.Webhook) model.WebhookID { return w.ID }), nil
}

// DeleteWebhook removes an organization's webhook with its outbox rows and its deliveries
// (ON DELETE CASCADE): ErrNotFound when the organization has no such webhook.
func (s *Store) DeleteWebhook(ctx context.Context, org model.OrganizationID, id model.WebhookID) error {
	res := s.q(ctx).Where("organization_id = ? AND id = ?", org, id).Delete(&model.Webhook{})
	if res.Error != nil {
		return fmt.Errorf("delete webhook %s: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// deliveriesOf are the delivery attempts of one webhook of the organization.
func (s *Store) deliveriesOf(ctx context.Context, org model.OrganizationID, webhook model.WebhookID) *gorm.DB {
	return s.q(ctx).Model(&model.WebhookDelivery{}).
		Where("webhook_id = ? AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_deliveries.webhook_id AND w.organization_id = ?)", webhook, org)
}

// WebhookDeliveries lists one page of a webhook's delivery attempts, oldest first (ids sort by
// creation time); none for a webhook of another organization.
func (s *Store) WebhookDeliveries(ctx context.Context, org model.OrganizationID, webhook model.WebhookID, p Page) (List[model.WebhookDelivery], error) {
	l, err := pageByID[model.WebhookDelivery](s.deliveriesOf(ctx, org, webhook), "id", p)
	if err != nil {
		return l, fmt.Errorf("deliveries of webhook %s: %w", webhook, err)
	}
	return l, nil
}

// CountWebhookDeliveries counts a webhook's delivery attempts.
func (s *Store) CountWebhookDeliveries(ctx context.Context, org model.OrganizationID, webhook model.WebhookID) (int, error) {
	n, err := count(ctx, s.deliveriesOf(ctx, org, webhook))
	if err != nil {
		return 0, fmt.Errorf("count deliveries: %w", err)
	}
	return n, nil
}

// WebhookDeliveriesByID returns the organization's delivery attempts among ids, keyed by id.
func (s *Store) WebhookDeliveriesByID(ctx context.Context, org model.OrganizationID, ids []model.WebhookDeliveryID) (map[model.WebhookDeliveryID]*model.WebhookDelivery, error) {
	var rows []*model.WebhookDelivery
	err := s.q(ctx).Where("id IN ?", ids).
		Where("EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_deliveries.webhook_id AND w.organization_id = ?)", org).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("deliveries by id: %w", err)
	}
	return byKey(rows, func(d *model.WebhookDelivery) model.WebhookDeliveryID { return d.ID }), nil
}

// WebhookMessage is an outbox row claimed for one delivery attempt, with what the attempt needs:
// the webhook's URL and secret, and the event.
type WebhookMessage struct {
	WebhookID model.WebhookID
	EventID   model.EventID
	// Attempt is this attempt's number, from 1: with the two ids it fences the row (FinishAttempt).
	Attempt int
	// CreatedAt is when the event entered the outbox: retries end 24 h later.
	CreatedAt time.Time
	URL       string
	Secret    string
	Event     model.Event
}

// ClaimWebhookMessages claims at most limit due outbox rows for one attempt each: each row's
// attempt count goes up by one and it is not due again before now+lease, so that a row whose
// worker died mid-delivery is delivered again once the lease ends (at least once). On PostgreSQL
// the rows are picked FOR UPDATE SKIP LOCKED, so that the workers of several processes claim
// different rows at once without waiting for each other; SQLite serialises writers.
func (s *Store) ClaimWebhookMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]WebhookMessage, error) {
	// Most polls find nothing due: a read says so without a write transaction, which on SQLite
	// would take the database's write lock from the API's writers every poll.
	var due []string
	if err := s.q(ctx).Model(&outboxRow{}).Where("done_at IS NULL AND next_attempt_at <= ?", now).Limit(1).Pluck("event_id", &due).Error; err != nil {
		return nil, fmt.Errorf("claim webhook messages: %w", translate(err))
	}
	if len(due) == 0 {
		return nil, nil
	}
	var out []WebhookMessage
	err := s.WithTx(ctx, func(tx *Store) error {
		var due []outboxRow
		q := tx.q(ctx).Where("done_at IS NULL AND next_attempt_at <= ?", now).Order("next_attempt_at").Limit(limit)
		if tx.dialect == migrate.Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&due).Error; err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		keys := make([][]any, len(due))
		var hooks []model.WebhookID
		var events []model.EventID
		for i, r := range due {
			keys[i] = []any{r.WebhookID, r.EventID}
			hooks, events = append(hooks, r.WebhookID), append(events, r.EventID)
		}
		err := tx.q(ctx).Model(&outboxRow{}).Where("(webhook_id, event_id) IN ?", keys).
			Updates(map[string]any{"attempts": gorm.Expr("attempts + 1"), "next_attempt_at": now.Add(lease)}).Error
		if err != nil {
			return err
		}
		var ws []*webhookRow
		if err := tx.q(ctx).Where("id IN ?", hooks).Find(&ws).Error; err != nil {
			return err
		}
		var es []*model.Event
		if err := tx.q(ctx).Where("id IN ?", events).Find(&es).Error; err != nil {
			return err
		}
		byHook := byKey(ws, func(w *webhookRow) model.WebhookID { return w.ID })
		byEvent := byKey(es, func(e *model.Event) model.EventID { return e.ID })
		for _, r := range due {
			w, e := byHook[r.WebhookID], byEvent[r.EventID]
			if w == nil || e == nil {
				continue // cannot happen: the keys reference both
			}
			out = append(out, WebhookMessage{WebhookID: r.WebhookID, EventID: r.EventID, Attempt: r.Attempts + 1,
				CreatedAt: r.CreatedAt.UTC(), URL: w.URL, Secret: w.Secret, Event: *e})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim webhook messages: %w", translate(err))
	}
	return out, nil
}

// FinishAttempt records an attempt and settles its outbox row: delivered, given up (next nil),
// or due again at *next. The row is settled only if no other worker claimed it since (its
// attempt count is still this attempt's); the attempt is recorded either way, unless the webhook
// was removed meanwhile. It tells whether the row was settled.
func (s *Store) FinishAttempt(ctx context.Context, m WebhookMessage, d *model.WebhookDelivery, next *time.Time) (bool, error) {
	settled := false
	err := s.WithTx(ctx, func(tx *Store) error {
		set := map[string]any{}
		switch {
		case d.Outcome == model.WebhookOutcomeDelivered:
			set["done_at"], set["delivered"] = d.At.Add(time.Duration(d.DurationMs)*time.Millisecond), true
		case next == nil:
			set["done_at"] = d.At.Add(time.Duration(d.DurationMs) * time.Millisecond)
		default:
			set["next_attempt_at"] = *next
		}
		res := tx.q(ctx).Model(&outboxRow{}).
			Where("webhook_id = ? AND event_id = ? AND attempts = ? AND done_at IS NULL", m.WebhookID, m.EventID, m.Attempt).
			Updates(set)
		if res.Error != nil {
			return res.Error
		}
		settled = res.RowsAffected == 1
		// The row is gone when its webhook was removed meanwhile: then so is its record.
		return tx.q(ctx).Exec(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, attempt, at, duration_ms, outcome, status_code, error)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_outbox WHERE webhook_id = ? AND event_id = ?)`,
			d.ID, d.WebhookID, d.EventID, d.Attempt, d.At, d.DurationMs, d.Outcome, d.StatusCode, d.Error, m.WebhookID, m.EventID).Error
	})
	if err != nil {
		return false, fmt.Errorf("finish attempt %d of %s to %s: %w", m.Attempt, m.EventID, m.WebhookID, translate(err))
	}
	return settled, nil
}

// Backlog is the outbox's rows not yet delivered nor given up.
type Backlog struct {
	Rows int
	// Oldest is when the oldest of them entered the outbox (zero when there is none).
	Oldest time.Time
}

// WebhookBacklog measures the outbox's backlog, for the metrics.
func (s *Store) WebhookBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var n int64
	q := s.q(ctx).Model(&outboxRow{}).Where("done_at IS NULL")
	if err := q.Count(&n).Error; err != nil {
		return b, fmt.Errorf("webhook backlog: %w", err)
	}
	b.Rows = int(n)
	if n > 0 {
		var first outboxRow
		if err := s.q(ctx).Where("done_at IS NULL").Order("created_at").Take(&first).Error; err != nil {
			return b, fmt.Errorf("webhook backlog: %w", translate(err))
		}
		b.Oldest = first.CreatedAt.UTC()
	}
	return b, nil
}
