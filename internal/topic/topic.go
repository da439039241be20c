// Package topic names the live topics of SPEC §5 ("meeting:42", "thread:7",
// "group:3", a review section's "section:5", and a user's own "user:9") and defines how services announce that a
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
	// Tournament is a round of the tournament of good practices: its ballot
	// counts, which staff follow live (members learn only the total).
	Tournament = "tournament"
	// Section is a section of a material under review (issue 15): its page
	// learns of new comments.
	Section = "section"
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
	case Meeting, Thread, Group, Note, User, Tournament, Section:
	default:
		return "", 0, fmt.Errorf("%w: %q", ErrBadTopic, s)
	}
	id, err = strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 || strconv.FormatInt(id, 10) != rest {
		return "", 0, fmt.Errorf("%w: %q", ErrBadTopic, s)
	}
	return kind, id, nil
}

// Change says that a topic changed, after the change committed. Seq is the
// topic's newest log position when it has one (a meeting's chat message, a
// user's notification id), or 0 for "its state changed, re-read it".
type Change struct {
	Topic string
	Seq   int64
}

// Revocation says that a user's open live connections must check their
// session again at once rather than at their next periodic re-check: ended
// when every session of the user is gone (disabled, password set, logged out
// everywhere), re-authorised otherwise (memberships or roles changed, one
// session ended).
type Revocation struct {
	UserID        int64
	SessionsEnded bool
}

// Events are what one committed unit of work announces (store.InTx collects
// them while the transaction runs and hands them over after its commit).
type Events struct {
	Changes     []Change
	Revocations []Revocation
	// Mails is how many mails the unit of work queued; this instance's mail
	// worker is woken for them (other instances find them when they poll).
	Mails int
}

// Empty reports whether there is nothing to announce.
func (e Events) Empty() bool { return len(e.Changes) == 0 && len(e.Revocations) == 0 && e.Mails == 0 }

// Announcer learns committed events, after the commit and never inside the
// transaction (NOTIFY inside it halves commit throughput under concurrency,
// SPEC §8). The live hub implements it: it tells this instance's open pages
// and, through NOTIFY, every other instance.
type Announcer interface {
	Announce(ctx context.Context, ev Events)
}

// Discard is the Announcer of services that nobody listens to (tools, tests).
type Discard struct{}

func (Discard) Announce(context.Context, Events) {}
