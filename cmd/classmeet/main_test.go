package main

import (
	"bytes"
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	"classmeet/internal/pgtest"
)

func runCmd(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestUsage(t *testing.T) {
	if _, stderr, err := runCmd(t, nil, ""); !errors.Is(err, errUsage) || !strings.Contains(stderr, "classmeet serve") {
		t.Errorf("no args: %v %q", err, stderr)
	}
	if _, _, err := runCmd(t, nil, "", "frobnicate"); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), `"frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
	if out, _, err := runCmd(t, nil, "", "version"); err != nil || !strings.HasPrefix(out, "classmeet ") {
		t.Errorf("version: %q %v", out, err)
	}
}

func TestServeRefusesBadConfigNamingTheVariable(t *testing.T) {
	_, _, err := runCmd(t, map[string]string{"CLASSMEET_ADDR": "nonsense"}, "", "serve")
	for _, want := range []string{"DATABASE_URL", "CLASSMEET_SECRET", "CLASSMEET_ADDR"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("serve with bad config: %v; want it to name %s", err, want)
		}
	}
}

func TestMigrateAndUserCommands(t *testing.T) {
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t)}
	if _, _, err := runCmd(t, env, "", "migrate"); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, _, err := runCmd(t, env, "", "migrate"); err != nil {
		t.Fatalf("second migrate: %v", err)
	}

	out, _, err := runCmd(t, env, "a long enough password\n", "user", "add", "--email", "ann@school.example", "--name", "Ann Smith", "--role", "admin", "--time-zone", "Europe/London")
	if err != nil || !strings.Contains(out, "added admin Ann Smith") {
		t.Fatalf("user add: %q %v", out, err)
	}
	refusals := map[string][]string{
		"duplicate":  {"user", "add", "--email", "ANN@school.example", "--name", "Other", "--role", "teacher"},
		"bad role":   {"user", "add", "--email", "b@school.example", "--name", "B", "--role", "root"},
		"bad email":  {"user", "add", "--email", "nope", "--name", "B"},
		"bad zone":   {"user", "add", "--email", "b@school.example", "--name", "B", "--time-zone", "Moon/Base"},
		"no name":    {"user", "add", "--email", "b@school.example"},
		"unknown":    {"user", "explode"},
		"bad flag":   {"user", "add", "--colour", "red"},
		"no account": {"user", "disable", "--email", "ghost@school.example"},
	}
	for name, args := range refusals {
		if _, _, err := runCmd(t, env, "a long enough password\n", args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := runCmd(t, env, "short\n", "user", "add", "--email", "c@school.example", "--name", "C"); err == nil || !strings.Contains(err.Error(), "at least 10") {
		t.Errorf("short password from stdin: %v", err)
	}

	if _, _, err := runCmd(t, env, "", "user", "disable", "--email", "ann@school.example"); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCmd(t, env, "", "user", "list")
	if err != nil || !strings.Contains(out, "ann@school.example") || !strings.Contains(out, "disabled") {
		t.Errorf("list: %q %v", out, err)
	}
	if out, _, err := runCmd(t, env, "another long password\n", "user", "password", "--email", "ann@school.example"); err != nil || !strings.Contains(out, "password changed") {
		t.Errorf("password: %q %v", out, err)
	}
}

// The server's garbage collector runs at serverGCPercent, unless the
// operator set GOGC.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serverGCPercent {
		t.Errorf("GC percent %d, want %d", got, serverGCPercent)
	}
	tuneGC(func(k string) string { return map[string]string{"GOGC": "200"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GC percent %d after GOGC was set: the operator's choice was overridden", got)
	}
}
