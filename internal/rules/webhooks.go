package rules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/taskql/taskql/internal/store"
	"github.com/taskql/taskql/internal/webhook"
	"github.com/taskql/taskql/model"
)

// Webhooks (DESIGN §10). An organization's admins register, list and remove its webhooks and read
// their delivery attempts; anybody else is FORBIDDEN, and a webhook of another organization does
// not exist (NOT_FOUND). The secret is write-only. Each change's event enters the outbox of its
// organization's webhooks in the change's own transaction (store.WriteChanges), and the webhook
// package delivers it.

// MaxWebhooks is how many webhooks one organization may hold: each multiplies the deliveries of
// every change.
const MaxWebhooks = 10

// WithWebhookGuard sets the guard a webhook's URL must pass when it is registered (the worker
// enforces the same guard when it connects). The default refuses loopback and private targets.
func WithWebhookGuard(g webhook.Guard) Option { return func(s *Service) { s.guard = g } }

// admin is the viewer's organization when the viewer is one of its admins: ErrAdminOnly
// otherwise.
func admin(v *model.Viewer) (model.OrganizationID, error) {
	if _, err := scope(v); err != nil {
		return "", err
	}
	if !v.IsOrgAdmin {
		return "", ErrAdminOnly
	}
	return v.OrganizationID, nil
}

// CreateWebhook registers a webhook of the viewer's organization.
func (s *Service) CreateWebhook(ctx context.Context, v *model.Viewer, url, secret string) (*model.Webhook, error) {
	org, err := admin(v)
	if err != nil {
		return nil, err
	}
	if err := s.guard.CheckURL(url); err != nil {
		return nil, badInput("%v", err)
	}
	if _, err := webhook.ParseSecret(secret); err != nil {
		return nil, badInput("%v", err)
	}
	actor := v.ID
	w := &model.Webhook{ID: model.NewID[model.WebhookID](model.PrefixWebhook), OrganizationID: org, URL: url,
		CreatedByID: &actor, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	err = s.store.WithTx(ctx, func(tx *store.Store) error {
		n, err := tx.CountWebhooks(ctx, org)
		if err != nil {
			return err
		}
		if n >= MaxWebhooks {
			return badInput("an organization holds at most %d webhooks", MaxWebhooks)
		}
		return tx.CreateWebhook(ctx, w, secret)
	})
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return w, nil
}

// Webhooks lists the webhooks of the viewer's organization, oldest first.
func (s *Service) Webhooks(ctx context.Context, v *model.Viewer) ([]*model.Webhook, error) {
	org, err := admin(v)
	if err != nil {
		return nil, err
	}
	return s.store.Webhooks(ctx, org)
}

// DeleteWebhook removes a webhook of the viewer's organization, with its outbox and its deliveries.
func (s *Service) DeleteWebhook(ctx context.Context, v *model.Viewer, id model.WebhookID) (model.WebhookID, error) {
	org, err := admin(v)
	if err != nil {
		return "", err
	}
	if err := s.store.DeleteWebhook(ctx, org, id); err != nil {
		return "", notFoundAs(err, notFound("webhook", string(id)))
	}
	return id, nil
}

// WebhookDeliveries lists a webhook's delivery attempts, oldest first.
func (s *Service) WebhookDeliveries(ctx context.Context, v *model.Viewer, id model.WebhookID, a PageArgs) (*Page[model.WebhookDelivery], error) {
	org, err := admin(v)
	if err != nil {
		return nil, err
	}
	p, err := storePage(a)
	if err != nil {
		return nil, err
	}
	l, err := s.store.WebhookDeliveries(ctx, org, id, p)
	if err != nil {
		return nil, err
	}
	return page(l, a, func(d *model.WebhookDelivery) Position { return byID(d.ID) },
		func(ctx context.Context) (int, error) { return s.store.CountWebhookDeliveries(ctx, org, id) }), nil
}

// webhookNode is a webhook or delivery attempt reached by node(id:): nothing for a viewer who is
// not an admin of its organization (it does not exist for them).
func webhookNode[K ~string, T any](ctx context.Context, v *model.Viewer, id K,
	read func(context.Context, model.OrganizationID, []K) (map[K]*T, error)) (map[K]*T, error) {
	org, err := admin(v)
	if errors.Is(err, ErrAdminOnly) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return read(ctx, org, []K{id})
}
