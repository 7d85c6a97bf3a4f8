package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on Linux
// whatever the kernel's own tick.
const userHZ = 100

// procSample is a process's CPU time, resident memory and threads.
type procSample struct {
	cpu     time.Duration
	rss     uint64 // bytes
	threads int
}

// readProc reads a process on this host from /proc.
func readProc(pid int) (procSample, error) {
	var s procSample
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("loadtest: server process: %w", err)
	}
	// The command name, in parentheses, may hold spaces: count from its end.
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 13 {
		return s, fmt.Errorf("loadtest: /proc/%d/stat: too short", pid)
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return s, fmt.Errorf("loadtest: /proc/%d/stat: bad CPU times", pid)
	}
	s.cpu = time.Duration(utime+stime) * time.Second / userHZ
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, fmt.Errorf("loadtest: server process: %w", err)
	}
	for line := range strings.Lines(string(status)) {
		k, v, _ := strings.Cut(line, ":")
		v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB"))
		switch k {
		case "VmRSS":
			kb, _ := strconv.ParseUint(v, 10, 64)
			s.rss = kb << 10
		case "Threads":
			s.threads, _ = strconv.Atoi(v)
		}
	}
	return s, nil
}

// selfCPU is this process's CPU time (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runtimeSample is what the server's Prometheus endpoint says of its Go
// runtime: goroutines now, and heap allocations since it started.
type runtimeSample struct {
	goroutines int
	mallocs    uint64
}

// readRuntime reads go_goroutines and go_memstats_mallocs_total from a
// Prometheus text endpoint.
func readRuntime(ctx context.Context, metricsURL string) (runtimeSample, error) {
	var rs runtimeSample
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return rs, fmt.Errorf("loadtest: metrics: %w", err)
	}
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return rs, fmt.Errorf("loadtest: metrics: %w", err)
	}
	defer resp.Body.Close()
	found := map[string]float64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || (name != "go_goroutines" && name != "go_memstats_mallocs_total") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return rs, fmt.Errorf("loadtest: metrics: %s %q", name, v)
		}
		found[name] = f
	}
	g, ok := found["go_goroutines"]
	if !ok {
		return rs, fmt.Errorf("loadtest: metrics: no go_goroutines at %s", metricsURL)
	}
	rs.goroutines, rs.mallocs = int(g), uint64(found["go_memstats_mallocs_total"])
	return rs, nil
}
