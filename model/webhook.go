package model

import "time"

// Webhook is an endpoint an org admin registered to receive the organization's
// task.assignees_changed events (DESIGN §10). Its secret is write-only: it lives in the store's
// row type alone and never reaches a client.
type Webhook struct {
	ID             WebhookID `gorm:"primaryKey"`
	OrganizationID OrganizationID
	URL            string
	CreatedByID    *UserID
	CreatedAt      time.Time
}

// WebhookDelivery is one attempt to deliver one event to one webhook, as it went: every attempt
// is recorded (DESIGN §10).
type WebhookDelivery struct {
	ID        WebhookDeliveryID `gorm:"primaryKey"`
	WebhookID WebhookID
	EventID   EventID
	// Attempt counts the attempts of this event to this webhook, from 1.
	Attempt int
	// At is when the attempt started.
	At         time.Time
	DurationMs int
	Outcome    WebhookOutcome
	// StatusCode is the receiver's HTTP status, when it answered.
	StatusCode *int
	// Error says briefly why an attempt that got no 2xx failed; it names no address.
	Error *string
}
