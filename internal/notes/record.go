package notes

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// MeetingInfo is the meeting as the record shows it. It encodes as
// meetings.WithGroupName: the embedded row has no JSON tags.
type MeetingInfo struct {
	model.Meeting
	GroupName string
}

// MarshalJSON encodes the meeting's API fields only. (MeetingView, which embeds
// MeetingInfo, is for pages and would encode the same way.)
func (m MeetingInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(meetings.WithGroupName{MeetingFields: meetings.FieldsOf(m.Meeting), GroupName: m.GroupName})
}

// ChatLine is one message of the transcript.
type ChatLine struct {
	Seq       int64     `json:"seq"`
	Author    Person    `json:"author"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	CreatedAt time.Time `json:"created_at"`
}

// Record is everything a session left behind, in one piece: agenda, notes,
// attendance, files and the full chat transcript.
type Record struct {
	Meeting    MeetingInfo  `json:"meeting"`
	Notes      []Note       `json:"notes"`
	Attendance Attendance   `json:"attendance"`
	Files      []Attachment `json:"files"`
	Chat       []ChatLine   `json:"chat"`
}

// chatBatch is how many messages one query of the transcript reads.
const chatBatch = 1000

// Record gathers a meeting's record for a reader of its group. It reads in one
// read-only snapshot, so the parts agree with each other even while people
// are still writing.
func (s *Service) Record(ctx context.Context, a *access.Actor, meetingID int64) (Record, error) {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return Record{}, fmt.Errorf("begin record snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only; nothing to keep
	m, err := s.meeting(ctx, tx, a, meetingID)
	if err != nil {
		return Record{}, err
	}
	rec := Record{Meeting: MeetingInfo{Meeting: m.Meeting, GroupName: m.GroupName}, Notes: []Note{}, Files: []Attachment{}, Chat: []ChatLine{}}
	notes, err := store.ListNoteRows(ctx, tx, meetingID)
	if err != nil {
		return Record{}, err
	}
	for _, n := range notes {
		rec.Notes = append(rec.Notes, noteFrom(a, n))
	}
	if rec.Attendance, err = s.attendance(ctx, tx, a, m); err != nil {
		return Record{}, err
	}
	files, err := store.ListAttachments(ctx, tx, meetingID)
	if err != nil {
		return Record{}, err
	}
	for _, f := range files {
		rec.Files = append(rec.Files, attachmentFrom(a, f))
	}
	for after := int64(0); ; {
		rows, err := store.ChatAfter(ctx, tx, meetingID, after, chatBatch)
		if err != nil {
			return Record{}, err
		}
		for _, r := range rows {
			rec.Chat = append(rec.Chat, ChatLine{Seq: r.Seq, Author: Person{ID: r.AuthorID, Name: r.AuthorName, JST: r.AuthorJST},
				Body: r.Body, BodyHTML: r.BodyHTML, CreatedAt: r.CreatedAt})
			after = r.Seq
		}
		if len(rows) < chatBatch {
			break
		}
	}
	return rec, nil
}

// Overview is what the meeting page shows of notes, files and attendance.
type Overview struct {
	Notes      []Note
	Files      []Attachment
	Attendance Attendance
	// CanWrite: may add notes and files.
	CanWrite       bool
	CanModerate    bool
	MaxUploadBytes int64
	MaxFiles       int
	Allowed        string
}

// Overview gathers the meeting page's notes, files and attendance for a reader.
func (s *Service) Overview(ctx context.Context, a *access.Actor, meetingID int64) (Overview, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return Overview{}, err
	}
	writer, err := s.mayWrite(ctx, s.db, a, m.Group())
	if err != nil {
		return Overview{}, err
	}
	o := Overview{CanWrite: writer, CanModerate: a.CanModerate(m.Group()),
		MaxUploadBytes: s.set.MaxUploadBytes, MaxFiles: s.set.MaxFilesPerMeeting, Allowed: AllowedLabels()}
	if o.Notes, err = s.Notes(ctx, a, meetingID); err != nil {
		return Overview{}, err
	}
	if o.Files, err = s.files(ctx, a, meetingID); err != nil {
		return Overview{}, err
	}
	if o.Attendance, err = s.attendance(ctx, s.db, a, m); err != nil {
		return Overview{}, err
	}
	return o, nil
}

// MeetingView is a meeting with what the actor may do on its notes pages.
type MeetingView struct {
	MeetingInfo
	CanWrite    bool
	CanModerate bool
}

// Meeting returns a meeting for a reader of its group.
func (s *Service) Meeting(ctx context.Context, a *access.Actor, id int64) (MeetingView, error) {
	m, err := s.meeting(ctx, s.db, a, id)
	if err != nil {
		return MeetingView{}, err
	}
	writer, err := s.mayWrite(ctx, s.db, a, m.Group())
	if err != nil {
		return MeetingView{}, err
	}
	return MeetingView{MeetingInfo: MeetingInfo{Meeting: m.Meeting, GroupName: m.GroupName},
		CanWrite: writer, CanModerate: a.CanModerate(m.Group())}, nil
}
