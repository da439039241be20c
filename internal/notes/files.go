package notes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Attachment is a stored file as the API shows it.
type Attachment struct {
	ID          int64     `json:"id"`
	MeetingID   int64     `json:"meeting_id,omitempty"`
	PracticeID  *int64    `json:"practice_id,omitempty"`
	NoteID      *int64    `json:"note_id"`
	Filename    string    `json:"filename"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Checksum    string    `json:"checksum"`
	Uploader    Person    `json:"uploader"`
	CreatedAt   time.Time `json:"created_at"`
	// URL downloads the file; for images it is also what Markdown embeds.
	URL     string `json:"url"`
	IsImage bool   `json:"is_image"`
	// Markdown shows an image inline in a note or post (images only).
	Markdown  string `json:"markdown,omitempty"`
	KindLabel string `json:"-"`
	// CanDelete: the uploader and the group's moderators.
	CanDelete bool `json:"-"`
}

// FileURL is the download address of an attachment. Its last segment is the
// file name for people and browsers; only the id decides what is served. It
// has the shape the Markdown sanitizer allows for images
// (/attachments/{id}/{name}, the name never starting with a dot).
func FileURL(id int64, name string) string {
	seg := url.PathEscape(strings.TrimLeft(name, "."))
	if seg == "" {
		return fmt.Sprintf("/attachments/%d", id)
	}
	return fmt.Sprintf("/attachments/%d/%s", id, seg)
}

// markdownEscaper keeps a file name from closing the image syntax early.
var (
	altEscaper = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`)
	urlEscaper = strings.NewReplacer("(", "%28", ")", "%29")
)

func attachmentFrom(a *access.Actor, r store.AttachmentRow) Attachment {
	k := kinds[r.Kind]
	at := Attachment{ID: r.ID, MeetingID: r.MeetingID, PracticeID: r.PracticeID, NoteID: r.NoteID, Filename: r.Filename, Kind: r.Kind, ContentType: k.MIME,
		Size: r.Size, Checksum: r.Checksum, Uploader: Person{ID: r.UploaderID, Name: r.UploaderName, JST: r.UploaderJST},
		CreatedAt: r.CreatedAt, URL: FileURL(r.ID, r.Filename), IsImage: k.Image, KindLabel: k.Label,
		CanDelete: canDelete(a, r)}
	if k.Image {
		alt := strings.TrimSuffix(r.Filename, path.Ext(r.Filename))
		at.Markdown = "![" + altEscaper.Replace(alt) + "](" + urlEscaper.Replace(at.URL) + ")"
	}
	return at
}

// canDelete: a file's uploader and its group's moderators (and staff); on a
// good practice the uploader only while they may still edit the practice.
func canDelete(a *access.Actor, r store.AttachmentRow) bool {
	if a.Anonymous() {
		return false
	}
	if a.CanModerate(r.Group()) {
		return true
	}
	if r.UploaderID != a.UserID {
		return false
	}
	if r.PracticeID != nil && r.PracticeStatus != nil {
		return a.CanEditPractice(r.Group(), *r.PracticeStatus)
	}
	return true
}

// Files lists a meeting's files (its notes' files included) for a reader.
func (s *Service) Files(ctx context.Context, a *access.Actor, meetingID int64) ([]Attachment, error) {
	if _, err := s.meeting(ctx, s.db, a, meetingID); err != nil {
		return nil, err
	}
	return s.files(ctx, a, meetingID)
}

func (s *Service) files(ctx context.Context, a *access.Actor, meetingID int64) ([]Attachment, error) {
	rows, err := store.ListAttachments(ctx, s.db, meetingID)
	if err != nil {
		return nil, err
	}
	out := make([]Attachment, len(rows))
	for i, r := range rows {
		out[i] = attachmentFrom(a, r)
	}
	return out, nil
}

// NoteWithFiles returns a note and the files attached to it, for a reader of
// its group (one access check for both).
func (s *Service) NoteWithFiles(ctx context.Context, a *access.Actor, noteID int64) (Note, []Attachment, error) {
	r, err := s.readableNote(ctx, s.db, a, noteID)
	if err != nil {
		return Note{}, nil, err
	}
	rows, err := store.ListNoteAttachments(ctx, s.db, noteID)
	if err != nil {
		return Note{}, nil, err
	}
	files := make([]Attachment, len(rows))
	for i, row := range rows {
		files[i] = attachmentFrom(a, row)
	}
	n, err := s.noteFor(ctx, a, r)
	return n, files, err
}

// Attachment returns one file's metadata for a reader of its group.
func (s *Service) Attachment(ctx context.Context, a *access.Actor, id int64) (Attachment, error) {
	r, err := s.readableAttachment(ctx, s.db, a, id)
	if err != nil {
		return Attachment{}, err
	}
	return attachmentFrom(a, r), nil
}

func (s *Service) readableAttachment(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.AttachmentRow, error) {
	if err := a.LoggedIn(); err != nil {
		return store.AttachmentRow{}, err
	}
	r, err := store.GetAttachmentRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	if r.PracticeID != nil && r.PracticeStatus != nil {
		// A practice's file is read by whoever reads the practice: everyone
		// once it is published, its group (and staff) before.
		return r, a.ReadPractice(r.Group(), *r.PracticeStatus)
	}
	return r, a.Read(r.Group())
}

// Open returns a file for download by a reader of its group (others get
// ErrNotFound). The caller closes the file.
func (s *Service) Open(ctx context.Context, a *access.Actor, id int64) (Attachment, *os.File, error) {
	r, err := s.readableAttachment(ctx, s.db, a, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	f, err := os.Open(s.blobPath(r.Checksum))
	if errors.Is(err, fs.ErrNotExist) {
		// Files go only after their last row: the row was deleted while this
		// request read it. Logged in case it is anything else.
		s.log.WarnContext(ctx, "stored file missing", "attachment_id", id, "checksum", r.Checksum)
		return Attachment{}, nil, fmt.Errorf("stored file of attachment %d: %w", id, apperr.ErrNotFound)
	}
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("open stored file of attachment %d: %w", id, err)
	}
	return attachmentFrom(a, r), f, nil
}

// TooLarge refuses a file over the size limit (413).
type TooLarge struct{ Limit int64 }

func (e *TooLarge) Error() string { return fmt.Sprintf("the file is larger than %d bytes", e.Limit) }

// UploadInput is one file sent by a client.
type UploadInput struct {
	// Filename is the name exactly as the client sent it (not yet cleaned).
	Filename string
	// NoteID attaches the file to a note of the meeting instead of the meeting.
	NoteID *int64
	// File is the content, already received (Receive). Upload takes it over:
	// stored, or removed on any error.
	File *Received
}

// CanUpload is the upload permission alone: a member or moderator of the
// meeting's group (observers only read), not muted there, while the meeting
// has room for another file. The web layer asks before it reads a byte of the
// body (and to grant an upload its long read timeout); Upload asks again.
func (s *Service) CanUpload(ctx context.Context, a *access.Actor, meetingID int64) error {
	_, err := s.uploadableMeeting(ctx, s.db, a, meetingID)
	return err
}

func (s *Service) uploadableMeeting(ctx context.Context, q store.Q, a *access.Actor, meetingID int64) (store.MeetingRow, error) {
	m, err := s.meeting(ctx, q, a, meetingID)
	if err != nil {
		return m, err
	}
	if err := a.Write(m.Group()); err != nil {
		return m, err
	}
	if err := checkUploadMute(ctx, q, a, m.GroupID); err != nil {
		return m, err
	}
	if n, err := store.CountAttachments(ctx, q, meetingID); err != nil {
		return m, err
	} else if n >= s.set.MaxFilesPerMeeting {
		return m, apperr.Invalid("file", "err.too_many_files")
	}
	return m, nil
}

// checkUploadMute refuses a member muted in the group (mute means no writing
// in the group, files included) with the refusal posting gives them.
func checkUploadMute(ctx context.Context, q store.Q, a *access.Actor, groupID int64) error {
	m, err := store.ActiveMute(ctx, q, groupID, a.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mute of user %d in group %d: %w", a.UserID, groupID, err)
	}
	return &apperr.Denied{Code: "muted", Message: fmt.Sprintf("you are muted in this group until %s: %s",
		m.Until.UTC().Format(time.RFC3339), m.Reason)}
}

// Upload stores a received file on a meeting (or one of its notes). Members
// and moderators may; observers and muted members may not. The bytes are
// already in a temporary file in the upload directory, checked (size,
// emptiness, type from content) and synced; they are renamed to their
// checksum, and only then is the row written. A crash at any point leaves
// either no file, an unreferenced file (swept later), or a row whose file is
// in place — never a row without its file.
func (s *Service) Upload(ctx context.Context, a *access.Actor, meetingID int64, in UploadInput) (Attachment, error) {
	placed := false
	// Unless it was renamed into place, the temporary file does not outlive
	// the request.
	defer func() {
		if !placed {
			in.File.Discard()
		}
	}()
	if in.File == nil || in.File.path == "" {
		return Attachment{}, apperr.Invalid("file", "err.file_required")
	}
	if _, err := s.uploadableMeeting(ctx, s.db, a, meetingID); err != nil {
		return Attachment{}, err
	}
	if in.NoteID != nil {
		n, err := store.GetNoteRow(ctx, s.db, *in.NoteID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && n.MeetingID != meetingID) {
			return Attachment{}, apperr.Invalid("note_id", "err.note_not_in_meeting")
		}
		if err != nil {
			return Attachment{}, err
		}
	}
	return s.place(ctx, a, in, store.NewAttachment{MeetingID: meetingID, NoteID: in.NoteID}, func(tx *store.Tx) error {
		if err := store.LockMeetingFiles(ctx, tx, meetingID); err != nil {
			return err
		}
		n, err := store.CountAttachments(ctx, tx, meetingID)
		if err != nil {
			return err
		}
		if n >= s.set.MaxFilesPerMeeting {
			return apperr.Invalid("file", "err.too_many_files")
		}
		return nil
	}, &placed)
}

// place stores a received file for its owner (row's MeetingID or
// PracticeID): renamed to its checksum, then the row written, in one unit of
// work that first runs lock (the owner's lock and count). placed reports
// whether the temporary file was taken over.
func (s *Service) place(ctx context.Context, a *access.Actor, in UploadInput, row store.NewAttachment, lock func(*store.Tx) error, placed *bool) (Attachment, error) {
	name, err := CleanFilename(in.Filename)
	if err != nil {
		return Attachment{}, err
	}
	tmp, size, sum, kind := in.File.path, in.File.size, in.File.sum, in.File.kind
	name = withExtension(name, kinds[kind])

	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // files are listed when a page loads; no page follows them live
		if err := lock(tx); err != nil {
			return err
		}
		// Under the checksum's lock nobody can remove the file between our
		// rename and our commit (see releaseBlob).
		if err := store.LockBlob(ctx, tx, sum); err != nil {
			return err
		}
		// Renamed over an identical copy if the content is already stored:
		// the same content is kept once.
		if err := os.Rename(tmp, s.blobPath(sum)); err != nil {
			return fmt.Errorf("store upload as %s: %w", sum, err)
		}
		*placed = true
		in.File.path = "" // no longer ours to remove
		// The rename must be durable before a row can point at the file.
		if err := syncDir(s.set.UploadDir); err != nil {
			return err
		}
		row.UploaderID, row.Filename, row.Kind, row.Size, row.Checksum = a.UserID, name, kind, size, sum
		id, err = store.InsertAttachment(ctx, tx, row)
		return err
	})
	if err != nil {
		if *placed {
			// The rename happened but the row may not exist: drop the file
			// unless some other row needs the same content.
			s.releaseBlob(ctx, sum)
		}
		return Attachment{}, err
	}
	return s.Attachment(ctx, a, id)
}

// MaxFilesPerPractice caps the files of one good practice.
const MaxFilesPerPractice = 20

// CanUploadPractice is the upload permission for a good practice: whoever may
// edit it (access.EditPractice: its group's members while a draft or
// returned, staff always), not muted in its group, while it has room for
// another file. Another group's draft is ErrNotFound.
func (s *Service) CanUploadPractice(ctx context.Context, a *access.Actor, practiceID int64) error {
	return s.uploadablePractice(ctx, s.db, a, practiceID)
}

func (s *Service) uploadablePractice(ctx context.Context, q store.Q, a *access.Actor, practiceID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	p, err := store.GetPracticeRow(ctx, q, practiceID)
	if err != nil {
		return err
	}
	if err := a.EditPractice(p.Group(), p.Status); err != nil {
		return err
	}
	if !a.IsStaff() {
		if err := checkUploadMute(ctx, q, a, p.GroupID); err != nil {
			return err
		}
	}
	if n, err := store.CountPracticeAttachments(ctx, q, practiceID); err != nil {
		return err
	} else if n >= MaxFilesPerPractice {
		return apperr.Invalid("file", "err.too_many_files")
	}
	return nil
}

// UploadPractice stores a received file on a good practice, as Upload does
// on a meeting.
func (s *Service) UploadPractice(ctx context.Context, a *access.Actor, practiceID int64, in UploadInput) (Attachment, error) {
	placed := false
	defer func() {
		if !placed {
			in.File.Discard()
		}
	}()
	if in.File == nil || in.File.path == "" {
		return Attachment{}, apperr.Invalid("file", "err.file_required")
	}
	if err := s.uploadablePractice(ctx, s.db, a, practiceID); err != nil {
		return Attachment{}, err
	}
	return s.place(ctx, a, in, store.NewAttachment{PracticeID: practiceID}, func(tx *store.Tx) error {
		// The practice's row lock serialises its uploads (and its edits);
		// the checks run again under it.
		if err := store.LockPractice(ctx, tx, practiceID); err != nil {
			return err
		}
		return s.uploadablePractice(ctx, tx, a, practiceID)
	}, &placed)
}

// PracticeFiles lists a practice's files for someone the caller has already
// let read the practice (the practices service).
func (s *Service) PracticeFiles(ctx context.Context, a *access.Actor, practiceID int64) ([]Attachment, error) {
	rows, err := store.ListPracticeAttachments(ctx, s.db, practiceID)
	if err != nil {
		return nil, err
	}
	out := make([]Attachment, len(rows))
	for i, r := range rows {
		out[i] = attachmentFrom(a, r)
	}
	return out, nil
}

// tempPrefix names files being received; the sweep removes stale ones.
const tempPrefix = ".upload-"

// Received is an upload's content in a temporary file of the upload
// directory: checked (size, emptiness, type) but not stored yet. Upload
// stores it; Discard drops it.
type Received struct {
	path      string
	size      int64
	sum, kind string
}

// Discard removes the temporary file of an upload that will not be stored.
// It is safe on nil and after Upload.
func (r *Received) Discard() {
	if r != nil {
		removeQuietly(r.path)
		r.path = ""
	}
}

// Receive copies an upload as it arrives into a temporary file in the upload
// directory (the same file system as its final name, so the rename is
// atomic), hashing it on the way, and checks its size and type. It reads at
// most one byte past the size limit. On error nothing is left behind.
// It needs no permission: nothing is stored or visible until Upload.
func (s *Service) Receive(r io.Reader) (*Received, error) {
	tmp, size, sum, kind, err := s.receive(r)
	if err != nil {
		return nil, err
	}
	return &Received{path: tmp, size: size, sum: sum, kind: kind}, nil
}

// receive does Receive's work.
func (s *Service) receive(r io.Reader) (tmpPath string, size int64, sum, kind string, err error) {
	if err := os.MkdirAll(s.set.UploadDir, 0o750); err != nil {
		return "", 0, "", "", fmt.Errorf("create upload directory: %w", err)
	}
	f, err := os.CreateTemp(s.set.UploadDir, tempPrefix+"*")
	if err != nil {
		return "", 0, "", "", fmt.Errorf("create temporary upload file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			removeQuietly(f.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(r, s.set.MaxUploadBytes+1))
	if err != nil {
		return "", 0, "", "", fmt.Errorf("receive upload: %w", err)
	}
	switch {
	case size > s.set.MaxUploadBytes:
		return "", 0, "", "", &TooLarge{Limit: s.set.MaxUploadBytes}
	case size == 0:
		return "", 0, "", "", apperr.Invalid("file", "err.file_empty")
	}
	kind, err = detect(f, size)
	switch {
	case errors.Is(err, errExecutable):
		return "", 0, "", "", apperr.Invalid("file", "err.file_executable")
	case errors.Is(err, errMacros):
		return "", 0, "", "", apperr.Invalid("file", "err.file_macros")
	case errors.Is(err, errZipBomb):
		return "", 0, "", "", apperr.Invalid("file", "err.file_zip_ratio")
	case errors.Is(err, errUnsupported):
		return "", 0, "", "", apperr.Invalid("file", "err.file_type")
	case err != nil:
		return "", 0, "", "", err
	}
	if err = f.Sync(); err != nil {
		return "", 0, "", "", fmt.Errorf("sync upload: %w", err)
	}
	if err = f.Close(); err != nil {
		return "", 0, "", "", fmt.Errorf("close upload: %w", err)
	}
	return f.Name(), size, hex.EncodeToString(h.Sum(nil)), kind, nil
}

// blobPath is where the content with this checksum lives. Only checksums we
// computed ever reach it; nothing a client sent is part of a path.
func (s *Service) blobPath(sum string) string { return filepath.Join(s.set.UploadDir, sum) }

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open upload directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync upload directory: %w", err)
	}
	return nil
}

func removeQuietly(p string) {
	if p != "" {
		_ = os.Remove(p)
	}
}

// releaseBlob removes the stored file with this checksum if no row refers to
// it any more. It holds the checksum's lock, which an upload of the same
// content also holds from its rename to its commit: an upload either sees no
// file and writes its own, or commits its row first and we keep the file.
// It runs after the caller's work, even if the request's context has ended.
func (s *Service) releaseBlob(ctx context.Context, sum string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // removes a file on disk only; no row changes
		if err := store.LockBlob(ctx, tx, sum); err != nil {
			return err
		}
		n, err := store.CountChecksumRefs(ctx, tx, sum)
		if err != nil || n > 0 {
			return err
		}
		if err := os.Remove(s.blobPath(sum)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stored file %s: %w", sum, err)
		}
		return nil
	})
	if err != nil {
		s.log.ErrorContext(ctx, "release stored file", "checksum", sum, "err", err)
	}
}

// DeleteAttachment removes a file's row (its uploader or a moderator may) and
// then the file itself unless another row shares its content.
func (s *Service) DeleteAttachment(ctx context.Context, a *access.Actor, id int64) error {
	var sum string
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // as for an upload: no page follows files live
		r, err := s.readableAttachment(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if !canDelete(a, r) {
			return apperr.ErrForbidden
		}
		if err := store.DeleteAttachment(ctx, tx, id); err != nil {
			return err
		}
		sum = r.Checksum
		gid := r.GroupID
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "attachment.delete", TargetType: "attachment",
			TargetID: id, GroupID: &gid, Details: attachmentAuditDetails(r)})
	})
	if err != nil {
		return err
	}
	s.releaseBlob(ctx, sum)
	return nil
}

// staleAfter: a temporary file this old belongs to no upload in progress (an
// upload has FORUM_TRANSFER_TIMEOUT, minutes, to arrive), and an unreferenced stored file this old
// is not one whose row is about to be committed.
const staleAfter = time.Hour

var checksumName = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Sweep removes what a crash can leave in the upload directory: temporary
// files of interrupted uploads, and stored files no row refers to (a crash
// between the rename and the commit). Rows never point at missing files, so
// nothing else needs repair. Run at start; safe while serving.
func (s *Service) Sweep(ctx context.Context) error {
	entries, err := os.ReadDir(s.set.UploadDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read upload directory: %w", err)
	}
	cutoff := s.now().Add(-staleAfter)
	var candidates []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() || info.ModTime().After(cutoff) {
			continue
		}
		switch {
		case strings.HasPrefix(e.Name(), tempPrefix):
			removeQuietly(filepath.Join(s.set.UploadDir, e.Name()))
		case checksumName.MatchString(e.Name()):
			candidates = append(candidates, e.Name())
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	used, err := store.ReferencedChecksums(ctx, s.db, candidates)
	if err != nil {
		return err
	}
	for _, sum := range candidates {
		if !used[sum] {
			s.releaseBlob(ctx, sum) // re-checks under the lock
		}
	}
	return nil
}

// --- stored files of other owners (a material under review) -----------------

// Kind is the type decided from the content of a received file.
func (r *Received) Kind() string {
	if r == nil {
		return ""
	}
	return r.kind
}

// StoredFile is a received file placed under its checksum for an owner that
// is not an attachment row (the reviews service keeps its draft document on
// its own row; attachments belong to meetings).
type StoredFile struct {
	Filename string // cleaned, with the extension of its kind
	Kind     string
	Size     int64
	Checksum string
}

// Store places a received file under its checksum, as Upload does, and runs
// record in the same unit of work to write the owner's row; record returns
// the checksum the owner referred to before ("" if none), which is released
// after the commit unless another row still uses it. record must also say
// what its unit announces (Touch or Quiet). The owner's table must be counted
// by store.CountChecksumRefs and store.ReferencedChecksums, or the sweep
// would remove the file. Permissions are the caller's.
func (s *Service) Store(ctx context.Context, filename string, rec *Received, record func(tx *store.Tx, f StoredFile) (replaced string, err error)) error {
	placed := false
	defer func() {
		if !placed {
			rec.Discard()
		}
	}()
	if rec == nil || rec.path == "" {
		return apperr.Invalid("file", "err.file_required")
	}
	name, err := CleanFilename(filename)
	if err != nil {
		return err
	}
	f := StoredFile{Filename: withExtension(name, kinds[rec.kind]), Kind: rec.kind, Size: rec.size, Checksum: rec.sum}
	var replaced string
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// As in Upload: under the checksum's lock nobody removes the file
		// between our rename and our commit.
		if err := store.LockBlob(ctx, tx, f.Checksum); err != nil {
			return err
		}
		if err := os.Rename(rec.path, s.blobPath(f.Checksum)); err != nil {
			return fmt.Errorf("store upload as %s: %w", f.Checksum, err)
		}
		placed = true
		rec.path = ""
		if err := syncDir(s.set.UploadDir); err != nil {
			return err
		}
		var err error
		replaced, err = record(tx, f)
		return err
	})
	if err != nil {
		if placed {
			s.releaseBlob(ctx, f.Checksum)
		}
		return err
	}
	if replaced != "" && replaced != f.Checksum {
		s.releaseBlob(ctx, replaced)
	}
	return nil
}

// OpenStored opens the stored file with this checksum; the caller has
// checked that the reader may have it, and closes it.
func (s *Service) OpenStored(ctx context.Context, sum string) (*os.File, error) {
	if !checksumName.MatchString(sum) {
		return nil, fmt.Errorf("stored file %q: %w", sum, apperr.ErrNotFound)
	}
	f, err := os.Open(s.blobPath(sum))
	if errors.Is(err, fs.ErrNotExist) {
		s.log.WarnContext(ctx, "stored file missing", "checksum", sum)
		return nil, fmt.Errorf("stored file %s: %w", sum, apperr.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open stored file %s: %w", sum, err)
	}
	return f, nil
}

// attachmentAuditDetails names a deleted file and its owner for the audit log.
func attachmentAuditDetails(r store.AttachmentRow) map[string]any {
	d := map[string]any{"filename": r.Filename, "uploader_id": r.UploaderID}
	if r.PracticeID != nil {
		d["practice_id"] = *r.PracticeID
	} else {
		d["meeting_id"] = r.MeetingID
	}
	return d
}
