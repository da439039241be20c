package web

import (
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/search"
)

func (s *server) searchPageRoutes() []route {
	return []route{get("/search", s.pageSearch)}
}

type searchPageData struct {
	In       search.Input
	Options  search.Options
	Result   *search.Result
	Filtered bool   // some filter beyond the words is set: "no results" offers to drop them
	Query    string // the query string for the pager, without page
	Plain    string // the words alone, for "search without filters"
}

// pageSearch shows the form, and the hits once words were given. It works
// without JavaScript: a plain GET form.
func (s *server) pageSearch(c *fiber.Ctx) error {
	a := actor(c)
	if err := a.LoggedIn(); err != nil {
		return err
	}
	in := searchInput(c)
	opts, err := s.Search.Options(c.UserContext(), a, in.AuthorID)
	if err != nil {
		return err
	}
	if opts.Author != nil && opts.Author.Former {
		opts.Author.Name = accounts.FormerName[lang(c)]
	}
	tr := s.tr(c)
	d := searchPageData{In: in, Options: opts,
		Filtered: in.GroupID != "" || in.Kind != "" || in.Area != "" || in.Type != "" || in.AuthorID != "" || in.From != "" || in.To != ""}
	v := url.Values{"q": {in.Q}}
	d.Plain = "?" + v.Encode()
	for k, val := range map[string]string{"group_id": in.GroupID, "kind": in.Kind, "area": in.Area, "type": in.Type,
		"author_id": in.AuthorID, "from": in.From, "to": in.To, "sort": in.Sort} {
		if val != "" {
			v.Set(k, val)
		}
	}
	d.Query = "&" + v.Encode()
	o := pageOpts{Title: tr.T("search.title"), Nav: "search"}
	if in.Q == "" && !d.Filtered && in.Page == "" {
		return s.render(c, "search", o, d)
	}
	res, err := s.Search.Search(c.UserContext(), a, in)
	var ve *apperr.Validation
	if errors.As(err, &ve) {
		c.Status(fiber.StatusBadRequest)
		o.Errors = s.translateErrors(c, ve.Fields)
		return s.render(c, "search", o, d)
	}
	if err != nil {
		return err
	}
	d.Result = &res
	return s.render(c, "search", o, d)
}
