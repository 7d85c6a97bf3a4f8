package main

import (
	"errors"
	"strings"
	"testing"
)

func TestLoadtestRefusesBadArguments(t *testing.T) {
	cases := map[string][]string{
		"no scenario":      {"loadtest"},
		"unknown scenario": {"loadtest", "stampede", "--email", "a@b.example", "--password", "x"},
		"bad flag":         {"loadtest", "lecture", "--colour", "red"},
		"bad record":       {"loadtest", "lecture", "--record", "maybe"},
		"no sign-in":       {"loadtest", "lecture", "-m", "3"},
		"no subscribers":   {"loadtest", "lecture", "-m", "0", "--email", "a@b.example", "--password", "x"},
		"bad url":          {"loadtest", "meeting", "--url", "ftp://x", "--email", "a@b.example", "--password", "x"},
	}
	for name, args := range cases {
		if _, _, err := runCmd(t, nil, "", args...); !errors.Is(err, errUsage) {
			t.Errorf("%s: %v, want a usage error", name, err)
		}
	}
	if out, _, err := runCmd(t, nil, "", "loadtest", "help"); err != nil || !strings.Contains(out, "audio-class") {
		t.Errorf("help: %q %v", out, err)
	}
}
