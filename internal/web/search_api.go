package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/search"
)

// searchAPIRoutes: GET /api/v1/search (issue 13, SPEC §4).
func (s *server) searchAPIRoutes() []route {
	return []route{get("/search", s.apiSearch)}
}

// searchInput reads the query string; the service validates every value.
func searchInput(c *fiber.Ctx) search.Input {
	// Copies: Fiber reuses the request's memory once the handler returns.
	q := func(k string) string { return string([]byte(c.Query(k))) }
	return search.Input{Q: q("q"), GroupID: q("group_id"), Kind: q("kind"), Area: q("area"), Type: q("type"),
		AuthorID: q("author_id"), From: q("from"), To: q("to"), Sort: q("sort"), Page: q("page")}
}

func (s *server) apiSearch(c *fiber.Ctx) error {
	res, err := s.Search.Search(c.UserContext(), actor(c), searchInput(c))
	if err != nil {
		return err
	}
	return c.JSON(res)
}
