package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/text/unicode/norm"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Request limits per route. Fiber has one body limit for the whole server;
// fasthttp lets us choose per request once the headers are in, before the body
// is read, so an oversized body is still refused by its Content-Length without
// being read. Only upload routes accept FORUM_MAX_UPLOAD_BYTES (plus room for
// the multipart framing) and get time to receive it; downloads get time to
// send it. Every other route keeps FORUM_MAX_BODY_BYTES and the server's
// timeouts.
var (
	uploadPath   = regexp.MustCompile(`^/(api/v1/meetings/[0-9]+/attachments|api/v1/notes/[0-9]+/attachments|m/[0-9]+/files|n/[0-9]+/files)/?$`)
	downloadPath = regexp.MustCompile(`^/(api/v1/attachments/[0-9]+|attachments/[0-9]+(/[^/?]*)?)$`)
)

const (
	// multipartOverhead is room for the part headers and the small fields
	// (CSRF token, note id) next to the file.
	multipartOverhead = 64 << 10
)

// requestLimits is fasthttp's HeaderReceived hook (see server.go).
func (s *server) requestLimits(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	p := string(h.RequestURI())
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	switch {
	// Without a session cookie the request will be refused anyway: it keeps
	// the small limit, so anonymous clients cannot make us read 25 MiB.
	case h.IsPost() && uploadPath.MatchString(p) && len(h.Cookie(s.cookieName())) > 0:
		return fasthttp.RequestConfig{MaxRequestBodySize: max(s.Config.MaxBodyBytes, s.Config.MaxUploadBytes+multipartOverhead),
			ReadTimeout: s.Config.TransferTimeout}
	case (h.IsGet() || h.IsHead()) && downloadPath.MatchString(p):
		return fasthttp.RequestConfig{WriteTimeout: s.Config.TransferTimeout}
	}
	return fasthttp.RequestConfig{}
}

func (s *server) fileRoutes(app *fiber.App) {
	app.Get("/attachments/:id", s.download)
	app.Get("/attachments/:id/:name", s.download)
	app.Get("/m/:id/files", s.pageFiles)
	app.Post("/m/:id/files", s.pageUpload)
	app.Post("/n/:id/files", s.pageUpload)
	app.Get("/files/:id/delete", s.pageConfirmDeleteFile)
	app.Post("/files/:id/delete", s.pageDeleteFile)
}

func (s *server) fileAPIRoutes(r fiber.Router) {
	r.Get("/meetings/:id/attachments", s.apiFiles)
	r.Post("/meetings/:id/attachments", s.apiUpload)
	r.Post("/notes/:id/attachments", s.apiUpload)
	r.Get("/attachments/:id", s.apiAttachment)
	r.Delete("/attachments/:id", s.apiDeleteFile)
}

// --- multipart ------------------------------------------------------------

// uploadForm is a multipart/form-data body holding one file and small fields.
// It is parsed from the raw body (pre-parsing is off, see server.go) so the
// file name arrives exactly as sent: Go's Part.FileName would quietly cut
// "../../etc/passwd" down to "passwd", and we want to refuse it instead.
type uploadForm struct {
	body     []byte
	boundary string
	filename string // as sent
	fields   map[string]string
}

// maxFieldBytes bounds a non-file field (note_id, _csrf).
const maxFieldBytes = 1 << 10

func parseUpload(c *fiber.Ctx) (*uploadForm, error) {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, &badRequest{"Content-Type must be multipart/form-data with the file in a field named \"file\""}
	}
	u := &uploadForm{body: c.Body(), boundary: params["boundary"], fields: map[string]string{}}
	mr := multipart.NewReader(bytes.NewReader(u.body), u.boundary)
	files := 0
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A NUL (or another control character) in a part header makes
			// the header unparsable; say so rather than "malformed".
			if controlInPartHeader(u.body) {
				return nil, apperr.Invalid("file", "err.filename_path")
			}
			return nil, &badRequest{"malformed multipart/form-data body"}
		}
		name, isFile, ferr := partFilename(p)
		switch {
		case p.FormName() == "file" && isFile:
			if ferr != nil {
				return nil, ferr
			}
			// A form submitted without choosing a file sends an empty part
			// with an empty name.
			if name == "" {
				if _, err := io.Copy(io.Discard, p); err != nil {
					return nil, &badRequest{"malformed multipart/form-data body"}
				}
				continue
			}
			files++
			u.filename = name
		case !isFile:
			v, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil || len(v) > maxFieldBytes {
				return nil, &badRequest{fmt.Sprintf("form field %q is too long", p.FormName())}
			}
			u.fields[p.FormName()] = string(v)
			continue
		}
		if _, err := io.Copy(io.Discard, p); err != nil {
			return nil, &badRequest{"malformed multipart/form-data body"}
		}
	}
	switch {
	case files == 0:
		return nil, apperr.Invalid("file", "err.file_required")
	case files > 1:
		return nil, apperr.Invalid("file", "err.file_one")
	}
	return u, nil
}

// partFilename is a part's filename parameter as sent (filename* decoded),
// and whether it has one at all (file parts do, even when empty).
func partFilename(p *multipart.Part) (string, bool, error) {
	cd := p.Header.Get("Content-Disposition")
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		if strings.Contains(strings.ToLower(cd), "filename") {
			return "", true, apperr.Invalid("file", "err.filename_chars")
		}
		return "", false, nil
	}
	name, ok := params["filename"]
	return name, ok, nil
}

func controlInPartHeader(body []byte) bool {
	for _, line := range bytes.Split(body, []byte("\r\n")) {
		if len(line) > 20 && bytes.EqualFold(line[:20], []byte("content-disposition:")) {
			for _, b := range line {
				if b < 0x20 && b != '\t' {
					return true
				}
			}
		}
	}
	return false
}

// file returns the file part's content (a second pass over the body in memory).
func (u *uploadForm) file() (io.Reader, error) {
	mr := multipart.NewReader(bytes.NewReader(u.body), u.boundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, fmt.Errorf("find the file part again: %w", err)
		}
		if name, isFile, _ := partFilename(p); p.FormName() == "file" && isFile && name != "" {
			return p, nil
		}
	}
}

// upload stores the form's file on a meeting, or on a note (noteID > 0, or a
// note_id field).
func (s *server) upload(c *fiber.Ctx, meetingID, noteID int64) (notes.Attachment, error) {
	u, err := parseUpload(c)
	if err != nil {
		return notes.Attachment{}, err
	}
	in := notes.UploadInput{Filename: u.filename}
	if noteID == 0 {
		if v := strings.TrimSpace(u.fields["note_id"]); v != "" {
			if noteID, err = strconv.ParseInt(v, 10, 64); err != nil || noteID <= 0 {
				return notes.Attachment{}, apperr.Invalid("note_id", "err.note_not_in_meeting")
			}
		}
	}
	if noteID > 0 {
		in.NoteID = &noteID
	}
	if in.Content, err = u.file(); err != nil {
		return notes.Attachment{}, err
	}
	return s.Notes.Upload(c.UserContext(), actor(c), meetingID, in)
}

// tooLargeMessage says how large a file may be, in the reader's language.
func (s *server) tooLargeMessage(c *fiber.Ctx, limit int64) string {
	return s.Catalog.Printer(lang(c)).T("err.file_too_large", "Limit", humanSize(limit, lang(c)))
}

// humanSize writes a byte count the way people read it ("25 MB", "1,5 MB").
func humanSize(n int64, lang string) string {
	var v float64
	var unit string
	switch {
	case n >= 1<<20:
		v, unit = float64(n)/(1<<20), "MB"
	case n >= 1<<10:
		v, unit = float64(n)/(1<<10), "KB"
	default:
		return strconv.FormatInt(n, 10) + " B"
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if lang == "pl" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s + " " + unit
}

// --- download -------------------------------------------------------------

// download serves a file to readers of its group (404 for everyone else).
// The type is the one decided from the content at upload; with nosniff the
// browser keeps to it. Only images are inline, so nothing else can ever be
// shown as an image or a page of ours; everything else downloads.
func (s *server) download(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, f, err := s.Notes.Open(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	etag := `"` + at.Checksum + `"`
	c.Set(fiber.HeaderETag, etag)
	// Private: it is members-only. Revalidated each time, so a deleted file
	// or a lost membership takes effect at once; the ETag keeps it cheap.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// Opened on its own, a file is a sandboxed document that may load nothing.
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && (inm == etag || inm == "*") {
		f.Close()
		return c.SendStatus(fiber.StatusNotModified)
	}
	disposition := "attachment"
	if at.IsImage {
		disposition = "inline"
	}
	c.Set(fiber.HeaderContentType, at.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(disposition, at.Filename))
	// fasthttp streams the file and closes it after the response.
	c.Context().SetBodyStream(f, int(at.Size))
	return nil
}

// contentDisposition names a file for every browser: filename* in RFC 5987's
// UTF-8 percent-encoding (RFC 6266), so "Notatka_z_sesji_łódź.pdf" arrives
// intact, and an ASCII filename for clients that ignore filename*.
func contentDisposition(disposition, name string) string {
	return disposition + `; filename="` + asciiFilename(name) + `"; filename*=UTF-8''` + rfc5987(name)
}

var polishASCII = strings.NewReplacer("ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z",
	"Ą", "A", "Ć", "C", "Ę", "E", "Ł", "L", "Ń", "N", "Ó", "O", "Ś", "S", "Ź", "Z", "Ż", "Z")

// asciiFilename spells a name in ASCII: Polish letters without their marks
// (ł is a letter of its own, not l with a mark, so Unicode decomposition
// alone would not do), other accents dropped, anything else "_".
func asciiFilename(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(polishASCII.Replace(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%':
			b.WriteByte('_')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// rfc5987 percent-encodes everything but RFC 5987's attr-char.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// --- JSON API ---------------------------------------------------------------

func (s *server) apiFiles(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Notes.Files(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(paginate(pageOf(list, p), p, page))
}

// pageOf cuts one page (plus the one extra item paginate looks for) out of a
// list that is read whole: a meeting's notes and files are few.
func pageOf[T any](items []T, p store.Page) []T {
	if p.Offset >= len(items) {
		return []T{}
	}
	return items[p.Offset:min(len(items), p.Offset+p.Limit)]
}

func (s *server) apiUpload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	meetingID, noteID := id, int64(0)
	if strings.HasPrefix(c.Path(), "/api/v1/notes/") {
		n, err := s.Notes.Note(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		meetingID, noteID = n.MeetingID, n.ID
	}
	at, err := s.upload(c, meetingID, noteID)
	var tl *notes.TooLarge
	if errors.As(err, &tl) {
		msg := s.tooLargeMessage(c, tl.Limit)
		return c.Status(fiber.StatusRequestEntityTooLarge).JSON(fiber.Map{"error": apiError{Code: "too_large", Message: msg,
			Details: map[string]string{"file": msg}}})
	}
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(at)
}

// apiAttachment answers with the file itself, or with its metadata when the
// client asks for JSON.
func (s *server) apiAttachment(c *fiber.Ctx) error {
	if !strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) {
		return s.download(c)
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, err := s.Notes.Attachment(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(at)
}

func (s *server) apiDeleteFile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Notes.DeleteAttachment(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// --- pages ------------------------------------------------------------------

type filesPageData struct {
	Meeting  notes.MeetingInfo
	Overview notes.Overview
}

func (s *server) pageFiles(c *fiber.Ctx) error { return s.renderFiles(c, pageOpts{}) }

func (s *server) renderFiles(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Meetings.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	ov, err := s.Notes.Overview(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	o.Title, o.Nav = s.Catalog.Printer(lang(c)).T("files.title_of", "Title", m.Title), "index"
	return s.render(c, "files", o, filesPageData{Meeting: notes.MeetingInfo{Meeting: m.Meeting, GroupName: m.GroupName}, Overview: ov})
}

// pageUpload is the upload form without JavaScript, on a meeting (/m/{id}/files)
// or a note (/n/{id}/files). Problems re-show the page with the error summary.
func (s *server) pageUpload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	meetingID, noteID, back := id, int64(0), fmt.Sprintf("/m/%d/files", id)
	onNote := strings.HasPrefix(c.Path(), "/n/")
	if onNote {
		n, err := s.Notes.Note(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		meetingID, noteID, back = n.MeetingID, n.ID, fmt.Sprintf("/n/%d", n.ID)
	}
	at, err := s.upload(c, meetingID, noteID)
	if err == nil {
		s.flash(c, "flash.file_uploaded")
		return c.Redirect(fmt.Sprintf("%s#file-%d", back, at.ID), fiber.StatusSeeOther)
	}
	fe := s.formError(c, err)
	var tl *notes.TooLarge
	if errors.As(err, &tl) {
		c.Status(fiber.StatusRequestEntityTooLarge)
		fe = map[string]string{"file": s.tooLargeMessage(c, tl.Limit)}
	}
	if fe == nil {
		return err
	}
	if onNote {
		return s.renderNote(c, pageOpts{Errors: fe})
	}
	return s.renderFiles(c, pageOpts{Errors: fe})
}

func (s *server) pageConfirmDeleteFile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, err := s.Notes.Attachment(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !at.CanDelete {
		return apperr.ErrForbidden
	}
	tr := s.Catalog.Printer(lang(c))
	return s.render(c, "confirm", pageOpts{Title: tr.T("files.delete"), Nav: "index"}, confirmPage{
		Question: tr.T("confirm.delete_file", "Name", at.Filename),
		Detail:   tr.T("confirm.delete_file_detail"), Action: c.Path(), Button: tr.T("files.delete"),
		Cancel: fmt.Sprintf("/m/%d/files", at.MeetingID)})
}

func (s *server) pageDeleteFile(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, err := s.Notes.Attachment(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if err := s.Notes.DeleteAttachment(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "flash.file_deleted")
	return c.Redirect(fmt.Sprintf("/m/%d/files", at.MeetingID), fiber.StatusSeeOther)
}
