package meeting

import (
	"slices"
	"strings"
	"time"
)

// maxHistory bounds the chat a live meeting keeps in memory.
const maxHistory = 5000

// chat writes to the room, or privately to the hosts. The sender is who the
// server knows sent it; nothing in the message can claim otherwise.
func (s *State) chat(fx *effects, now time.Time, p *participant, m *Chat) error {
	if !p.role.Can(ActChat) {
		return refuse("not_allowed", "observers cannot write in the chat")
	}
	if !s.mayChat(p) {
		return refuse("not_allowed", "the host has closed the chat")
	}
	e := ChatEntry{
		ID: s.newID(), From: p.ID, FromName: p.Name, FromRole: p.role, To: m.To,
		Text: strings.TrimSpace(m.Text), At: now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	}
	s.history = append(s.history, e)
	if len(s.history) > maxHistory {
		s.history = s.history[len(s.history)-maxHistory:]
	}
	fx.add(ChatSaved{Entry: e})
	for _, id := range s.order {
		if q := s.people[id]; q.presence == PresenceRoom && sees(q, e) {
			fx.add(Send{To: id, Msg: &ChatMessage{Message: e}})
		}
	}
	return nil
}

func (s *State) mayChat(p *participant) bool {
	return p.role.Can(ActChatAlways) || (p.role.Can(ActChat) && s.policy.Chat)
}

// sees reports whether p may read e: messages to the room, private messages
// to the hosts (and the sender's own).
func sees(p *participant, e ChatEntry) bool {
	return e.To == "everyone" || p.role.Can(ActModerateChat) || e.From == p.ID
}

func (s *State) historyFor(p *participant) []ChatEntry {
	out := []ChatEntry{}
	for _, e := range s.history {
		if sees(p, e) {
			out = append(out, e)
		}
	}
	return out
}

// deleteChat removes a message for everyone.
func (s *State) deleteChat(fx *effects, now time.Time, host *participant, id string) error {
	if err := s.may(host, ActModerateChat, "only hosts can delete messages"); err != nil {
		return err
	}
	i := slices.IndexFunc(s.history, func(e ChatEntry) bool { return e.ID == id })
	if i < 0 {
		return refuse("unknown_message", "no message with that id")
	}
	e := s.history[i]
	s.history = slices.Delete(s.history, i, i+1)
	fx.add(ChatRemoved{ID: id, By: host.Name, At: now})
	fx.add(Audited{At: now, ActorID: host.ID, ActorName: host.Name, ActorRole: string(host.role), Action: "deleted chat message", TargetID: e.From, TargetName: e.FromName, Detail: "message " + id})
	for _, pid := range s.order {
		if q := s.people[pid]; q.presence == PresenceRoom && sees(q, e) {
			fx.add(Send{To: pid, Msg: &ChatDeleted{ID: id}})
		}
	}
	return nil
}
