package meeting

// Census counts a meeting's participants by presence (PresenceLobby,
// PresenceRoom, PresenceAway): figures without names, for metrics.
type Census map[string]int

// Census counts who is where now.
func (s *State) Census() Census {
	c := Census{PresenceLobby: 0, PresenceRoom: 0, PresenceAway: 0}
	for _, p := range s.people {
		c[p.presence]++
	}
	return c
}
