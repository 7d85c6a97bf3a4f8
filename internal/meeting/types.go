package meeting

// ClientType is the type of a decoded client message ("chat", "offer", ...):
// one of a fixed set, since DecodeClient refuses any other.
func ClientType(m ClientMessage) string { return m.header().Type }

// ServerType is the type of a server message once EncodeServer has encoded
// it ("welcome", "error", ...); "" before.
func ServerType(m ServerMessage) string { return m.header().Type }
