package turnserver

import "errors"

var (
	// ErrPeerRefused: the relay only talks to the SFU's media addresses.
	ErrPeerRefused = errors.New("turnserver: peer is not the SFU's media address")
	// ErrTCPRelay: allocations relaying over TCP (RFC 6062) are refused;
	// browsers never ask for them and the SFU needs none.
	ErrTCPRelay = errors.New("turnserver: TCP relaying is not offered")
	// ErrPortOutsideRange: a client asked for a relay port outside the range.
	ErrPortOutsideRange = errors.New("turnserver: requested relay port outside the relay range")
	// ErrQuota: a participant holds as many relays as it may.
	ErrQuota = errors.New("turnserver: allocation quota reached")
)
