package live

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// Issue 10 item 13: the websocket frame decoder never panics and answers
// anything malformed with the protocol's bad_request error.
func FuzzDecodeFrame(f *testing.F) {
	for _, seed := range frameSeeds {
		f.Add([]byte(seed.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, bad := decodeFrame(data)
		if bad != nil {
			if bad.Type != "error" || bad.Code != "bad_request" {
				t.Fatalf("%q: error frame %+v, want bad_request", data, bad)
			}
			if len(bad.Ref) > maxRef || !utf8.ValidString(bad.Ref) {
				t.Fatalf("%q: ref %q", data, bad.Ref)
			}
			encode(*bad) // the answer can always be sent
			return
		}
		switch fr.Type {
		case "ping", "subscribe", "unsubscribe", "chat.send":
		default:
			t.Fatalf("%q: accepted a frame of type %q", data, fr.Type)
		}
		// An accepted frame is one JSON object: the standard decoder reads
		// the same command from it.
		var std clientFrame
		if err := json.Unmarshal(data, &std); err != nil {
			t.Fatalf("%q: accepted, but encoding/json says %v", data, err)
		}
		if std.Type != fr.Type || std.Topic != fr.Topic || std.MeetingID != fr.MeetingID || std.ClientID != fr.ClientID || std.Body != fr.Body {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, fr, std)
		}
	})
}

var frameSeeds = []struct {
	in   string
	ok   bool
	want string // the type read, or the ref of the error
}{
	{`{"type":"ping"}`, true, "ping"},
	{`{"type":"subscribe","topic":"meeting:42","since_seq":17}`, true, "subscribe"},
	{`{"type":"subscribe","topic":"meeting:42","since_seq":null}`, true, "subscribe"},
	{`{"type":"unsubscribe","topic":"thread:7"}`, true, "unsubscribe"},
	{`{"type":"chat.send","meeting_id":42,"client_id":"6f1c1a0e-8f7e-4e49-9d38-2f1b1b7c9a10","body":"Dzień dobry"}`, true, "chat.send"},
	{" \n{\"type\":\"ping\"}\n ", true, "ping"},
	{`{"type":"p\u0069ng"}`, true, "ping"},
	{`{"type":"dance"}`, false, "dance"},
	{`{"type":"` + strings.Repeat("ż", 100) + `"}`, false, strings.Repeat("ż", 32)},
	{`{}`, false, ""},
	{`null`, false, ""},
	{`[]`, false, ""},
	{`"ping"`, false, ""},
	{`{not json`, false, ""},
	{``, false, ""},
	{`{"type":"ping"}{"type":"ping"}`, false, ""},
	{`{"type":"ping"} x`, false, ""},
	{`{"TYPE":"chat.send"}`, false, ""},
	{`{"Type":"ping"}`, false, ""},
	{`{"type":"ping","type":"chat.send"}`, false, ""},
	{`{"type":"ping","extra":1}`, false, ""},
	{`{"type":"subscribe","since_seq":"17"}`, false, ""},
	{`{"type":"chat.send","meeting_id":1e400}`, false, ""},
	{`{"type":"chat.send","meeting_id":-1.5}`, false, ""},
	{`{"type":["ping"]}`, false, ""},
	{`{"type":"ping","body":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, false, ""},
	{"{\"type\":\"\xff\xfe\"}", false, "\ufffd\ufffd"},
}

func TestDecodeFrameSeeds(t *testing.T) {
	for _, s := range frameSeeds {
		f, bad := decodeFrame([]byte(s.in))
		switch {
		case s.ok && bad != nil:
			t.Errorf("%.60q: refused with %+v", s.in, bad)
		case s.ok && f.Type != s.want:
			t.Errorf("%.60q: type %q, want %q", s.in, f.Type, s.want)
		case !s.ok && (bad == nil || bad.Code != "bad_request"):
			t.Errorf("%.60q: accepted as %+v, want bad_request", s.in, f)
		case !s.ok && bad.Ref != s.want:
			t.Errorf("%.60q: ref %q, want %q", s.in, bad.Ref, s.want)
		}
	}
}
