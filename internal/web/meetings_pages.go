package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/store"
)

func (s *server) meetingPageRoutes() []route {
	return []route{
		get("/g/:id/meetings", s.pageMeetings),
		get("/g/:id/meetings/new", s.pageNewMeetingForm),
		post("/g/:id/meetings", s.pageCreateMeeting),
		get("/m/:id", s.pageMeeting),
		get("/m/:id/edit", s.pageEditMeetingForm),
		post("/m/:id/edit", s.pageUpdateMeeting),
		get("/m/:id/end", s.pageConfirmEndMeeting),
		post("/m/:id/:status<regex(^(start|end)$)>", s.pageMeetingStatus),
		post("/m/:id/messages", s.pageSendMessage),
	}
}

type meetingsPageData struct {
	Group     model.Group
	Upcoming  []meetings.Meeting
	Past      []meetings.Meeting
	CanCreate bool
}

func (s *server) pageMeetings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, up, err := s.Meetings.List(c.UserContext(), actor(c), id, false, store.Page{Limit: 50})
	if err != nil {
		return err
	}
	_, past, err := s.Meetings.List(c.UserContext(), actor(c), id, true, store.Page{Limit: 50})
	if err != nil {
		return err
	}
	return s.render(c, "meetings", pageOpts{Title: s.tr(c).T("meeting.list_title"), Nav: "index"},
		meetingsPageData{Group: g, Upcoming: up, Past: past, CanCreate: actor(c).CanModerate(g)})
}

type meetingFormData struct {
	Group   model.Group
	Meeting *meetings.Meeting
}

// Dates in forms are Warsaw local time, as people read them.
const formDate, formTime = "2006-01-02", "15:04"

// meetingFormOf says which form: a new meeting of the group :id, or the
// meeting :id edited.
type meetingFormOf bool

const (
	newMeeting  meetingFormOf = false
	editMeeting meetingFormOf = true
)

func (s *server) pageNewMeetingForm(c *fiber.Ctx) error {
	return s.renderMeetingForm(c, newMeeting, pageOpts{})
}

func (s *server) pageEditMeetingForm(c *fiber.Ctx) error {
	return s.renderMeetingForm(c, editMeeting, pageOpts{})
}

func (s *server) renderMeetingForm(c *fiber.Ctx, of meetingFormOf, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d := meetingFormData{}
	zone := s.tr(c).Zone()
	if of == editMeeting {
		m, err := s.Meetings.Get(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		if !m.CanModerate {
			return apperr.ErrForbidden
		}
		d.Meeting, d.Group = &m, model.Group{ID: m.GroupID, Name: m.GroupName}
		if o.Form == nil {
			st, en := m.StartsAt.In(zone), m.EndsAt.In(zone)
			o.Form = map[string]string{"title": m.Title, "starts_date": st.Format(formDate), "starts_time": st.Format(formTime),
				"ends_date": en.Format(formDate), "ends_time": en.Format(formTime), "location": m.Location, "online_url": m.OnlineURL, "agenda": m.Agenda}
		}
	} else {
		g, err := s.Meetings.Group(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		if !actor(c).CanModerate(g) {
			return apperr.ErrForbidden
		}
		d.Group = g
	}
	o.Title, o.Nav = s.tr(c).T("meeting.form_title"), "index"
	return s.render(c, "meeting_form", o, d)
}

// meetingInput reads the meeting form; unparsable dates become field errors.
func (s *server) meetingInput(c *fiber.Ctx) (meetings.Input, map[string]string) {
	zone := s.tr(c).Zone()
	str := func(n string) *string { v := c.FormValue(n); return &v }
	in := meetings.Input{Title: str("title"), Location: str("location"), OnlineURL: str("online_url"), Agenda: str("agenda")}
	bad := map[string]string{}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"starts", &in.StartsAt}, {"ends", &in.EndsAt}} {
		t, err := time.ParseInLocation(formDate+" "+formTime, c.FormValue(f.name+"_date")+" "+c.FormValue(f.name+"_time"), zone)
		if err != nil {
			bad[f.name+"_at"] = s.tr(c).T("err.until_format")
			continue
		}
		*f.dst = &t
	}
	return in, bad
}

func (s *server) meetingFormResult(c *fiber.Ctx, of meetingFormOf, m meetings.Meeting, err error, bad map[string]string) error {
	fe := s.formError(c, err, rateOnForm)
	if fe == nil && err != nil && len(bad) == 0 {
		return err
	}
	if fe != nil || len(bad) > 0 {
		if fe == nil {
			fe = map[string]string{}
			c.Status(fiber.StatusBadRequest)
		}
		for k, v := range bad {
			fe[k] = v
		}
		return s.renderMeetingForm(c, of, pageOpts{Errors: fe, Form: formValues(c, "title", "starts_date", "starts_time",
			"ends_date", "ends_time", "location", "online_url", "agenda")})
	}
	s.flash(c, "flash.saved")
	return c.Redirect(fmt.Sprintf("/m/%d", m.ID), fiber.StatusSeeOther)
}

func (s *server) pageCreateMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in, bad := s.meetingInput(c)
	var m meetings.Meeting
	if len(bad) == 0 {
		m, err = s.Meetings.Create(c.UserContext(), actor(c), id, in)
	} else {
		// Unreadable dates: still report every other field's problem now.
		err = s.Meetings.Check(in)
	}
	return s.meetingFormResult(c, newMeeting, m, err, bad)
}

func (s *server) pageUpdateMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in, bad := s.meetingInput(c)
	var m meetings.Meeting
	if len(bad) == 0 {
		m, err = s.Meetings.Update(c.UserContext(), actor(c), id, in)
	} else {
		// Unreadable dates: still report every other field's problem now.
		err = s.Meetings.Check(in)
	}
	return s.meetingFormResult(c, editMeeting, m, err, bad)
}

type meetingPageData struct {
	Meeting  meetings.Meeting
	Messages []meetings.Message
	After    int64 // the archive page starts after this seq
	Before   int64 // where the previous archive page starts
	Next     int64 // seq to continue from, 0 if none
	ClientID string
	// Extras: the meeting's notes, files and attendance (internal/notes).
	Extras notes.Overview
	// Roles: user id → "moderator" | "staff", the badges in the chat and room.
	Roles map[int64]string
}

// RoleIDs lists the ids with role r, space-separated (for the live chat script).
func (d meetingPageData) RoleIDs(r string) string {
	var b strings.Builder
	for id, role := range d.Roles {
		if role == r {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
	}
	return b.String()
}

const chatPage = 50

func (s *server) pageMeeting(c *fiber.Ctx) error { return s.renderMeeting(c, pageOpts{}) }

func (s *server) renderMeeting(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Meetings.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	after := int64(0)
	if v := c.Query("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return &badRequest{"after must be a non-negative number"}
		}
	} else if m.LastSeq > chatPage {
		// By default show the latest page: that is what someone joining wants.
		after = m.LastSeq - chatPage
	}
	msgs, err := s.Meetings.After(c.UserContext(), actor(c), id, after, chatPage+1)
	if err != nil {
		return err
	}
	d := meetingPageData{Meeting: m, After: after, Before: max(after-chatPage, 0), ClientID: uuid.NewString()}
	if len(msgs) > chatPage {
		msgs = msgs[:chatPage]
		d.Next = msgs[len(msgs)-1].Seq
	}
	d.Messages = msgs
	if d.Extras, err = s.Notes.Overview(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	if d.Roles, err = s.Meetings.RoleBadges(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	o.Title, o.Nav = m.Title, "index"
	return s.render(c, "meeting", o, d)
}

// pageConfirmEndMeeting asks before ending a meeting: ending closes the chat
// for everyone and cannot be undone, so the meeting page's button leads here.
func (s *server) pageConfirmEndMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Meetings.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !m.CanModerate {
		return apperr.ErrForbidden
	}
	back := fmt.Sprintf("/m/%d", id)
	if m.Status != "live" {
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	tr := s.tr(c).T
	return s.render(c, "confirm", pageOpts{Title: tr("meeting.end"), Nav: "index"}, confirmPage{
		Question: tr("meeting.end_question", "Title", m.Title), Detail: tr("meeting.end_detail"),
		Action: back + "/end", Button: tr("meeting.end_confirm"), Cancel: back + "#chat"})
}

func (s *server) pageMeetingStatus(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	status := map[string]string{"start": "live", "end": "ended"}[c.Params("status")]
	_, err = s.Meetings.SetStatus(c.UserContext(), actor(c), id, status)
	var conflict *apperr.Conflict
	if err != nil && !errors.As(err, &conflict) {
		return err
	}
	if status == "live" {
		// The moderator runs the chat: land on it.
		return c.Redirect(fmt.Sprintf("/m/%d#chat", id), fiber.StatusSeeOther)
	}
	return c.Redirect(fmt.Sprintf("/m/%d", id), fiber.StatusSeeOther)
}

// pageSendMessage is the chat without JavaScript: the form carries a client id
// made when the page was rendered, so submitting twice stores one message.
func (s *server) pageSendMessage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	msg, _, err := s.Meetings.Send(c.UserContext(), actor(c), id, c.FormValue("client_id"), body)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderMeeting(c, pageOpts{Errors: fe, Form: map[string]string{"body": body}})
	}
	var denied *apperr.Denied
	if errors.As(err, &denied) {
		c.Status(fiber.StatusForbidden)
		return s.renderMeeting(c, pageOpts{Errors: map[string]string{"form": s.tr(c).T("error." + denied.Code)}, Form: map[string]string{"body": body}})
	}
	if err != nil {
		return err
	}
	after := int64(0)
	if msg.Seq > chatPage {
		after = msg.Seq - chatPage
	}
	return c.Redirect(fmt.Sprintf("/m/%d?after=%d#c%d", id, after, msg.Seq), fiber.StatusSeeOther)
}
