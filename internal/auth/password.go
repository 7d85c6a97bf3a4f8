package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: RFC 9106 recommends at least 64 MiB; two passes and two
// lanes keep a login near 50 ms on one core of a small server.
const (
	argonTime    = 2
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16

	// MinPasswordLen and MaxPasswordLen bound what we accept as a password.
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// Passwords hashes and checks passwords with argon2id. At most one hash per
// CPU runs at once, so a burst of logins queues instead of exhausting memory.
type Passwords struct {
	slots chan struct{}
}

// NewPasswords returns a hasher allowing `concurrent` hashes at once (0: one per CPU).
func NewPasswords(concurrent int) *Passwords {
	if concurrent <= 0 {
		concurrent = runtime.NumCPU()
	}
	return &Passwords{slots: make(chan struct{}, concurrent)}
}

// CheckPasswordRules says what is wrong with a new password, or nil.
func CheckPasswordRules(pw string) error {
	switch n := len([]rune(pw)); {
	case n < MinPasswordLen:
		return fmt.Errorf("must be at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// Hash returns the PHC-format argon2id hash of pw with a fresh salt.
func (p *Passwords) Hash(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt)
	params := argonParams{time: argonTime, memory: argonMemory, threads: argonThreads, keyLen: argonKeyLen}
	key, err := p.derive(ctx, pw, salt, params)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, params.memory, params.time, params.threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether pw matches hash. A malformed hash is an error.
func (p *Passwords) Verify(ctx context.Context, hash, pw string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false, fmt.Errorf("auth: unknown password hash format")
	}
	var params argonParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &params.memory, &params.time, &params.threads); err != nil {
		return false, fmt.Errorf("auth: bad password hash parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, fmt.Errorf("auth: bad password hash encoding")
	}
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	params.keyLen = uint32(len(want))
	got, err := p.derive(ctx, pw, salt, params)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

type argonParams struct {
	time, memory, keyLen uint32
	threads              uint8
}

func (p *Passwords) derive(ctx context.Context, pw string, salt []byte, a argonParams) ([]byte, error) {
	if a.memory > 1<<20 || a.time > 16 || a.threads == 0 || a.keyLen > 64 {
		return nil, fmt.Errorf("auth: password hash parameters out of range")
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer p.release()
	return argon2.IDKey([]byte(pw), salt, a.time, a.memory, a.threads, a.keyLen), nil
}

// release frees a hashing slot. Each hash takes its memory parameter (64 MiB)
// for a moment; left to the garbage collector, it stays in the process until
// the heap grows past it or two minutes pass, so a burst of sign-ins would
// keep hundreds of MiB resident on a server whose media needs a few. When the
// last hash running is done, that memory goes back to the system.
func (p *Passwords) release() {
	<-p.slots
	if len(p.slots) == 0 {
		go debug.FreeOSMemory()
	}
}

// VerifyNobody spends the time of one verification and always fails. It is
// called when an email is unknown, so that the answer takes as long as for a
// known email with a wrong password.
func (p *Passwords) VerifyNobody(ctx context.Context, pw string) {
	_, _ = p.derive(ctx, pw, make([]byte, saltLen), argonParams{time: argonTime, memory: argonMemory, threads: argonThreads, keyLen: argonKeyLen})
}
