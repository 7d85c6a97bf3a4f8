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

// Empty reports whether there is nothing to remember.
func (r Residue) Empty() bool { return !r.Ended && len(r.Banned) == 0 }

// Residue is what the meeting leaves behind once emptied.
func (s *State) Residue(now time.Time) Residue {
	return Residue{Ended: s.ended, Banned: slices.Sorted(maps.Keys(s.banned)), At: now}
}
