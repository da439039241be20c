package web

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/forum"
)

// watchRequest is PUT …/watch's optional body; none means "watch".
type watchRequest struct {
	State string `json:"state"`
}

// watchAPIRoutes: watching threads and groups, and the mention completion.
func (s *server) watchAPIRoutes() []route {
	return []route{
		put("/threads/:id/watch", s.apiWatch(s.Forum.WatchThread)),
		del("/threads/:id/watch", s.apiUnwatch(s.Forum.WatchThread)),
		put("/groups/:id/watch", s.apiWatch(s.Forum.WatchGroup)),
		del("/groups/:id/watch", s.apiUnwatch(s.Forum.WatchGroup)),
		get("/groups/:id/people", s.apiPeople),
	}
}

func (s *server) watchPageRoutes() []route {
	return []route{
		post("/t/:id/watch", s.pageWatch(s.Forum.WatchThread, "/t/%d")),
		post("/g/:id/watch", s.pageWatch(s.Forum.WatchGroup, "/g/%d")),
	}
}

// watchFunc is forum.WatchThread or forum.WatchGroup.
type watchFunc = func(ctx context.Context, a *access.Actor, id int64, state string) (forum.Watch, error)

func (s *server) apiWatch(set watchFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		in := watchRequest{State: forum.WatchOn}
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &in); err != nil {
				return err
			}
		}
		// PUT sets a state; DELETE is how one goes back to none.
		if in.State != forum.WatchOn && in.State != forum.WatchMute {
			return apperr.Invalid("state", "err.choice")
		}
		w, err := set(c.UserContext(), actor(c), id, in.State)
		if err != nil {
			return err
		}
		return c.JSON(w)
	}
}

func (s *server) apiUnwatch(set watchFunc) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		if _, err := set(c.UserContext(), actor(c), id, forum.WatchNone); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

var watchFlash = map[string]string{forum.WatchOn: "flash.watch_watch", forum.WatchMute: "flash.watch_mute",
	forum.WatchNone: "flash.watch_none"}

// pageWatch is the buttons' form: state watch, mute or none, then back to the page.
func (s *server) pageWatch(set watchFunc, back string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		w, err := set(c.UserContext(), actor(c), id, c.FormValue("state"))
		if err != nil {
			return err
		}
		s.flash(c, watchFlash[w.State])
		return c.Redirect(fmt.Sprintf(back, id), fiber.StatusSeeOther)
	}
}

// apiPeople feeds the mention completion: ?q= is what follows the "@".
func (s *server) apiPeople(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	people, err := s.Forum.People(c.UserContext(), actor(c), id, c.Query("q"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": people})
}

// pageOpenNotification marks a notification read and goes to its target.
func (s *server) pageOpenNotification(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	url, err := s.Notify.Open(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(url, fiber.StatusSeeOther)
}
