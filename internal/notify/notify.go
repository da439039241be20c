// Package notify owns users' notifications (SPEC §2): services record them in
// the transaction of the change they announce, announce them after commit (the
// live layer pushes them to the owner's open tabs), and owners list them and
// mark them read.
package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Kinds of notification.
const (
	Reply            = "reply"
	Quote            = "quote"
	Mention          = "mention"
	WatchedThread    = "watched_thread"
	MeetingScheduled = "meeting_scheduled"
	MeetingStarted   = "meeting_started"
	MeetingReminder  = "meeting_reminder"
	NoteAdded        = "note_added"
)

// ThreadReply is the reason a thread's author hears of a post in it: a
// reply, but less personal than a reply to one of their posts or a quote of
// it, so it is recorded as Reply and ranks below both.
const ThreadReply = "reply:thread"

// strength orders the reasons one person may have to hear of one post, note
// or message: they get one notification, of the most personal kind.
var strength = map[string]int{Mention: 6, Reply: 5, Quote: 4, ThreadReply: 3, NoteAdded: 2, WatchedThread: 1}

// recordedKind is the kind a reason is recorded as.
func recordedKind(reason string) string {
	if reason == ThreadReply {
		return Reply
	}
	return reason
}

// Reasons lists every reason with its strength and the kind it is recorded
// as, for a statement that applies Plan's rule in SQL (store.AppendReply:
// per person the strongest reason wins).
func Reasons() (reasons []string, strengths []int, kinds []string) {
	for _, r := range slices.Sorted(maps.Keys(strength)) {
		reasons, strengths, kinds = append(reasons, r), append(strengths, strength[r]), append(kinds, recordedKind(r))
	}
	return reasons, strengths, kinds
}

// Plan gathers who should hear of one target and why, keeping for each
// person only the strongest reason (one notification per recipient per post).
type Plan struct{ kinds map[int64]string }

// Add gives people a reason to be told.
func (p *Plan) Add(kind string, userIDs ...int64) {
	if p.kinds == nil {
		p.kinds = map[int64]string{}
	}
	for _, id := range userIDs {
		if strength[kind] > strength[p.kinds[id]] {
			p.kinds[id] = kind
		}
	}
}

// Remove takes people out of the plan whatever their reasons.
func (p *Plan) Remove(userIDs ...int64) {
	for _, id := range userIDs {
		delete(p.kinds, id)
	}
}

// RecordPlan records the plan: one Record per kind, with base's target.
func RecordPlan(ctx context.Context, tx *store.Tx, p Plan, base store.NewNotifications) error {
	byKind := map[string][]int64{}
	for id, k := range p.kinds {
		byKind[recordedKind(k)] = append(byKind[recordedKind(k)], id)
	}
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		n := base
		n.Kind, n.UserIDs = k, byKind[k]
		if err := Record(ctx, tx, n); err != nil {
			return err
		}
	}
	return nil
}

// Notification is a notification as its owner sees it (the API type; the row
// store.Notification has no JSON tags and keeps the owner's id to itself).
type Notification struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	ActorID    *int64     `json:"actor_id"`
	ActorName  *string    `json:"actor_name"`
	GroupID    int64      `json:"group_id"`
	TargetType string     `json:"target_type"`
	TargetID   int64      `json:"target_id"`
	Title      string     `json:"title"`
	CreatedAt  time.Time  `json:"created_at"`
	ReadAt     *time.Time `json:"read_at"`
	// URL is the target's address; OpenURL marks the notification read on
	// the way there (the list's links use it).
	URL     string `json:"url"`
	OpenURL string `json:"open_url"`
}

func view(n store.Notification) Notification {
	var url string
	switch n.TargetType {
	case "post":
		url = fmt.Sprintf("/p/%d", n.TargetID)
	case "note":
		url = fmt.Sprintf("/n/%d", n.TargetID)
	case "message":
		url = fmt.Sprintf("/m/%d", deref(n.MeetingID))
	case "practice":
		url = fmt.Sprintf("/praktyki/%d", n.TargetID)
	default:
		url = fmt.Sprintf("/m/%d", n.TargetID)
	}
	if n.Kind == MeetingStarted {
		// "Join the chat": land on it, not on the programme above it.
		url += "#chat"
	}
	return Notification{ID: n.ID, Kind: n.Kind, ActorID: n.ActorID, ActorName: n.ActorName, GroupID: n.GroupID,
		TargetType: n.TargetType, TargetID: n.TargetID, Title: n.Title, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt,
		URL: url, OpenURL: fmt.Sprintf("/notifications/%d", n.ID)}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// Record writes one notification per recipient inside the caller's unit of
// work, which announces each to its owner's open tabs after the commit (the
// hint's seq is the notification's id). The actor is never told of their own
// action, and a recipient who may not read the target now (a thread moved to
// another group, a membership ended, a hidden thread) is not told at all: the
// notification would carry its title, actor and group. Recipients who want
// this kind of notification mailed at once get the mail queued in the same
// unit of work (store.Tx.Notified, the mail package). The target must
// already be written in tx.
func Record(ctx context.Context, tx *store.Tx, n store.NewNotifications) error {
	n.UserIDs = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(n.UserIDs))), func(id int64) bool { return id == n.ActorID })
	sent, err := store.InsertNotifications(ctx, tx, n)
	if err != nil {
		return err
	}
	return Recorded(ctx, tx, n, sent)
}

// Recorded is what follows notifications written in tx (by Record, or by a
// statement that also wrote their target, with the same rules): each is
// announced to its owner after the commit, and mailed at once to whoever
// wants its kind so — only recipients who got the notification (who may
// read the target) — in this same unit of work. Each is of n.Kind, or of
// its own Kind when set.
func Recorded(ctx context.Context, tx *store.Tx, n store.NewNotifications, sent []store.SentNotification) error {
	for _, s := range sent {
		tx.Touch(topic.Name(topic.User, s.UserID), s.ID)
	}
	return tx.Notified(ctx, n, sent)
}

type Service struct{ db *sqlx.DB }

func New(db *sqlx.DB) *Service { return &Service{db: db} }

// List returns the actor's own notifications, newest first, without those
// whose target they can no longer read (the store filters by current access).
func (s *Service) List(ctx context.Context, a *access.Actor, p store.Page) ([]Notification, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	rows, err := store.ListNotifications(ctx, s.db, a.UserID, p)
	if err != nil {
		return nil, err
	}
	out := make([]Notification, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out, nil
}

// MarkRead marks the actor's notifications read (all when ids is empty) and
// returns how many changed. Other users' ids are silently not theirs to mark.
func (s *Service) MarkRead(ctx context.Context, a *access.Actor, ids []int64) (int64, error) {
	if err := a.LoggedIn(); err != nil {
		return 0, err
	}
	return store.MarkNotificationsRead(ctx, s.db, a.UserID, ids)
}

// Open marks one of the actor's notifications read and returns its target's
// address. One that is not theirs, or whose target they can no longer read,
// is not found (and stays as it was).
func (s *Service) Open(ctx context.Context, a *access.Actor, id int64) (string, error) {
	if err := a.LoggedIn(); err != nil {
		return "", err
	}
	n, err := store.GetNotification(ctx, s.db, a.UserID, id)
	if err != nil {
		return "", err
	}
	if _, err := store.MarkNotificationsRead(ctx, s.db, a.UserID, []int64{id}); err != nil {
		return "", err
	}
	return view(n).URL, nil
}

// ForPush loads one notification for the live push to its owner (the hub
// delivers only to that user's own connections). One whose target the owner
// could no longer read by the time it is pushed is not found, like in List.
func (s *Service) ForPush(ctx context.Context, userID, id int64) (Notification, error) {
	n, err := store.GetNotification(ctx, s.db, userID, id)
	return view(n), err
}
