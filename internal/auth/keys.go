// Package auth holds classmeet's proofs of identity: password hashes, the
// session JWT, personal join links, short-lived join tokens, the account role
// table, login rate limits and the HTTP middleware that ties them together.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
)

// deriveKey gives each use of the server secret its own key, so a token of
// one kind can never be replayed as another.
func deriveKey(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("classmeet/" + purpose))
	return m.Sum(nil)
}
