package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	"golang.org/x/text/unicode/norm"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Request limits per route. Request bodies are streamed (server.go): fasthttp
// hands each handler its body as a stream after at most 8 KiB, so limitBody
// below holds every route to its limit. Only upload routes accept
// FORUM_MAX_UPLOAD_BYTES (plus room for the multipart framing), read part by
// part straight into a file of the upload directory; every other route's body
// is read into memory up to FORUM_MAX_BODY_BYTES and refused past it.
//
// Time is granted from the headers, before the body: fasthttp's
// HeaderReceived hook (requestLimits) gives the long transfer timeout only to
// a valid session of a user who may upload there; everybody else keeps the
// server's read timeout. Downloads get time to send. Which routes upload or
// download is said once, in the route table (routes.go): the hook finds the
// request's entry with the same matcher the middleware uses.

const (
	// multipartOverhead is room for the part headers and the small fields
	// (CSRF token, note id) next to the file.
	multipartOverhead = 64 << 10
	// uploadCheckTimeout bounds the session and permission lookup of the
	// header hook. It runs on the connection's goroutine before any handler,
	// with no request context yet; on timeout the request keeps the defaults.
	uploadCheckTimeout = 2 * time.Second
)

// requestLimits is fasthttp's HeaderReceived hook (see server.go).
func (s *server) requestLimits(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	// Set below only; a client's own copy never counts.
	h.Del(headerBodyRefused)
	h.Del(headerUploader)
	r, params := s.routes.matchRequestURI(string(h.Method()), h.RequestURI())
	limit := s.Config.MaxBodyBytes
	var rc fasthttp.RequestConfig
	switch {
	case r.isUpload():
		if s.mayUpload(h, r.upload, params["id"]) {
			limit = s.Config.MaxUploadBytes + multipartOverhead
			rc.ReadTimeout = s.Config.TransferTimeout
			h.Set(headerUploader, "1")
		}
	case r != nil && r.body == bodyDownload:
		rc.WriteTimeout = s.Config.TransferTimeout
	}
	if h.ContentLength() > limit {
		// Refused from its Content-Length, before a byte of the body is read.
		// With streaming on, fasthttp would first wait for up to 8 KiB of the
		// body; announcing none skips that, and limitBody answers 413 and
		// closes the connection, so the unread body is never taken for a
		// next request.
		h.Set(headerBodyRefused, "1")
		h.SetContentLength(0)
	}
	return rc
}

// headerBodyRefused marks a request whose body requestLimits refused;
// headerUploader one that requestLimits granted the upload limits.
const (
	headerBodyRefused = "X-Forumjst-Body-Refused"
	headerUploader    = "X-Forumjst-Uploader"
)

// mayUpload: the session cookie belongs to a live session whose user may
// upload to the meeting, note or material under review (target) with id raw. Any error is a no: the
// request then keeps the ordinary read timeout, and its handler answers
// properly. One bounded lookup per upload request that carries a cookie, as
// every request with a cookie costs one in the session middleware anyway.
func (s *server) mayUpload(h *fasthttp.RequestHeader, target uploadTarget, raw string) bool {
	token := string(h.Cookie(s.cookieName())) // a copy: the header buffer is reused
	if token == "" {
		return false
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), uploadCheckTimeout)
	defer cancel()
	pr, err := s.Accounts.Check(ctx, token)
	if err != nil {
		return false
	}
	if target == uploadToReview {
		return s.Reviews.CanUploadDocument(ctx, pr.Actor, id) == nil
	}
	if target == uploadToPractice {
		return s.Notes.CanUploadPractice(ctx, pr.Actor, id) == nil
	}
	meetingID := id
	if target == uploadToNote {
		n, err := s.Notes.Note(ctx, pr.Actor, id)
		if err != nil {
			return false
		}
		meetingID = n.MeetingID
	}
	return s.Notes.CanUpload(ctx, pr.Actor, meetingID) == nil
}

// limitBody holds every route to its body limit now that bodies stream
// (with streaming on, fasthttp no longer refuses an oversized body itself: it
// hands it over as a stream, and Fiber's c.Body() would read all of it).
// Compressed bodies are refused: Fiber would inflate them without bound.
// A body left partly unread closes the connection, or its rest would be read
// as the next request.
func (s *server) limitBody(c *fiber.Ctx) error {
	req := c.Request()
	refuse := func(err error) error {
		// This runs before the securityHeaders middleware; refusals carry
		// the headers every response does.
		s.setSecurityHeaders(c)
		c.Context().SetConnectionClose()
		return err
	}
	if len(req.Header.Peek(headerBodyRefused)) > 0 {
		return refuse(fiber.ErrRequestEntityTooLarge)
	}
	if !req.IsBodyStream() {
		return c.Next()
	}
	if ce := c.Get(fiber.HeaderContentEncoding); ce != "" && !strings.EqualFold(ce, "identity") {
		return refuse(fiber.ErrUnsupportedMediaType)
	}
	length := int64(req.Header.ContentLength()) // -1: chunked
	if s.routeOf(c).isUpload() {
		limit := int64(s.Config.MaxUploadBytes) + multipartOverhead
		if length > limit {
			return refuse(fiber.ErrRequestEntityTooLarge)
		}
		body := &uploadBody{r: c.Context().RequestBodyStream(), left: limit}
		c.Locals(localUploadBody, body)
		err := c.Next()
		// A refusal before the end of the body (a stale CSRF token is the
		// form's first field) would otherwise close with the rest unread,
		// and the kernel answers data arriving at a closed socket with a
		// reset that can throw our answer away before a browser still
		// sending the file reads it. So the rest is read and dropped first
		// — only for a user granted the upload limits, within them and the
		// transfer timeout; anyone else's connection is closed at once.
		if !body.drained() && !(len(req.Header.Peek(headerUploader)) > 0 && body.discardRest()) {
			c.Context().SetConnectionClose()
		}
		return err
	}
	limit := int64(s.Config.MaxBodyBytes)
	if length > limit {
		return refuse(fiber.ErrRequestEntityTooLarge)
	}
	b, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), limit+1))
	switch {
	case err != nil:
		return refuse(bodyReadError(err))
	case int64(len(b)) > limit:
		return refuse(fiber.ErrRequestEntityTooLarge)
	}
	req.SetBody(b)
	return c.Next()
}

// bodyReadError is the answer to a body that could not be read: too slow
// (the read timeout) or cut off.
func bodyReadError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fiber.ErrRequestTimeout
	}
	return &badRequest{"the request body could not be read: it ended early or is malformed"}
}

// localUploadBody holds an upload route's *uploadBody for its handler.
const localUploadBody = "upload_body"

// errBodyTooLarge: an upload body went past the upload limit plus framing.
var errBodyTooLarge = errors.New("upload body over the limit")

// uploadBody is an upload's body stream, bounded, remembering whether it
// was read to its end.
type uploadBody struct {
	r    io.Reader
	left int64
	eof  bool
	err  error // the first read error other than EOF
}

func (b *uploadBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.left <= 0 {
		// At the limit: fine if the body ends here.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n == 0 && errors.Is(err, io.EOF) {
			b.eof = true
			return 0, io.EOF
		}
		b.err = errBodyTooLarge
		return 0, b.err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	switch {
	case errors.Is(err, io.EOF):
		b.eof = true
	case err != nil:
		b.err = err
	}
	return n, err
}

// drained reports whether the body was read to its end. It never reads.
func (b *uploadBody) drained() bool { return b.eof }

// discardRest reads the body to its end, dropping it, and reports whether
// it ended within the limit and without an error.
func (b *uploadBody) discardRest() bool {
	_, err := io.Copy(io.Discard, b)
	return err == nil && b.eof
}

// filePageRoutes: downloads and the upload form without JavaScript.
func (s *server) filePageRoutes() []route {
	return []route{
		get("/attachments/:id", s.download).downloads(),
		get("/attachments/:id/:name", s.download).downloads(),
		get("/m/:id/files", s.pageFiles),
		post("/m/:id/files", s.pageUpload).uploadsTo(uploadToMeeting),
		post("/n/:id/files", s.pageUpload).uploadsTo(uploadToNote),
		get("/files/:id/delete", s.pageConfirmDeleteFile),
		post("/files/:id/delete", s.pageDeleteFile),
	}
}

func (s *server) fileAPIRoutes() []route {
	return []route{
		get("/meetings/:id/attachments", s.apiFiles),
		post("/meetings/:id/attachments", s.apiUpload).uploadsTo(uploadToMeeting),
		post("/notes/:id/attachments", s.apiUpload).uploadsTo(uploadToNote),
		get("/attachments/:id", s.apiAttachment).downloads(),
		del("/attachments/:id", s.apiDeleteFile),
	}
}

// --- multipart ------------------------------------------------------------

// uploadForm is a multipart/form-data body's one file and small fields. It is
// read part by part from the body stream: the file part goes straight to
// receive (a temporary file in the upload directory), never into memory, and
// its name is kept exactly as sent: Go's Part.FileName would quietly cut
// "../../etc/passwd" down to "passwd", and we want to refuse it instead.
type uploadForm struct {
	filename string // as sent
	fields   map[string]string
}

const (
	// maxFieldBytes bounds a non-file field (note_id, _csrf).
	maxFieldBytes = 1 << 10
	// maxParts bounds the parts of one body: a form has two or three.
	maxParts = 16
	// partHeaderTail is how much of the body's latest bytes are kept to say
	// why a part header did not parse.
	partHeaderTail = 8 << 10
)

var errMalformed = &badRequest{"malformed multipart/form-data body"}

// readUpload reads a multipart/form-data body. When the file part begins,
// beforeFile sees the fields read so far and the file name (the CSRF token
// and the name are checked before a byte of the file is written), then
// receive consumes the part. A form submitted without choosing a file sends
// an empty part with an empty name, which is skipped. Errors from receive are
// returned as they are; the caller discards what receive kept.
func readUpload(body io.Reader, boundary string, beforeFile func(*uploadForm) error, receive func(io.Reader) error) (*uploadForm, error) {
	u := &uploadForm{fields: map[string]string{}}
	tail := &tailBuffer{}
	mr := multipart.NewReader(io.TeeReader(body, tail), boundary)
	files := 0
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A NUL (or another control character) in a part header makes
			// the header unparsable; say so rather than "malformed".
			if controlInPartHeader(tail.b) {
				return nil, apperr.Invalid("file", "err.filename_path")
			}
			return nil, readError(err, errMalformed)
		}
		if parts >= maxParts {
			return nil, &badRequest{"too many parts in the multipart/form-data body"}
		}
		name, isFile, ferr := partFilename(p)
		switch {
		case p.FormName() == "file" && isFile:
			if ferr != nil {
				return nil, ferr
			}
			if name == "" {
				if _, err := io.Copy(io.Discard, p); err != nil {
					return nil, readError(err, errMalformed)
				}
				continue
			}
			if files++; files > 1 {
				return nil, apperr.Invalid("file", "err.file_one")
			}
			u.filename = name
			if err := beforeFile(u); err != nil {
				return nil, err
			}
			if err := receive(p); err != nil {
				return nil, err
			}
			// Whatever receive left unread (past the size limit it stops).
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, readError(err, errMalformed)
			}
		case !isFile:
			v, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
			if err != nil {
				return nil, readError(err, errMalformed)
			}
			if len(v) > maxFieldBytes {
				return nil, &badRequest{fmt.Sprintf("form field %q is too long", p.FormName())}
			}
			u.fields[p.FormName()] = string(v)
		default:
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, readError(err, errMalformed)
			}
		}
	}
	if files == 0 {
		return nil, apperr.Invalid("file", "err.file_required")
	}
	// What little may follow the close delimiter (an epilogue, a final CRLF)
	// is read, so the body ends and the connection can serve the next request.
	if _, err := io.Copy(io.Discard, io.LimitReader(body, 4<<10)); err != nil {
		return nil, readError(err, errMalformed)
	}
	return u, nil
}

// readError keeps a failure of the body itself (over the limit, too slow,
// cut off) apart from a malformed body.
func readError(err, malformed error) error {
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge), errors.As(err, &ne):
		return err
	}
	return malformed
}

// tailBuffer keeps the last partHeaderTail bytes written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if over := len(t.b) - partHeaderTail; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
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

// upload stores the form's file on a meeting, or on a note (noteID > 0, or a
// note_id field). Who may upload is checked before a byte of the body is
// read; the file then streams into the upload directory.
func (s *server) upload(c *fiber.Ctx, meetingID, noteID int64) (notes.Attachment, error) {
	u, rec, cancel, err := s.receiveUpload(c, func() error { return s.Notes.CanUpload(c.UserContext(), actor(c), meetingID) })
	if err != nil {
		return notes.Attachment{}, err
	}
	defer cancel()
	in := notes.UploadInput{Filename: u.filename, File: rec}
	if noteID == 0 {
		if v := strings.TrimSpace(u.fields["note_id"]); v != "" {
			if noteID, err = strconv.ParseInt(v, 10, 64); err != nil || noteID <= 0 {
				rec.Discard()
				return notes.Attachment{}, apperr.Invalid("note_id", "err.note_not_in_meeting")
			}
		}
	}
	if noteID > 0 {
		in.NoteID = &noteID
	}
	return s.Notes.Upload(c.UserContext(), actor(c), meetingID, in)
}

// receiveUpload reads an upload route's multipart body once may (the upload
// permission) allowed it: the form's one file into a temporary file of the
// upload directory (checked: size, type from content), and its small fields.
// The CSRF token of a form is checked before a byte of the file is written.
// On success the caller owns the received file (stores or discards it), and
// the request's context has been renewed for storing it (cancel it when
// done).
func (s *server) receiveUpload(c *fiber.Ctx, may func() error) (*uploadForm, *notes.Received, context.CancelFunc, error) {
	if !s.routeOf(c).isUpload() {
		// Only an upload route's body is streamed and bounded for a file;
		// the route table's test keeps upload handlers on upload routes.
		return nil, nil, nil, fmt.Errorf("upload handler on %s %s, which the route table does not mark as an upload", c.Method(), c.Path())
	}
	if err := may(); err != nil {
		return nil, nil, nil, err
	}
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, nil, nil, &badRequest{"Content-Type must be multipart/form-data with the file in a field named \"file\""}
	}
	var body io.Reader
	if b, ok := c.Locals(localUploadBody).(*uploadBody); ok {
		body = b
	} else {
		body = bytes.NewReader(c.Body()) // not streamed: empty, or already bounded
	}
	// A form's CSRF token is a field of this body; the csrf middleware left
	// it to us (it would have had to read the whole body). It must come before
	// the file: nothing is written for a forged request.
	formToken := principal(c) != nil && c.Get("X-CSRF-Token") == ""
	checkToken := func(u *uploadForm) error {
		if formToken && subtle.ConstantTimeCompare([]byte(u.fields["_csrf"]), []byte(principal(c).CSRFToken)) != 1 {
			return errCSRF
		}
		return nil
	}
	var rec *notes.Received
	u, err := readUpload(body, params["boundary"], func(u *uploadForm) error {
		if err := checkToken(u); err != nil {
			return err
		}
		_, err := notes.CleanFilename(u.filename)
		return err
	}, func(r io.Reader) error {
		var err error
		rec, err = s.Notes.Receive(r)
		return err
	})
	if err == nil {
		err = checkToken(u)
	}
	if err != nil {
		rec.Discard()
		if errors.Is(err, errBodyTooLarge) {
			return nil, nil, nil, &notes.TooLarge{Limit: int64(s.Config.MaxUploadBytes)}
		}
		var ne net.Error
		if errors.As(err, &ne) {
			return nil, nil, nil, bodyReadError(err)
		}
		return nil, nil, nil, err
	}
	// The request's context began before a body that may have taken minutes:
	// storing gets a deadline of its own (cancelled when the request ends).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), s.Config.QueryTimeout)
	c.SetUserContext(ctx)
	return u, rec, cancel, nil
}

// tooLargeMessage says how large a file may be, in the reader's language.
func (s *server) tooLargeMessage(c *fiber.Ctx, limit int64) string {
	return s.tr(c).T("err.file_too_large", "Limit", humanSize(limit, lang(c)))
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
	if s.routeOf(c).target() == uploadToNote {
		n, err := s.Notes.Note(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		meetingID, noteID = n.MeetingID, n.ID
	}
	at, err := s.upload(c, meetingID, noteID)
	if err != nil {
		return err // a file over the limit: 413 too_large (handleError)
	}
	return c.Status(fiber.StatusCreated).JSON(at)
}

// uploadFormError is formError for an upload form: a file over the limit is
// a message on the file field (413) in the reader's language.
func (s *server) uploadFormError(c *fiber.Ctx, err error, rate rateLimitShown) map[string]string {
	var tl *notes.TooLarge
	if errors.As(err, &tl) {
		c.Status(fiber.StatusRequestEntityTooLarge)
		return map[string]string{"file": s.tooLargeMessage(c, tl.Limit)}
	}
	return s.formError(c, err, rate)
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
	o.Title, o.Nav = s.tr(c).T("files.title_of", "Title", m.Title), "index"
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
	onNote := s.routeOf(c).target() == uploadToNote
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
	fe := s.uploadFormError(c, err, rateOnForm)
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
	tr := s.tr(c)
	return s.render(c, "confirm", pageOpts{Title: tr.T("files.delete"), Nav: "index"}, confirmPage{
		Question: tr.T("confirm.delete_file", "Name", at.Filename),
		Detail:   tr.T("confirm.delete_file_detail"), Action: c.Path(), Button: tr.T("files.delete"),
		Cancel: filesPage(at)})
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
	return c.Redirect(filesPage(at), fiber.StatusSeeOther)
}

// filesPage is where a file is listed: its meeting's files, or its practice.
func filesPage(at notes.Attachment) string {
	if at.PracticeID != nil {
		return fmt.Sprintf("/praktyki/%d#files", *at.PracticeID)
	}
	return fmt.Sprintf("/m/%d/files", at.MeetingID)
}
