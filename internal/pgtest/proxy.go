package pgtest

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"

	"classmeet/internal/store"
)

// Proxy relays TCP connections on loopback to the test cluster and can
// freeze: it then stops passing bytes either way but keeps every connection
// open, and accepts new ones without relaying them, as a database does when
// it is frozen (SIGSTOP, a hung host, a silent network) rather than stopped.
type Proxy struct {
	URL string // the database's URL through the proxy

	ln       net.Listener
	upstream func() (net.Conn, error)

	mu     sync.Mutex
	thawed chan struct{} // closed while bytes flow
	conns  []net.Conn
	closed chan struct{}
}

// NewProxy relays to the database at databaseURL (one of NewDatabase's)
// until the test ends.
func NewProxy(t testing.TB, databaseURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatalf("pgtest: parse %q: %v", databaseURL, err)
	}
	network, addr := "tcp", u.Host
	if host := u.Query().Get("host"); host != "" && filepath.IsAbs(host) {
		port := u.Query().Get("port")
		if port == "" {
			port = "5432"
		}
		network, addr = "unix", filepath.Join(host, ".s.PGSQL."+port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, thawed: make(chan struct{}), closed: make(chan struct{})}
	close(p.thawed)
	p.upstream = func() (net.Conn, error) { return net.Dial(network, addr) }
	q := u.Query()
	q.Del("host")
	q.Del("port")
	u.Host, u.RawQuery = ln.Addr().String(), q.Encode()
	p.URL = u.String()
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Store opens a store through the proxy (the database must be migrated).
func (p *Proxy) Store(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), p.URL, 10)
	if err != nil {
		t.Fatalf("pgtest: open through the proxy: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// NewProxiedStore is a migrated store on a new database, reached through a
// proxy that the test may freeze.
func NewProxiedStore(t testing.TB) (*store.Store, *Proxy) {
	t.Helper()
	db := NewDatabase(t)
	direct, err := store.Open(context.Background(), db, 2)
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	defer direct.Close()
	if err := direct.Migrate(context.Background(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	p := NewProxy(t, db)
	return p.Store(t), p
}

// Freeze stops every byte, on open connections and new ones alike.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
		p.thawed = make(chan struct{})
	default:
	}
}

// Thaw lets bytes flow again, held ones first.
func (p *Proxy) Thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.thawed:
	default:
		close(p.thawed)
	}
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.relay(c)
	}
}

func (p *Proxy) relay(client net.Conn) {
	if !p.wait() {
		client.Close()
		return
	}
	server, err := p.upstream()
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.mu.Unlock()
	go p.pipe(server, client)
	p.pipe(client, server)
}

// pipe copies from src to dst, holding each chunk while frozen.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: the deferred closes pass it on
		}
	}
}

// wait blocks while frozen; false once the proxy is closed.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	thawed := p.thawed
	p.mu.Unlock()
	select {
	case <-thawed:
		return true
	case <-p.closed:
		return false
	}
}

func (p *Proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.closed:
		return
	default:
	}
	close(p.closed)
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
}
