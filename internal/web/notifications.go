package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/notify"
)

func (s *server) notificationAPIRoutes() []route {
	return []route{
		get("/notifications", s.apiNotifications),
		post("/notifications/read", s.apiNotificationsRead),
	}
}

func (s *server) notificationPageRoutes() []route {
	return []route{
		get("/notifications", s.pageNotifications),
		post("/notifications/read", s.pageNotificationsRead),
		get("/notifications/:id", s.pageOpenNotification),
	}
}

func (s *server) apiNotifications(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	items, err := s.Notify.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(items, p, page))
}

// notificationsReadRequest names the notifications to mark read; none means all.
type notificationsReadRequest struct {
	IDs []int64 `json:"ids"`
}

func (s *server) apiNotificationsRead(c *fiber.Ctx) error {
	var in notificationsReadRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
	}
	n, err := s.Notify.MarkRead(c.UserContext(), actor(c), in.IDs)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"marked": n})
}

type notificationsPage struct {
	Items   []notify.Notification
	Page    int
	HasMore bool
}

func (s *server) pageNotifications(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	items, err := s.Notify.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	list := paginate(items, p, page)
	return s.render(c, "notifications", pageOpts{Title: s.tr(c).T("notifications.title"), Nav: "notifications"},
		notificationsPage{Items: list.Items, Page: page, HasMore: list.HasMore})
}

func (s *server) pageNotificationsRead(c *fiber.Ctx) error {
	if _, err := s.Notify.MarkRead(c.UserContext(), actor(c), nil); err != nil {
		return err
	}
	s.flash(c, "flash.notifications_read")
	return c.Redirect("/notifications", fiber.StatusSeeOther)
}
