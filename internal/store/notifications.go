package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Notification is one row of a user's notifications, with the actor's name.
type Notification struct {
	ID         int64      `db:"id"`
	UserID     int64      `db:"user_id"`
	Kind       string     `db:"kind"`
	ActorID    *int64     `db:"actor_id"`
	ActorName  *string    `db:"actor_name"`
	GroupID    int64      `db:"group_id"`
	TargetType string     `db:"target_type"`
	TargetID   int64      `db:"target_id"`
	Title      string     `db:"title"`
	CreatedAt  time.Time  `db:"created_at"`
	ReadAt     *time.Time `db:"read_at"`
	// MeetingID is the meeting a meeting, note or chat message belongs to
	// (a chat message's address is its meeting's page).
	MeetingID *int64 `db:"meeting_id"`
}

// NewNotifications is one event told to several users.
type NewNotifications struct {
	UserIDs []int64
	Kind    string
	// ActorID is who caused it; 0 for the server itself (a reminder).
	ActorID int64
	// ActorName is the actor's display name if the caller knows it (saves
	// the mail hook a read); "" otherwise.
	ActorName  string
	GroupID    int64
	TargetType string
	TargetID   int64
	Title      string
}

// SentNotification pairs a recipient with the id of their notification.
type SentNotification struct {
	UserID int64 `db:"user_id"`
	ID     int64 `db:"id"`
	// Kind is set when notifications of several kinds are handed on
	// together (a reply's); "" means the NewNotifications' kind.
	Kind string `db:"-"`
	// Recipient, when set, is what the mail hook would otherwise read about
	// the recipient (ImmediateMailRecipients), read by the statement that
	// recorded the notification (a reply's, issue 16: one statement less
	// per post). The hook uses it only when every notification has one.
	Recipient *SentRecipient `db:"-"`
}

// SentRecipient is a notification's recipient as the mail hook needs them:
// address, name, language ("" when never chosen) and their stored mail mode
// for the notification's kind ("" when they never chose, and the kind's
// default applies). Only enabled accounts get notifications.
type SentRecipient struct {
	Email, Name, Lang, Mode string
}

// A notification's owner may read its target now when, joined by
// notificationAccessJoins (to-one joins on a row aliased n),
// notificationAccessCond holds: the rules of package access (SPEC §3) in SQL,
// judged on the target's current group rather than the one stored with the
// notification, so that a thread moved away or a membership ended takes the
// notification with it. The owner must be enabled; staff and admins read every
// group; others read `common` groups and those they have a membership in; a
// hidden thread only its group's moderators (and staff). A note or a chat
// message is judged by its meeting's group; a good practice by its group until
// published, then by everyone (access.CanReadPractice). Joins rather than a
// correlated EXISTS: the header's unread count runs on every page, and for an
// owner with 2,000 unread it takes 5 ms joined, 30 ms as an EXISTS (1 ms
// unfiltered).
const (
	notificationAccessJoins = `
		JOIN users nr ON nr.id = n.user_id AND NOT nr.disabled
		LEFT JOIN posts np ON n.target_type = 'post' AND np.id = n.target_id
		LEFT JOIN threads nt ON nt.id = np.thread_id
		LEFT JOIN notes nn ON n.target_type = 'note' AND nn.id = n.target_id
		LEFT JOIN chat_messages nc ON n.target_type = 'message' AND nc.id = n.target_id
		LEFT JOIN meetings nm ON nm.id = CASE n.target_type WHEN 'meeting' THEN n.target_id
			WHEN 'note' THEN nn.meeting_id WHEN 'message' THEN nc.meeting_id END
		LEFT JOIN practices npr ON n.target_type = 'practice' AND npr.id = n.target_id
		JOIN groups ng ON ng.id = COALESCE(nt.group_id, nm.group_id, npr.group_id)
		LEFT JOIN memberships nms ON nms.user_id = nr.id AND nms.group_id = ng.id`
	notificationAccessCond = `(nr.role IN ('staff', 'admin') OR ng.kind = 'common' OR nms.role IS NOT NULL OR npr.status = 'published')
		AND (nt.id IS NULL OR NOT nt.hidden OR nr.role IN ('staff', 'admin') OR nms.role = 'moderator')`
)

// InsertNotifications writes one notification per recipient who may read the
// target now (the target row must already exist in this transaction) and has
// not turned this kind off on their account page; the others are left out
// silently, and so is a recipient already told of this post, note or chat
// message (or of this meeting for this kind): one notification per recipient
// per target, whatever the reasons.
func InsertNotifications(ctx context.Context, q Q, n NewNotifications) ([]SentNotification, error) {
	out := []SentNotification{}
	if len(n.UserIDs) == 0 {
		return out, nil
	}
	err := selectAll(ctx, q, &out, "insert notifications", `
		INSERT INTO notifications (user_id, kind, actor_id, group_id, target_type, target_id, title)
		SELECT n.user_id, $2, NULLIF($3::bigint, 0), $4, n.target_type, n.target_id, $7
		FROM (SELECT u AS user_id, $5::text AS target_type, $6::bigint AS target_id FROM unnest($1::bigint[]) AS u) n
		`+notificationAccessJoins+`
		WHERE `+notificationAccessCond+` AND `+notifyKindAllowed("$2")+`
		ON CONFLICT DO NOTHING
		RETURNING user_id, id`, pq.Array(n.UserIDs), n.Kind, n.ActorID, n.GroupID, n.TargetType, n.TargetID, n.Title)
	return out, err
}

const notificationSelect = `
	SELECT n.id, n.user_id, n.kind, n.actor_id, a.display_name AS actor_name, n.group_id,
	       n.target_type, n.target_id, n.title, n.created_at, n.read_at, nm.id AS meeting_id
	FROM notifications n LEFT JOIN users a ON a.id = n.actor_id` + notificationAccessJoins

// GetNotification loads one user's notification (the live push); one whose
// target they can no longer read is not found.
func GetNotification(ctx context.Context, q Q, userID, id int64) (Notification, error) {
	var n Notification
	err := one(ctx, q, &n, fmt.Sprintf("load notification %d", id), notificationSelect+`
		WHERE n.id = $1 AND n.user_id = $2 AND `+notificationAccessCond, id, userID)
	return n, err
}

// ListNotifications returns a user's notifications, newest first, leaving out
// those whose target they can no longer read.
func ListNotifications(ctx context.Context, q Q, userID int64, p Page) ([]Notification, error) {
	out := []Notification{}
	err := selectAll(ctx, q, &out, "list notifications", notificationSelect+`
		WHERE n.user_id = $1 AND `+notificationAccessCond+`
		ORDER BY n.id DESC LIMIT $2 OFFSET $3`, userID, p.Limit, p.Offset)
	return out, err
}

// MarkNotificationsRead marks a user's notifications read: the given ids, or
// all of them when ids is empty.
func MarkNotificationsRead(ctx context.Context, q Q, userID int64, ids []int64) (int64, error) {
	if ids == nil {
		ids = []int64{} // a nil slice is NULL, and cardinality(NULL) is not 0
	}
	res, err := q.ExecContext(ctx, `
		UPDATE notifications SET read_at = now()
		WHERE user_id = $1 AND read_at IS NULL AND (cardinality($2::bigint[]) = 0 OR id = ANY($2))`, userID, pq.Array(ids))
	if err != nil {
		return 0, fmt.Errorf("mark notifications read: %w", err)
	}
	return res.RowsAffected()
}

// GroupMemberIDs lists the users with a membership in a group.
func GroupMemberIDs(ctx context.Context, q Q, groupID int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("members of group %d", groupID),
		`SELECT user_id FROM memberships WHERE group_id = $1 ORDER BY user_id`, groupID)
	return out, err
}
