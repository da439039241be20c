// Package notify owns users' notifications (SPEC §2): services record them in
// the transaction of the change they announce, announce them after commit (the
// live layer pushes them to the owner's open tabs), and owners list them and
// mark them read.
package notify

import (
	"context"
	"fmt"
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
	MeetingScheduled = "meeting_scheduled"
	MeetingStarted   = "meeting_started"
)

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
	URL        string     `json:"url"`
}

func view(n store.Notification) Notification {
	url := fmt.Sprintf("/m/%d", n.TargetID)
	if n.Kind == MeetingStarted {
		// "Join the chat": land on it, not on the programme above it.
		url += "#chat"
	}
	if n.TargetType == "post" {
		url = fmt.Sprintf("/p/%d", n.TargetID)
	}
	return Notification{ID: n.ID, Kind: n.Kind, ActorID: n.ActorID, ActorName: n.ActorName, GroupID: n.GroupID,
		TargetType: n.TargetType, TargetID: n.TargetID, Title: n.Title, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt, URL: url}
}

// Record writes one notification per recipient inside the caller's
// transaction; the actor is never told of their own action, and a recipient who
// may not read the target now (a thread moved to another group, a membership
// ended, a hidden thread) is not told at all: the notification would carry its
// title, actor and group. The target must already be written in tx.
func Record(ctx context.Context, tx *sqlx.Tx, n store.NewNotifications) ([]store.SentNotification, error) {
	n.UserIDs = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(n.UserIDs))), func(id int64) bool { return id == n.ActorID })
	return store.InsertNotifications(ctx, tx, n)
}

// Announce tells the live layer, after commit, that each recipient has a new
// notification (the hint's seq is the notification's id).
func Announce(ctx context.Context, n topic.Notifier, sent []store.SentNotification) {
	for _, s := range sent {
		n.Notify(ctx, topic.Name(topic.User, s.UserID), s.ID)
	}
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

// ForPush loads one notification for the live push to its owner (the hub
// delivers only to that user's own connections). One whose target the owner
// could no longer read by the time it is pushed is not found, like in List.
func (s *Service) ForPush(ctx context.Context, userID, id int64) (Notification, error) {
	n, err := store.GetNotification(ctx, s.db, userID, id)
	return view(n), err
}
