package meeting

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestDecodeClientAccepts(t *testing.T) {
	tests := map[string]ClientMessage{
		`{"type":"join","seq":1,"token":"abc"}`:                                              &Join{Header{"join", 1}, "abc"},
		`{"seq":2,"type":"resume","resume":"s","keep_media":true}`:                           &Resume{Header{"resume", 2}, "s", true},
		`{"type":"offer","seq":3,"pc":"pub","sdp":"v=0\r\n","tracks":{"t1":"camera"}}`:       &Offer{Header{"offer", 3}, "pub", "v=0\r\n", map[string]string{"t1": "camera"}},
		`{"type":"candidate","seq":4,"pc":"sub","candidate":{"candidate":"c","sdpMid":"0"}}`: &Candidate{Header{"candidate", 4}, "sub", CandidateInit{Candidate: "c", SDPMid: ptr("0")}},
		`{"type":"deny","seq":5,"participant":"p","message":"sorry"}`:                        &Deny{Header{"deny", 5}, "p", "sorry"},
		`{"type":"leave","seq":6}`:                                                           &Leave{Header{"leave", 6}},
		`{"type":"start_recording","seq":7}`:                                                 &StartRecording{Header{"start_recording", 7}},
		`{"type":"consent","seq":8,"accept":false}`:                                          &Consent{Header{"consent", 8}, false},
		`{"type":"extend","seq":9}`:                                                          &Extend{Header{"extend", 9}},
		`{"type":"end_appointment","seq":10}`:                                                &EndAppointment{Header{"end_appointment", 10}},
		`{"type":"running_late","seq":11,"minutes":-5}`:                                      &RunningLateBy{Header{"running_late", 11}, -5},
	}
	for in, want := range tests {
		got, err := DecodeClient([]byte(in))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", in, got, want)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeClientRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"type":"shout","seq":1}`, `unknown type "shout"`},
		{`{"seq":1}`, `unknown type ""`},
		{`[1,2]`, "not a JSON object"},
		{`not json`, "not a JSON object"},
		{`{"type":"leave","seq":1,"extra":true}`, `unknown key "extra"`},
		{`{"type":"leave","seq":1,"seq":2}`, `key "seq" appears twice`},
		{`{"type":"leave","type":"leave","seq":1}`, `key "type" appears twice`},
		{`{"type":"leave","Seq":1}`, `key "Seq" must be spelled "seq"`},
		{`{"Type":"leave","seq":1}`, `key "Type" must be spelled "type"`},
		{`{"type":"leave","TYPE":"end_meeting","seq":1}`, `key "TYPE" must be spelled "type"`},
		{`{"type":"offer","seq":1,"pc":"pub","SDP":"v=0","tracks":{}}`, `key "SDP" must be spelled "sdp"`},
		{`{"type":"candidate","seq":1,"pc":"pub","candidate":{"candidate":"c","sdpmid":"0"}}`, `key "candidate.sdpmid" must be spelled "candidate.sdpMid"`},
		{`{"type":"candidate","seq":1,"pc":"pub","candidate":{"candidate":"c","candidate":"d"}}`, `key "candidate.candidate" appears twice`},
		{`{"type":"offer","seq":1,"pc":"pub","sdp":"v=0","tracks":{"a":"camera","a":"screen"}}`, `key "tracks.a" appears twice`},
		{`{"type":"leave"}`, `"seq" must be a positive number`},
		{`{"type":"leave","seq":0}`, `"seq" must be a positive number`},
		{`{"type":"leave","seq":-1}`, `must be a number`},
		{`{"type":"leave","seq":"1"}`, `field "seq" must be a number`},
		{`{"type":"leave","seq":1} {}`, "unexpected data after the message"},
		{`{"type":"join","seq":1}`, `"token" is required`},
		{`{"type":"offer","seq":1,"pc":"sub","sdp":"v=0"}`, `clients offer only on "pub"`},
		{`{"type":"offer","seq":1,"pc":"pub","sdp":"hello"}`, "not a session description"},
		{`{"type":"offer","seq":1,"pc":"pub","sdp":"v=0","tracks":{"t":"webcam"}}`, `source "webcam"`},
		{`{"type":"offer","seq":1,"pc":"pub","sdp":"v=0","tracks":{"0":"camera","1":"camera"}}`, `source "camera" is offered twice`},
		{`{"type":"answer","seq":1,"pc":"pub","sdp":"v=0"}`, `clients answer only on "sub"`},
		{`{"type":"candidate","seq":1,"pc":"both","candidate":{"candidate":""}}`, `"pc" must be`},
		{`{"type":"deny","seq":1,"participant":"p","message":"` + strings.Repeat("x", 501) + `"}`, "at most 500"},
		{"{\"type\":\"join\",\"seq\":1,\"token\":\"\xff\"}", "not UTF-8"},
		{`{"type":"consent","seq":1,"accept":"yes"}`, `field "accept" must be a boolean`},
		{`{"type":"stop_recording","seq":1,"recording":"x"}`, `unknown key "recording"`},
		{`{"type":"running_late","seq":1}`, `"minutes" must be between -60 and 60, and not 0`},
		{`{"type":"running_late","seq":1,"minutes":61}`, `"minutes" must be between`},
		{`{"type":"running_late","seq":1,"minutes":"5"}`, `field "minutes" must be a number`},
		{`{"type":"running_late","seq":1,"minutes":5,"Minutes":5}`, `key "Minutes" must be spelled "minutes"`},
		{`{"type":"extend","seq":1,"minutes":5}`, `unknown key "minutes"`},
		{`{"type":"end_appointment","seq":1,"booking":"b"}`, `unknown key "booking"`},
		{`{"type":"join","seq":1,"token":"` + strings.Repeat("x", MaxMessageBytes) + `"}`, "larger than"},
	}
	for _, tt := range tests {
		_, err := DecodeClient([]byte(tt.in))
		if !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), tt.want) {
			in := tt.in
			if len(in) > 80 {
				in = in[:80] + "…"
			}
			t.Errorf("%s\n  err = %v\n  want it to say %q", in, err, tt.want)
		}
	}
}

func TestServerMessagesRoundTrip(t *testing.T) {
	msgs := []ServerMessage{
		&Welcome{You: Self{ID: "a", Name: "A", Role: RoleHost}, Presence: "room", Resume: "r", Participants: []ParticipantInfo{}, Lobby: []LobbyEntry{}},
		&Lobby{Entries: []LobbyEntry{{ID: "b", Name: "<img src=x>", NameMatches: true}}},
		&Denied{Message: "no"},
		&Error{Code: "not_allowed", Message: "m", InReplyTo: 4},
		&Recording{RecordingStatus: RecordingStatus{Active: true, StartedAt: "2026-11-23T16:30:00Z", By: "Ms Smith", Consent: ConsentPending}},
		&Consents{Entries: []ConsentEntry{{Participant: "p", Name: "Mr Jones", Answer: ConsentDeclined, At: "2026-11-23T16:31:00Z"}}},
		&AppointmentStatus{Status: ApptWaiting, Teacher: "Ms Smith", StartsAt: "2026-11-23T16:30:00Z", ExpectedAt: "2026-11-23T16:35:00Z", EndsAt: "2026-11-23T16:45:00Z", Now: "2026-11-23T16:26:00Z"},
		&TimetableStatus{Current: &TimetableEntry{Booking: "b", Family: "Mr Jones", Students: "Amy Jones", Waiting: true}, Next: []TimetableEntry{}, NoShows: []TimetableEntry{{Booking: "c"}}, MinutesLate: 3, CanExtend: true},
		&WrapUp{EndsAt: "2026-11-23T16:40:00Z", Booking: "b"},
	}
	for i, m := range msgs {
		b, err := EncodeServer(m, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeServer(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("round trip of %s: %+v", b, back)
		}
		if m.header().Seq != uint64(i+1) || m.header().Type == "" {
			t.Errorf("header not set: %+v", m.header())
		}
	}
}

// FuzzDecodeClient: no input panics, and whatever decodes encodes back to
// something that decodes to the same message.
func FuzzDecodeClient(f *testing.F) {
	for _, seed := range []string{
		`{"type":"join","seq":1,"token":"abc"}`,
		`{"type":"offer","seq":3,"pc":"pub","sdp":"v=0\r\n","tracks":{"t1":"camera"}}`,
		`{"type":"candidate","seq":4,"pc":"sub","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"type":"deny","seq":5,"participant":"p","message":"sorry"}`,
		`{"type":"leave","seq":1,"Seq":2}`,
		`{"type":"media_state","seq":9,"audio":true,"video":false,"screen":true}`,
		`{"type":"consent","seq":10,"accept":true}`,
		`{"type":"join","seq":1,"token":[[0]]}`,
	} {
		f.Add([]byte(seed))
	}
	for _, m := range wrongTypeMessages() {
		f.Add([]byte(m.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeClient(data)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) {
				t.Fatalf("error not wrapping ErrBadMessage: %v", err)
			}
			return
		}
		b, err := EncodeClient(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := DecodeClient(b)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", b, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}

// TestDecodeClientRefusesWrongTypes: a value of the wrong JSON type in any
// field of any client message, or in an element of a map, is a bad message
// naming the field, never a panic (a join whose token was [[0]] once
// crashed the connection handler).
func TestDecodeClientRefusesWrongTypes(t *testing.T) {
	cases := wrongTypeMessages()
	if len(cases) < 300 {
		t.Fatalf("only %d cases: the walk of the message types is broken", len(cases))
	}
	for _, c := range cases {
		var err error
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("%s: panic: %v", c.in, v)
				}
			}()
			_, err = DecodeClient([]byte(c.in))
		}()
		if !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: err = %v, want a bad message", c.in, err)
			continue
		}
		if !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v does not name %q", c.in, err, c.field)
		}
	}
}

// wrongTypeMessage is a client message with a value of the wrong JSON type
// in field (a dotted path).
type wrongTypeMessage struct{ in, field string }

// jsonValues are values of every JSON type, nested lists and objects too.
var jsonValues = []string{`"x"`, `7`, `-1.5e3`, `true`, `false`, `null`, `[]`, `[[0]]`, `["x"]`, `{}`, `{"a":[[0]]}`}

// wrongTypeMessages puts each of jsonValues that the field cannot hold into
// each field of each client message type, nested fields and map elements
// included; the other fields are left out.
func wrongTypeMessages() []wrongTypeMessage {
	// The type is read before anything else: a wrong one is refused as an
	// unknown type, whatever the message.
	var out []wrongTypeMessage
	for _, v := range jsonValues {
		if v != `"x"` {
			out = append(out, wrongTypeMessage{in: `{"type":` + v + `,"seq":1}`, field: "type"})
		}
	}
	types := make([]string, 0, len(clientTypes))
	for typ := range clientTypes {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		msg := reflect.TypeOf(clientTypes[typ]()).Elem()
		for _, f := range wrongTypeFields(msg, "") {
			if f.path == "type" {
				continue
			}
			for _, v := range jsonValues {
				if slices.Contains(f.holds, v) {
					continue
				}
				out = append(out, wrongTypeMessage{in: wrap(typ, f.path, v), field: f.path})
			}
		}
	}
	return out
}

type typedField struct {
	path  string
	holds []string // which of jsonValues it may hold
}

// wrongTypeFields lists the JSON fields of t, with the map elements and
// nested struct fields under them.
func wrongTypeFields(t reflect.Type, prefix string) []typedField {
	var out []typedField
	keys := make([]string, 0)
	fields := jsonFields(t)
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, path := fields[k], prefix+k
		out = append(out, typedField{path, holdable(ft)})
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Struct:
			out = append(out, wrongTypeFields(ft, path+".")...)
		case reflect.Map:
			out = append(out, typedField{path + ".t", holdable(ft.Elem())})
		}
	}
	return out
}

// holdable says which of jsonValues a Go type may hold: written out by
// kind here rather than asked of the decoder, so that the test does not
// share the decoder's mistakes.
func holdable(t reflect.Type) []string {
	var null []string
	if t.Kind() == reflect.Pointer {
		null, t = []string{`null`}, t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return append(null, `"x"`)
	case reflect.Bool:
		return append(null, `true`, `false`)
	case reflect.Uint16, reflect.Uint64, reflect.Int:
		return append(null, `7`) // -1.5e3 is a number, but not one of these
	case reflect.Map:
		return []string{`null`, `{}`}
	case reflect.Struct:
		return append(null, `{}`)
	}
	panic("holdable: a client message has a field of kind " + t.Kind().String() + ": teach this test about it")
}

// wrap builds {"type":typ,"seq":1,...} with value v at the dotted path;
// the path "seq" replaces that field instead.
func wrap(typ, path, v string) string {
	if path == "seq" {
		return `{"type":` + quote(typ) + `,"seq":` + v + `}`
	}
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 1; i-- {
		v = `{` + quote(parts[i]) + `:` + v + `}`
	}
	return `{"type":` + quote(typ) + `,"seq":1,` + quote(parts[0]) + `:` + v + `}`
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
