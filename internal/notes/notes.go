package notes

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/ratelimit"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// MaxNoteRunes bounds a note's text: a two-day session's minutes fit many times over.
const MaxNoteRunes = 100_000

// Note is a session note as the API shows it.
type Note struct {
	ID           int64     `json:"id"`
	MeetingID    int64     `json:"meeting_id"`
	GroupID      int64     `json:"group_id"`
	MeetingTitle string    `json:"meeting_title"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	BodyHTML     string    `json:"body_html"`
	Version      int       `json:"version"`
	Author       Person    `json:"author"`
	EditedBy     *Person   `json:"edited_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	GroupName    string    `json:"-"`
	// CanEdit: members and moderators of the group write notes together.
	CanEdit bool `json:"-"`
}

func noteFrom(a *access.Actor, r store.NoteRow) Note {
	n := Note{ID: r.ID, MeetingID: r.MeetingID, GroupID: r.GroupID, MeetingTitle: r.MeetingTitle, Title: r.Title,
		Body: r.Body, BodyHTML: r.BodyHTML, Version: r.Version, Author: Person{ID: r.AuthorID, Name: r.AuthorName, JST: r.AuthorJST},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, GroupName: r.GroupName, CanEdit: a.CanWrite(r.Group())}
	if r.EditedBy != nil && r.EditorName != nil {
		n.EditedBy = &Person{ID: *r.EditedBy, Name: *r.EditorName, JST: r.EditorJST}
	}
	return n
}

// NoteInput creates or edits a note. On edit, Version is the version the editor
// started from and nil fields stay as they are.
type NoteInput struct {
	Title   *string `json:"title"`
	Body    *string `json:"body"`
	Version int     `json:"version"`
}

// Current is what a stale editor receives with the 409, so they can merge.
type Current struct {
	ID        int64     `json:"id"`
	Version   int       `json:"version"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	EditedBy  *Person   `json:"edited_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// check normalizes and validates a note's title and text. It does not render:
// that waits until permission, mute and rate have been checked.
func check(v *apperr.Validation, title, body string) (string, string) {
	title = textnorm.OneLine(title)
	if n := utf8.RuneCountInString(title); n < 3 || n > 200 {
		v.Add("title", "err.title_length")
	}
	body = textnorm.Block(body)
	if utf8.RuneCountInString(body) > MaxNoteRunes {
		v.Add("body", "err.note_long")
	}
	return title, body
}

// checkWrite: a may write in g and is not muted there (access.WriteUnmuted).
func (s *Service) checkWrite(ctx context.Context, q store.Q, a *access.Actor, g model.Group) error {
	if err := a.Write(g); err != nil {
		return err
	}
	until, reason, err := store.MuteInForce(ctx, q, g.ID, a.UserID)
	if err != nil {
		return err
	}
	return a.WriteUnmuted(g, until, reason)
}

// mayWrite is checkWrite as a yes or no, for pages deciding which links to show.
func (s *Service) mayWrite(ctx context.Context, q store.Q, a *access.Actor, g model.Group) (bool, error) {
	if !a.CanWrite(g) {
		return false, nil
	}
	until, _, err := store.MuteInForce(ctx, q, g.ID, a.UserID)
	return until == nil, err
}

// rate is the per-account limit on this kind of write (see ratelimit).
func (s *Service) rate() ratelimit.PerMinute {
	return ratelimit.PerMinute{Limit: s.set.NoteSavesPerMinute, Count: store.CountRecentNoteSaves, Now: s.now}
}

// Notes lists a meeting's notes for a reader.
func (s *Service) Notes(ctx context.Context, a *access.Actor, meetingID int64) ([]Note, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return nil, err
	}
	writer, err := s.mayWrite(ctx, s.db, a, m.Group())
	if err != nil {
		return nil, err
	}
	rows, err := store.ListNoteRows(ctx, s.db, meetingID)
	if err != nil {
		return nil, err
	}
	out := make([]Note, len(rows))
	for i, r := range rows {
		out[i] = noteFrom(a, r)
		out[i].CanEdit = out[i].CanEdit && writer
	}
	return out, nil
}

// Note returns one note for a reader of its group.
func (s *Service) Note(ctx context.Context, a *access.Actor, id int64) (Note, error) {
	r, err := s.readableNote(ctx, s.db, a, id)
	if err != nil {
		return Note{}, err
	}
	return s.noteFor(ctx, a, r)
}

// noteFor is noteFrom for one note shown on its own: a muted member is not
// offered the editor.
func (s *Service) noteFor(ctx context.Context, a *access.Actor, r store.NoteRow) (Note, error) {
	n := noteFrom(a, r)
	if n.CanEdit {
		var err error
		if n.CanEdit, err = s.mayWrite(ctx, s.db, a, r.Group()); err != nil {
			return Note{}, err
		}
	}
	return n, nil
}

func (s *Service) readableNote(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.NoteRow, error) {
	if err := a.LoggedIn(); err != nil {
		return store.NoteRow{}, err
	}
	r, err := store.GetNoteRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	return r, a.Read(r.Group())
}

// CreateNote writes a new note on a meeting; its first version is revision 1.
func (s *Service) CreateNote(ctx context.Context, a *access.Actor, meetingID int64, in NoteInput) (Note, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return Note{}, err
	}
	if err := s.checkWrite(ctx, s.db, a, m.Group()); err != nil {
		return Note{}, err
	}
	v := &apperr.Validation{}
	if in.Title == nil {
		v.Add("title", "err.required")
	}
	title, body := check(v, deref(in.Title), deref(in.Body))
	if err := v.Err(); err != nil {
		return Note{}, err
	}
	if err := s.rate().Check(ctx, s.db, a); err != nil {
		return Note{}, err
	}
	people, err := notify.People(ctx, s.db, m.GroupID, false, body)
	if err != nil {
		return Note{}, err
	}
	html, mentioned, err := s.md.RenderFieldMentions("body", body, people)
	if err != nil {
		return Note{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a new note has no editors yet; the meeting's page lists notes when loaded
		if err := s.rate().CheckLocked(ctx, tx, a); err != nil {
			return err
		}
		if id, err = store.CreateNote(ctx, tx, store.NewNote{MeetingID: meetingID, AuthorID: a.UserID, Title: title, Body: body, BodyHTML: html}); err != nil {
			return err
		}
		if err := store.InsertNoteRevision(ctx, tx, store.NoteRevision{NoteID: id, Version: 1, Title: title, Body: body, EditorID: a.UserID}); err != nil {
			return err
		}
		// Who attended the meeting hears of its new note; whoever the note
		// mentions, of the mention (one notification each).
		attendees, err := store.MeetingAttendeeIDs(ctx, tx, meetingID)
		if err != nil {
			return err
		}
		var plan notify.Plan
		plan.Add(notify.NoteAdded, attendees...)
		plan.Add(notify.Mention, mentioned...)
		return notify.RecordPlan(ctx, tx, plan, store.NewNotifications{ActorID: a.UserID, GroupID: m.GroupID,
			TargetType: "note", TargetID: id, Title: title})
	})
	if err != nil {
		return Note{}, err
	}
	return s.Note(ctx, a, id)
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ErrStale is the conflict code of a save based on an old version.
const ErrStale = "stale_version"

// EditNote saves a new version of a note if nobody saved one since in.Version.
// A stale save changes nothing and answers a Conflict carrying the current
// text, so the editor can merge: their own text is never discarded. Members
// and moderators of the group edit any note of it (notes are written together).
func (s *Service) EditNote(ctx context.Context, a *access.Actor, id int64, in NoteInput) (Note, error) {
	if err := a.LoggedIn(); err != nil {
		return Note{}, err
	}
	// Existence, permission, mute, validity and rate first, then the
	// rendering; the transaction checks again on the row it changes.
	pre, err := s.readableNote(ctx, s.db, a, id)
	if err != nil {
		return Note{}, err
	}
	if err := s.checkWrite(ctx, s.db, a, pre.Group()); err != nil {
		return Note{}, err
	}
	v := &apperr.Validation{}
	if in.Version < 1 {
		v.Add("version", "err.required")
	}
	if in.Title == nil && in.Body == nil {
		v.Add("body", "err.required")
	}
	var title, body string
	if in.Title != nil {
		title, _ = check(v, *in.Title, pre.Body)
	}
	if in.Body != nil {
		_, body = check(v, pre.Title, *in.Body)
	}
	if err := v.Err(); err != nil {
		return Note{}, err
	}
	if err := s.rate().Check(ctx, s.db, a); err != nil {
		return Note{}, err
	}
	var html string
	var mentioned []int64
	if in.Body != nil {
		people, err := notify.People(ctx, s.db, pre.GroupID, false, body)
		if err != nil {
			return Note{}, err
		}
		if html, mentioned, err = s.md.RenderFieldMentions("body", body, people); err != nil {
			return Note{}, err
		}
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		cur, err := s.readableNote(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := s.checkWrite(ctx, tx, a, cur.Group()); err != nil {
			return err
		}
		// A field left out keeps what the note has now (and its HTML).
		title, body, html := title, body, html
		if in.Title == nil {
			title = cur.Title
		}
		if in.Body == nil {
			body, html = cur.Body, cur.BodyHTML
		}
		// Saving what is already there is not a change, even from an old
		// version: nothing would be lost, and the history stays free of no-ops.
		if title == cur.Title && body == cur.Body {
			tx.Quiet() // nothing written, nothing to announce
			return nil
		}
		if err := s.rate().CheckLocked(ctx, tx, a); err != nil {
			return err
		}
		if err := store.BackfillNoteRevision(ctx, tx, id); err != nil {
			return err
		}
		newVersion, err := store.UpdateNote(ctx, tx, id, in.Version, title, body, html, a.UserID)
		if errors.Is(err, store.ErrNotFound) {
			// Read again: the row read above may predate the save that made
			// this one stale, and the editor must see the text that won.
			now, lerr := store.GetNoteRow(ctx, tx, id)
			if lerr != nil {
				return lerr
			}
			n := noteFrom(a, now)
			return &apperr.Conflict{Code: ErrStale, Message: "the note was changed since you opened it",
				Current: Current{ID: n.ID, Version: n.Version, Title: n.Title, Body: n.Body, BodyHTML: n.BodyHTML,
					EditedBy: n.EditedBy, UpdatedAt: n.UpdatedAt}}
		}
		if err != nil {
			return err
		}
		if err := store.InsertNoteRevision(ctx, tx, store.NoteRevision{NoteID: id, Version: newVersion, Title: title, Body: body, EditorID: a.UserID}); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Note, id), 0) // its other editors learn of the new version
		// Someone the new version mentions hears of it, unless already told
		// of this note (one notification per note).
		var plan notify.Plan
		plan.Add(notify.Mention, mentioned...)
		return notify.RecordPlan(ctx, tx, plan, store.NewNotifications{ActorID: a.UserID, GroupID: cur.GroupID,
			TargetType: "note", TargetID: id, Title: title})
	})
	if err != nil {
		return Note{}, err
	}
	return s.Note(ctx, a, id)
}

// Revision is one saved version of a note with what changed since the one before.
type Revision struct {
	Version   int       `json:"version"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Editor    Person    `json:"editor"`
	CreatedAt time.Time `json:"created_at"`
	// PrevTitle is set when this version renamed the note.
	PrevTitle *string `json:"previous_title,omitempty"`
	// Diff compares the text with the previous version (unchanged runs
	// shortened); empty for the first version or when only the title changed.
	Diff  []DiffLine `json:"diff"`
	First bool       `json:"-"`
}

// diffContext is how many unchanged lines a history diff shows around a change.
const diffContext = 2

// History lists every version of a note, newest first, each with its diff
// against the version before. Readers of the group may see it.
func (s *Service) History(ctx context.Context, a *access.Actor, id int64) (Note, []Revision, error) {
	r, err := s.readableNote(ctx, s.db, a, id)
	if err != nil {
		return Note{}, nil, err
	}
	revs, err := store.ListNoteRevisions(ctx, s.db, id)
	if err != nil {
		return Note{}, nil, err
	}
	n := noteFrom(a, r)
	// A note that predates revisions (the demo data's) has none for its
	// current version until someone edits it: show the note itself.
	if len(revs) == 0 || revs[len(revs)-1].Version < r.Version {
		editor := n.Author
		if n.EditedBy != nil {
			editor = *n.EditedBy
		}
		revs = append(revs, store.NoteRevision{NoteID: id, Version: r.Version, Title: r.Title, Body: r.Body,
			EditorID: editor.ID, EditorName: editor.Name, EditorJST: editor.JST, CreatedAt: r.UpdatedAt})
	}
	out := make([]Revision, 0, len(revs))
	for i := len(revs) - 1; i >= 0; i-- {
		rv := revs[i]
		item := Revision{Version: rv.Version, Title: rv.Title, Body: rv.Body, CreatedAt: rv.CreatedAt,
			Editor: Person{ID: rv.EditorID, Name: rv.EditorName, JST: rv.EditorJST}, Diff: []DiffLine{}}
		if i == 0 {
			item.First = true
		} else {
			prev := revs[i-1]
			if prev.Title != rv.Title {
				t := prev.Title
				item.PrevTitle = &t
			}
			if d := Compact(LineDiff(prev.Body, rv.Body), diffContext); d != nil {
				item.Diff = d
			}
		}
		out = append(out, item)
	}
	return n, out, nil
}
