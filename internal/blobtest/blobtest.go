// Package blobtest runs a real S3 server for tests: versitygw, installed
// with `go install` by `make test`, with a posix backend in a temp directory.
package blobtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"classmeet/internal/blob"
	"classmeet/internal/testclock"
)

// S3Server is a running versitygw.
type S3Server struct {
	t      testing.TB
	Config blob.S3Config
	dir    string
	cmd    *exec.Cmd
}

// Binary finds versitygw: on PATH, or where `go install` puts it ($GOBIN,
// else $GOPATH/bin).
func Binary() (string, error) {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	dirs := []string{goEnv("GOBIN")}
	if gopath := goEnv("GOPATH"); gopath != "" {
		dirs = append(dirs, filepath.Join(gopath, "bin"))
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (make test does)")
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// StartS3 runs versitygw on a free loopback port until the test ends.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &S3Server{t: t, dir: t.TempDir(), Config: blob.S3Config{
		Endpoint: addr, Region: "us-east-1", Bucket: "classmeet-test", AccessKey: "classmeet", SecretKey: "classmeet-test-secret", PathStyle: true,
	}}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts (or restarts) the server on the same port and data.
func (s *S3Server) Start() {
	s.t.Helper()
	bin, err := Binary()
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(bin, "--port", s.Config.Endpoint, "--access", s.Config.AccessKey, "--secret", s.Config.SecretKey,
		"--health", "/health", "--quiet", "posix", s.dir)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	testclock.WaitFor(s.t, "versitygw to start", 20*time.Second, func() bool {
		resp, err := http.Get("http://" + s.Config.Endpoint + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// Stop kills the server (the data stays for Start).
func (s *S3Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Store opens the blob store on the server.
func (s *S3Server) Store() *blob.S3 {
	s.t.Helper()
	st, err := blob.OpenS3(context.Background(), s.Config)
	if err != nil {
		s.t.Fatal(err)
	}
	return st
}
