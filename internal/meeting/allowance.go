package meeting

import "time"

// Messages that one participant sends and everyone in the room receives
// (reactions, hands, tile changes, offers, which make every subscriber
// renegotiate) multiply by the size of the room. A
// participant may send a burst of them, then a few a second: enough for
// anyone honest, and no way to swamp everyone else's connection.
const (
	fanoutBurst = 12
	fanoutRate  = 4 // a second
)

// allowance is a token bucket over the meeting's own clock (the now each
// command carries).
type allowance struct {
	tokens float64
	at     time.Time
}

// take spends one message if the budget allows it.
func (a *allowance) take(now time.Time) bool {
	if a.at.IsZero() {
		a.tokens = fanoutBurst
	} else if d := now.Sub(a.at); d > 0 {
		a.tokens = min(fanoutBurst, a.tokens+d.Seconds()*fanoutRate)
	}
	a.at = now
	if a.tokens < 1 {
		return false
	}
	a.tokens--
	return true
}

// fanout refuses a message for everyone once p's person has sent too many,
// from any of their devices: a rejoin does not refill it.
func (s *State) fanout(now time.Time, p *participant) error {
	if !p.fanout.take(now) {
		return refuse("rate_limited", "too many reactions, hands or changes at once: slow down")
	}
	return nil
}

// fansOut reports whether a message costs the fan-out budget: what everyone
// in the room receives (reactions, hands, tile changes), an offer (every
// subscriber renegotiates) and an ICE restart (the server offers anew).
func fansOut(m ClientMessage) bool {
	switch m.(type) {
	case *React, *RaiseHand, *LowerHand, *MediaState, *Offer, *RestartICE:
		return true
	}
	return false
}
