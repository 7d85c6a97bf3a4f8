package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"classmeet/internal/pgtest"
	"classmeet/internal/testclock"
)

// freeAddr is a loopback address nothing listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve with CLASSMEET_METRICS_ADDR serves /metrics there, not on the web address.
func TestServeMetrics(t *testing.T) {
	web, metricsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t), "CLASSMEET_SECRET": "0123456789abcdef0123456789abcdef",
		"CLASSMEET_ADDR": web, "CLASSMEET_METRICS_ADDR": metricsAddr, "CLASSMEET_DATA_DIR": t.TempDir(),
		"CLASSMEET_RTC_UDP_PORT": "0", "CLASSMEET_RTC_TCP_PORT": "0",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	get := func(url string) (int, string) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var body string
	testclock.WaitFor(t, "/metrics to answer", 20*time.Second, func() bool {
		var code int
		code, body = get("http://" + metricsAddr + "/metrics")
		return code == http.StatusOK
	})
	for _, want := range []string{"classmeet_rooms 0", "classmeet_forwarded_packets_total 0", `classmeet_recordings{state="available"} 0`, "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, _ := get("http://" + web + "/metrics"); code == http.StatusOK {
		t.Error("/metrics is served on the public address too")
	}
}
