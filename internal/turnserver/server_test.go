package turnserver

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"

	"classmeet/internal/auth"
	"classmeet/internal/testclock"
)

const testSecret = "turn test secret"

// listener is a UDP socket that counts what it receives, standing for the
// SFU or for something on the school's network the relay must not reach.
type listener struct {
	conn  net.PacketConn
	got   atomic.Uint64
	marks atomic.Uint64 // packets that said "mark": sent by the test itself
}

func listen(t *testing.T, addr string) *listener {
	t.Helper()
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{conn: c}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) == "mark" {
				l.marks.Add(1)
			} else {
				l.got.Add(1)
			}
		}
	}()
	return l
}

func (l *listener) addr() *net.UDPAddr { return l.conn.LocalAddr().(*net.UDPAddr) }

func startRelay(t *testing.T, sfu *net.UDPAddr, maxAllocs int) *Server {
	t.Helper()
	s, err := New(Config{
		Listen: "127.0.0.1:0", PublicIP: net.IPv4(127, 0, 0, 1), RelayMinPort: 42000, RelayMaxPort: 42999,
		Realm: "127.0.0.1", Secret: testSecret, Peers: []netip.AddrPort{sfu.AddrPort()},
		MaxAllocations: maxAllocs, Now: testclock.Now, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// allocate asks the relay for an allocation over UDP with these credentials.
func allocate(t *testing.T, s *Server, username, password string) (net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: s.UDPAddr().String(), TURNServerAddr: s.UDPAddr().String(),
		Username: username, Password: password, Realm: "127.0.0.1", Conn: conn,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c.Allocate()
}

func TestRelayRefusesBadCredentials(t *testing.T) {
	sfu := listen(t, "127.0.0.1:0")
	s := startRelay(t, sfu.addr(), 0)
	now := testclock.Now()
	valid, validPass := auth.TURNCredentials(testSecret, "p1", time.Hour, now)
	expired, expiredPass := auth.TURNCredentials(testSecret, "p1", -time.Minute, now)
	_, otherSecretPass := auth.TURNCredentials("another server's secret", "p1", time.Hour, now)
	// The participant swapped in the username, with the password minted for p1.
	swapped := strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + ":p2"
	// The expiry pushed out, with the password of the earlier one.
	pushed := strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + ":p1"
	tests := []struct{ name, user, pass string }{
		{"wrong password", valid, "not the password"},
		{"another secret", valid, otherSecretPass},
		{"expired", expired, expiredPass},
		{"participant swapped", swapped, validPass},
		{"expiry pushed out", pushed, validPass},
		{"no expiry", "p1", auth.TURNPassword(testSecret, "p1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if relay, err := allocate(t, s, tt.user, tt.pass); err == nil {
				relay.Close()
				t.Fatal("allocation made with a bad credential")
			}
		})
	}
	relay, err := allocate(t, s, valid, validPass)
	if err != nil {
		t.Fatalf("a valid credential was refused: %v", err)
	}
	relay.Close()
}

func TestRelayTalksToTheSFUOnly(t *testing.T) {
	sfu := listen(t, "127.0.0.1:0")
	sameHost := listen(t, "127.0.0.1:0")  // another service on the SFU's address
	elsewhere := listen(t, "127.0.0.2:0") // another machine on the school's network
	s := startRelay(t, sfu.addr(), 0)
	user, pass := auth.TURNCredentials(testSecret, "p1", time.Hour, testclock.Now())
	relay, err := allocate(t, s, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	// To the SFU: relayed.
	if _, err := relay.WriteTo([]byte("media"), sfu.addr()); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the SFU to get the relayed packet", 60*time.Second, func() bool { return sfu.got.Load() == 1 })

	// Another machine: no permission, so nothing can be sent there.
	if _, err := relay.WriteTo([]byte("probe"), elsewhere.addr()); err == nil {
		t.Error("permission to a peer other than the SFU granted")
	}
	// Another port on the SFU's address: permitted by IP, dropped by port.
	if _, err := relay.WriteTo([]byte("probe"), sameHost.addr()); err != nil {
		t.Fatal(err)
	}
	// The relay handles the client's packets in order: once the SFU has the
	// next one, the probe was handled. A mark sent by the test afterwards
	// arrives after anything the relay sent before it.
	if _, err := relay.WriteTo([]byte("media"), sfu.addr()); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "the SFU to get the second packet", 60*time.Second, func() bool { return sfu.got.Load() == 2 })
	for _, l := range []*listener{sameHost, elsewhere} {
		if _, err := sfu.conn.WriteTo([]byte("mark"), l.addr()); err != nil {
			t.Fatal(err)
		}
		testclock.WaitFor(t, "the mark", 60*time.Second, func() bool { return l.marks.Load() == 1 })
		if n := l.got.Load(); n != 0 {
			t.Errorf("%s received %d relayed packets", l.addr(), n)
		}
	}
	if s.Refused() == 0 {
		t.Error("no refusal counted")
	}
	checkInbound(t, relay, sfu, sameHost)
}

// checkInbound: the SFU's packets reach the client; a packet from another
// port on the SFU's address, sent first, does not.
func checkInbound(t *testing.T, relay net.PacketConn, sfu, hostile *listener) {
	t.Helper()
	relayAddr := relay.LocalAddr()
	if _, err := hostile.conn.WriteTo([]byte("hostile"), relayAddr); err != nil {
		t.Fatal(err)
	}
	if _, err := sfu.conn.WriteTo([]byte("from sfu"), relayAddr); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, from, err := relay.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], []byte("from sfu")) || from.String() != sfu.addr().String() {
		t.Errorf("client got %q from %s, want the SFU's packet", buf[:n], from)
	}
}

func TestRelayQuotaPerParticipant(t *testing.T) {
	sfu := listen(t, "127.0.0.1:0")
	s := startRelay(t, sfu.addr(), 2)
	now := testclock.Now()
	var relays []net.PacketConn
	for i := range 2 {
		// Fresh credentials each time: the quota follows the participant, not the username.
		user, pass := auth.TURNCredentials(testSecret, "p1", time.Duration(i+1)*time.Hour, now)
		r, err := allocate(t, s, user, pass)
		if err != nil {
			t.Fatal(err)
		}
		relays = append(relays, r)
	}
	user, pass := auth.TURNCredentials(testSecret, "p1", 3*time.Hour, now)
	if r, err := allocate(t, s, user, pass); err == nil {
		r.Close()
		t.Fatal("a third allocation for one participant granted")
	}
	other, otherPass := auth.TURNCredentials(testSecret, "p2", time.Hour, now)
	if r, err := allocate(t, s, other, otherPass); err != nil {
		t.Fatalf("another participant refused: %v", err)
	} else {
		r.Close()
	}
	relays[0].Close() // deallocates
	testclock.WaitFor(t, "the relays to be given back", 60*time.Second, func() bool { return s.Allocations() == 1 })
	r, err := allocate(t, s, user, pass)
	if err != nil {
		t.Fatalf("a relay given back was not free again: %v", err)
	}
	r.Close()
	relays[1].Close()
}
