package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

const joinAudience = "classmeet/join"

// JoinTTL is how long a join token lives: long enough to open the meeting's
// WebSocket after pressing Join, too short to be worth stealing.
const JoinTTL = 2 * time.Minute

// JoinClaims is what a join token proves: this participant may enter this
// meeting with this role.
type JoinClaims struct {
	MeetingID     uuid.UUID
	ParticipantID uuid.UUID
	Role          string // the meeting role: host or participant
	Name          string // display name typed on the pre-join page
	InviteeID     uuid.UUID
	InviteeName   string
	Identity      string // the same person across joins
	// SessionID is the staff sign-in that asked for a host's token: the
	// connection it opens ends when that sign-in ends.
	SessionID uuid.UUID
	// Link names the personal link the token came through (LinkFingerprint
	// of its nonce): once the teacher replaces the link, tokens fetched
	// through the old one open nothing.
	Link      string
	ExpiresAt time.Time // set by Verify
}

// LinkFingerprint names a personal link's nonce without revealing it.
func LinkFingerprint(nonce []byte) string {
	sum := sha256.Sum256(nonce)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

type joinJWT struct {
	jwt.RegisteredClaims
	Meeting     string `json:"mid"`
	Role        string `json:"role"`
	Name        string `json:"name"`
	Invitee     string `json:"inv,omitempty"`
	InviteeName string `json:"invn,omitempty"`
	Identity    string `json:"idn"`
	Session     string `json:"sid,omitempty"`
	Link        string `json:"lnk,omitempty"`
}

// JoinTokens signs and verifies the short-lived tokens that open a meeting's
// WebSocket. They are issued by the pre-join page (for a valid personal
// link) or the host's room page (for the owner's session), never taken from
// the long-lived link itself.
type JoinTokens struct {
	key []byte
}

// NewJoinTokens returns a signer keyed from the server secret.
func NewJoinTokens(secret []byte) *JoinTokens {
	return &JoinTokens{key: deriveKey(secret, "join")}
}

// Issue signs claims valid for JoinTTL from now.
func (j *JoinTokens) Issue(c JoinClaims, now time.Time) (string, error) {
	claims := joinJWT{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Audience: jwt.ClaimStrings{joinAudience},
			Subject: c.ParticipantID.String(), ID: c.ParticipantID.String(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(JoinTTL)),
		},
		Meeting: c.MeetingID.String(), Role: c.Role, Name: c.Name, InviteeName: c.InviteeName, Identity: c.Identity, Link: c.Link,
	}
	if c.InviteeID != uuid.Nil {
		claims.Invitee = c.InviteeID.String()
	}
	if c.SessionID != uuid.Nil {
		claims.Session = c.SessionID.String()
	}
	tok, err := jwt.NewWithClaims(signingMethod, claims).SignedString(j.key)
	if err != nil {
		return "", fmt.Errorf("auth: sign join token: %w", err)
	}
	return tok, nil
}

// Verify checks a join token and that it is for meetingID.
func (j *JoinTokens) Verify(token string, meetingID uuid.UUID, now time.Time) (JoinClaims, error) {
	var claims joinJWT
	if err := parse(token, &claims, j.key, joinAudience, now); err != nil {
		return JoinClaims{}, err
	}
	mid, err1 := uuid.Parse(claims.Meeting)
	pid, err2 := uuid.Parse(claims.Subject)
	if err1 != nil || err2 != nil {
		return JoinClaims{}, fmt.Errorf("%w: malformed claims", ErrInvalidToken)
	}
	if mid != meetingID {
		return JoinClaims{}, fmt.Errorf("%w: this join token is for another meeting", ErrInvalidToken)
	}
	c := JoinClaims{MeetingID: mid, ParticipantID: pid, Role: claims.Role, Name: claims.Name, InviteeName: claims.InviteeName,
		Identity: claims.Identity, Link: claims.Link, ExpiresAt: claims.ExpiresAt.Time}
	if claims.Invitee != "" {
		if c.InviteeID, err1 = uuid.Parse(claims.Invitee); err1 != nil {
			return JoinClaims{}, fmt.Errorf("%w: malformed invitee", ErrInvalidToken)
		}
	}
	if claims.Session != "" {
		if c.SessionID, err1 = uuid.Parse(claims.Session); err1 != nil {
			return JoinClaims{}, fmt.Errorf("%w: malformed session", ErrInvalidToken)
		}
	}
	return c, nil
}
