package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// README: verify
// verify checks that a request came from taskql (Standard Webhooks): a Webhook-Signature entry
// equal to the HMAC-SHA256 of "<Webhook-Id>.<Webhook-Timestamp>.<body>", keyed by the secret
// (base64 after "whsec_"), and a timestamp less than 5 minutes from now, so that a captured
// request cannot be replayed later. Then drop a Webhook-Id already handled: delivery is at least
// once.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return err
	}
	ts, err := strconv.ParseInt(h.Get("Webhook-Timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return errors.New("webhook timestamp missing or too far from now")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("Webhook-Id") + "." + h.Get("Webhook-Timestamp") + "."))
	mac.Write(body)
	want := []byte("v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	for _, sig := range strings.Fields(h.Get("Webhook-Signature")) {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return errors.New("no valid webhook signature")
}

// README: end

// The README shows verify as it is written above, word for word: a receiver that copies it
// verifies what the worker sends (TestReceiverVerifiesAsTheReadmeShows).
func TestReadmeShowsTheVerifierTested(t *testing.T) {
	src, err := os.ReadFile("readme_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(src), "// README: verify\n")
	snippet, _, ok := strings.Cut(rest, "\n// README: end")
	if !ok || len(snippet) < 200 {
		t.Fatal("readme_test.go lost its README markers")
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), snippet) {
		t.Errorf("README.md does not show verify as readme_test.go tests it:\n%s", snippet)
	}
}
