package web

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/moderation"
)

func (s *server) moderationAPIRoutes() []route {
	var rs []route
	for _, action := range moderation.ThreadActions {
		rs = append(rs, post("/threads/:id/"+action, s.apiThreadAction(action)))
	}
	return append(rs,
		patch("/threads/:id", s.apiEditThread),
		post("/threads/:id/move", s.apiMoveThread),
		post("/threads/:id/merge", s.apiMergeThread),
		post("/threads/:id/split", s.apiSplitThread),
		post("/posts/:id/hide", s.apiHidePost(true)),
		post("/posts/:id/unhide", s.apiHidePost(false)),
		post("/posts/:id/flags", s.apiReport),
		get("/groups/:id/flags", s.apiFlags),
		post("/flags/:id/resolve", s.apiCloseFlag(true)),
		post("/flags/:id/dismiss", s.apiCloseFlag(false)),
		get("/groups/:id/mutes", s.apiMutes),
		post("/groups/:id/mutes", s.apiMute),
		del("/groups/:id/mutes/:user_id", s.apiUnmute),
		patch("/groups/:id", s.apiGroupSettings),
		get("/audit", s.apiAudit),
	)
}

// decodeOptionalJSON accepts an empty body (an action without a reason).
func decodeOptionalJSON(c *fiber.Ctx, dst any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	return decodeJSON(c, dst)
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

// threadJSON answers a moderation action with the updated thread (SPEC §4).
func (s *server) threadJSON(c *fiber.Ctx, id int64, status int) error {
	v, err := s.Forum.Thread(c.UserContext(), actor(c), id, 1, false)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(v.Thread)
}

func (s *server) apiThreadAction(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var in reasonRequest
		if err := decodeOptionalJSON(c, &in); err != nil {
			return err
		}
		if err := s.Mod.ThreadAction(c.UserContext(), actor(c), id, action, in.Reason); err != nil {
			return err
		}
		return s.threadJSON(c, id, fiber.StatusOK)
	}
}

func (s *server) apiEditThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in moderation.ThreadEdit
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Mod.EditThread(c.UserContext(), actor(c), id, in); err != nil {
		return err
	}
	return s.threadJSON(c, id, fiber.StatusOK)
}

type moveRequest struct {
	GroupID int64  `json:"group_id"`
	Reason  string `json:"reason"`
}

func (s *server) apiMoveThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in moveRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Mod.Move(c.UserContext(), actor(c), id, in.GroupID, in.Reason); err != nil {
		return err
	}
	return s.threadJSON(c, id, fiber.StatusOK)
}

type mergeRequest struct {
	IntoThreadID int64  `json:"into_thread_id"`
	Reason       string `json:"reason"`
}

func (s *server) apiMergeThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in mergeRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Mod.Merge(c.UserContext(), actor(c), id, in.IntoThreadID, in.Reason); err != nil {
		return err
	}
	return s.threadJSON(c, in.IntoThreadID, fiber.StatusOK)
}

func (s *server) apiSplitThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in moderation.SplitInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	newID, err := s.Mod.Split(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return s.threadJSON(c, newID, fiber.StatusCreated)
}

func (s *server) apiHidePost(hide bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var in reasonRequest
		if err := decodeOptionalJSON(c, &in); err != nil {
			return err
		}
		if err := s.Mod.HidePost(c.UserContext(), actor(c), id, hide, in.Reason); err != nil {
			return err
		}
		p, _, _, err := s.Forum.Post(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		return c.JSON(p)
	}
}

func (s *server) apiReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in reasonRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	fid, err := s.Mod.Report(c.UserContext(), actor(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": fid, "post_id": id, "reason": strings.TrimSpace(in.Reason), "state": "open"})
}

func (s *server) apiFlags(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	_, flags, err := s.Mod.Flags(c.UserContext(), actor(c), id, c.Query("state"), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(moderation.ViewFlags(flags), p, page))
}

type noteRequest struct {
	Note string `json:"note"`
}

func (s *server) apiCloseFlag(resolve bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var in noteRequest
		if err := decodeOptionalJSON(c, &in); err != nil {
			return err
		}
		f, err := s.Mod.CloseFlag(c.UserContext(), actor(c), id, resolve, in.Note)
		if err != nil {
			return err
		}
		return c.JSON(moderation.ViewFlag(f))
	}
}

func (s *server) apiMutes(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, mutes, _, err := s.Mod.Mutes(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": moderation.ViewMutes(mutes)})
}

func (s *server) apiMute(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in moderation.MuteInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := s.Mod.Mute(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(moderation.ViewMute(m))
}

func (s *server) apiUnmute(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	uid, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	if err := s.Mod.Unmute(c.UserContext(), actor(c), id, uid); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiGroupSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in moderation.GroupSettings
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	g, err := s.Mod.UpdateGroup(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(accounts.ViewGroup(g))
}

// auditQuery reads group_id, actor_id, action and pagination.
func auditQuery(c *fiber.Ctx) (moderation.AuditQuery, int, error) {
	p, page, err := pageParams(c)
	if err != nil {
		return moderation.AuditQuery{}, 0, err
	}
	q := moderation.AuditQuery{Page: p, Action: c.Query("action")}
	for name, dst := range map[string]*int64{"group_id": &q.GroupID, "actor_id": &q.ActorID} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return q, 0, &badRequest{name + " must be an id"}
			}
			*dst = n
		}
	}
	return q, page, nil
}

func (s *server) apiAudit(c *fiber.Ctx) error {
	q, page, err := auditQuery(c)
	if err != nil {
		return err
	}
	entries, err := s.Mod.Audit(c.UserContext(), actor(c), q)
	if err != nil {
		return err
	}
	out := make([]moderation.AuditEntryView, len(entries))
	for i, e := range entries {
		out[i] = moderation.ViewAuditEntry(e)
	}
	return c.JSON(paginate(out, q.Page, page))
}
