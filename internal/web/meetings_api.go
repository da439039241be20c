package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/meetings"
)

func (s *server) meetingAPIRoutes() []route {
	return []route{
		get("/groups/:id/meetings", s.apiMeetings),
		post("/groups/:id/meetings", s.apiCreateMeeting),
		get("/meetings/:id", s.apiMeeting),
		patch("/meetings/:id", s.apiUpdateMeeting),
		post("/meetings/:id/start", s.apiMeetingStatus("live")),
		post("/meetings/:id/end", s.apiMeetingStatus("ended")),
		get("/meetings/:id/messages", s.apiMessages),
		post("/meetings/:id/messages", s.apiSendMessage),
	}
}

func (s *server) apiMeetings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	when := c.Query("when", "upcoming")
	if when != "upcoming" && when != "past" {
		return &badRequest{"when must be upcoming or past"}
	}
	_, list, err := s.Meetings.List(c.UserContext(), actor(c), id, when == "past", p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, p, page))
}

func (s *server) apiCreateMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in meetings.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Meetings.Create(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *server) apiMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	m, err := s.Meetings.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *server) apiUpdateMeeting(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in meetings.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Meetings.Update(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *server) apiMeetingStatus(status string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		m, err := s.Meetings.SetStatus(c.UserContext(), actor(c), id, status)
		if err != nil {
			return err
		}
		return c.JSON(m)
	}
}

func (s *server) apiMessages(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	after, limit := int64(0), 50
	if v := c.Query("after_seq"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return &badRequest{"after_seq must be a non-negative number"}
		}
	}
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 200 {
			return &badRequest{"limit must be between 1 and 200"}
		}
	}
	msgs, err := s.Meetings.After(c.UserContext(), actor(c), id, after, limit+1)
	if err != nil {
		return err
	}
	more := len(msgs) > limit
	if more {
		msgs = msgs[:limit]
	}
	return c.JSON(fiber.Map{"items": msgs, "limit": limit, "has_more": more})
}

type sendRequest struct {
	Body     string `json:"body"`
	ClientID string `json:"client_id"`
}

func (s *server) apiSendMessage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in sendRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, created, err := s.Meetings.Send(c.UserContext(), actor(c), id, in.ClientID, in.Body)
	if err != nil {
		return err
	}
	status := fiber.StatusOK // a resend answers with what was stored the first time
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(m)
}
