package live

import "classmeet/internal/meeting"

// Census counts the live meetings and their participants by presence, for
// metrics: only figures, never who.
func (h *Hub) Census() (meetings int, people meeting.Census) {
	h.mu.Lock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	people = meeting.Census{meeting.PresenceLobby: 0, meeting.PresenceRoom: 0, meeting.PresenceAway: 0}
	for _, r := range rooms {
		r.mu.Lock()
		c := r.state.Census()
		r.mu.Unlock()
		for presence, n := range c {
			people[presence] += n
		}
	}
	return len(rooms), people
}
