package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewToken makes a new bearer token: random, shown once, stored only as its hash (DESIGN §2).
func NewToken() string { return "tq_" + rand.Text() }

// HashToken is the stored form of a token's text.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}
