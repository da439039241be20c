// Package topic names the live topics of SPEC §5 ("meeting:42", "thread:7",
// "group:3", and a user's own "user:9") and defines how services announce that a
// topic changed. It sits below both the services and the live layer so neither
// has to import the other to agree on a name.
package topic

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds of topic.
const (
	Meeting = "meeting"
	Thread  = "thread"
	Group   = "group"
	Note    = "note" // its editors: who has the note open for editing
	User    = "user"
)

// Name is a topic's wire name.
func Name(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// ErrBadTopic is returned for a name that is not kind:positive-id of a known kind.
var ErrBadTopic = errors.New("bad topic")

// Parse splits a wire name into kind and id. Clients may subscribe to meeting,
// thread and group topics; user topics are only ever server-side.
func Parse(s string) (kind string, id int64, err error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || len(s) > 40 {
		return "", 0, fmt.Errorf("%w: %q", ErrBadTopic, s)
	}
	switch kind {
	case Meeting, Thread, Group, Note, User:
	default:
		return "", 0, fmt.Errorf("%w: %q", ErrBadTopic, s)
	}
	id, err = strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return "", 0, fmt.Errorf("%w: %q", ErrBadTopic, s)
	}
	return kind, id, nil
}

// Notifier learns that a topic changed, after the change committed (never inside
// the transaction: NOTIFY inside it halves commit throughput under concurrency).
// seq is the topic's newest log position when it has one (a meeting's chat), or
// 0 for "its state changed, re-read it".
type Notifier interface {
	Notify(ctx context.Context, topic string, seq int64)
}

// A LogNotifier also takes the committed log entry itself (a chat message),
// so that the instance that stored it delivers it to its own subscribers at
// once instead of reading it back; other instances still get only the hint.
type LogNotifier interface {
	Notifier
	NotifyEntry(ctx context.Context, topic string, seq int64, entry any)
}

// NotifyEntry hands entry to n when n takes entries, else sends the hint alone.
func NotifyEntry(ctx context.Context, n Notifier, topic string, seq int64, entry any) {
	if ln, ok := n.(LogNotifier); ok {
		ln.NotifyEntry(ctx, topic, seq, entry)
		return
	}
	n.Notify(ctx, topic, seq)
}

// Discard is the Notifier of a service that nobody listens to (tests, tools).
type Discard struct{}

func (Discard) Notify(context.Context, string, int64) {}
