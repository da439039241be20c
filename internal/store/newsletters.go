package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// Newsletter is one issue of the programme newsletter.
type Newsletter struct {
	ID          int64          `db:"id"`
	Subject     string         `db:"subject"`
	Body        string         `db:"body"`
	BodyHTML    string         `db:"body_html"`
	AuthorID    *int64         `db:"author_id"`
	AuthorName  *string        `db:"author_name"`
	CreatedAt   time.Time      `db:"created_at"`
	UpdatedAt   time.Time      `db:"updated_at"`
	SentAt      *time.Time     `db:"sent_at"`
	AudienceAll bool           `db:"audience_all"`
	GroupKinds  pq.StringArray `db:"group_kinds"`
	GroupIDs    pq.Int64Array  `db:"group_ids"`
	Recipients  int            `db:"recipients"`
}

const newsletterSelect = `
	SELECT n.id, n.subject, n.body, n.body_html, n.author_id, a.display_name AS author_name, n.created_at,
	       n.updated_at, n.sent_at, n.audience_all, n.group_kinds, n.group_ids, n.recipients
	FROM newsletters n LEFT JOIN users a ON a.id = n.author_id`

func CreateNewsletter(ctx context.Context, q Q, authorID int64, subject, body, html string) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "create newsletter", `
		INSERT INTO newsletters (subject, body, body_html, author_id) VALUES ($1, $2, $3, $4) RETURNING id`,
		subject, body, html, authorID)
	return id, err
}

// UpdateNewsletter rewrites a draft; a sent issue is not found.
func UpdateNewsletter(ctx context.Context, q Q, id int64, subject, body, html string) error {
	return execOne(ctx, q, fmt.Sprintf("update newsletter %d", id), `
		UPDATE newsletters SET subject = $2, body = $3, body_html = $4, updated_at = now()
		WHERE id = $1 AND sent_at IS NULL`, id, subject, body, html)
}

// GetNewsletter loads one issue; lock takes its row lock (the send).
func GetNewsletter(ctx context.Context, q Q, id int64, lock bool) (Newsletter, error) {
	query := newsletterSelect + ` WHERE n.id = $1`
	if lock {
		query += ` FOR UPDATE OF n`
	}
	var n Newsletter
	err := one(ctx, q, &n, fmt.Sprintf("load newsletter %d", id), query, id)
	return n, err
}

// ListNewsletters lists issues, newest first; drafts only when withDrafts.
func ListNewsletters(ctx context.Context, q Q, withDrafts bool, p Page) ([]Newsletter, error) {
	out := []Newsletter{}
	err := selectAll(ctx, q, &out, "list newsletters", newsletterSelect+`
		WHERE $1 OR n.sent_at IS NOT NULL
		ORDER BY n.sent_at DESC NULLS FIRST, n.id DESC LIMIT $2 OFFSET $3`, withDrafts, p.Limit, p.Offset)
	return out, err
}

// NewsletterRecipients lists the enabled people in an audience — everyone,
// or the members of groups of these kinds or of these groups — who have not
// said no to the newsletter (a stored 'never'; no row means yes).
func NewsletterRecipients(ctx context.Context, q Q, all bool, kinds []string, groupIDs []int64) ([]MailRecipient, error) {
	out := []MailRecipient{}
	err := selectAll(ctx, q, &out, "newsletter recipients", `
		SELECT u.id AS user_id, u.email, u.display_name, 0::bigint AS notification_id, COALESCE(u.lang, '') AS lang
		FROM users u
		WHERE NOT u.disabled
		  AND NOT EXISTS (SELECT 1 FROM mail_prefs p WHERE p.user_id = u.id AND p.kind = 'newsletter' AND p.mode = 'never')
		  AND ($1 OR EXISTS (SELECT 1 FROM memberships m JOIN groups g ON g.id = m.group_id
		                     WHERE m.user_id = u.id AND (g.kind = ANY($2::text[]) OR g.id = ANY($3::bigint[]))))
		ORDER BY u.id`, all, pq.Array(kinds), pq.Array(groupIDs))
	return out, err
}

// MarkNewsletterSent records the send and its audience.
func MarkNewsletterSent(ctx context.Context, q Q, id, by int64, all bool, kinds []string, groupIDs []int64, recipients int) error {
	return execOne(ctx, q, fmt.Sprintf("mark newsletter %d sent", id), `
		UPDATE newsletters SET sent_at = now(), sent_by = $2, audience_all = $3, group_kinds = COALESCE($4::text[], '{}'), group_ids = COALESCE($5::bigint[], '{}'), recipients = $6
		WHERE id = $1 AND sent_at IS NULL`, id, nullID(by), all, pq.Array(kinds), pq.Array(groupIDs), recipients)
}

// ExistingGroupIDs returns which of ids are groups.
func ExistingGroupIDs(ctx context.Context, q Q, ids []int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, "existing groups", `SELECT id FROM groups WHERE id = ANY($1::bigint[]) ORDER BY id`, pq.Array(ids))
	return out, err
}
