package app

import (
	"context"
	"sync/atomic"

	"github.com/gwd-jst/forumjst/internal/live"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// relay is what the services announce to. It exists because of one
// construction cycle: the live hub reads through the services, so they are
// built first, each given the relay, and the hub attaches to it once built
// (still inside Build, before anything is served). Until then, and in tools,
// announcements go nowhere: nobody is connected.
type relay struct {
	mail *mail.Service // woken when a unit of work queued mail
	hub  atomic.Pointer[live.Hub]
	tap  atomic.Pointer[topic.Announcer] // a test's recorder, see App.TapAnnouncements
}

func (r *relay) Announce(ctx context.Context, ev topic.Events) {
	if r.mail != nil {
		r.mail.Announce(ctx, ev)
	}
	if h := r.hub.Load(); h != nil {
		h.Announce(ctx, ev)
	}
	if t := r.tap.Load(); t != nil {
		(*t).Announce(ctx, ev)
	}
}

func (r *relay) ChatMessages(ctx context.Context, ms []meetings.Message) {
	if h := r.hub.Load(); h != nil {
		h.ChatMessages(ctx, ms)
	}
	if t := r.tap.Load(); t != nil {
		for _, m := range ms {
			(*t).Announce(ctx, topic.Events{Changes: []topic.Change{{Topic: topic.Name(topic.Meeting, m.MeetingID), Seq: m.Seq}}})
		}
	}
}

// Notified lets the mail service queue, in the unit of work that recorded
// notifications, the mails of recipients who want them at once.
func (r *relay) Notified(ctx context.Context, tx *store.Tx, n store.NewNotifications, sent []store.SentNotification) error {
	if r.mail == nil {
		return nil
	}
	return r.mail.Notified(ctx, tx, n, sent)
}

var (
	_ meetings.Announcer     = (*relay)(nil)
	_ store.NotificationHook = (*relay)(nil)
)

// TapAnnouncements hands every announcement the services make from now on
// to t as well as to the live hub (end-to-end tests record them to prove
// that every write path announces what it changed).
func (a *App) TapAnnouncements(t topic.Announcer) { a.relay.tap.Store(&t) }
