package floor

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
)

// SinkEnv, set to a count K, makes a program that calls RunSinkIfAsked
// (this package's tests do) a sink instead: it opens K UDP sockets on
// loopback, prints their ports on one line, reads and counts what arrives
// on each, prints the count so far for each line it reads on its standard
// input, and exits when that closes.
const SinkEnv = "CLASSMEET_FLOOR_SINK"

// FanOut is a sender to K receivers in another process, one socket each,
// as a server fans one packet out to K subscribers: each packet sent wakes
// a receiver that was waiting, unlike Link's one busy receiver.
type FanOut struct {
	link  *Link
	dsts  []netip.AddrPort
	next  int
	child *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

// OpenFanOut starts a sink process of k sockets, on CPU recvCPU if it is
// not -1 (with taskset), from the program at exe (a test binary).
func OpenFanOut(exe string, k, recvCPU int) (*FanOut, error) {
	args := []string{exe, "-test.run=^$"}
	if recvCPU >= 0 {
		args = append([]string{"taskset", "-c", strconv.Itoa(recvCPU)}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", SinkEnv, k))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("floor: sink process: %w", err)
	}
	f := &FanOut{child: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := f.out.ReadString('\n')
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("floor: sink ports: %w", err)
	}
	for _, p := range strings.Fields(line) {
		port, err := strconv.Atoi(p)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("floor: sink port %q: %w", p, err)
		}
		f.dsts = append(f.dsts, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	}
	if f.link, err = Open(-1); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Send encrypts one packet and sends it to the next receiver in turn.
func (f *FanOut) Send() error {
	l := f.link
	if l.bufs == nil {
		l.bufs = [][]byte{make([]byte, PacketSize+64)}
	}
	out, err := l.encrypt(l.bufs[0])
	if err != nil {
		return fmt.Errorf("floor: encrypt: %w", err)
	}
	dst := f.dsts[f.next]
	f.next = (f.next + 1) % len(f.dsts)
	_, err = l.send.WriteToUDPAddrPort(out, dst)
	return err
}

// SendBatch encrypts n packets, for the next n receivers in turn, and
// sends them with one sendmmsg.
func (f *FanOut) SendBatch(n int) error {
	l := f.link
	if len(l.msgs) != n {
		l.bufs, l.msgs = make([][]byte, n), make([]ipv4.Message, n)
		for i := range l.bufs {
			l.bufs[i] = make([]byte, PacketSize+64)
			l.msgs[i] = ipv4.Message{Buffers: [][]byte{nil}, Addr: &net.UDPAddr{IP: make(net.IP, 4)}}
		}
	}
	for i := range l.msgs {
		out, err := l.encrypt(l.bufs[i])
		if err != nil {
			return fmt.Errorf("floor: encrypt: %w", err)
		}
		dst := f.dsts[f.next]
		f.next = (f.next + 1) % len(f.dsts)
		a := l.msgs[i].Addr.(*net.UDPAddr)
		ip := dst.Addr().As4()
		copy(a.IP, ip[:])
		a.Port = int(dst.Port())
		l.msgs[i].Buffers[0] = out
	}
	return l.sendBatch()
}

// Received asks the sink how many packets it has read so far.
func (f *FanOut) Received() (uint64, error) {
	if _, err := io.WriteString(f.stdin, "\n"); err != nil {
		return 0, fmt.Errorf("floor: ask the sink: %w", err)
	}
	line, err := f.out.ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("floor: the sink's count: %w", err)
	}
	return strconv.ParseUint(strings.TrimSpace(line), 10, 64)
}

// Close stops the sender and the sink.
func (f *FanOut) Close() error {
	if f.link != nil {
		f.link.Close()
	}
	_ = f.stdin.Close()
	return f.child.Wait()
}

// RunSinkIfAsked runs the sink (and exits) when SinkEnv is set.
func RunSinkIfAsked() {
	k, err := strconv.Atoi(os.Getenv(SinkEnv))
	if err != nil || k <= 0 {
		return
	}
	var (
		wg    sync.WaitGroup
		count atomic.Uint64
		conns []*net.UDPConn
		ports []string
	)
	for range k {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor sink:", err)
			os.Exit(1)
		}
		conns = append(conns, c)
		ports = append(ports, strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port))
		wg.Go(func() {
			buf := make([]byte, 2048)
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
				count.Add(1)
			}
		})
	}
	fmt.Println(strings.Join(ports, " "))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println(count.Load())
	}
	for _, c := range conns {
		_ = c.Close()
	}
	wg.Wait()
	os.Exit(0)
}
