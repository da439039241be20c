package mail

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/store"
)

// How a person wants mail of one kind (issue 12 item 5).
const (
	Immediately = "immediately"
	Digest      = "digest"
	Never       = "never"
)

// Preference kinds beyond the notification kinds: the new threads of one's
// groups (only ever in the digest) and the programme newsletter (in or out).
const (
	PrefNewThread  = "new_thread"
	PrefNewsletter = "newsletter"
)

// PrefKinds are the kinds the preferences page offers, in its order: the
// notification kinds (package notify records them; a kind is a plain string,
// so one not listed here still works with the default of defaultMode), the
// digest's new threads, and the newsletter.
var PrefKinds = []string{"mention", "reply", "quote", "watched_thread", "meeting_scheduled", "meeting_reminder",
	"meeting_started", "note_added", "practice_published", "practice_returned", PrefNewThread, PrefNewsletter}

// immediateDefaults are the kinds mailed at once unless the person chose
// otherwise: what concerns them personally, and the newsletter (members are
// subscribed until they say no). Everything else goes to the daily digest.
var immediateDefaults = []string{"mention", "reply", "quote", PrefNewsletter}

var prefKindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// DefaultMode is the mode of a kind the person never chose.
func DefaultMode(kind string) string {
	if slices.Contains(immediateDefaults, kind) {
		return Immediately
	}
	return Digest
}

// Modes lists the modes a kind accepts: the newsletter is sent when it is
// sent (in or out), new threads are only ever summarised.
func Modes(kind string) []string {
	switch kind {
	case PrefNewsletter:
		return []string{Immediately, Never}
	case PrefNewThread:
		return []string{Digest, Never}
	}
	return []string{Immediately, Digest, Never}
}

// Prefs is a person's mode for every kind the page offers (the API type of
// GET/PUT /api/v1/me/mail-prefs).
type Prefs struct {
	Prefs map[string]string `json:"prefs"`
}

// PrefsOf returns userID's effective choices: stored ones, and the defaults.
func (s *Service) PrefsOf(ctx context.Context, userID int64) (map[string]string, error) {
	return ReadPrefs(ctx, s.db, userID)
}

// ReadPrefs is userID's effective choices read through q: every kind of
// PrefKinds, stored or by default. accounts reads them for GET/PATCH
// /api/v1/me with it, in its own unit of work.
func ReadPrefs(ctx context.Context, q store.Q, userID int64) (map[string]string, error) {
	rows, err := store.MailPrefs(ctx, q, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(PrefKinds))
	for _, k := range PrefKinds {
		out[k] = DefaultMode(k)
	}
	for _, r := range rows {
		if _, ok := out[r.Kind]; ok {
			out[r.Kind] = r.Mode
		}
	}
	return out, nil
}

// CheckPrefs adds a message for each unknown kind and each mode its kind
// does not take, under field+kind ("prefs." for /api/v1/me/mail-prefs,
// "prefs.mail." for PATCH /api/v1/me).
func CheckPrefs(v *apperr.Validation, field string, in map[string]string) {
	for k, m := range in {
		switch {
		case !slices.Contains(PrefKinds, k):
			v.Add(field+k, "err.mail_pref_kind")
		case !slices.Contains(Modes(k), m):
			v.Add(field+k, "err.mail_pref_mode")
		}
	}
}

// WritePrefs stores checked choices (CheckPrefs) in the caller's unit of
// work, kinds in a fixed order so that two writers never deadlock.
func WritePrefs(ctx context.Context, q store.Q, userID int64, in map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if err := store.SetMailPref(ctx, q, userID, k, in[k]); err != nil {
			return err
		}
	}
	return nil
}

// Prefs are the actor's own mail preferences.
func (s *Service) Prefs(ctx context.Context, a *access.Actor) (Prefs, error) {
	if err := a.LoggedIn(); err != nil {
		return Prefs{}, err
	}
	p, err := s.PrefsOf(ctx, a.UserID)
	return Prefs{Prefs: p}, err
}

// SetPrefs stores the actor's choices for the kinds given (the others stay
// as they are) and returns all of them. Unknown kinds and modes a kind does
// not take are a validation error naming each ("prefs.<kind>"); nothing is
// stored then.
func (s *Service) SetPrefs(ctx context.Context, a *access.Actor, in map[string]string) (Prefs, error) {
	if err := a.LoggedIn(); err != nil {
		return Prefs{}, err
	}
	v := &apperr.Validation{}
	if len(in) == 0 {
		v.Add("prefs", "err.required")
	}
	CheckPrefs(v, "prefs.", in)
	if err := v.Err(); err != nil {
		return Prefs{}, err
	}
	err := store.InTx(ctx, s.udb, func(tx *store.Tx) error {
		tx.Quiet() // nobody follows preferences live
		return WritePrefs(ctx, tx, a.UserID, in)
	})
	if err != nil {
		return Prefs{}, err
	}
	return s.Prefs(ctx, a)
}

// unsubscribeFrom is what a signed link for kind turns off: the kind itself,
// or, for the digest link, every kind that went to the digest.
func (s *Service) unsubscribeFrom(ctx context.Context, userID int64, kind string) error {
	return store.InTx(ctx, s.udb, func(tx *store.Tx) error {
		tx.Quiet()
		if kind != KindDigest {
			return store.SetMailPref(ctx, tx, userID, kind, Never)
		}
		rows, err := store.MailPrefs(ctx, tx, userID)
		if err != nil {
			return err
		}
		stored := map[string]string{}
		for _, r := range rows {
			stored[r.Kind] = r.Mode
		}
		for _, k := range PrefKinds {
			mode, ok := stored[k]
			if !ok {
				mode = DefaultMode(k)
			}
			if mode == Digest {
				if err := store.SetMailPref(ctx, tx, userID, k, Never); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Notified queues, in the unit of work that recorded notifications, one
// mail per recipient who wants this kind at once (store.NotificationHook;
// the app's relay calls it). The recipients are those the store let have a
// notification, so only people who may read the target. The notification's
// id is the dedupe key: a notification is mailed once.
func (s *Service) Notified(ctx context.Context, tx *store.Tx, n store.NewNotifications, sent []store.SentNotification) error {
	rs, ok := immediateFromSent(n.Kind, sent)
	if !ok {
		var err error
		if rs, err = store.ImmediateMailRecipients(ctx, tx, n.Kind, DefaultMode, sent); err != nil {
			return err
		}
	}
	if len(rs) == 0 {
		return nil
	}
	actor := n.ActorName
	if actor == "" && n.ActorID != 0 {
		u, err := store.GetUser(ctx, tx, n.ActorID)
		if err != nil {
			return fmt.Errorf("notification mail: %w", err)
		}
		actor = u.Name
	}
	for _, r := range rs {
		kind := r.Kind
		link := s.URL(TargetPath(n.TargetType, n.TargetID))
		if n.TargetType == "message" {
			// A chat message's place needs its meeting: the notification's own
			// link (marks it read, then goes there) knows it.
			link = s.URL(fmt.Sprintf("/notifications/%d", r.NotificationID))
		}
		m := Message{To: r.Email, UserID: r.UserID, Lang: r.Lang, Kind: KindNotification, Pref: kind,
			DedupeKey: fmt.Sprintf("notification:%d", r.NotificationID), RenderOnSend: true,
			Build: func(tr *i18n.Printer) Content {
				return Content{
					Subject:    noticeText(tr, kind, "subject", actor, n.Title),
					Greeting:   tr.T("mail.greeting", "Name", r.Name),
					Paragraphs: []string{noticeText(tr, kind, "text", actor, n.Title)},
					Action:     &Action{Label: tr.T("mail.notice.open"), URL: link},
					Small:      []string{tr.T("mail.notice.why", "Kind", KindLabel(tr, kind), "URL", s.URL("/konto/poczta"))},
				}
			}}
		if _, err := s.Enqueue(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// noticeText is the kind's own sentence ("mail.notice.reply.subject"), or
// the general one for a kind without its own.
func noticeText(tr *i18n.Printer, kind, part, actor, title string) string {
	if actor == "" {
		actor = tr.T("mail.notice.someone")
	}
	id := "mail.notice." + kind + "." + part
	if s := tr.T(id, "Actor", actor, "Title", title); s != id {
		return s
	}
	return tr.T("mail.notice.other."+part, "Actor", actor, "Title", title)
}

// KindLabel names a preference kind (or a kind of mail) in the reader's
// language; a kind without a name of its own shows as it is.
func KindLabel(tr *i18n.Printer, kind string) string {
	for _, id := range []string{"mail.pref." + kind, "mail.kind." + kind} {
		if s := tr.T(id); s != id {
			return s
		}
	}
	return kind
}

// TargetPath is the forum path of a notification's target.
func TargetPath(targetType string, id int64) string {
	switch targetType {
	case "post":
		return fmt.Sprintf("/p/%d", id)
	case "note":
		return fmt.Sprintf("/n/%d", id)
	case "meeting":
		return fmt.Sprintf("/m/%d", id)
	case "practice":
		return fmt.Sprintf("/praktyki/%d", id)
	}
	return "/notifications"
}

// immediateFromSent is store.ImmediateMailRecipients without its read, for
// notifications whose recording statement already read each recipient
// (SentNotification.Recipient, a reply's): the same rule — a stored
// 'immediately', or no stored choice and the kind's default — and the same
// order (by person, then notification). ok is false when any recipient is
// missing; the caller then reads them.
func immediateFromSent(kind string, sent []store.SentNotification) ([]store.MailRecipient, bool) {
	out := []store.MailRecipient{}
	for _, n := range sent {
		if n.Recipient == nil {
			return nil, false
		}
		k := kind
		if n.Kind != "" {
			k = n.Kind
		}
		mode := n.Recipient.Mode
		if mode == "" {
			mode = DefaultMode(k)
		}
		if mode != Immediately {
			continue
		}
		out = append(out, store.MailRecipient{UserID: n.UserID, Email: n.Recipient.Email, Name: n.Recipient.Name,
			NotificationID: n.ID, Lang: n.Recipient.Lang, Kind: k})
	}
	slices.SortFunc(out, func(a, b store.MailRecipient) int {
		if c := cmp.Compare(a.UserID, b.UserID); c != 0 {
			return c
		}
		return cmp.Compare(a.NotificationID, b.NotificationID)
	})
	return out, true
}
