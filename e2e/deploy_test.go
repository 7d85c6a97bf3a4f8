package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestComposeFileIsValid checks docker-compose.yml the way a deployer's
// docker-compose would, without a Docker engine: with the example .env it is
// valid and every service has a healthcheck; without secrets it refuses.
func TestComposeFileIsValid(t *testing.T) {
	out, err := exec.Command("docker-compose", "-f", "../docker-compose.yml", "--env-file", "../.env.example", "config").CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s", err, out)
	}
	cfg := string(out)
	for _, svc := range []string{"classmeet:", "postgres:", "s3:"} {
		if !strings.Contains(cfg, "\n  "+svc) {
			t.Errorf("service %s missing", svc)
		}
	}
	if n := strings.Count(cfg, "healthcheck:"); n != 3 {
		t.Errorf("%d healthchecks, want one per service", n)
	}
	if !strings.Contains(cfg, "versity/versitygw") {
		t.Error("the S3 server is not versitygw")
	}
	// classmeet keeps its recordings in that S3 server, with its keys.
	for _, want := range []string{"CLASSMEET_S3_ENDPOINT: http://s3:7070", "CLASSMEET_S3_ACCESS_KEY: classmeet", "CLASSMEET_S3_PATH_STYLE: \"true\"", "CLASSMEET_DATA_DIR: /data"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the classmeet service lacks %s", want)
		}
	}
	compose, _ := filepath.Abs("../docker-compose.yml")
	bare := exec.Command("docker-compose", "-f", compose, "config", "-q")
	bare.Dir = t.TempDir() // no .env here
	if out, err := bare.CombinedOutput(); err == nil || !strings.Contains(string(out), "set POSTGRES_PASSWORD") {
		t.Errorf("compose without secrets: %v %s", err, out)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	srv := startServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	ok := exec.Command(binary, "healthcheck")
	ok.Env = []string{"CLASSMEET_ADDR=" + addr}
	if out, err := ok.CombinedOutput(); err != nil || !strings.Contains(string(out), "database: ok") {
		t.Errorf("healthcheck of a ready server: %v %s", err, out)
	}
	dead := exec.Command(binary, "healthcheck")
	dead.Env = []string{"CLASSMEET_ADDR=127.0.0.1:1"}
	if err := dead.Run(); err == nil {
		t.Error("healthcheck of nothing succeeded")
	}
}
