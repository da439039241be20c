package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/config"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

type attachmentJSON struct {
	ID          int64  `json:"id"`
	MeetingID   int64  `json:"meeting_id"`
	NoteID      *int64 `json:"note_id"`
	Filename    string `json:"filename"`
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Checksum    string `json:"checksum"`
	URL         string `json:"url"`
	IsImage     bool   `json:"is_image"`
	Markdown    string `json:"markdown"`
	Uploader    struct {
		ID   int64
		Name string
	}
}

// --- tiny valid samples of every allowed type, built here ---------------------

// samplePDF is a minimal PDF, different on every call: tests share one database
// (but not one upload directory), and a file leaves the disk only when no row
// anywhere needs its content.
func samplePDF() []byte {
	return []byte("%PDF-1.4\n% " + testkit.Unique() + "\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

func sampleImage(t *testing.T, kind string) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := 0; x < 4; x++ {
		img.Set(x, 1, color.RGBA{R: 11, G: 79, B: 138, A: 255})
	}
	var b bytes.Buffer
	var err error
	if kind == "png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sampleZip builds a ZIP with the given entries in order; stored (uncompressed)
// entries are named with a leading "=" (OpenDocument's mimetype must be).
func sampleZip(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		name, method := e[0], zip.Deflate
		if strings.HasPrefix(name, "=") {
			name, method = name[1:], zip.Store
		}
		f, err := w.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func contentTypes(main string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="xml" ContentType="application/xml"/><Override PartName="/x" ContentType="` + main + `"/></Types>`
}

func sampleOffice(t *testing.T, kind string) []byte {
	switch kind {
	case "docx":
		return sampleZip(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")},
			[2]string{"word/document.xml", "<w:document/>"})
	case "xlsx":
		return sampleZip(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")},
			[2]string{"xl/workbook.xml", "<workbook/>"})
	case "pptx":
		return sampleZip(t, [2]string{"[Content_Types].xml", contentTypes("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")},
			[2]string{"ppt/presentation.xml", "<p:presentation/>"})
	case "odt":
		return sampleZip(t, [2]string{"=mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", "<office:document-content/>"})
	case "ods":
		return sampleZip(t, [2]string{"=mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", "<office:document-content/>"})
	}
	t.Fatalf("no sample for %s", kind)
	return nil
}

// sampleExe is the start of a Windows PE file: "MZ", binary header, DOS stub.
func sampleExe() []byte {
	b := append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), make([]byte, 48)...)
	return append(b, []byte("This program cannot be run in DOS mode.\r\r\n$")...)
}

// --- requests ---------------------------------------------------------------

// multipartBody builds a multipart/form-data body with one file part whose
// Content-Disposition is written exactly as given (so tests can send names a
// well-behaved client never would), plus fields.
func multipartBody(t *testing.T, disposition string, content []byte, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if disposition != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", disposition)
		h.Set("Content-Type", "application/octet-stream")
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := part.Write(content); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

func fileDisposition(name string) string {
	return `form-data; name="file"; filename="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name) + `"`
}

func uploadTo(t *testing.T, c *testkit.Client, path, name string, content []byte) *testkit.Response {
	t.Helper()
	body, ct := multipartBody(t, fileDisposition(name), content, nil)
	return c.Do("POST", path, body, map[string]string{"Content-Type": ct, "Accept": "application/json"})
}

func upload(t *testing.T, c *testkit.Client, meetingID int64, name string, content []byte) attachmentJSON {
	t.Helper()
	r := uploadTo(t, c, fmt.Sprintf("/api/v1/meetings/%d/attachments", meetingID), name, content)
	wantStatus(t, "upload "+name, r, http.StatusCreated)
	var a attachmentJSON
	r.Decode(&a)
	return a
}

// uploadDir lists the upload directory (file names only).
func uploadDir(t *testing.T, env *testkit.Env) []string {
	t.Helper()
	entries, err := os.ReadDir(env.Config.UploadDir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func countRows(t *testing.T, env *testkit.Env, query string, args ...any) int {
	t.Helper()
	var n int
	if err := env.DB.Get(&n, query, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// --- tests ------------------------------------------------------------------

// Every allowed type is recognised from its bytes, whatever the name says; the
// download comes back byte for byte with the detected type, images inline and
// everything else as an attachment.
func TestUploadDetectsTypeFromContent(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	txt := []byte("Notatka z sesji – zażółć gęślą jaźń.\nDrugi wiersz.\n")
	cases := []struct {
		kind, name, wantName, contentType string
		content                           []byte
		inline                            bool
	}{
		{"pdf", "Program sesji.pdf", "Program sesji.pdf", "application/pdf", samplePDF(), false},
		{"png", "zdjęcie szkoły.png", "zdjęcie szkoły.png", "image/png", sampleImage(t, "png"), true},
		{"jpeg", "wizyta.jpg", "wizyta.jpg", "image/jpeg", sampleImage(t, "jpeg"), true},
		// The name lies; the content decides and the extension follows it.
		{"png", "skan.pdf", "skan.png", "image/png", sampleImage(t, "png"), true},
		{"docx", "Scenariusz.docx", "Scenariusz.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", sampleOffice(t, "docx"), false},
		{"xlsx", "budżet", "budżet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", sampleOffice(t, "xlsx"), false},
		{"pptx", "prezentacja.pptx", "prezentacja.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", sampleOffice(t, "pptx"), false},
		{"odt", "notatka.odt", "notatka.odt", "application/vnd.oasis.opendocument.text", sampleOffice(t, "odt"), false},
		{"ods", "arkusz.zip", "arkusz.ods", "application/vnd.oasis.opendocument.spreadsheet", sampleOffice(t, "ods"), false},
		{"txt", "uwagi.txt", "uwagi.txt", "text/plain; charset=utf-8", txt, false},
		// A text that happens to start with "MZ" is still text.
		{"txt", "MZK.txt", "MZK.txt", "text/plain; charset=utf-8", []byte("MZK Łódź: rozkład jazdy autobusów szkolnych\n"), false},
	}
	for _, tc := range cases {
		t.Run(tc.kind+" "+tc.name, func(t *testing.T) {
			a := upload(t, member, m.ID, tc.name, tc.content)
			if a.Kind != tc.kind || a.ContentType != tc.contentType || a.Filename != tc.wantName || a.Size != int64(len(tc.content)) ||
				a.Checksum != sha(tc.content) || a.IsImage != tc.inline || a.Uploader.ID != w.member.ID {
				t.Errorf("stored %+v", a)
			}
			r := member.Get(a.URL)
			wantStatus(t, "download", r, http.StatusOK)
			if !bytes.Equal(r.Body, tc.content) {
				t.Errorf("downloaded %d bytes, uploaded %d", len(r.Body), len(tc.content))
			}
			if ct := r.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			disp := r.Header.Get("Content-Disposition")
			if tc.inline != strings.HasPrefix(disp, "inline;") || !tc.inline && !strings.HasPrefix(disp, "attachment;") {
				t.Errorf("Content-Disposition %q (image: %v)", disp, tc.inline)
			}
			if r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("download without nosniff")
			}
			if tc.inline && !strings.HasPrefix(a.Markdown, "![") {
				t.Errorf("image without a Markdown snippet: %q", a.Markdown)
			}
			if !tc.inline && a.Markdown != "" {
				t.Errorf("non-image offers a Markdown image snippet %q", a.Markdown)
			}
		})
	}
}

// Bad input is refused with a message that says what is wrong, stores no row
// and leaves no file behind (issue 6, item 7: a test for each).
func TestUploadRefusesBadInput(t *testing.T) {
	const limit = 64 << 10
	w := newForumWorld(t, func(c *config.Config) { c.MaxUploadBytes = limit })
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	path := fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID)
	bigPDF := append(samplePDF(), bytes.Repeat([]byte("x"), limit)...)
	plainZip := sampleZip(t, [2]string{"a.txt", "nie dokument"})

	cases := []struct {
		name        string
		disposition string // "" = no file part
		content     []byte
		fields      map[string]string
		status      int
		code        string
		says        string // part of the (Polish) message
	}{
		{"oversized", fileDisposition("duży.pdf"), bigPDF, nil, 413, "too_large", "Największy dozwolony rozmiar to 64 KB"},
		{"empty", fileDisposition("pusty.pdf"), nil, nil, 400, "validation", "Plik jest pusty"},
		{"exe renamed .pdf", fileDisposition("raport.pdf"), sampleExe(), nil, 400, "validation", "To jest program"},
		{"exe named .exe", fileDisposition("setup.exe"), sampleExe(), nil, 400, "validation", "To jest program"},
		{"zip that is no document", fileDisposition("paczka.docx"), plainZip, nil, 400, "validation", "Tego rodzaju pliku nie można przesłać"},
		{"binary junk", fileDisposition("dane.txt"), []byte{0x00, 0x01, 0x02, 0xff}, nil, 400, "validation", "Tego rodzaju pliku nie można przesłać"},
		{"traversal", fileDisposition("../../etc/passwd"), samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"absolute path", fileDisposition("/etc/passwd"), samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"windows traversal", fileDisposition(`..\..\Windows\win.ini`), samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"slash in name", fileDisposition("notatki/sesja.pdf"), samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"dot dot", fileDisposition(".."), samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"NUL in name", `form-data; name="file"; filename="raport` + "\x00" + `.pdf"`, samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"NUL in RFC 5987 name", `form-data; name="file"; filename*=UTF-8''raport%00.pdf`, samplePDF(), nil, 400, "validation", "nie może zawierać ścieżki"},
		{"right-to-left override", fileDisposition("raport\u202Efdp.exe"), samplePDF(), nil, 400, "validation", "niedozwolone znaki"},
		{"no file", "", nil, map[string]string{"note_id": ""}, 400, "validation", "Wybierz plik"},
		{"no file chosen", fileDisposition(""), nil, nil, 400, "validation", "Wybierz plik"},
		{"note of another meeting", fileDisposition("a.pdf"), samplePDF(), map[string]string{"note_id": "999999999"}, 400, "validation", "nie należy do tego spotkania"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.disposition, tc.content, tc.fields)
			r := member.Do("POST", path, body, map[string]string{"Content-Type": ct, "Accept": "application/json"})
			e := wantError(t, tc.name, r, tc.status, tc.code)
			if !strings.Contains(e.Error.Message+" "+fmt.Sprint(e.Error.Details), tc.says) {
				t.Errorf("message %q / details %v do not say %q", e.Error.Message, e.Error.Details, tc.says)
			}
			checkNoLeak(t, tc.name, r.Body)
		})
	}
	// Two files in one request.
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, n := range []string{"a.pdf", "b.pdf"} {
		f, _ := mw.CreateFormFile("file", n)
		f.Write(samplePDF())
	}
	mw.Close()
	r := member.Do("POST", path, &b, map[string]string{"Content-Type": mw.FormDataContentType()})
	if e := wantError(t, "two files", r, 400, "validation"); !strings.Contains(e.Error.Details["file"], "jeden plik") {
		t.Errorf("two files: %v", e.Error.Details)
	}
	// Not multipart at all.
	r = member.JSON("POST", path, map[string]string{"file": "x"})
	wantError(t, "JSON instead of multipart", r, 400, "bad_request")

	if n := countRows(t, w.env, `SELECT count(*) FROM attachments WHERE meeting_id = $1`, m.ID); n != 0 {
		t.Errorf("refused uploads stored %d rows", n)
	}
	if left := uploadDir(t, w.env); len(left) != 0 {
		t.Errorf("refused uploads left files behind: %v", left)
	}

	// A body far over the limit is refused from its Content-Length, before
	// it is read.
	r = oversized(t, w.env, path, 4<<20, map[string]string{"Cookie": cookieName + "=" + jarToken(t, member), "X-CSRF-Token": member.CSRF})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("4 MiB upload body = %d, want 413", r.Status)
	}
	// Other routes keep FORUM_MAX_BODY_BYTES even though uploads may be larger.
	env := testkit.Start(t, dbURL, func(c *config.Config) { c.MaxBodyBytes = 8 << 10 })
	u := env.NewUser("member")
	c := env.Login(u)
	r = oversized(t, env, "/api/v1/meetings/1/notes", 16<<10, map[string]string{"Cookie": cookieName + "=" + jarToken(t, c), "X-CSRF-Token": c.CSRF})
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("16 KiB JSON body with an 8 KiB limit = %d, want 413", r.Status)
	}
	// Upload routes accept more than FORUM_MAX_BODY_BYTES, but only with a session.
	r = oversized(t, env, "/api/v1/meetings/1/attachments", 16<<10, nil)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("anonymous 16 KiB upload = %d, want 413 (no session, no large body)", r.Status)
	}
}

// A meeting holds at most FORUM_MAX_FILES_PER_MEETING files, also when uploads
// race for the last places.
func TestUploadCountLimit(t *testing.T) {
	w := newForumWorld(t, func(c *config.Config) { c.MaxFilesPerMeeting = 3 })
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	upload(t, member, m.ID, "pierwszy.txt", []byte("pierwszy"))

	var wg sync.WaitGroup
	statuses := make(chan int, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses <- uploadTo(t, member, fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID), fmt.Sprintf("plik-%d.txt", i), []byte(fmt.Sprintf("treść %d", i))).Status
		}(i)
	}
	wg.Wait()
	close(statuses)
	created, refused := 0, 0
	for s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusBadRequest:
			refused++
		default:
			t.Errorf("racing upload answered %d", s)
		}
	}
	if created != 2 || refused != 4 {
		t.Errorf("with 1 of 3 places taken, 6 racing uploads: %d created, %d refused; want 2 and 4", created, refused)
	}
	r := uploadTo(t, member, fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID), "czwarty.txt", []byte("za dużo"))
	if e := wantError(t, "fourth file", r, 400, "validation"); !strings.Contains(e.Error.Details["file"], "najwięcej dozwolonych plików") {
		t.Errorf("count limit message: %v", e.Error.Details)
	}
	if n := countRows(t, w.env, `SELECT count(*) FROM attachments WHERE meeting_id = $1`, m.ID); n != 3 {
		t.Errorf("meeting has %d files, want 3", n)
	}
	if files := uploadDir(t, w.env); len(files) != 3 {
		t.Errorf("upload directory holds %v, want the 3 stored files", files)
	}
}

// The same content is stored once; a file leaves the disk only with the last
// row that needs it. Deleting is for the uploader and moderators.
func TestSameContentStoredOnceAndDelete(t *testing.T) {
	w := newForumWorld(t)
	mod, member, observer, outsider := w.env.Login(w.moderator), w.env.Login(w.member), w.env.Login(w.observer), w.env.Login(w.outsider)
	other := w.env.NewUser("member")
	w.env.AddMember(other.ID, w.group.ID, "member")
	otherMember := w.env.Login(other)
	m := createMeeting(t, mod, w.group.ID)
	content := samplePDF()
	a1 := upload(t, member, m.ID, "Program.pdf", content)
	a2 := upload(t, otherMember, m.ID, "Program (kopia).pdf", content)
	if a1.Checksum != a2.Checksum || a1.ID == a2.ID {
		t.Fatalf("two uploads: %+v / %+v", a1, a2)
	}
	if files := uploadDir(t, w.env); len(files) != 1 || files[0] != a1.Checksum {
		t.Fatalf("same content twice: upload directory holds %v, want only %s", files, a1.Checksum)
	}

	del := func(c *testkit.Client, id int64) *testkit.Response {
		return c.JSON("DELETE", fmt.Sprintf("/api/v1/attachments/%d", id), nil)
	}
	wantStatus(t, "another member deletes", del(otherMember, a1.ID), http.StatusForbidden)
	wantStatus(t, "observer deletes", del(observer, a1.ID), http.StatusForbidden)
	wantStatus(t, "non-member deletes", del(outsider, a1.ID), http.StatusNotFound)
	wantStatus(t, "uploader deletes", del(member, a1.ID), http.StatusNoContent)
	if files := uploadDir(t, w.env); len(files) != 1 {
		t.Errorf("after deleting one of two rows the file is gone: %v", files)
	}
	wantStatus(t, "download the other copy", otherMember.Get(a2.URL), http.StatusOK)
	wantStatus(t, "deleted file", member.Get(a1.URL), http.StatusNotFound)
	wantStatus(t, "moderator deletes", del(mod, a2.ID), http.StatusNoContent)
	if files := uploadDir(t, w.env); len(files) != 0 {
		t.Errorf("after deleting the last row the file stays: %v", files)
	}
	wantStatus(t, "delete twice", del(mod, a2.ID), http.StatusNotFound)
	if n := countRows(t, w.env, `SELECT count(*) FROM audit_log WHERE action = 'attachment.delete' AND target_id IN ($1, $2)`, a1.ID, a2.ID); n != 2 {
		t.Errorf("%d audit entries for two deletions", n)
	}

	// The HTML way: a confirmation page, then the delete.
	a3 := upload(t, member, m.ID, "Zdjęcie.png", sampleImage(t, "png"))
	wantStatus(t, "confirmation for another member", otherMember.Get(fmt.Sprintf("/files/%d/delete", a3.ID)), http.StatusForbidden)
	page := mod.Get(fmt.Sprintf("/files/%d/delete", a3.ID))
	wantStatus(t, "confirmation page", page, http.StatusOK)
	if !contains(page.String(), "Zdjęcie.png", `action="/files/`) {
		t.Error("confirmation page does not name the file or lacks its form")
	}
	r := mod.Form(fmt.Sprintf("/files/%d/delete", a3.ID), nil)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/m/%d/files", m.ID) {
		t.Errorf("delete form: %d %q", r.Status, r.Header.Get("Location"))
	}
	if n := countRows(t, w.env, `SELECT count(*) FROM attachments WHERE id = $1`, a3.ID); n != 0 {
		t.Error("the delete form did not delete")
	}
}

// Downloads: readers of the group only, the Polish name intact (RFC 5987 with
// an ASCII fallback), the type decided at upload, nosniff, revalidation.
func TestDownloadHeadersAndAccess(t *testing.T) {
	w := newForumWorld(t)
	member, observer, outsider := w.env.Login(w.member), w.env.Login(w.observer), w.env.Login(w.outsider)
	staff := w.env.Login(w.env.NewUser("staff"))
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	a := upload(t, member, m.ID, "Notatka_z_sesji_łódź.pdf", samplePDF())
	if a.URL != fmt.Sprintf("/attachments/%d/Notatka_z_sesji_%%C5%%82%%C3%%B3d%%C5%%BA.pdf", a.ID) {
		t.Errorf("url %q", a.URL)
	}
	for name, path := range map[string]string{"page URL": a.URL, "page URL without name": fmt.Sprintf("/attachments/%d", a.ID),
		"API": fmt.Sprintf("/api/v1/attachments/%d", a.ID)} {
		for who, c := range map[string]*testkit.Client{"observer": observer, "staff": staff} {
			r := c.Get(path)
			wantStatus(t, who+" downloads via "+name, r, http.StatusOK)
			want := `attachment; filename="Notatka_z_sesji_lodz.pdf"; filename*=UTF-8''Notatka_z_sesji_%C5%82%C3%B3d%C5%BA.pdf`
			if got := r.Header.Get("Content-Disposition"); got != want {
				t.Errorf("Content-Disposition\n got %s\nwant %s", got, want)
			}
			// What a browser makes of it: Go's parser reads filename* like browsers do.
			if _, params, err := mimeParse(r.Header.Get("Content-Disposition")); err != nil || params["filename"] != "Notatka_z_sesji_łódź.pdf" {
				t.Errorf("parsed name %q (%v)", params["filename"], err)
			}
			if r.Header.Get("Content-Type") != "application/pdf" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", r.Header)
			}
		}
		if r := outsider.Get(path); r.Status != http.StatusNotFound || bytes.Contains(r.Body, []byte("%PDF")) {
			t.Errorf("non-member downloads via %s: %d", name, r.Status)
		}
		if r := w.env.Anonymous().Get(path); r.Status == http.StatusOK {
			t.Errorf("anonymous downloads via %s", name)
		}
	}
	// Metadata when asked for JSON.
	var meta attachmentJSON
	r := member.JSON("GET", fmt.Sprintf("/api/v1/attachments/%d", a.ID), nil)
	wantStatus(t, "metadata", r, http.StatusOK)
	r.Decode(&meta)
	if meta.ID != a.ID || meta.Filename != "Notatka_z_sesji_łódź.pdf" {
		t.Errorf("metadata %+v", meta)
	}
	var list struct{ Items []attachmentJSON }
	member.Get(fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID)).Decode(&list)
	if len(list.Items) != 1 || list.Items[0].ID != a.ID {
		t.Errorf("list %+v", list.Items)
	}
	wantStatus(t, "non-member lists", outsider.Get(fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID)), http.StatusNotFound)
	// Revalidation with the checksum as ETag.
	r = member.Do("GET", a.URL, nil, map[string]string{"If-None-Match": `"` + a.Checksum + `"`})
	if r.Status != http.StatusNotModified || len(r.Body) != 0 {
		t.Errorf("If-None-Match: %d, %d bytes", r.Status, len(r.Body))
	}
}

// Uploaded images show inline in notes (and posts, which share the renderer);
// other files are never served as images.
func TestImagesInlineInNotes(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	img := upload(t, member, m.ID, "Tablica (szkic).png", sampleImage(t, "png"))
	pdf := upload(t, member, m.ID, "Raport.pdf", samplePDF())
	n := createNote(t, member, m.ID, "Zdjęcia z wizyty", "Tablica:\n\n"+img.Markdown+"\n\nZdalne: ![x](https://evil.example/x.png)")
	if !strings.Contains(n.BodyHTML, `<img src="/attachments/`+fmt.Sprint(img.ID)+`/`) || strings.Contains(n.BodyHTML, "evil.example") {
		t.Errorf("note HTML %s", n.BodyHTML)
	}
	page := member.Get(fmt.Sprintf("/n/%d", n.ID)).String()
	if !strings.Contains(page, `<img src="/attachments/`) {
		t.Error("note page does not show the image")
	}
	r := member.Get(pdf.URL)
	if !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment;") || strings.HasPrefix(r.Header.Get("Content-Type"), "image/") {
		t.Errorf("a PDF could be shown as an image: %v", r.Header)
	}
}

// A failed insert leaves no row, no stored file and no temporary file; a stale
// temporary file or an unreferenced stored file from a crash is swept at start.
func TestUploadCrashSafety(t *testing.T) {
	w := newForumWorld(t)
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	// The database refuses one particular upload after the file was renamed
	// into place: the row insert is the last step.
	_, err := w.env.DB.Exec(`
		CREATE OR REPLACE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.filename LIKE 'boom%' THEN RAISE EXCEPTION 'simulated failure'; END IF; RETURN NEW; END $$;
		DROP TRIGGER IF EXISTS refuse_boom ON attachments;
		CREATE TRIGGER refuse_boom BEFORE INSERT ON attachments FOR EACH ROW EXECUTE FUNCTION refuse_boom();`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.env.DB.Exec(`DROP TRIGGER IF EXISTS refuse_boom ON attachments`) })

	r := uploadTo(t, member, fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID), "boom.pdf", samplePDF())
	wantError(t, "failing insert", r, http.StatusInternalServerError, "internal")
	checkNoLeak(t, "failing insert", r.Body)
	if n := countRows(t, w.env, `SELECT count(*) FROM attachments WHERE meeting_id = $1`, m.ID); n != 0 {
		t.Errorf("failed insert left %d rows", n)
	}
	if left := uploadDir(t, w.env); len(left) != 0 {
		t.Errorf("failed insert left files: %v", left)
	}

	// The same content already stored by someone else stays when a second
	// upload of it fails.
	pdf := samplePDF()
	kept := upload(t, member, m.ID, "program.pdf", pdf)
	r = uploadTo(t, member, fmt.Sprintf("/api/v1/meetings/%d/attachments", m.ID), "boom-kopia.pdf", pdf)
	wantStatus(t, "failing duplicate", r, http.StatusInternalServerError)
	if files := uploadDir(t, w.env); len(files) != 1 || files[0] != kept.Checksum {
		t.Errorf("after a failed duplicate the directory holds %v, want %s", files, kept.Checksum)
	}
	wantStatus(t, "the kept file", member.Get(kept.URL), http.StatusOK)

	// What a crash leaves: a half-written temporary file and a stored file
	// whose row was never committed, both an hour old; plus a fresh temporary
	// file of an upload in progress, which must be left alone.
	dir := w.env.Config.UploadDir
	old := time.Now().Add(-2 * time.Hour)
	orphan := sha([]byte("never committed"))
	for _, name := range []string{".upload-123", orphan, ".upload-fresh"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != ".upload-fresh" {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Chtimes(filepath.Join(dir, kept.Checksum), old, old); err != nil {
		t.Fatal(err)
	}
	if err := w.env.App.Notes.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	files := uploadDir(t, w.env)
	if strings.Join(files, " ") != strings.Join(sortedStrings(".upload-fresh", kept.Checksum), " ") {
		t.Errorf("after the sweep the directory holds %v, want the fresh temporary file and %s", files, kept.Checksum)
	}
}

func sortedStrings(s ...string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

// The upload forms work without JavaScript: on the meeting's files page and on
// a note; problems come back on the page with the error summary.
func TestUploadForms(t *testing.T) {
	w := newForumWorld(t, func(c *config.Config) { c.MaxUploadBytes = 16 << 10 })
	member := w.env.Login(w.member)
	m := createMeeting(t, w.env.Login(w.moderator), w.group.ID)
	form := func(path, name string, content []byte) *testkit.Response {
		body, ct := multipartBody(t, fileDisposition(name), content, map[string]string{"_csrf": member.CSRF})
		return member.Do("POST", path, body, map[string]string{"Content-Type": ct, "Origin": w.env.URL, "X-CSRF-Token": ""})
	}
	r := form(fmt.Sprintf("/m/%d/files", m.ID), "Program sesji.pdf", samplePDF())
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), fmt.Sprintf("/m/%d/files#file-", m.ID)) {
		t.Fatalf("upload form: %d %q %s", r.Status, r.Header.Get("Location"), trim(r.String()))
	}
	page := member.Get(fmt.Sprintf("/m/%d/files", m.ID)).String()
	if !contains(page, "Program sesji.pdf", `enctype="multipart/form-data"`, `name="file"`, "Plik przesłany") {
		t.Error("files page lacks the file, the upload form or the flash")
	}
	r = form(fmt.Sprintf("/m/%d/files", m.ID), "raport.pdf", sampleExe())
	wantStatus(t, "exe through the form", r, http.StatusBadRequest)
	if !contains(r.String(), `class="error-summary"`, `href="#f-file"`, "To jest program", `aria-invalid="true"`) {
		t.Errorf("form error page: %s", trim(r.String()))
	}
	r = form(fmt.Sprintf("/m/%d/files", m.ID), "wielki.txt", bytes.Repeat([]byte("a"), 17<<10))
	wantStatus(t, "oversized through the form", r, http.StatusRequestEntityTooLarge)
	if !contains(r.String(), "Największy dozwolony rozmiar to 16 KB") {
		t.Errorf("oversized form page: %s", trim(r.String()))
	}

	n := createNote(t, member, m.ID, "Notatka z plikiem", "treść")
	r = form(fmt.Sprintf("/n/%d/files", n.ID), "załącznik.txt", []byte("do notatki"))
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), fmt.Sprintf("/n/%d#file-", n.ID)) {
		t.Fatalf("note upload form: %d %q", r.Status, r.Header.Get("Location"))
	}
	var nj struct {
		Attachments []attachmentJSON
	}
	member.Get(fmt.Sprintf("/api/v1/notes/%d", n.ID)).Decode(&nj)
	if len(nj.Attachments) != 1 || nj.Attachments[0].NoteID == nil || *nj.Attachments[0].NoteID != n.ID {
		t.Errorf("note attachments %+v", nj.Attachments)
	}
	r = form(fmt.Sprintf("/n/%d/files", n.ID), "", nil)
	wantStatus(t, "note form without a file", r, http.StatusBadRequest)
	if !contains(r.String(), "Wybierz plik do przesłania", "Notatka z plikiem") {
		t.Errorf("note page with the error: %s", trim(r.String()))
	}
	// The API also takes a note's files at /notes/{id}/attachments.
	r = uploadTo(t, member, fmt.Sprintf("/api/v1/notes/%d/attachments", n.ID), "drugi.txt", []byte("drugi"))
	wantStatus(t, "note upload API", r, http.StatusCreated)
	// An observer sees the files but no upload form.
	obs := w.env.Login(w.observer).Get(fmt.Sprintf("/m/%d/files", m.ID)).String()
	if !strings.Contains(obs, "Program sesji.pdf") || strings.Contains(obs, `name="file"`) {
		t.Error("observer's files page: wrong list or an upload form")
	}
}

func mimeParse(v string) (string, map[string]string, error) { return mime.ParseMediaType(v) }
