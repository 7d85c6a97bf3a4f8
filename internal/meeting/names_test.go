package meeting

import "testing"

func TestLooksLike(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Ms Smith", "Ms Smith", true},
		{"Ms Smith", "ms  smith", true},
		{"Ms Smith", "Ms. Smith", true},
		{"Ms Smith", "MsSmith", true},
		{"Ms Smith", "Мs Smіth", true},       // Cyrillic М and і
		{"Ms Smith", "Ms Smi\u200bth", true}, // a zero-width space
		{"Ms Smith", "Ｍｓ Ｓｍｉｔｈ", true},       // fullwidth
		{"Ms Smith", "Ms Smíth", true},       // an accent
		{"Ms Smith", "Ms Smi\u0301th", true}, // a combining accent
		{"Ms Smith", "M5 5m1th", true},       // digits for letters
		{"Mr Jones", "Ms Smith", false},
		{"Ms Smith", "Ms Smithers", false},
		{"Ms Smith", "Smith", false},
		{"", "", false},
		{"...", "!!!", false},
	} {
		if got := LooksLike(tc.a, tc.b); got != tc.same {
			t.Errorf("LooksLike(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestNobodyJoinsUnderAHostsName(t *testing.T) {
	s := newStateWith(policy("self", "hosts"))
	s.Meeting.HostName = "Ms Smith"
	poser := outsid
	poser.Name = "ms. smіth" // a Cyrillic і
	if _, err := s.Join(t0, poser); !isRefusal(err, "name_taken") {
		t.Errorf("the host's name, host absent: %v", err)
	}
	mustJoin(t, s, host)
	mustJoin(t, s, jones)
	mustJoin(t, s, patel)
	mustHandle(t, s, "host", &AdmitAll{})
	mustHandle(t, s, "host", &SetRole{Participant: "patel", Role: RoleCohost})
	poser.Name = "PRIYA"
	if _, err := s.Join(t0, poser); !isRefusal(err, "name_taken") {
		t.Errorf("a co-host's name: %v", err)
	}
	poser.Name = "Mr Guest"
	mustJoin(t, s, poser)
	// A moderator's own second device may show their own name.
	second := patel
	second.ID = "patel-2"
	mustJoin(t, s, second)
}
