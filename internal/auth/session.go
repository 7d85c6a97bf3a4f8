package auth

import (
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// Issuer names classmeet in every token it signs.
const Issuer = "classmeet"

const sessionAudience = "classmeet/session"

// signingMethod is the one algorithm classmeet signs and accepts.
var signingMethod = jwt.SigningMethodHS256

// SessionClaims is what a session cookie proves: which session of which user.
type SessionClaims struct {
	SessionID uuid.UUID
	UserID    uuid.UUID
	ExpiresAt time.Time
}

// Sessions signs and verifies session JWTs. A valid JWT is necessary but not
// enough: its session id must also be live in the sessions table.
type Sessions struct {
	key []byte
	ttl time.Duration
}

// NewSessions returns a signer whose tokens live for ttl.
func NewSessions(secret []byte, ttl time.Duration) *Sessions {
	return &Sessions{key: deriveKey(secret, "session"), ttl: ttl}
}

// TTL is how long a session lasts.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Issue signs a token for a session created at now.
func (s *Sessions) Issue(sessionID, userID uuid.UUID, now time.Time) (string, error) {
	claims := jwt.RegisteredClaims{
		Issuer:    Issuer,
		Audience:  jwt.ClaimStrings{sessionAudience},
		Subject:   userID.String(),
		ID:        sessionID.String(),
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
	}
	tok, err := jwt.NewWithClaims(signingMethod, claims).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign session: %w", err)
	}
	return tok, nil
}

// Verify checks signature, algorithm, issuer, audience and expiry.
func (s *Sessions) Verify(token string, now time.Time) (SessionClaims, error) {
	var claims jwt.RegisteredClaims
	if err := parse(token, &claims, s.key, sessionAudience, now); err != nil {
		return SessionClaims{}, err
	}
	sid, err1 := uuid.Parse(claims.ID)
	uid, err2 := uuid.Parse(claims.Subject)
	if err1 != nil || err2 != nil {
		return SessionClaims{}, fmt.Errorf("%w: malformed subject or id", ErrInvalidToken)
	}
	return SessionClaims{SessionID: sid, UserID: uid, ExpiresAt: claims.ExpiresAt.Time}, nil
}

// parse verifies a JWT with the one pinned algorithm and every claim required.
func parse(token string, claims jwt.Claims, key []byte, audience string, now time.Time) error {
	_, err := jwt.ParseWithClaims(token, claims, func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{signingMethod.Alg()}),
		jwt.WithIssuer(Issuer),
		jwt.WithAudience(audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return nil
}
