package web

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/store"
)

// notePageRoutes: notes, files, attendance and the record of a meeting, all
// usable without JavaScript (issue 6).
func (s *server) notePageRoutes() []route {
	return []route{
		get("/m/:id/notes/new", s.pageNewNote),
		post("/m/:id/notes", s.pageCreateNote),
		get("/n/:id", s.pageNote),
		get("/n/:id/edit", s.pageEditNote),
		post("/n/:id/edit", s.pageSaveNote),
		get("/n/:id/history", s.pageNoteHistory),
		get("/m/:id/attendance", s.pageAttendance),
		post("/m/:id/attendance", s.pageAnswer),
		post("/m/:id/attendance/confirm", s.pageConfirmAttendance),
		get("/m/:id/attendance.csv", s.attendanceCSV),
		get("/m/:id/record", s.pageRecord),
		get("/m/:id/record.md", s.recordMarkdown),
	}
}

// --- notes ------------------------------------------------------------------

type noteEditData struct {
	Meeting notes.MeetingInfo
	Note    *notes.Note // nil for a new note
	Version int
	// Conflict is set when someone saved the note while it was being edited:
	// the page shows their text beside the editor's (kept in the form) and
	// what differs, so the two can be merged.
	Conflict     *notes.Current
	ConflictDiff []notes.DiffLine
	Images       []notes.Attachment // for the "show an image" hint
}

func (s *server) pageNewNote(c *fiber.Ctx) error { return s.renderNewNote(c, pageOpts{}) }

func (s *server) renderNewNote(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Notes.Meeting(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !m.CanWrite {
		return apperr.ErrForbidden
	}
	o.Title, o.Nav = s.tr(c).T("note.new"), "index"
	return s.render(c, "note_edit", o, noteEditData{Meeting: m.MeetingInfo, Images: s.images(c, id)})
}

// images lists a meeting's pictures for the editor's hint; a failure only
// loses the hint.
func (s *server) images(c *fiber.Ctx, meetingID int64) []notes.Attachment {
	files, err := s.Notes.Files(c.UserContext(), actor(c), meetingID)
	if err != nil {
		return nil
	}
	var out []notes.Attachment
	for _, f := range files {
		if f.IsImage {
			out = append(out, f)
		}
	}
	return out
}

func (s *server) pageCreateNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	title, body := c.FormValue("title"), c.FormValue("body")
	n, err := s.Notes.CreateNote(c.UserContext(), actor(c), id, notes.NoteInput{Title: &title, Body: &body})
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderNewNote(c, pageOpts{Errors: fe, Form: map[string]string{"title": title, "body": body}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.note_created")
	return c.Redirect(fmt.Sprintf("/n/%d", n.ID), fiber.StatusSeeOther)
}

type notePageData struct {
	Note           notes.Note
	Files          []notes.Attachment
	MaxUploadBytes string
	Allowed        string
}

func (s *server) pageNote(c *fiber.Ctx) error { return s.renderNote(c, pageOpts{}) }

// renderNote shows a note with its files; o.Errors come from its upload form.
func (s *server) renderNote(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, files, err := s.Notes.NoteWithFiles(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	limit, _ := s.Notes.Limits()
	o.Title, o.Nav = n.Title, "index"
	return s.render(c, "note", o, notePageData{Note: n, Files: files, MaxUploadBytes: humanSize(limit, lang(c)), Allowed: notes.AllowedLabels()})
}

func (s *server) pageEditNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, err := s.Notes.Note(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !n.CanEdit {
		return apperr.ErrForbidden
	}
	m, err := s.Notes.Meeting(c.UserContext(), actor(c), n.MeetingID)
	if err != nil {
		return err
	}
	return s.render(c, "note_edit", pageOpts{Title: s.tr(c).T("note.edit_title", "Title", n.Title), Nav: "index",
		Form: map[string]string{"title": n.Title, "body": n.Body}},
		noteEditData{Meeting: m.MeetingInfo, Note: &n, Version: n.Version, Images: s.images(c, n.MeetingID)})
}

func (s *server) pageSaveNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.FormValue("version"))
	title, body := c.FormValue("title"), c.FormValue("body")
	n, err := s.Notes.EditNote(c.UserContext(), actor(c), id, notes.NoteInput{Title: &title, Body: &body, Version: version})
	if err == nil {
		s.flash(c, "flash.saved")
		return c.Redirect(fmt.Sprintf("/n/%d", n.ID), fiber.StatusSeeOther)
	}
	var conflict *apperr.Conflict
	fe := s.formError(c, err, rateOnForm)
	if fe == nil && !errors.As(err, &conflict) {
		return err
	}
	cur, err := s.Notes.Note(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	m, err := s.Notes.Meeting(c.UserContext(), actor(c), cur.MeetingID)
	if err != nil {
		return err
	}
	d := noteEditData{Meeting: m.MeetingInfo, Note: &cur, Version: version, Images: s.images(c, cur.MeetingID)}
	if conflict != nil {
		c.Status(fiber.StatusConflict)
		if cv, ok := conflict.Current.(notes.Current); ok {
			d.Conflict = &cv
			// Saving again means "my text, knowing theirs": it is based on
			// the version just shown.
			d.Version = cv.Version
			d.ConflictDiff = notes.Compact(notes.LineDiff(cv.Body, body), 2)
		}
	}
	return s.render(c, "note_edit", pageOpts{Title: s.tr(c).T("note.edit_title", "Title", cur.Title), Nav: "index",
		Errors: fe, Form: map[string]string{"title": title, "body": body}}, d)
}

type noteHistoryData struct {
	Note      notes.Note
	Revisions []notes.Revision
}

func (s *server) pageNoteHistory(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, revs, err := s.Notes.History(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "note_history", pageOpts{Title: s.tr(c).T("note.history_title", "Title", n.Title), Nav: "index"},
		noteHistoryData{Note: n, Revisions: revs})
}

// --- attendance -------------------------------------------------------------

type attendancePageData struct {
	Meeting    notes.MeetingView
	Attendance notes.Attendance
}

func (s *server) pageAttendance(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Notes.Meeting(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	att, err := s.Notes.Attendance(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "attendance", pageOpts{Title: s.tr(c).T("attendance.title_of", "Title", m.Title), Nav: "index"},
		attendancePageData{Meeting: m, Attendance: att})
}

func (s *server) pageAnswer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Notes.Answer(c.UserContext(), actor(c), id, c.FormValue("answer")); err != nil {
		return err
	}
	s.flash(c, "flash.answer_saved")
	return c.Redirect(localPath(c.FormValue("next"), fmt.Sprintf("/m/%d", id))+"#attendance", fiber.StatusSeeOther)
}

func (s *server) pageConfirmAttendance(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Notes.ConfirmAttendance(c.UserContext(), actor(c), id, formIDs(c, "attended")); err != nil {
		return err
	}
	s.flash(c, "flash.attendance_confirmed")
	return c.Redirect(fmt.Sprintf("/m/%d/attendance", id), fiber.StatusSeeOther)
}

// answerLabel and attendedLabel spell out an answer and a confirmation in the
// reader's language ("" when there is none).
func answerLabel(tr *i18n.Printer, answer *string) string {
	if answer == nil {
		return ""
	}
	switch *answer {
	case store.AnswerYes:
		return tr.T("attendance.yes")
	case store.AnswerMaybe:
		return tr.T("attendance.maybe")
	case store.AnswerNo:
		return tr.T("attendance.no")
	}
	return *answer
}

func attendedLabel(tr *i18n.Printer, attended *bool) string {
	switch {
	case attended == nil:
		return ""
	case *attended:
		return tr.T("attendance.was_present")
	default:
		return tr.T("attendance.was_absent")
	}
}

// csvCell keeps a cell from being read as a formula by spreadsheets (a name
// starting with "=" or "+" would otherwise run when the file is opened).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// attendanceCSV exports the list for the programme's report to its funder:
// UTF-8 with a byte-order mark, which Excel needs to read Polish letters.
func (s *server) attendanceCSV(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, att, err := s.Notes.ExportAttendance(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	w := csv.NewWriter(&buf)
	rows := [][]string{{tr.T("attendance.csv_name"), tr.T("attendance.csv_jst"), tr.T("attendance.csv_answer"), tr.T("attendance.csv_attended")}}
	for _, e := range att.Items {
		jst := ""
		if e.User.JST != nil {
			jst = *e.User.JST
		}
		rows = append(rows, []string{csvCell(e.User.Name), csvCell(jst), answerLabel(tr, e.Answer), attendedLabel(tr, e.Attended)})
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write attendance CSV: %w", err)
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", exportName(tr.T("attendance.csv_file"), m.Title, m.ID)+".csv"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// exportName makes a file name from a prefix and a meeting title.
func exportName(prefix, title string, id int64) string {
	name, err := notes.CleanFilename(prefix + " " + title)
	if err != nil {
		name = fmt.Sprintf("%s %d", prefix, id)
	}
	return strings.Join(strings.Fields(name), "_")
}

// --- record -----------------------------------------------------------------

type recordPageData struct {
	notes.Record
	CanModerate bool
}

func (s *server) pageRecord(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rec, err := s.Notes.Record(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "record", pageOpts{Title: s.tr(c).T("record.title_of", "Title", rec.Meeting.Title), Nav: "index"},
		recordPageData{Record: rec, CanModerate: rec.Attendance.CanConfirm})
}

// recordMarkdown is the meeting record as one Markdown file.
func (s *server) recordMarkdown(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rec, err := s.Notes.Record(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	c.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", exportName(tr.T("record.file"), rec.Meeting.Title, rec.Meeting.ID)+".md"))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString(s.recordText(tr, rec))
}

// mdInline escapes text that goes into Markdown as plain words (names,
// titles), so a "*" or "[" in them stays a character.
var mdInline = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "#", `\#`, "|", `\|`, "\n", " ", "\r", "")

func (s *server) recordText(tr *i18n.Printer, rec notes.Record) string {
	var b strings.Builder
	m := rec.Meeting
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("# %s", mdInline.Replace(m.Title))
	line("")
	line("- %s: %s", tr.T("record.group"), mdInline.Replace(m.GroupName))
	line("- %s: %s – %s", tr.T("record.when"), tr.DateTime(m.StartsAt), tr.DateTime(m.EndsAt))
	if m.Location != "" {
		line("- %s: %s", tr.T("field.location"), mdInline.Replace(m.Location))
	}
	if m.OnlineURL != "" {
		line("- %s: <%s>", tr.T("field.online_url"), m.OnlineURL)
	}
	line("")

	line("## %s", tr.T("field.agenda"))
	line("")
	if m.Agenda != "" {
		line("%s", m.Agenda)
	} else {
		line("_%s_", tr.T("record.no_agenda"))
	}
	line("")

	line("## %s", tr.T("note.list_title"))
	line("")
	if len(rec.Notes) == 0 {
		line("_%s_", tr.T("note.none"))
		line("")
	}
	for _, n := range rec.Notes {
		line("### %s", mdInline.Replace(n.Title))
		line("")
		editor := n.Author
		if n.EditedBy != nil {
			editor = *n.EditedBy
		}
		line("_%s_", tr.T("record.note_meta", "Author", mdInline.Replace(n.Author.Name), "Editor", mdInline.Replace(editor.Name),
			"When", tr.DateTime(n.UpdatedAt), "Version", n.Version))
		line("")
		if n.Body != "" {
			line("%s", n.Body)
			line("")
		}
	}

	line("## %s", tr.T("attendance.title"))
	line("")
	if len(rec.Attendance.Items) == 0 {
		line("_%s_", tr.T("attendance.none"))
	} else {
		line("| %s | %s | %s | %s |", tr.T("attendance.csv_name"), tr.T("attendance.csv_jst"), tr.T("attendance.csv_answer"), tr.T("attendance.csv_attended"))
		line("|---|---|---|---|")
		for _, e := range rec.Attendance.Items {
			jst := ""
			if e.User.JST != nil {
				jst = *e.User.JST
			}
			line("| %s | %s | %s | %s |", mdInline.Replace(e.User.Name), mdInline.Replace(jst), answerLabel(tr, e.Answer), attendedLabel(tr, e.Attended))
		}
	}
	line("")

	line("## %s", tr.T("files.title"))
	line("")
	if len(rec.Files) == 0 {
		line("_%s_", tr.T("files.none"))
	}
	for _, f := range rec.Files {
		line("- [%s](%s%s) – %s, %s, %s, %s", mdInline.Replace(f.Filename), s.Config.PublicURL.String(), f.URL, f.KindLabel,
			humanSize(f.Size, tr.Lang), mdInline.Replace(f.Uploader.Name), tr.DateTime(f.CreatedAt))
	}
	line("")

	line("## %s", tr.T("record.chat"))
	line("")
	if len(rec.Chat) == 0 {
		line("_%s_", tr.T("meeting.chat_empty"))
	}
	for _, msg := range rec.Chat {
		who := mdInline.Replace(msg.Author.Name)
		if msg.Author.JST != nil {
			who += " (" + mdInline.Replace(*msg.Author.JST) + ")"
		}
		line("**%s**, %s:", who, tr.DateTime(msg.CreatedAt))
		line("")
		for _, l := range strings.Split(msg.Body, "\n") {
			line("> %s", l)
		}
		line("")
	}
	return b.String()
}
