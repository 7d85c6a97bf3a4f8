package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
)

func TestReadProcOfThisProcess(t *testing.T) {
	s, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rss < 1<<20 || s.threads < 1 {
		t.Errorf("this process: %+v", s)
	}
	if _, err := readProc(-1); err == nil {
		t.Error("a process that cannot exist was read")
	}
}

func TestGoroutinesFromPrometheusText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/empty" {
			return
		}
		_, _ = w.Write([]byte("# HELP go_goroutines Number of goroutines that currently exist.\n# TYPE go_goroutines gauge\ngo_goroutines_other 3\ngo_goroutines 42\ngo_memstats_mallocs_total 1.5e+06\n"))
	}))
	defer srv.Close()
	if rs, err := readRuntime(context.Background(), srv.URL+"/metrics"); err != nil || rs.goroutines != 42 || rs.mallocs != 1_500_000 {
		t.Errorf("runtime: %+v %v, want 42 goroutines and 1500000 allocations", rs, err)
	}
	if _, err := readRuntime(context.Background(), srv.URL+"/empty"); err == nil {
		t.Error("an endpoint without go_goroutines gave a count")
	}
}
