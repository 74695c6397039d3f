// Package webhook delivers the outbox of DESIGN §10: a worker in every serve process claims due
// rows through the store (FOR UPDATE SKIP LOCKED on PostgreSQL), POSTs each event signed as the
// Standard Webhooks specification says, records the attempt, and schedules the next one with
// exponential backoff and jitter for up to 24 hours. Targets on loopback, private and link-local
// networks are refused when connecting (Guard), unless configured otherwise. It decides nothing
// about who sees what: the rules package registers webhooks for org admins, and an event enters a
// webhook's outbox only when it is of the webhook's organization.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SecretPrefix starts every signing secret (Standard Webhooks): the rest is base64.
const SecretPrefix = "whsec_"

// The sizes a secret's key may have, in bytes (Standard Webhooks: 24 to 64).
const (
	MinSecretBytes = 24
	MaxSecretBytes = 64
)

// ErrSecret refuses a secret that is not `whsec_` and the base64 of 24 to 64 bytes.
var ErrSecret = errors.New("secret must be whsec_ followed by the base64 of 24 to 64 random bytes")

// ParseSecret returns the key of a signing secret.
func ParseSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < MinSecretBytes || len(key) > MaxSecretBytes {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign is the Webhook-Signature of a message (Standard Webhooks, symmetric): "v1," and the base64
// of the HMAC-SHA256, keyed by the secret's key, of "<id>.<timestamp>.<body>", the timestamp in
// Unix seconds as the Webhook-Timestamp header carries it.
func Sign(key []byte, id string, at time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
