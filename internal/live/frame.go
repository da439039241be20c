package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// clientFrame is every field any client frame may carry.
type clientFrame struct {
	Type      string `json:"type"`
	Topic     string `json:"topic"`
	SinceSeq  *int64 `json:"since_seq"`
	MeetingID int64  `json:"meeting_id"`
	ClientID  string `json:"client_id"`
	Body      string `json:"body"`
}

// frameKeys are clientFrame's keys, spelled exactly.
var frameKeys = map[string]bool{"type": true, "topic": true, "since_seq": true, "meeting_id": true, "client_id": true, "body": true}

// maxRef bounds what an error frame echoes of a client's unknown type.
const maxRef = 64

// decodeFrame reads a client's text frame (SPEC §5): one JSON object of the
// protocol's keys, each spelled exactly and given once, of a known type.
// encoding/json alone would match keys case-insensitively and let a repeated
// key win, so {"type":"ping","TYPE":"chat.send"} would be read as a send while
// a stricter reader of the same bytes saw a ping. Anything else answers the
// protocol's bad_request error, which the caller sends as is.
func decodeFrame(data []byte) (clientFrame, *errorFrame) {
	var f clientFrame
	if err := checkKeys(data); err != nil {
		return f, &errorFrame{Type: "error", Code: "bad_request", Message: err.Error()}
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return clientFrame{}, &errorFrame{Type: "error", Code: "bad_request", Message: "a field has the wrong type"}
	}
	switch f.Type {
	case "ping", "subscribe", "unsubscribe", "chat.send":
		return f, nil
	}
	ref := f.Type
	if len(ref) > maxRef {
		ref = ref[:maxRef]
		for !utf8.ValidString(ref) { // do not cut a character in two
			ref = ref[:len(ref)-1]
		}
	}
	return f, &errorFrame{Type: "error", Code: "bad_request", Ref: ref, Message: "unknown frame type"}
}

var (
	errNotObject = errors.New("not a JSON object")
	errBadKey    = errors.New("unknown or repeated field")
)

// checkKeys makes sure data is one JSON object whose keys are frameKeys, each
// at most once. Values are checked by the decoding that follows.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errNotObject
	}
	seen := make(map[string]bool, len(frameKeys))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		key, ok := tok.(string)
		if !ok || !frameKeys[key] || seen[key] {
			return errBadKey
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errNotObject
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return errNotObject // something after the object
	}
	return nil
}
