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

// A client reports every tile's size when its layout changes (a grid of
// 49 at once), then as tiles are resized: its own, larger budget, which a
// flood still runs out of.
const (
	sizeBurst = 64
	sizeRate  = 10 // a second
)

// A client turns its video off or on when a parent picks a mode or the
// connection changes: a few at once, then one a second. Each turn makes
// the media server ask publishers for keyframes, so a flood is cut short.
const (
	receiveBurst = 6
	receiveRate  = 1 // a second
)

// take spends one message if the fan-out budget allows it.
func (a *allowance) take(now time.Time) bool { return a.takeOf(now, fanoutBurst, fanoutRate) }

// takeOf spends one message of a budget of burst, refilled at rate a second.
func (a *allowance) takeOf(now time.Time, burst, rate float64) bool {
	if a.at.IsZero() {
		a.tokens = burst
	} else if d := now.Sub(a.at); d > 0 {
		a.tokens = min(burst, a.tokens+d.Seconds()*rate)
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
