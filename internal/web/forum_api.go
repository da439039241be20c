package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/forum"
)

func (s *server) forumAPIRoutes() []route {
	return []route{
		get("/areas", s.apiAreas),
		post("/areas", s.apiCreateArea),
		patch("/areas/:id", s.apiUpdateArea),
		get("/groups/:id/threads", s.apiGroupThreads),
		post("/groups/:id/threads", s.apiCreateThread),
		get("/threads/:id", s.apiThread),
		post("/threads/:id/posts", s.apiReply),
		post("/preview", s.apiPreview),
		post("/threads/:id/read", s.apiMarkRead),
		get("/posts/:id", s.apiPost),
		patch("/posts/:id", s.apiEditPost),
		del("/posts/:id", s.apiDeletePost),
		get("/posts/:id/revisions", s.apiRevisions),
	}
}

func (s *server) apiAreas(c *fiber.Ctx) error {
	areas, err := s.Forum.Areas(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": forum.ViewAreas(areas)})
}

func (s *server) apiCreateArea(c *fiber.Ctx) error {
	var in forum.AreaInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.Forum.SaveArea(c.UserContext(), actor(c), 0, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(forum.ViewArea(a))
}

func (s *server) apiUpdateArea(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in forum.AreaInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.Forum.SaveArea(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(forum.ViewArea(a))
}

// threadQuery reads area, sort and pagination from the query string.
func threadQuery(c *fiber.Ctx) (forum.ThreadQuery, int, error) {
	p, page, err := pageParams(c)
	if err != nil {
		return forum.ThreadQuery{}, 0, err
	}
	q := forum.ThreadQuery{Page: p, Sort: c.Query("sort")}
	if q.Sort != "" && q.Sort != "activity" && q.Sort != "created" {
		return q, 0, &badRequest{"sort must be activity or created"}
	}
	if v := c.Query("area"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 0 {
			return q, 0, &badRequest{"area must be an area id"}
		}
		q.AreaID = id
	}
	return q, page, nil
}

func (s *server) apiGroupThreads(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	q, page, err := threadQuery(c)
	if err != nil {
		return err
	}
	v, err := s.Forum.Group(c.UserContext(), actor(c), id, q)
	if err != nil {
		return err
	}
	return c.JSON(paginate(v.Threads, q.Page, page))
}

func (s *server) apiCreateThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in forum.NewThreadInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	t, p, err := s.Forum.CreateThread(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(struct {
		forum.Thread
		FirstPost forum.Post `json:"first_post"`
	}{t, p})
}

type threadResponse struct {
	forum.Thread
	Posts     listResponse[forum.Post] `json:"posts"`
	PageCount int                      `json:"page_count"`
}

func (s *server) apiThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	page, err := pageNumber(c)
	if err != nil {
		return err
	}
	v, err := s.Forum.Thread(c.UserContext(), actor(c), id, page, false)
	if err != nil {
		return err
	}
	return c.JSON(threadResponse{Thread: v.Thread, PageCount: v.PageCount,
		Posts: listResponse[forum.Post]{Items: v.Posts, Page: v.Page, Limit: forum.PageSize, HasMore: v.Page < v.PageCount}})
}

// pageNumber reads ?page= (default 1).
func pageNumber(c *fiber.Ctx) (int, error) {
	v := c.Query("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, &badRequest{"page must be a positive number"}
	}
	return n, nil
}

func (s *server) apiReply(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in forum.NewPostInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Forum.Reply(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

type previewRequest struct {
	Body string `json:"body"`
	// GroupID (optional) is the group the text is written in: mentions of
	// its readers are linked as publishing would link them.
	GroupID int64 `json:"group_id"`
}

// apiPreview renders a text as a post would be shown (the toolbar's preview).
func (s *server) apiPreview(c *fiber.Ctx) error {
	var in previewRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Forum.Preview(c.UserContext(), actor(c), in.Body, in.GroupID)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type readRequest struct {
	PostID int64 `json:"post_id"`
}

func (s *server) apiMarkRead(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in readRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.Forum.MarkRead(c.UserContext(), actor(c), id, in.PostID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, _, _, err := s.Forum.Post(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiEditPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in forum.EditInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Forum.EditPost(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiDeletePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Forum.DeletePost(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *server) apiRevisions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, revs, err := s.Forum.Revisions(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": forum.ViewRevisions(revs)})
}
