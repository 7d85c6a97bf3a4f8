package web

import (
	"maps"
	"regexp"
	"sync"

	"classmeet/internal/meeting"
)

// SignalCounts counts signaling messages, for metrics: received and sent by
// type, and the errors (refusals) sent to clients by code. Only fixed sets
// of strings become keys: message types the codec knows, and error codes,
// which the server spells; anything else is counted as "other".
type SignalCounts struct {
	mu                sync.Mutex
	in, out, refusals map[string]uint64
}

// NewSignalCounts starts counting from zero.
func NewSignalCounts() *SignalCounts {
	return &SignalCounts{in: map[string]uint64{}, out: map[string]uint64{}, refusals: map[string]uint64{}}
}

// maxKeys bounds each map: error codes are a few dozen literals.
const maxKeys = 100

// codeShape is what a type or error code looks like; a name, a title or a
// token never does (spaces, capitals, digits or length give it away).
var codeShape = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)

func (c *SignalCounts) bump(m map[string]uint64, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, seen := m[key]; !seen && (!codeShape.MatchString(key) || len(m) >= maxKeys) {
		key = "other"
	}
	m[key]++
}

// received counts a decoded client message.
func (c *SignalCounts) received(m meeting.ClientMessage) {
	if c != nil {
		c.bump(c.in, meeting.ClientType(m))
	}
}

// sent counts an encoded server message, and an error among them by code.
func (c *SignalCounts) sent(m meeting.ServerMessage) {
	if c == nil {
		return
	}
	c.bump(c.out, meeting.ServerType(m))
	if e, ok := m.(*meeting.Error); ok {
		c.bump(c.refusals, e.Code)
	}
}

// Snapshot copies the counts: messages in and out by type, refusals by code.
func (c *SignalCounts) Snapshot() (in, out, refusals map[string]uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.in), maps.Clone(c.out), maps.Clone(c.refusals)
}
