package live

import (
	"time"

	"classmeet/internal/meeting"
)

// residueKeep is how long an emptied meeting's residue is kept: well past
// the life of a join token and the outbox's usual delay.
const residueKeep = 15 * time.Minute

// keepResidue notes what an emptied room leaves behind, and forgets what
// older ones left.
func (h *Hub) keepResidue(id string, res meeting.Residue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, old := range h.residue {
		if res.At.Sub(old.At) > residueKeep {
			delete(h.residue, k)
		}
	}
	if !res.Empty() {
		h.residue[id] = res
	}
}
