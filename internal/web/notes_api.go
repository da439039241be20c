package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/notes"
)

// noteAPIRoutes: session notes, their files, attendance and the meeting record
// (issue 6). Files are in files.go.
func (s *server) noteAPIRoutes() []route {
	return []route{
		get("/meetings/:id/notes", s.apiNotes),
		post("/meetings/:id/notes", s.apiCreateNote),
		get("/notes/:id", s.apiNote),
		patch("/notes/:id", s.apiEditNote),
		get("/notes/:id/revisions", s.apiNoteRevisions),
		get("/meetings/:id/attendance", s.apiAttendance),
		put("/meetings/:id/attendance", s.apiAnswer),
		post("/meetings/:id/attendance/confirm", s.apiConfirmAttendance),
		get("/meetings/:id/record", s.apiRecord),
	}
}

func (s *server) apiNotes(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Notes.Notes(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(paginate(pageOf(list, p), p, page))
}

func (s *server) apiCreateNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in notes.NoteInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.Notes.CreateNote(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

// noteJSON is a note with its files.
type noteJSON struct {
	notes.Note
	Attachments []notes.Attachment `json:"attachments"`
}

func (s *server) apiNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, files, err := s.Notes.NoteWithFiles(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(noteJSON{n, files})
}

// apiEditNote saves {title?, body?, version}; a stale version answers 409 with
// error.current holding the text that won (SPEC §3: nothing is lost).
func (s *server) apiEditNote(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in notes.NoteInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.Notes.EditNote(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *server) apiNoteRevisions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, revs, err := s.Notes.History(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": revs})
}

func (s *server) apiAttendance(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	att, err := s.Notes.Attendance(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(att)
}

type answerRequest struct {
	Answer string `json:"answer"`
}

func (s *server) apiAnswer(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in answerRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	att, err := s.Notes.Answer(c.UserContext(), actor(c), id, in.Answer)
	if err != nil {
		return err
	}
	return c.JSON(att)
}

type confirmRequest struct {
	// Attended lists the user ids who came; everyone else listed did not.
	Attended []int64 `json:"attended"`
}

func (s *server) apiConfirmAttendance(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in confirmRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.Attended == nil {
		in.Attended = []int64{}
	}
	att, err := s.Notes.ConfirmAttendance(c.UserContext(), actor(c), id, in.Attended)
	if err != nil {
		return err
	}
	return c.JSON(att)
}

func (s *server) apiRecord(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rec, err := s.Notes.Record(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(rec)
}
