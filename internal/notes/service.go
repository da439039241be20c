// Package notes owns what a GWD session leaves behind: its notes (written
// together, every save a revision, a stale save refused so nothing is lost), the
// files attached to the meeting and its notes (type decided from the content,
// stored once per checksum, never a row without its file), the attendance list,
// and the meeting record that gathers them with the chat transcript.
//
// Who may do what follows SPEC §3 through package access: readers of the group
// read everything here; members and moderators write notes, upload files and
// answer attendance; observers only read; moderators confirm attendance, export
// it and delete anyone's file. Anything of another group is ErrNotFound.
package notes

import (
	"context"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Settings come from configuration.
type Settings struct {
	// UploadDir holds the stored files, named by SHA-256 (FORUM_UPLOAD_DIR).
	UploadDir string
	// MaxUploadBytes is the largest file accepted (FORUM_MAX_UPLOAD_BYTES).
	MaxUploadBytes int64
	// MaxFilesPerMeeting caps the files of one meeting, its notes' included
	// (FORUM_MAX_FILES_PER_MEETING).
	MaxFilesPerMeeting int
	// NoteSavesPerMinute limits how many note versions (new notes and edits
	// that change something) one account may save per minute; 0 means
	// DefaultNoteSavesPerMinute.
	NoteSavesPerMinute int
}

// Defaults used when a setting is zero.
const (
	DefaultMaxUploadBytes     = 25 << 20
	DefaultMaxFilesPerMeeting = 50
	DefaultNoteSavesPerMinute = 10
)

type Service struct {
	db  *store.DB
	md  *markup.Renderer
	set Settings
	log *slog.Logger
	now func() time.Time
}

// New builds the service; announcer learns every committed change (the live
// hub in the server): a saved note is announced on its topic, so others
// editing it learn of the new version before they save.
func New(db *sqlx.DB, announcer topic.Announcer, md *markup.Renderer, set Settings, log *slog.Logger) *Service {
	if set.MaxUploadBytes <= 0 {
		set.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if set.MaxFilesPerMeeting <= 0 {
		set.MaxFilesPerMeeting = DefaultMaxFilesPerMeeting
	}
	if set.NoteSavesPerMinute <= 0 {
		set.NoteSavesPerMinute = DefaultNoteSavesPerMinute
	}
	if set.UploadDir == "" {
		set.UploadDir = "./data/uploads"
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: store.NewDB(db, announcer), md: md, set: set, log: log, now: time.Now}
}

// Limits are the upload limits, for forms and hints.
func (s *Service) Limits() (maxBytes int64, maxFiles int) {
	return s.set.MaxUploadBytes, s.set.MaxFilesPerMeeting
}

// Person is how an author, editor, uploader or attendee appears (like a post's
// author in SPEC §4).
type Person struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

// meeting loads a meeting and checks the actor may read its group; anything of
// another group is ErrNotFound.
func (s *Service) meeting(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.MeetingRow, error) {
	if err := a.LoggedIn(); err != nil {
		return store.MeetingRow{}, err
	}
	r, err := store.GetMeetingRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	return r, a.Read(r.Group())
}
