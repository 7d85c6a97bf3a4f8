package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func TestSessionRoundTrip(t *testing.T) {
	s := NewSessions(secret, time.Hour)
	sid, uid, now := uuid.New(), uuid.New(), testclock.Now()
	tok, err := s.Issue(sid, uid, now)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Verify(tok, now.Add(59*time.Minute))
	if err != nil || c.SessionID != sid || c.UserID != uid {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
}

// forge signs arbitrary claims with an arbitrary method and key.
func forge(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSessionRefusals(t *testing.T) {
	s := NewSessions(secret, time.Hour)
	now := testclock.Now()
	good := func() jwt.MapClaims {
		return jwt.MapClaims{
			"iss": Issuer, "aud": []string{sessionAudience}, "sub": uuid.NewString(), "jti": uuid.NewString(),
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
	}
	key := deriveKey(secret, "session")
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	with := func(edit func(jwt.MapClaims)) jwt.MapClaims { c := good(); edit(c); return c }

	valid := forge(t, jwt.SigningMethodHS256, key, good())
	if _, err := s.Verify(valid, now); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	parts := strings.Split(valid, ".")

	tests := map[string]string{
		"alg none":      forge(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, good()),
		"wrong alg":     forge(t, jwt.SigningMethodHS512, key, good()),
		"rsa alg":       forge(t, jwt.SigningMethodRS256, rsaKey, good()),
		"wrong key":     forge(t, jwt.SigningMethodHS256, []byte("another secret, 32 bytes long..."), good()),
		"raw secret":    forge(t, jwt.SigningMethodHS256, secret, good()),
		"expired":       forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() })),
		"missing exp":   forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { delete(c, "exp") })),
		"wrong aud":     forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { c["aud"] = []string{"classmeet/join"} })),
		"missing aud":   forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { delete(c, "aud") })),
		"wrong iss":     forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { c["iss"] = "someone-else" })),
		"missing iss":   forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { delete(c, "iss") })),
		"issued later":  forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() })),
		"bad subject":   forge(t, jwt.SigningMethodHS256, key, with(func(c jwt.MapClaims) { c["sub"] = "admin" })),
		"tampered body": parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2],
		"tampered sig":  parts[0] + "." + parts[1] + "." + flip(parts[2]),
		"garbage":       "not.a.jwt",
		"empty":         "",
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Verify(tok, now); !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestLinks(t *testing.T) {
	l := NewLinks(secret)
	id, nonce := uuid.New(), NewLinkNonce()
	tok := l.Token(id, nonce)
	if len(tok) != 43 {
		t.Errorf("token length %d", len(tok))
	}
	got, err := l.InviteeOf(tok)
	if err != nil || got != id {
		t.Fatalf("InviteeOf = %v, %v", got, err)
	}
	if !l.Matches(tok, id, nonce) {
		t.Error("own token does not match")
	}
	if l.Matches(tok, id, NewLinkNonce()) {
		t.Error("token matches after the nonce changed (renewed link)")
	}
	if l.Matches(tok, uuid.New(), nonce) {
		t.Error("token matches another invitee")
	}
	if NewLinks([]byte("another secret, 32 bytes long...")).Matches(tok, id, nonce) {
		t.Error("token matches under another server secret")
	}
	for _, bad := range []string{"", "short", tok + "A", "../../etc/passwd", strings.Repeat("A", 43), tok[:42] + "!"} {
		if id2, err := l.InviteeOf(bad); err == nil && l.Matches(bad, id2, nonce) {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestPasswords(t *testing.T) {
	p := NewPasswords(2)
	ctx := context.Background()
	h, err := p.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("hash = %q", h)
	}
	if h2, _ := p.Hash(ctx, "correct horse battery staple"); h2 == h {
		t.Error("two hashes of one password are equal: salt missing")
	}
	if ok, err := p.Verify(ctx, h, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("right password: %v, %v", ok, err)
	}
	if ok, _ := p.Verify(ctx, h, "correct horse battery stapl"); ok {
		t.Error("wrong password accepted")
	}
	for _, bad := range []string{"", "$2a$12$abc", "$argon2id$v=19$m=65536,t=2,p=2$!!$!!", "$argon2id$v=19$m=999999999,t=2,p=2$c2FsdA$a2V5"} {
		if ok, err := p.Verify(ctx, bad, "x"); ok || err == nil {
			t.Errorf("malformed hash %q: %v, %v", bad, ok, err)
		}
	}
	if err := CheckPasswordRules("short"); err == nil {
		t.Error("short password accepted")
	}
	if err := CheckPasswordRules(strings.Repeat("x", MaxPasswordLen+1)); err == nil {
		t.Error("huge password accepted")
	}
}

func TestPasswordHashingIsBounded(t *testing.T) {
	p := NewPasswords(1)
	p.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Hash(ctx, "whatever password"); !errors.Is(err, context.Canceled) {
		t.Errorf("hash with every slot busy and ctx done: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := NewBackoff(3, time.Second, 8*time.Second)
	now := testclock.Now()
	for i := range 3 {
		if _, ok := b.Try("ip", now); !ok {
			t.Fatalf("free attempt %d refused", i)
		}
	}
	// Each failure past the free ones doubles the wait, up to the most.
	for _, want := range []time.Duration{1, 2, 4, 8, 8} {
		want *= time.Second
		if wait, ok := b.Try("ip", now); ok || wait != want {
			t.Fatalf("before waiting: %v %v, want a wait of %v", wait, ok, want)
		}
		if wait, ok := b.Try("ip", now.Add(want-time.Millisecond)); ok || wait != time.Millisecond {
			t.Fatalf("a moment early: %v %v", wait, ok)
		}
		now = now.Add(want)
		if _, ok := b.Try("ip", now); !ok {
			t.Fatalf("refused after waiting %v", want)
		}
	}
	if _, ok := b.Try("other", now); !ok {
		t.Error("another key waits too")
	}
	// A success is taken back: it does not make the next attempt wait longer.
	b.Forgive("ip")
	if wait, _ := b.Try("ip", now); wait != 8*time.Second {
		t.Errorf("wait after a forgiven attempt: %v", wait)
	}
	b.Reset("ip")
	if _, ok := b.Try("ip", now); !ok {
		t.Error("refused after a reset")
	}
	// Quiet for the longest wait after the wait is over: forgotten.
	for range 4 {
		b.Try("q", now)
	}
	if wait, _ := b.Try("q", now); wait != time.Second {
		t.Fatalf("q waits %v", wait)
	}
	if _, ok := b.Try("q", now.Add(9*time.Second)); !ok {
		t.Fatal("q refused after its wait and a quiet spell")
	}
	if _, ok := b.Try("q", now.Add(9*time.Second)); !ok {
		t.Error("q's failures before the quiet spell still count")
	}
	b.Try("x", now.Add(time.Hour)) // sweeps
	if len(b.keys) != 1 {
		t.Errorf("%d keys kept after an idle hour, want only the one just used", len(b.keys))
	}
}

func TestCan(t *testing.T) {
	tests := []struct {
		role   store.Role
		action Action
		want   bool
	}{
		{store.RoleAdmin, ManageAccounts, true},
		{store.RoleAdmin, ScheduleMeetings, true},
		{store.RoleTeacher, ScheduleMeetings, true},
		{store.RoleTeacher, ManageAccounts, false},
		{store.Role("parent"), ScheduleMeetings, false},
	}
	for _, tt := range tests {
		if got := Can(tt.role, tt.action); got != tt.want {
			t.Errorf("Can(%s, %s) = %v", tt.role, tt.action, got)
		}
	}
}

func TestJoinTokens(t *testing.T) {
	j := NewJoinTokens(secret)
	now := testclock.Now()
	a, b := uuid.New(), uuid.New()
	c := JoinClaims{MeetingID: a, ParticipantID: uuid.New(), Role: "participant", Name: "Mr Jones", InviteeID: uuid.New(), InviteeName: "Mr Jones", Identity: "inv", SessionID: uuid.New()}
	tok, err := j.Issue(c, now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := j.Verify(tok, a, now.Add(time.Minute))
	if err != nil || !got.ExpiresAt.Equal(now.Add(JoinTTL).Truncate(time.Second)) {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	if got.ExpiresAt = (time.Time{}); got != c {
		t.Fatalf("Verify = %+v, want %+v", got, c)
	}
	if _, err := j.Verify(tok, b, now); !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "another meeting") {
		t.Errorf("token for meeting A at meeting B: %v", err)
	}
	if _, err := j.Verify(tok, a, now.Add(JoinTTL+10*time.Second)); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("expired join token: %v", err)
	}
	// A session token is not a join token, and the reverse.
	s := NewSessions(secret, time.Hour)
	st, _ := s.Issue(uuid.New(), uuid.New(), now)
	if _, err := j.Verify(st, a, now); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("session token used to join: %v", err)
	}
	if _, err := s.Verify(tok, now); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("join token used as a session: %v", err)
	}
	forged := forge(t, jwt.SigningMethodHS256, deriveKey(secret, "join"), jwt.MapClaims{
		"iss": Issuer, "aud": []string{joinAudience}, "sub": uuid.NewString(), "mid": a.String(), "role": "host", "iat": now.Unix(),
	})
	if _, err := j.Verify(forged, a, now); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("join token without exp: %v", err)
	}
}

func TestTURNCredentials(t *testing.T) {
	// The example from the TURN REST API draft's construction, checked with coturn's formula.
	now := time.Unix(1_700_000_000, 0)
	u, c := TURNCredentials("north", "p1", time.Hour, now)
	if u != "1700003600:p1" {
		t.Errorf("username %q", u)
	}
	m := hmac.New(sha1.New, []byte("north"))
	m.Write([]byte(u))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); c != want || len(c) != 28 {
		t.Errorf("credential %q, want %q", c, want)
	}
}
