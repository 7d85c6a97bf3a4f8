package e2e

import (
	"classmeet/internal/testclock"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// netNS is a network namespace joined to this one by a veth pair: a
// parent's home, office or phone network. Only the namespace and the host
// end of its veth carry a test's traffic. Its default route leads to the
// host, so every address the host has (the server's, other namespaces'
// host ends) is reached through the veth, and everything the host sends
// into the namespace leaves by the host end, where shape caps it.
type netNS struct {
	name         string
	hostIP, nsIP string
	hostIf, nsIf string
}

// netNSCount tells apart the namespaces one test process makes.
var netNSCount atomic.Int32

// newNetNS makes a namespace named after prefix (at most 6 letters).
func newNetNS(t *testing.T, prefix string) *netNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root (CI runs as root)")
	}
	seq := int(netNSCount.Add(1))
	id := (os.Getpid()*7 + seq) % 100000
	n := &netNS{
		name: fmt.Sprintf("%s%d", prefix, id), hostIf: fmt.Sprintf("cm%dh", id), nsIf: fmt.Sprintf("cm%dn", id),
		hostIP: fmt.Sprintf("10.%d.%d.1", 200+seq%50, id%250), nsIP: fmt.Sprintf("10.%d.%d.2", 200+seq%50, id%250),
	}
	ipCmd(t, "netns", "add", n.name)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.name).Run()
		_ = exec.Command("ip", "link", "del", n.hostIf).Run() // gone with the namespace, unless that failed
	})
	ipCmd(t, "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf)
	// No IPv6 link-local addresses: each would be tentative for a second
	// or two after the link comes up, and a Chromium running meanwhile (on
	// either side) hears its change as the network changing, failing what
	// it has in flight (ERR_NETWORK_CHANGED: a module of the page not
	// loaded, the page dead).
	// (Moving a link into a namespace resets its mode: set after.)
	ipCmd(t, "link", "set", n.hostIf, "addrgenmode", "none")
	ipCmd(t, "link", "set", n.nsIf, "netns", n.name)
	ipCmd(t, "-n", n.name, "link", "set", n.nsIf, "addrgenmode", "none")
	ipCmd(t, "addr", "add", n.hostIP+"/30", "dev", n.hostIf)
	ipCmd(t, "link", "set", n.hostIf, "up")
	ipCmd(t, "-n", n.name, "addr", "add", n.nsIP+"/30", "dev", n.nsIf)
	ipCmd(t, "-n", n.name, "link", "set", n.nsIf, "up")
	ipCmd(t, "-n", n.name, "link", "set", "lo", "up")
	ipCmd(t, "-n", n.name, "route", "add", "default", "via", n.hostIP)
	testclock.WaitFor(t, "the addresses of "+n.name+" to be final", 60*time.Second, func() bool {
		out, err := exec.Command("ip", "-n", n.name, "addr", "show", "tentative").CombinedOutput()
		return err == nil && strings.TrimSpace(string(out)) == ""
	})
	return n
}

// blockUDP drops every UDP packet for another machine at routing (sendto
// fails): no STUN, no UDP TURN, no UDP media. TCP routes as usual: an
// office network that lets only TCP out.
func (n *netNS) blockUDP(t *testing.T) {
	t.Helper()
	ipCmd(t, "-n", n.name, "rule", "add", "pref", "100", "ipproto", "udp", "blackhole")
}

// blockTCPPort drops TCP to port on any other machine: a firewall that
// lets out only the web's ports (and, here, the TURN relay's).
func (n *netNS) blockTCPPort(t *testing.T, port int) {
	t.Helper()
	ipCmd(t, "-n", n.name, "rule", "add", "pref", "101", "ipproto", "tcp", "dport", fmt.Sprint(port), "blackhole")
}

// shape caps what reaches the namespace (the parent's downlink) at kbit
// kbit/s with a token bucket filter, replacing any cap before; a queue of
// 300 ms of traffic, as a mobile or DSL link buffers, drops the rest.
func (n *netNS) shape(t *testing.T, kbit int) {
	t.Helper()
	burst := max(kbit*1000/8/50, 3000) // 20 ms of traffic, at least two full packets
	tcCmd(t, "qdisc", "replace", "dev", n.hostIf, "root", "tbf",
		"rate", fmt.Sprintf("%dkbit", kbit), "burst", fmt.Sprint(burst), "latency", "300ms")
}

// drops is how many packets the cap's queue has dropped (its tbf's own
// count) since shape put it in place.
func (n *netNS) drops(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("tc", "-s", "qdisc", "show", "dev", n.hostIf).CombinedOutput()
	if err != nil {
		t.Fatalf("tc -s qdisc show dev %s: %v: %s", n.hostIf, err, out)
	}
	m := tbfDropped.FindSubmatch(out)
	if m == nil {
		t.Fatalf("tc -s qdisc show dev %s: no drop count in %q", n.hostIf, out)
	}
	d, _ := strconv.Atoi(string(m[1]))
	return d
}

// tbfDropped finds the drop count in tc's statistics of a qdisc.
var tbfDropped = regexp.MustCompile(`dropped (\d+)`)

// unshape lifts the cap.
func (n *netNS) unshape(t *testing.T) {
	t.Helper()
	tcCmd(t, "qdisc", "del", "dev", n.hostIf, "root")
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func tcCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
		t.Fatalf("tc %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// chromium starts Chromium inside the namespace; DevTools speaks over a
// pipe, so nothing but the page's own traffic crosses the veth. origin is
// the server's, served over plain HTTP from a veth address: the page may
// use the (fake) camera there as it would over HTTPS.
func (n *netNS) chromium(t *testing.T, origin string, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "chromium-in-netns")
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s /usr/bin/chromium \"$@\"\n", n.name)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	all := append(append(append([]chromedp.ExecAllocatorOption{}, chromiumFlags...), opts...),
		chromedp.ExecPath(wrapper), chromedp.Flag("unsafely-treat-insecure-origin-as-secure", origin))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), all...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium in %s: %v", n.name, err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	return root
}
