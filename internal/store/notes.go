package store

import (
	"context"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
)

// NoteRow is a session note with its meeting's group (for permission checks)
// and the names of its author and last editor.
type NoteRow struct {
	model.Note
	EditedBy     *int64  `db:"edited_by"`
	GroupID      int64   `db:"group_id"`
	GroupName    string  `db:"group_name"`
	GroupKind    string  `db:"group_kind"`
	MeetingTitle string  `db:"meeting_title"`
	AuthorName   string  `db:"author_name"`
	AuthorJST    *string `db:"author_jst"`
	EditorName   *string `db:"editor_name"`
	EditorJST    *string `db:"editor_jst"`
}

func (r NoteRow) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind}
}

const noteRowSelect = `
	SELECT n.id, n.meeting_id, n.author_id, n.title, n.body, n.body_html, n.version, n.created_at, n.updated_at, n.edited_by,
	       m.group_id, g.name AS group_name, g.kind AS group_kind, m.title AS meeting_title,
	       au.display_name AS author_name, aj.name AS author_jst,
	       ed.display_name AS editor_name, ej.name AS editor_jst
	FROM notes n
	JOIN meetings m ON m.id = n.meeting_id
	JOIN groups g ON g.id = m.group_id
	JOIN users au ON au.id = n.author_id
	LEFT JOIN jst aj ON aj.id = au.jst_id
	LEFT JOIN users ed ON ed.id = n.edited_by
	LEFT JOIN jst ej ON ej.id = ed.jst_id`

func GetNoteRow(ctx context.Context, q Q, id int64) (NoteRow, error) {
	var r NoteRow
	err := one(ctx, q, &r, fmt.Sprintf("load note %d", id), noteRowSelect+` WHERE n.id = $1`, id)
	return r, err
}

// ListNoteRows returns a meeting's notes in the order they were written.
func ListNoteRows(ctx context.Context, q Q, meetingID int64) ([]NoteRow, error) {
	out := []NoteRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list notes of meeting %d", meetingID),
		noteRowSelect+` WHERE n.meeting_id = $1 ORDER BY n.id`, meetingID)
	return out, err
}

// UpdateNote replaces a note's title and text if it is still at expectedVersion
// and returns the new version; a stale version touches nothing and answers
// ErrNotFound, which the service turns into a conflict.
func UpdateNote(ctx context.Context, q Q, id int64, expectedVersion int, title, body, html string, editorID int64) (int, error) {
	var v int
	err := one(ctx, q, &v, fmt.Sprintf("update note %d", id), `
		UPDATE notes SET title = $3, body = $4, body_html = $5, edited_by = $6, version = version + 1, updated_at = now()
		WHERE id = $1 AND version = $2
		RETURNING version`, id, expectedVersion, title, body, html, editorID)
	return v, err
}

// NoteRevision is one saved version of a note.
type NoteRevision struct {
	NoteID     int64     `db:"note_id"`
	Version    int       `db:"version"`
	Title      string    `db:"title"`
	Body       string    `db:"body"`
	EditorID   int64     `db:"editor_id"`
	EditorName string    `db:"editor_name"`
	EditorJST  *string   `db:"editor_jst"`
	CreatedAt  time.Time `db:"created_at"`
}

// InsertNoteRevision records one version of a note and who wrote it.
func InsertNoteRevision(ctx context.Context, q Q, r NoteRevision) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO note_revisions (note_id, version, title, body, editor_id) VALUES ($1, $2, $3, $4, $5)`,
		r.NoteID, r.Version, r.Title, r.Body, r.EditorID)
	if err != nil {
		return fmt.Errorf("insert revision %d of note %d: %w", r.Version, r.NoteID, err)
	}
	return nil
}

// BackfillNoteRevision stores the note's current version as a revision if it has
// none: notes written before revisions were kept (the demo data's) would
// otherwise lose their first text from the history at the first edit.
func BackfillNoteRevision(ctx context.Context, q Q, noteID int64) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO note_revisions (note_id, version, title, body, editor_id, created_at)
		SELECT id, version, title, body, COALESCE(edited_by, author_id), updated_at FROM notes WHERE id = $1
		ON CONFLICT (note_id, version) DO NOTHING`, noteID)
	if err != nil {
		return fmt.Errorf("backfill revision of note %d: %w", noteID, err)
	}
	return nil
}

// ListNoteRevisions returns every stored version of a note, oldest first.
func ListNoteRevisions(ctx context.Context, q Q, noteID int64) ([]NoteRevision, error) {
	out := []NoteRevision{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list revisions of note %d", noteID), `
		SELECT r.note_id, r.version, r.title, r.body, r.editor_id, u.display_name AS editor_name, j.name AS editor_jst, r.created_at
		FROM note_revisions r JOIN users u ON u.id = r.editor_id LEFT JOIN jst j ON j.id = u.jst_id
		WHERE r.note_id = $1 ORDER BY r.version`, noteID)
	return out, err
}

// CountRecentNoteSaves counts the note versions a user saved since t (the note
// rate limit): each creation and each real edit stores one revision.
func CountRecentNoteSaves(ctx context.Context, q Q, userID int64, since time.Time) (int, error) {
	var n int
	err := one(ctx, q, &n, "count recent note saves",
		`SELECT count(*) FROM note_revisions WHERE editor_id = $1 AND created_at > $2`, userID, since)
	return n, err
}
