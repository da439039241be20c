package web

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

func (s *server) forumPageRoutes() []route {
	return []route{
		get("/g/:id", s.pageGroup),
		get("/g/:id/new", s.pageNewThread),
		post("/g/:id/threads", s.pageCreateThread),
		get("/t/:id", s.pageThread),
		post("/t/:id/posts", s.pageReply),
		get("/p/:id", s.pagePermalink),
		get("/p/:id/edit", s.pageEditPost),
		post("/p/:id/edit", s.pageEditPostSubmit),
		get("/p/:id/delete", s.pageConfirmDelete),
		post("/p/:id/delete", s.pageDeletePost),
		get("/p/:id/revisions", s.pageRevisions),
		get("/admin/areas", s.adminAreas),
		post("/admin/areas", s.adminSaveArea),
	}
}

func threadURL(id int64, page int, anchor string) string {
	u := fmt.Sprintf("/t/%d", id)
	if page > 1 {
		u += "?page=" + strconv.Itoa(page)
	}
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

type groupPageData struct {
	forum.GroupView
	AreaID  int64
	Sort    string
	Page    int
	HasMore bool
	Query   string // area and sort for pager links
	// ThreadList is the page's threads, written by renderThreadList.
	ThreadList htmlChunks
}

func (s *server) pageGroup(c *fiber.Ctx) error {
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
	list := paginate(v.Threads, q.Page, page)
	v.Threads = list.Items
	extra := ""
	if q.AreaID > 0 {
		extra += "&area=" + strconv.FormatInt(q.AreaID, 10)
	}
	if q.Sort == "created" {
		extra += "&sort=created"
	}
	d := groupPageData{GroupView: v, AreaID: q.AreaID, Sort: q.Sort, Page: page, HasMore: list.HasMore, Query: extra}
	d.ThreadList = renderThreadList(postListPage{tr: s.tr(c), lang: lang(c), now: time.Now()}, &d)
	return s.render(c, "group", pageOpts{Title: v.Group.Name, Nav: "index"}, d)
}

type newThreadData struct {
	Group         model.Group
	Areas         []model.Area
	SelectedAreas map[int64]bool
}

func (s *server) pageNewThread(c *fiber.Ctx) error {
	return s.renderNewThread(c, pageOpts{}, nil)
}

func (s *server) renderNewThread(c *fiber.Ctx, o pageOpts, selected []int64) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Forum.NewThreadForm(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !v.CanOpenThreads {
		return apperr.ErrForbidden
	}
	sel := map[int64]bool{}
	for _, a := range selected {
		sel[a] = true
	}
	o.Title, o.Nav = s.tr(c).T("thread.new"), "index"
	return s.render(c, "thread_new", o, newThreadData{Group: v.Group, Areas: v.Areas, SelectedAreas: sel})
}

// formIDs reads repeated form values (checkboxes) as ids, ignoring junk.
func formIDs(c *fiber.Ctx, name string) []int64 {
	var out []int64
	for _, v := range c.Context().PostArgs().PeekMulti(name) {
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func (s *server) pageCreateThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := forum.NewThreadInput{Title: c.FormValue("title"), Body: c.FormValue("body"), Areas: formIDs(c, "areas")}
	t, _, err := s.Forum.CreateThread(c.UserContext(), actor(c), id, in)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderNewThread(c, pageOpts{Errors: fe, Form: formValues(c, "title", "body")}, in.Areas)
	}
	if err != nil {
		return err
	}
	return c.Redirect(threadURL(t.ID, 1, ""), fiber.StatusSeeOther)
}

// rateLimitShown says where a form shows a rate limit.
type rateLimitShown bool

const (
	// rateOnForm: a writing form (post, note, message) says "wait a minute"
	// above the text it kept.
	rateOnForm rateLimitShown = true
	// rateToErrorPage: elsewhere (password and code checks) a rate limit is
	// the error page's 429, with its Retry-After.
	rateToErrorPage rateLimitShown = false
)

// formError is how every HTML form handler turns a service's refusal into
// what the form shows again: messages by field ("form" for the whole form),
// translated, with the status set (400 for invalid input, 429 for too fast).
// It is nil when err is nil or not the person's to fix at the form; the
// handler then returns err and the error page answers.
func (s *server) formError(c *fiber.Ctx, err error, rate rateLimitShown) map[string]string {
	if err == nil {
		return nil
	}
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		c.Status(fiber.StatusBadRequest)
		return s.translateErrors(c, verr.Fields)
	}
	var rl *apperr.RateLimited
	if rate == rateOnForm && errors.As(err, &rl) {
		c.Status(fiber.StatusTooManyRequests)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(rl.RetryAfter.Seconds())))
		return map[string]string{"form": s.tr(c).T("err.post_rate")}
	}
	return nil
}

type threadPageData struct {
	forum.ThreadView
	ReplyTo      *forum.Post
	Draft        string
	UnreadAnchor int // position of the first unread post if it is on this page
	UnreadPage   int // page of the first unread post
	// PostList is the page's posts, written by renderPostList.
	PostList htmlChunks
}

func (s *server) pageThread(c *fiber.Ctx) error {
	return s.renderThread(c, pageOpts{}, "")
}

// renderThread shows a page of a thread; draft refills the composer after an error.
func (s *server) renderThread(c *fiber.Ctx, o pageOpts, draft string) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	page, err := pageNumber(c)
	if err != nil {
		return err
	}
	v, err := s.Forum.Thread(c.UserContext(), actor(c), id, page, true)
	if err != nil {
		return err
	}
	d := threadPageData{ThreadView: v, Draft: draft}
	// Only when the reader has read part of the thread: on a first visit
	// everything is new and "jump to first unread" would point at post 1.
	if v.FirstUnread > 1 {
		d.UnreadPage = (v.FirstUnread-1)/forum.PageSize + 1
		if d.UnreadPage == v.Page {
			d.UnreadAnchor = v.FirstUnread
		}
	}
	// Reply and quote work without JavaScript: the links reload the page with the
	// composer prefilled.
	target := c.Query("reply_to")
	if target == "" {
		target = c.Query("quote")
	}
	if target != "" {
		pid, err := strconv.ParseInt(target, 10, 64)
		if err == nil {
			if p, _, _, err := s.Forum.Post(c.UserContext(), actor(c), pid); err == nil && p.ThreadID == id && !p.Redacted {
				d.ReplyTo = &p
				if c.Query("quote") != "" && draft == "" {
					d.Draft = quote(p)
				}
			}
		}
	}
	pg := postListPage{tr: s.tr(c), lang: lang(c), now: time.Now(), reader: actor(c)}
	if pr := principal(c); pr != nil {
		pg.csrf = pr.CSRFToken
	}
	d.PostList = renderPostList(pg, &d)
	o.Title, o.Nav = v.Thread.Title, "index"
	return s.render(c, "thread", o, d)
}

// quote builds a quote that reads as one in the text field too: the author
// and the post's number on the first line, each quoted line after "> ".
func quote(p forum.Post) string {
	var b strings.Builder
	fmt.Fprintf(&b, "> %s (#%d):\n", strings.NewReplacer("*", "", "[", "", "]", "", "_", "").Replace(p.Author.Name), p.Position)
	for _, line := range strings.Split(p.Body, "\n") {
		b.WriteString("> " + line + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func (s *server) pageReply(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := forum.NewPostInput{Body: c.FormValue("body"), ReplyTo: formInt64(c, "reply_to")}
	p, err := s.Forum.Reply(c.UserContext(), actor(c), id, in)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderThread(c, pageOpts{Errors: fe}, in.Body)
	}
	if err != nil {
		return err
	}
	return c.Redirect(threadURL(id, (p.Position-1)/forum.PageSize+1, fmt.Sprintf("p%d", p.ID)), fiber.StatusSeeOther)
}

func (s *server) pagePermalink(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	tid, page, err := s.Forum.Locate(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.Redirect(threadURL(tid, page, fmt.Sprintf("p%d", id)), fiber.StatusFound)
}

type editData struct {
	Post    forum.Post
	Thread  forum.Thread
	Group   model.Group
	Version int
	// Conflict is set when the post changed while it was being edited: the page
	// shows the current text next to the editor's, so nothing is lost.
	Conflict *forum.Current
}

func (s *server) pageEditPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, t, g, err := s.Forum.Post(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !p.CanEdit {
		return apperr.ErrForbidden
	}
	return s.render(c, "post_edit", pageOpts{Title: s.tr(c).T("post.edit"), Nav: "index",
		Form: map[string]string{"body": p.Body}}, editData{Post: p, Thread: t, Group: g, Version: p.Version})
}

func (s *server) pageEditPostSubmit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	version, _ := strconv.Atoi(c.FormValue("version"))
	body := c.FormValue("body")
	p, err := s.Forum.EditPost(c.UserContext(), actor(c), id, forum.EditInput{Body: body, Version: version})
	if err == nil {
		return c.Redirect(fmt.Sprintf("/p/%d", p.ID), fiber.StatusSeeOther)
	}
	var conflict *apperr.Conflict
	fe := s.formError(c, err, rateOnForm)
	if fe == nil && !errors.As(err, &conflict) {
		return err
	}
	cur, t, g, lerr := s.Forum.Post(c.UserContext(), actor(c), id)
	if lerr != nil {
		return lerr
	}
	d := editData{Post: cur, Thread: t, Group: g, Version: version}
	if conflict != nil {
		c.Status(fiber.StatusConflict)
		if cv, ok := conflict.Current.(forum.Current); ok {
			d.Conflict = &cv
			d.Version = cv.Version // saving again means "mine wins", knowingly
		}
	}
	return s.render(c, "post_edit", pageOpts{Title: s.tr(c).T("post.edit"), Nav: "index",
		Errors: fe, Form: map[string]string{"body": body}}, d)
}

func (s *server) pageConfirmDelete(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, _, _, err := s.Forum.Post(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !p.CanDelete {
		return apperr.ErrForbidden
	}
	tr := s.tr(c)
	return s.render(c, "confirm", pageOpts{Title: tr.T("post.delete"), Nav: "index"}, confirmPage{
		Question: tr.T("confirm.delete_post", "Name", p.Author.Name, "Position", p.Position),
		Detail:   tr.T("confirm.delete_post_detail"), Action: c.Path(), Button: tr.T("post.delete"),
		Cancel: fmt.Sprintf("/p/%d", p.ID)})
}

func (s *server) pageDeletePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Forum.DeletePost(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "flash.post_deleted")
	return c.Redirect(fmt.Sprintf("/p/%d", id), fiber.StatusSeeOther)
}

type revisionsData struct {
	Post      forum.Post
	Revisions []store.Revision
}

func (s *server) pageRevisions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, revs, err := s.Forum.Revisions(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "revisions", pageOpts{Title: s.tr(c).T("post.revisions"), Nav: "index"},
		revisionsData{Post: p, Revisions: revs})
}

type adminAreasData struct {
	Areas  []model.Area
	Macros []string
}

func (s *server) adminAreas(c *fiber.Ctx) error { return s.renderAdminAreas(c, pageOpts{}) }

func (s *server) renderAdminAreas(c *fiber.Ctx, o pageOpts) error {
	if err := actor(c).Admin(); err != nil {
		return err
	}
	areas, err := s.Forum.Areas(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	o.Title, o.Nav = s.tr(c).T("admin.areas.title"), "admin"
	return s.render(c, "admin_areas", o, adminAreasData{Areas: areas, Macros: forum.MacroAreas()})
}

func (s *server) adminSaveArea(c *fiber.Ctx) error {
	var id int64
	if v := formInt64(c, "id"); v != nil {
		id = *v
	}
	_, err := s.Forum.SaveArea(c.UserContext(), actor(c), id, forum.AreaInput{Name: c.FormValue("name"), MacroArea: c.FormValue("macro_area")})
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderAdminAreas(c, pageOpts{Errors: fe, Form: formValues(c, "id", "name", "macro_area")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect("/admin/areas", fiber.StatusSeeOther)
}
