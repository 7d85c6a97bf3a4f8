package meeting

import (
	"maps"
	"slices"
	"time"
)

// Residue is what a meeting that emptied must still remember for a while:
// that the host ended it, and whom they banned. Both are saved to the
// database through the outbox, in the background; a join token fetched
// before them may arrive, and rebuild the room, before they land.
type Residue struct {
	Ended  bool
	Banned []string // identities
	At     time.Time
}

func (r Residue) empty() bool { return !r.Ended && len(r.Banned) == 0 }

// residueKeep is how long an emptied meeting's residue is kept: well past
// the life of a join token and the outbox's usual delay.
const residueKeep = 15 * time.Minute

// Residue is what the meeting leaves behind once emptied.
func (s *State) Residue(now time.Time) Residue {
	return Residue{Ended: s.ended, Banned: slices.Sorted(maps.Keys(s.banned)), At: now}
}

// keepResidue notes what an emptied room leaves behind, and forgets what
// older ones left.
func (h *Hub) keepResidue(id string, res Residue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k, old := range h.residue {
		if res.At.Sub(old.At) > residueKeep {
			delete(h.residue, k)
		}
	}
	if !res.empty() {
		h.residue[id] = res
	}
}
