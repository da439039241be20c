package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// MailPref is one stored choice: how a person wants mail of one kind.
type MailPref struct {
	Kind string `db:"kind"`
	Mode string `db:"mode"`
}

// MailPrefs lists a person's stored choices (kinds without a row follow
// their default, which the mail package owns).
func MailPrefs(ctx context.Context, q Q, userID int64) ([]MailPref, error) {
	out := []MailPref{}
	err := selectAll(ctx, q, &out, "mail prefs", `SELECT kind, mode FROM mail_prefs WHERE user_id = $1 ORDER BY kind`, userID)
	return out, err
}

// SetMailPref stores one choice; ErrNotFound when the user does not exist.
func SetMailPref(ctx context.Context, q Q, userID int64, kind, mode string) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO mail_prefs (user_id, kind, mode) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, kind) DO UPDATE SET mode = EXCLUDED.mode, updated_at = now()
		WHERE mail_prefs.mode <> EXCLUDED.mode`, userID, kind, mode)
	if IsForeignKeyViolation(err) {
		return fmt.Errorf("mail pref of user %d: %w", userID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("set mail pref: %w", err)
	}
	return nil
}

// MailRecipient is a person a notification is mailed to at once.
type MailRecipient struct {
	UserID         int64  `db:"user_id"`
	Email          string `db:"email"`
	Name           string `db:"display_name"`
	NotificationID int64  `db:"notification_id"`
	Lang           string `db:"lang"` // "" when the person never chose one
	// Kind is the notification's kind (ImmediateMailRecipients only).
	Kind string `db:"kind"`
}

// ImmediateMailRecipients picks, among the recipients of notifications just
// recorded (sent: only people who may read the target), those who want
// their kind mailed at once: a stored 'immediately', or no row and the
// kind's default (def) is 'immediately'. Each sent notification is of kind,
// or of its own Kind when set; one statement for every kind. Disabled
// accounts get no mail.
func ImmediateMailRecipients(ctx context.Context, q Q, kind string, def func(kind string) string, sent []SentNotification) ([]MailRecipient, error) {
	out := []MailRecipient{}
	if len(sent) == 0 {
		return out, nil
	}
	uids, nids, kinds, defs := make([]int64, len(sent)), make([]int64, len(sent)), make([]string, len(sent)), make([]string, len(sent))
	for i, s := range sent {
		uids[i], nids[i], kinds[i] = s.UserID, s.ID, kind
		if s.Kind != "" {
			kinds[i] = s.Kind
		}
		defs[i] = def(kinds[i])
	}
	err := selectAll(ctx, q, &out, "immediate mail recipients", `
		SELECT u.id AS user_id, u.email, u.display_name, s.nid AS notification_id, COALESCE(u.lang, '') AS lang, s.kind
		FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS s (uid, nid, kind, def)
		JOIN users u ON u.id = s.uid AND NOT u.disabled
		LEFT JOIN mail_prefs p ON p.user_id = u.id AND p.kind = s.kind
		WHERE COALESCE(p.mode, s.def) = 'immediately'
		ORDER BY u.id, s.nid`, pq.Array(uids), pq.Array(nids), pq.Array(kinds), pq.Array(defs))
	return out, err
}

// DigestCandidates lists enabled people with no digest claimed for day yet,
// after the id after (batches of limit).
func DigestCandidates(ctx context.Context, q Q, day time.Time, after int64, limit int) ([]MailRecipient, error) {
	out := []MailRecipient{}
	err := selectAll(ctx, q, &out, "digest candidates", `
		SELECT u.id AS user_id, u.email, u.display_name, 0::bigint AS notification_id, COALESCE(u.lang, '') AS lang
		FROM users u
		WHERE NOT u.disabled AND u.id > $2
		  AND NOT EXISTS (SELECT 1 FROM mail_digests d WHERE d.user_id = u.id AND d.day = $1::date)
		ORDER BY u.id LIMIT $3`, day.Format(time.DateOnly), after, limit)
	return out, err
}

// ClaimDigest claims person userID's digest of day in the caller's unit of
// work and returns where the period it covers starts (the end of the
// previous digest, or since when none came before). false: another instance
// (or an earlier run) has it — ON CONFLICT DO NOTHING, and a concurrent
// claimer waits for the first one's commit and then finds the row.
func ClaimDigest(ctx context.Context, q Q, userID int64, day, until, since time.Time) (time.Time, bool, error) {
	var claimed []int64
	err := selectAll(ctx, q, &claimed, "claim digest", `
		INSERT INTO mail_digests (user_id, day, covered_until, items) VALUES ($1, $2::date, $3, 0)
		ON CONFLICT DO NOTHING RETURNING user_id`, userID, day.Format(time.DateOnly), until)
	if err != nil || len(claimed) == 0 {
		return time.Time{}, false, err
	}
	var prev *time.Time
	if err := one(ctx, q, &prev, "previous digest", `
		SELECT max(covered_until) FROM mail_digests WHERE user_id = $1 AND day < $2::date`,
		userID, day.Format(time.DateOnly)); err != nil {
		return time.Time{}, false, err
	}
	if prev != nil && prev.After(since) {
		since = *prev
	}
	return since, true, nil
}

// RecordDigest notes what a claimed digest held and the mail it queued.
func RecordDigest(ctx context.Context, q Q, userID int64, day time.Time, items int, mailID int64) error {
	var mid *int64
	if mailID != 0 {
		mid = &mailID
	}
	return execOne(ctx, q, "record digest", `
		UPDATE mail_digests SET items = $3, mail_id = $4 WHERE user_id = $1 AND day = $2::date`,
		userID, day.Format(time.DateOnly), items, mid)
}

// DigestNotification is a notification listed in a digest.
type DigestNotification struct {
	Kind       string    `db:"kind"`
	ActorName  *string   `db:"actor_name"`
	GroupName  string    `db:"group_name"`
	TargetType string    `db:"target_type"`
	TargetID   int64     `db:"target_id"`
	Title      string    `db:"title"`
	CreatedAt  time.Time `db:"created_at"`
}

// DigestNotifications lists a person's unread notifications created in
// (since, until] of the kinds they want in the digest — a stored 'digest',
// or no row and the kind is not in immediateDefaults — still readable now
// (the access rules of notifications), oldest first, at most limit.
func DigestNotifications(ctx context.Context, q Q, userID int64, since, until time.Time, immediateDefaults []string, limit int) ([]DigestNotification, error) {
	out := []DigestNotification{}
	err := selectAll(ctx, q, &out, "digest notifications", `
		SELECT n.kind, a.display_name AS actor_name, ng.name AS group_name, n.target_type, n.target_id, n.title, n.created_at
		FROM notifications n LEFT JOIN users a ON a.id = n.actor_id`+notificationAccessJoins+`
		LEFT JOIN mail_prefs mp ON mp.user_id = n.user_id AND mp.kind = n.kind
		WHERE n.user_id = $1 AND n.read_at IS NULL AND n.created_at > $2 AND n.created_at <= $3
		  AND COALESCE(mp.mode, CASE WHEN n.kind = ANY($4::text[]) THEN 'immediately' ELSE 'digest' END) = 'digest'
		  AND `+notificationAccessCond+`
		ORDER BY n.id LIMIT $5`, userID, since, until, pq.Array(immediateDefaults), limit)
	return out, err
}

// DigestThread is a thread opened in one of a person's groups.
type DigestThread struct {
	ID         int64     `db:"id"`
	Title      string    `db:"title"`
	GroupName  string    `db:"group_name"`
	AuthorName string    `db:"author_name"`
	CreatedAt  time.Time `db:"created_at"`
}

// DigestThreads lists threads opened in (since, until] in the groups the
// person has a membership in, by others, not hidden, oldest first.
func DigestThreads(ctx context.Context, q Q, userID int64, since, until time.Time, limit int) ([]DigestThread, error) {
	out := []DigestThread{}
	err := selectAll(ctx, q, &out, "digest threads", `
		SELECT t.id, t.title, g.name AS group_name, a.display_name AS author_name, t.created_at
		FROM memberships m
		JOIN threads t ON t.group_id = m.group_id
		JOIN groups g ON g.id = t.group_id
		JOIN users a ON a.id = t.author_id
		WHERE m.user_id = $1 AND t.author_id <> $1 AND NOT t.hidden AND t.created_at > $2 AND t.created_at <= $3
		ORDER BY t.id LIMIT $4`, userID, since, until, limit)
	return out, err
}
