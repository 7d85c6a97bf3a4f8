package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// A personal join link carries base64url(invitee id ‖ MAC), where the MAC
// covers the invitee id and a per-invitee nonce kept in the database. The
// link is unguessable (128-bit MAC), recomputable so the teacher can copy it
// again at any time, useless to someone who reads only the database, and
// revoked by deleting or replacing the nonce.
const (
	linkMACLen   = 16
	linkTokenLen = 16 + linkMACLen
	linkNonceLen = 16
)

// Links makes and checks personal join link tokens.
type Links struct {
	key []byte
}

// NewLinks returns a link signer keyed from the server secret.
func NewLinks(secret []byte) *Links {
	return &Links{key: deriveKey(secret, "join-link")}
}

// NewBookingLinks returns the signer of households' booking links: the same
// construction under another key, so a join link never opens a booking page
// nor the other way round. The id in the token is the household's.
func NewBookingLinks(secret []byte) *Links {
	return &Links{key: deriveKey(secret, "booking-link")}
}

// NewLinkNonce returns a fresh nonce for a new or renewed link.
func NewLinkNonce() []byte {
	b := make([]byte, linkNonceLen)
	_, _ = rand.Read(b)
	return b
}

// Token is the link token of an invitee whose current nonce is nonce.
func (l *Links) Token(inviteeID uuid.UUID, nonce []byte) string {
	b := make([]byte, 0, linkTokenLen)
	b = append(b, inviteeID[:]...)
	b = append(b, l.mac(inviteeID, nonce)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// InviteeOf reads the invitee id out of a token without trusting it: the
// caller must then check Matches against that invitee's nonce.
func (l *Links) InviteeOf(token string) (uuid.UUID, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != linkTokenLen {
		return uuid.Nil, fmt.Errorf("%w: not a join link", ErrInvalidToken)
	}
	return uuid.UUID(b[:16]), nil
}

// Matches reports whether token is the current link of the invitee.
func (l *Links) Matches(token string, inviteeID uuid.UUID, nonce []byte) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != linkTokenLen || uuid.UUID(b[:16]) != inviteeID {
		return false
	}
	return hmac.Equal(b[16:], l.mac(inviteeID, nonce))
}

func (l *Links) mac(inviteeID uuid.UUID, nonce []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write(inviteeID[:])
	m.Write(nonce)
	return m.Sum(nil)[:linkMACLen]
}
