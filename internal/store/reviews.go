package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// Materials under review (issue 15 item 3, migration 18): a review, the
// groups it is open to, its numbered sections and their comments.

// Review is one material under review with its chosen groups.
type Review struct {
	ID              int64      `db:"id"`
	Title           string     `db:"title"`
	Description     string     `db:"description"`
	DescriptionHTML string     `db:"description_html"`
	Deadline        time.Time  `db:"deadline"`
	AuthorID        int64      `db:"author_id"`
	AuthorName      string     `db:"author_name"`
	CreatedAt       time.Time  `db:"created_at"`
	DocFilename     *string    `db:"doc_filename"`
	DocKind         *string    `db:"doc_kind"`
	DocSize         *int64     `db:"doc_size"`
	DocChecksum     *string    `db:"doc_checksum"`
	DocUploadedAt   *time.Time `db:"doc_uploaded_at"`
	// The chosen groups, in the index's order (kind, then name).
	GroupIDs   pq.Int64Array  `db:"group_ids"`
	GroupKinds pq.StringArray `db:"group_kinds"`
	GroupNames pq.StringArray `db:"group_names"`
	Sections   int            `db:"sections"`
	Comments   int            `db:"comments"`
}

// Groups are the chosen groups as the access rules need them (id and kind).
func (r Review) Groups() []model.Group {
	out := make([]model.Group, len(r.GroupIDs))
	for i := range r.GroupIDs {
		out[i] = model.Group{ID: r.GroupIDs[i], Kind: r.GroupKinds[i], Name: r.GroupNames[i]}
	}
	return out
}

// The groups are aggregated in the same order in all three arrays.
const reviewSelect = `
	SELECT r.id, r.title, r.description, r.description_html, r.deadline, r.author_id, u.display_name AS author_name,
	       r.created_at, r.doc_filename, r.doc_kind, r.doc_size, r.doc_checksum, r.doc_uploaded_at,
	       COALESCE(g.ids, '{}') AS group_ids, COALESCE(g.kinds, '{}') AS group_kinds, COALESCE(g.names, '{}') AS group_names,
	       (SELECT count(*) FROM review_sections s WHERE s.review_id = r.id) AS sections,
	       (SELECT COALESCE(sum(s.comment_count), 0) FROM review_sections s WHERE s.review_id = r.id) AS comments
	FROM reviews r
	JOIN users u ON u.id = r.author_id
	LEFT JOIN LATERAL (
	    SELECT array_agg(gr.id ORDER BY array_position(ARRAY['rural','urban','county','common'], gr.kind), gr.name COLLATE "pl-x-icu", gr.id) AS ids,
	           array_agg(gr.kind ORDER BY array_position(ARRAY['rural','urban','county','common'], gr.kind), gr.name COLLATE "pl-x-icu", gr.id) AS kinds,
	           array_agg(gr.name ORDER BY array_position(ARRAY['rural','urban','county','common'], gr.kind), gr.name COLLATE "pl-x-icu", gr.id) AS names
	    FROM review_groups rg JOIN groups gr ON gr.id = rg.group_id WHERE rg.review_id = r.id) g ON true`

// NewReview is what staff create.
type NewReview struct {
	Title, Description, DescriptionHTML string
	Deadline                            time.Time
	AuthorID                            int64
}

func InsertReview(ctx context.Context, q Q, r NewReview) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert review", `
		INSERT INTO reviews (title, description, description_html, deadline, author_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, r.Title, r.Description, r.DescriptionHTML, r.Deadline, r.AuthorID)
	return id, err
}

// SetReviewGroups replaces the groups a review is open to.
func SetReviewGroups(ctx context.Context, q Q, reviewID int64, groupIDs []int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM review_groups WHERE review_id = $1`, reviewID); err != nil {
		return fmt.Errorf("clear groups of review %d: %w", reviewID, err)
	}
	if _, err := q.ExecContext(ctx, `
		INSERT INTO review_groups (review_id, group_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
		reviewID, pq.Array(groupIDs)); err != nil {
		return fmt.Errorf("set groups of review %d: %w", reviewID, err)
	}
	return nil
}

// GroupsByID loads the groups with these ids (missing ones are left out).
func GroupsByID(ctx context.Context, q Q, ids []int64) ([]model.Group, error) {
	out := []model.Group{}
	err := selectAll(ctx, q, &out, "load groups by id",
		`SELECT `+groupColumns+` FROM groups WHERE id = ANY($1) ORDER BY id`, pq.Array(ids))
	return out, err
}

func GetReview(ctx context.Context, q Q, id int64) (Review, error) {
	var r Review
	err := one(ctx, q, &r, fmt.Sprintf("load review %d", id), reviewSelect+` WHERE r.id = $1`, id)
	return r, err
}

// ListReviews lists every material, open ones first (by deadline), then the
// closed ones, newest deadline first. The service keeps those the reader may
// read: materials are few (a programme's modules), and the rule stays in
// internal/access.
func ListReviews(ctx context.Context, q Q) ([]Review, error) {
	out := []Review{}
	err := selectAll(ctx, q, &out, "list reviews", reviewSelect+`
		ORDER BY r.deadline < now(), CASE WHEN r.deadline >= now() THEN r.deadline END ASC, r.deadline DESC, r.id DESC`)
	return out, err
}

// LockReview takes a review's row lock (document replacement, sections).
func LockReview(ctx context.Context, q Q, id int64) error {
	var got int64
	return one(ctx, q, &got, fmt.Sprintf("lock review %d", id), `SELECT id FROM reviews WHERE id = $1 FOR UPDATE`, id)
}

// ReviewDocument is the stored draft document of a review.
type ReviewDocument struct {
	Filename, Kind, Checksum string
	Size                     int64
}

// SetReviewDocument records the review's draft document and returns the
// checksum of the one it replaces ("" if none).
func SetReviewDocument(ctx context.Context, q Q, id int64, d ReviewDocument) (string, error) {
	var old *string
	err := one(ctx, q, &old, fmt.Sprintf("set document of review %d", id), `
		UPDATE reviews r SET doc_filename = $2, doc_kind = $3, doc_size = $4, doc_checksum = $5, doc_uploaded_at = now()
		FROM (SELECT doc_checksum FROM reviews WHERE id = $1 FOR UPDATE) old
		WHERE r.id = $1 RETURNING old.doc_checksum`, id, d.Filename, d.Kind, d.Size, d.Checksum)
	if old == nil {
		return "", err
	}
	return *old, err
}

// ReviewSection is one numbered section with its rating counts (top-level
// comments only: a reply does not rate).
type ReviewSection struct {
	ID            int64     `db:"id"`
	ReviewID      int64     `db:"review_id"`
	Number        string    `db:"number"`
	Title         string    `db:"title"`
	Body          string    `db:"body"`
	BodyHTML      string    `db:"body_html"`
	CommentCount  int       `db:"comment_count"`
	LastCommentID *int64    `db:"last_comment_id"`
	CreatedAt     time.Time `db:"created_at"`
	Clear         int       `db:"clear"`
	NeedsChanges  int       `db:"needs_changes"`
	Unclear       int       `db:"unclear"`
}

const sectionSelect = `
	SELECT s.id, s.review_id, s.number, s.title, s.body, s.body_html, s.comment_count, s.last_comment_id, s.created_at,
	       count(c.id) FILTER (WHERE c.rating = 'clear') AS clear,
	       count(c.id) FILTER (WHERE c.rating = 'needs_changes') AS needs_changes,
	       count(c.id) FILTER (WHERE c.rating = 'unclear') AS unclear
	FROM review_sections s LEFT JOIN review_comments c ON c.section_id = s.id AND c.reply_to IS NULL`

// NewReviewSection is a section as staff paste it.
type NewReviewSection struct {
	ReviewID              int64
	Number                string
	SortKey               []int64
	Title, Body, BodyHTML string
}

// InsertReviewSection adds a section; a number already used in the review
// is a unique violation on review_sections_review_id_number_key.
func InsertReviewSection(ctx context.Context, q Q, s NewReviewSection) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert review section", `
		INSERT INTO review_sections (review_id, number, sort_key, title, body, body_html)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, s.ReviewID, s.Number, pq.Array(s.SortKey), s.Title, s.Body, s.BodyHTML)
	return id, err
}

// ListReviewSections lists a review's sections in document order.
func ListReviewSections(ctx context.Context, q Q, reviewID int64) ([]ReviewSection, error) {
	out := []ReviewSection{}
	err := selectAll(ctx, q, &out, "list review sections", sectionSelect+`
		WHERE s.review_id = $1 GROUP BY s.id ORDER BY s.sort_key, s.id`, reviewID)
	return out, err
}

func GetReviewSection(ctx context.Context, q Q, id int64) (ReviewSection, error) {
	var s ReviewSection
	err := one(ctx, q, &s, fmt.Sprintf("load review section %d", id), sectionSelect+` WHERE s.id = $1 GROUP BY s.id`, id)
	return s, err
}

// ReviewSectionHead is what the live topic section:ID follows.
type ReviewSectionHead struct {
	ReviewID      int64  `db:"review_id"`
	CommentCount  int    `db:"comment_count"`
	LastCommentID *int64 `db:"last_comment_id"`
}

func GetReviewSectionHead(ctx context.Context, q Q, id int64) (ReviewSectionHead, error) {
	var h ReviewSectionHead
	err := one(ctx, q, &h, fmt.Sprintf("load head of review section %d", id),
		`SELECT review_id, comment_count, last_comment_id FROM review_sections WHERE id = $1`, id)
	return h, err
}

// LockReviewSection takes a section's row lock: comments are counted under it.
func LockReviewSection(ctx context.Context, q Q, id int64) error {
	var got int64
	return one(ctx, q, &got, fmt.Sprintf("lock review section %d", id),
		`SELECT id FROM review_sections WHERE id = $1 FOR UPDATE`, id)
}

// ReviewComment is a comment (or a reply) with its author and staff's answer.
type ReviewComment struct {
	ID             int64      `db:"id"`
	SectionID      int64      `db:"section_id"`
	ReviewID       int64      `db:"review_id"`
	AuthorID       int64      `db:"author_id"`
	AuthorName     string     `db:"author_name"`
	AuthorJST      *string    `db:"author_jst"`
	ReplyTo        *int64     `db:"reply_to"`
	Rating         *string    `db:"rating"`
	Body           string     `db:"body"`
	BodyHTML       string     `db:"body_html"`
	CreatedAt      time.Time  `db:"created_at"`
	ResponseStatus *string    `db:"response_status"`
	ResponseReason string     `db:"response_reason"`
	RespondedBy    *int64     `db:"responded_by"`
	ResponderName  *string    `db:"responder_name"`
	RespondedAt    *time.Time `db:"responded_at"`
}

const commentSelect = `
	SELECT c.id, c.section_id, s.review_id, c.author_id, u.display_name AS author_name, j.name AS author_jst,
	       c.reply_to, c.rating, c.body, c.body_html, c.created_at, c.response_status, c.response_reason,
	       c.responded_by, ru.display_name AS responder_name, c.responded_at
	FROM review_comments c
	JOIN review_sections s ON s.id = c.section_id
	JOIN users u ON u.id = c.author_id
	LEFT JOIN jst j ON j.id = u.jst_id
	LEFT JOIN users ru ON ru.id = c.responded_by`

// NewReviewComment is a comment or a reply.
type NewReviewComment struct {
	SectionID, AuthorID int64
	ReplyTo             *int64
	Rating              *string
	Body, BodyHTML      string
}

// InsertReviewComment stores a comment and moves its section's head (count
// and newest id), which the caller has locked.
func InsertReviewComment(ctx context.Context, q Q, c NewReviewComment) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert review comment", `
		WITH c AS (
		    INSERT INTO review_comments (section_id, author_id, reply_to, rating, body, body_html)
		    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, section_id)
		UPDATE review_sections s SET comment_count = s.comment_count + 1, last_comment_id = c.id
		FROM c WHERE s.id = c.section_id RETURNING c.id`,
		c.SectionID, c.AuthorID, c.ReplyTo, c.Rating, c.Body, c.BodyHTML)
	return id, err
}

func GetReviewComment(ctx context.Context, q Q, id int64) (ReviewComment, error) {
	var c ReviewComment
	err := one(ctx, q, &c, fmt.Sprintf("load review comment %d", id), commentSelect+` WHERE c.id = $1`, id)
	return c, err
}

// ListReviewComments lists the comments of these sections: by section, each
// top-level comment followed by its replies, oldest first.
func ListReviewComments(ctx context.Context, q Q, sectionIDs []int64) ([]ReviewComment, error) {
	out := []ReviewComment{}
	err := selectAll(ctx, q, &out, "list review comments", commentSelect+`
		WHERE c.section_id = ANY($1)
		ORDER BY s.sort_key, s.id, COALESCE(c.reply_to, c.id), c.reply_to IS NOT NULL, c.id`, pq.Array(sectionIDs))
	return out, err
}

// RespondReviewComment records (or changes) staff's answer to a top-level comment.
func RespondReviewComment(ctx context.Context, q Q, id int64, status, reason string, by int64) error {
	return execOne(ctx, q, fmt.Sprintf("respond to review comment %d", id), `
		UPDATE review_comments SET response_status = $2, response_reason = $3, responded_by = $4, responded_at = now()
		WHERE id = $1 AND reply_to IS NULL`, id, status, reason, by)
}

// CountReviewComments counts a person's comments and replies since a moment
// (the per-account comment limit).
func CountReviewComments(ctx context.Context, q Q, userID int64, since time.Time) (int, error) {
	var n int
	err := one(ctx, q, &n, "count review comments",
		`SELECT count(*) FROM review_comments WHERE author_id = $1 AND created_at >= $2`, userID, since)
	return n, err
}
