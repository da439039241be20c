package web

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/reviews"
)

// Opinions on training materials (issue 15 item 3): /opiniowanie and
// /api/v1/reviews, /api/v1/sections, /api/v1/comments. Thin: the rules are
// the reviews service's and internal/access's.

func (s *server) reviewPageRoutes() []route {
	return []route{
		get("/opiniowanie", s.pageReviews),
		post("/opiniowanie", s.pageReviewCreate),
		get("/opiniowanie/nowy", s.pageReviewNew),
		get("/opiniowanie/:id", s.pageReview),
		get("/opiniowanie/:id/dokument", s.reviewDocument).downloads(),
		post("/opiniowanie/:id/dokument", s.pageReviewDocument).uploadsTo(uploadToReview),
		post("/opiniowanie/:id/sekcje", s.pageReviewSectionAdd),
		get("/opiniowanie/:id/sekcje/:sid", s.pageReviewSection),
		post("/opiniowanie/:id/sekcje/:sid", s.pageReviewComment),
		get("/opiniowanie/:id/komentarze/:cid", s.pageReviewRespond),
		post("/opiniowanie/:id/komentarze/:cid", s.pageReviewRespondPost),
		get("/opiniowanie/:id/podsumowanie", s.pageReviewSummary),
		get("/opiniowanie/:id/podsumowanie/:format<regex(^(md|csv)$)>", s.reviewSummaryExport),
	}
}

func (s *server) reviewAPIRoutes() []route {
	return []route{
		get("/reviews", s.apiReviews),
		post("/reviews", s.apiReviewCreate),
		get("/reviews/:id", s.apiReview),
		post("/reviews/:id/sections", s.apiReviewSectionAdd),
		post("/reviews/:id/document", s.apiReviewDocument).uploadsTo(uploadToReview),
		get("/reviews/:id/document", s.reviewDocument).downloads(),
		get("/reviews/:id/summary", s.apiReviewSummary),
		get("/sections/:id", s.apiReviewSection),
		post("/sections/:id/comments", s.apiReviewComment),
		post("/comments/:id/response", s.apiReviewRespond),
	}
}

// --- JSON API -------------------------------------------------------------

func (s *server) apiReviews(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Reviews.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, p, page))
}

func (s *server) apiReviewCreate(c *fiber.Ctx) error {
	var in reviews.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Reviews.Create(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *server) apiReview(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Reviews.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *server) apiReviewSectionAdd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in reviews.SectionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	sec, err := s.Reviews.AddSection(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(sec)
}

// uploadReviewDocument streams the form's file into the upload directory
// (staff only, asked before a byte is read) and stores it as the material's
// draft document.
func (s *server) uploadReviewDocument(c *fiber.Ctx, id int64) (reviews.ReviewDetail, error) {
	u, rec, cancel, err := s.receiveUpload(c, func() error { return s.Reviews.CanUploadDocument(c.UserContext(), actor(c), id) })
	if err != nil {
		return reviews.ReviewDetail{}, err
	}
	defer cancel()
	return s.Reviews.UploadDocument(c.UserContext(), actor(c), id, u.filename, rec)
}

func (s *server) apiReviewDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.uploadReviewDocument(c, id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// reviewDocument downloads the draft document, for readers of the material
// only (404 for everyone else, as the page).
func (s *server) reviewDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, f, err := s.Reviews.Document(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	etag := `"` + d.Checksum + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && (inm == etag || inm == "*") {
		f.Close()
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", d.Filename))
	c.Context().SetBodyStream(f, int(d.Size))
	return nil
}

func (s *server) apiReviewSection(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Reviews.Section(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *server) apiReviewComment(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in reviews.CommentInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cm, err := s.Reviews.Comment(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cm)
}

func (s *server) apiReviewRespond(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in reviews.ResponseInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	cm, err := s.Reviews.Respond(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(cm)
}

// apiReviewSummary answers by Accept: CSV (text/csv), JSON
// (application/json), Markdown otherwise (text/markdown, */*).
func (s *server) apiReviewSummary(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sum, err := s.Reviews.Summary(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	accept := c.Get(fiber.HeaderAccept)
	switch {
	case strings.Contains(accept, "text/csv"):
		return s.sendSummary(c, sum, "csv")
	case strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/markdown"):
		return c.JSON(sum)
	default:
		return s.sendSummary(c, sum, "md")
	}
}

func (s *server) sendSummary(c *fiber.Ctx, sum reviews.Summary, format string) error {
	tr := s.tr(c)
	name := fmt.Sprintf("opiniowanie-%d.%s", sum.Review.ID, format)
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentDisposition, contentDisposition("attachment", name))
	if format == "csv" {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		return c.Send(sum.CSV(tr))
	}
	c.Set(fiber.HeaderContentType, "text/markdown; charset=utf-8")
	return c.Send(sum.Markdown(tr))
}

// --- pages ----------------------------------------------------------------

type reviewsPage struct {
	Items   []reviews.Review
	Page    int
	HasMore bool
	Staff   bool
}

func (s *server) pageReviews(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Reviews.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	return s.render(c, "reviews", pageOpts{Title: s.tr(c).T("review.list.title"), Nav: "reviews", NewsletterOffer: true},
		reviewsPage{Items: pg.Items, Page: page, HasMore: pg.HasMore, Staff: actor(c).IsStaff()})
}

type reviewNewPage struct {
	Groups []choice
}

func (s *server) renderReviewNew(c *fiber.Ctx, o pageOpts, picked []int64) error {
	groups, err := s.Reviews.GroupChoices(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	tr := s.tr(c)
	d := reviewNewPage{}
	for _, g := range groups {
		d.Groups = append(d.Groups, choice{Value: strconv.FormatInt(g.ID, 10), Label: g.Name + " (" + tr.T("kind."+g.Kind) + ")",
			Checked: slices.Contains(picked, g.ID)})
	}
	o.Title, o.Nav = tr.T("review.new.title"), "reviews"
	return s.render(c, "review_new", o, d)
}

func (s *server) pageReviewNew(c *fiber.Ctx) error {
	return s.renderReviewNew(c, pageOpts{}, nil)
}

func (s *server) pageReviewCreate(c *fiber.Ctx) error {
	in := reviews.Input{Title: c.FormValue("title"), Description: c.FormValue("description"), Deadline: c.FormValue("deadline")}
	for _, v := range c.Request().PostArgs().PeekMulti("group_ids") {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			in.GroupIDs = append(in.GroupIDs, id)
		}
	}
	r, err := s.Reviews.Create(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderReviewNew(c, pageOpts{Errors: fe, Form: map[string]string{"title": in.Title,
			"description": in.Description, "deadline": in.Deadline}}, in.GroupIDs)
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.review_created")
	return c.Redirect(fmt.Sprintf("/opiniowanie/%d", r.ID), fiber.StatusSeeOther)
}

type reviewPage struct {
	R reviews.ReviewDetail
	// Which form the errors belong to: "document" or "section".
	ErrorsOf string
}

func (s *server) renderReview(c *fiber.Ctx, id int64, o pageOpts, errorsOf string) error {
	r, err := s.Reviews.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	o.Title, o.Nav = r.Title, "reviews"
	return s.render(c, "review", o, reviewPage{R: r, ErrorsOf: errorsOf})
}

func (s *server) pageReview(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.renderReview(c, id, pageOpts{}, "")
}

func (s *server) pageReviewDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, err = s.uploadReviewDocument(c, id)
	if err == nil {
		s.flash(c, "flash.review_document")
		return c.Redirect(fmt.Sprintf("/opiniowanie/%d#document", id), fiber.StatusSeeOther)
	}
	fe := s.uploadFormError(c, err, rateToErrorPage)
	if fe == nil {
		return err
	}
	return s.renderReview(c, id, pageOpts{Errors: fe}, "document")
}

func (s *server) pageReviewSectionAdd(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := reviews.SectionInput{Number: c.FormValue("number"), Title: c.FormValue("title"), Body: c.FormValue("body")}
	sec, err := s.Reviews.AddSection(c.UserContext(), actor(c), id, in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderReview(c, id, pageOpts{Errors: fe, Form: map[string]string{"number": in.Number, "title": in.Title, "body": in.Body}}, "section")
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.review_section")
	return c.Redirect(fmt.Sprintf("/opiniowanie/%d#s%d", id, sec.ID), fiber.StatusSeeOther)
}

type reviewSectionPage struct {
	reviews.SectionView
	// ReplyTo is the comment the form answers (?reply_to=), nil for a new comment.
	ReplyTo *reviews.Comment
	Ratings []string
}

// sectionParams reads the material's and the section's ids; a section of
// another material is not found.
func sectionParams(c *fiber.Ctx) (int64, int64, error) {
	id, err := idParam(c, "id")
	if err != nil {
		return 0, 0, err
	}
	sid, err := idParam(c, "sid")
	return id, sid, err
}

func (s *server) renderReviewSection(c *fiber.Ctx, o pageOpts, replyTo string) error {
	id, sid, err := sectionParams(c)
	if err != nil {
		return err
	}
	v, err := s.Reviews.Section(c.UserContext(), actor(c), sid)
	if err != nil {
		return err
	}
	if v.Review.ID != id {
		return fiber.ErrNotFound
	}
	d := reviewSectionPage{SectionView: v, Ratings: reviews.Ratings}
	if replyTo != "" && v.Review.CanComment {
		rid, _ := strconv.ParseInt(replyTo, 10, 64)
		for i := range v.Comments {
			if v.Comments[i].ID == rid {
				d.ReplyTo = &v.Comments[i]
			}
		}
	}
	o.Title, o.Nav = v.Section.Number+" "+v.Section.Title+" – "+v.Review.Title, "reviews"
	return s.render(c, "review_section", o, d)
}

func (s *server) pageReviewSection(c *fiber.Ctx) error {
	return s.renderReviewSection(c, pageOpts{}, c.Query("reply_to"))
}

func (s *server) pageReviewComment(c *fiber.Ctx) error {
	id, sid, err := sectionParams(c)
	if err != nil {
		return err
	}
	in := reviews.CommentInput{Body: c.FormValue("body"), Rating: c.FormValue("rating")}
	replyTo := strings.TrimSpace(c.FormValue("reply_to"))
	if replyTo != "" {
		rid, perr := strconv.ParseInt(replyTo, 10, 64)
		if perr != nil || rid <= 0 {
			return &badRequest{"reply_to must be a comment id"}
		}
		in.ReplyTo = &rid
	}
	cm, err := s.Reviews.Comment(c.UserContext(), actor(c), sid, in)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderReviewSection(c, pageOpts{Errors: fe, Form: map[string]string{"body": in.Body, "rating": in.Rating}}, replyTo)
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.review_comment")
	return c.Redirect(fmt.Sprintf("/opiniowanie/%d/sekcje/%d#c%d", id, sid, cm.ID), fiber.StatusSeeOther)
}

type reviewRespondPage struct {
	reviews.SectionView
	Comment reviews.Comment
}

func (s *server) renderReviewRespond(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	cid, err := idParam(c, "cid")
	if err != nil {
		return err
	}
	v, cm, err := s.Reviews.CommentFor(c.UserContext(), actor(c), cid)
	if err != nil {
		return err
	}
	if v.Review.ID != id || cm.ReplyTo != nil {
		return fiber.ErrNotFound
	}
	if !v.Review.CanAdminister {
		return apperr.ErrForbidden
	}
	if o.Form == nil && cm.Response != nil {
		o.Form = map[string]string{"status": cm.Response.Status, "reason": cm.Response.Reason}
	}
	o.Title, o.Nav = s.tr(c).T("review.respond.title"), "reviews"
	return s.render(c, "review_respond", o, reviewRespondPage{SectionView: v, Comment: cm})
}

func (s *server) pageReviewRespond(c *fiber.Ctx) error { return s.renderReviewRespond(c, pageOpts{}) }

func (s *server) pageReviewRespondPost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	cid, err := idParam(c, "cid")
	if err != nil {
		return err
	}
	in := reviews.ResponseInput{Status: c.FormValue("status"), Reason: c.FormValue("reason")}
	cm, err := s.Reviews.Respond(c.UserContext(), actor(c), cid, in)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderReviewRespond(c, pageOpts{Errors: fe, Form: map[string]string{"status": in.Status, "reason": in.Reason}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.review_response")
	return c.Redirect(fmt.Sprintf("/opiniowanie/%d/sekcje/%d#c%d", id, cm.SectionID, cm.ID), fiber.StatusSeeOther)
}

func (s *server) pageReviewSummary(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sum, err := s.Reviews.Summary(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "review_summary", pageOpts{Title: s.tr(c).T("review.summary.title") + ": " + sum.Review.Title, Nav: "reviews"}, sum)
}

func (s *server) reviewSummaryExport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	sum, err := s.Reviews.Summary(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.sendSummary(c, sum, c.Params("format"))
}
