package store

import (
	"context"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)); the
// two-key space never overlaps goose's single-key migration lock.
const (
	lockClassMeetingFiles = 7301 // serialises the per-meeting file count
	lockClassBlob         = 7302 // serialises writing and removing one stored file
)

type NewAttachment struct {
	// MeetingID or PracticeID is the owner (exactly one; migration 16).
	MeetingID  int64
	PracticeID int64
	NoteID     *int64
	UploaderID int64
	Filename   string
	Kind       string
	Size       int64
	Checksum   string
}

// AttachmentRow is an attachment with its uploader and its owner's group (a
// meeting's, or a good practice's with the practice's status, which decides
// who reads it).
type AttachmentRow struct {
	ID             int64     `db:"id"`
	MeetingID      int64     `db:"meeting_id"` // 0 for a practice's file
	PracticeID     *int64    `db:"practice_id"`
	PracticeStatus *string   `db:"practice_status"`
	NoteID         *int64    `db:"note_id"`
	UploaderID     int64     `db:"uploader_id"`
	Filename       string    `db:"filename"`
	Kind           string    `db:"kind"`
	Size           int64     `db:"size_bytes"`
	Checksum       string    `db:"checksum"`
	CreatedAt      time.Time `db:"created_at"`
	UploaderName   string    `db:"uploader_name"`
	UploaderJST    *string   `db:"uploader_jst"`
	GroupID        int64     `db:"group_id"`
	GroupName      string    `db:"group_name"`
	GroupKind      string    `db:"group_kind"`
}

func (r AttachmentRow) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind}
}

const attachmentSelect = `
	SELECT a.id, COALESCE(a.meeting_id, 0) AS meeting_id, a.practice_id, pr.status AS practice_status,
	       a.note_id, a.uploader_id, a.filename, a.kind, a.size_bytes, a.checksum, a.created_at,
	       u.display_name AS uploader_name, j.name AS uploader_jst,
	       g.id AS group_id, g.name AS group_name, g.kind AS group_kind
	FROM attachments a
	LEFT JOIN meetings m ON m.id = a.meeting_id
	LEFT JOIN practices pr ON pr.id = a.practice_id
	JOIN groups g ON g.id = COALESCE(m.group_id, pr.group_id)
	JOIN users u ON u.id = a.uploader_id
	LEFT JOIN jst j ON j.id = u.jst_id`

// InsertAttachment records a file that is already in place on disk.
func InsertAttachment(ctx context.Context, q Q, a NewAttachment) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert attachment", `
		INSERT INTO attachments (meeting_id, practice_id, note_id, uploader_id, filename, kind, size_bytes, checksum)
		VALUES (NULLIF($1, 0), NULLIF($2, 0), $3, $4, $5, $6, $7, $8) RETURNING id`,
		a.MeetingID, a.PracticeID, a.NoteID, a.UploaderID, a.Filename, a.Kind, a.Size, a.Checksum)
	return id, err
}

func GetAttachmentRow(ctx context.Context, q Q, id int64) (AttachmentRow, error) {
	var r AttachmentRow
	err := one(ctx, q, &r, fmt.Sprintf("load attachment %d", id), attachmentSelect+` WHERE a.id = $1`, id)
	return r, err
}

// ListAttachments returns a meeting's files (its notes' files included) in upload order.
func ListAttachments(ctx context.Context, q Q, meetingID int64) ([]AttachmentRow, error) {
	out := []AttachmentRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list attachments of meeting %d", meetingID),
		attachmentSelect+` WHERE a.meeting_id = $1 ORDER BY a.id`, meetingID)
	return out, err
}

// ListNoteAttachments returns the files attached to one note.
func ListNoteAttachments(ctx context.Context, q Q, noteID int64) ([]AttachmentRow, error) {
	out := []AttachmentRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list attachments of note %d", noteID),
		attachmentSelect+` WHERE a.note_id = $1 ORDER BY a.id`, noteID)
	return out, err
}

func CountAttachments(ctx context.Context, q Q, meetingID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, fmt.Sprintf("count attachments of meeting %d", meetingID),
		`SELECT count(*) FROM attachments WHERE meeting_id = $1`, meetingID)
	return n, err
}

func DeleteAttachment(ctx context.Context, q Q, id int64) error {
	return execOne(ctx, q, fmt.Sprintf("delete attachment %d", id), `DELETE FROM attachments WHERE id = $1`, id)
}

// CountChecksumRefs counts the rows that still need the file with this checksum.
func CountChecksumRefs(ctx context.Context, q Q, checksum string) (int, error) {
	var n int
	err := one(ctx, q, &n, "count attachments by checksum",
		// A material under review keeps its draft document on its own row
		// (reviews.doc_checksum, migration 18): that file is in use too.
		`SELECT (SELECT count(*) FROM attachments WHERE checksum = $1)
		      + (SELECT count(*) FROM reviews WHERE doc_checksum = $1)`, checksum)
	return n, err
}

// ReferencedChecksums returns which of the given checksums some row still uses.
func ReferencedChecksums(ctx context.Context, q Q, checksums []string) (map[string]bool, error) {
	var found []string
	err := selectAll(ctx, q, &found, "find referenced checksums",
		// Reviews' draft documents (migration 18) count as in use, or the
		// sweep would remove them.
		`SELECT checksum FROM attachments WHERE checksum = ANY($1)
		 UNION SELECT doc_checksum FROM reviews WHERE doc_checksum = ANY($1)`, pq.Array(checksums))
	out := make(map[string]bool, len(found))
	for _, c := range found {
		out[c] = true
	}
	return out, err
}

// LockMeetingFiles serialises uploads to one meeting until the transaction ends,
// so two uploads cannot both pass the per-meeting count. It is an advisory lock,
// not the meeting row's, so uploads never hold up chat seq assignment.
func LockMeetingFiles(ctx context.Context, q Q, meetingID int64) error {
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
		lockClassMeetingFiles, fmt.Sprint(meetingID)); err != nil {
		return fmt.Errorf("lock files of meeting %d: %w", meetingID, err)
	}
	return nil
}

// LockBlob serialises everything that writes, counts or removes the stored file
// with this checksum until the transaction ends.
func LockBlob(ctx context.Context, q Q, checksum string) error {
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClassBlob, checksum); err != nil {
		return fmt.Errorf("lock stored file %s: %w", checksum, err)
	}
	return nil
}
