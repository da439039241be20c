package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/practices"
	"github.com/gwd-jst/forumjst/internal/store"
)

// The good-practice library (issue 15 item 1): /praktyki pages and
// /api/v1/practices. Rules live in package practices (and access).

func init() {
	// The description's parts come after the fields every form shares, in
	// the order the practice form shows them.
	fieldOrder = append(fieldOrder, "problem", "solution", "results", "costs", "transfer", "contact", "comment")
	auditActions = append(auditActions, "practice.submit", "practice.publish", "practice.return")
}

func (s *server) practiceAPIRoutes() []route {
	return []route{
		get("/practices", s.apiPractices),
		post("/practices", s.apiCreatePractice),
		get("/practices/:id", s.apiPractice),
		patch("/practices/:id", s.apiEditPractice),
		post("/practices/:id/submit", s.apiPracticeMove(func(s *server, c *fiber.Ctx, id int64) (practices.Practice, error) {
			return s.Practices.Submit(c.UserContext(), actor(c), id)
		})),
		post("/practices/:id/publish", s.apiPracticeMove(func(s *server, c *fiber.Ctx, id int64) (practices.Practice, error) {
			return s.Practices.Publish(c.UserContext(), actor(c), id)
		})),
		post("/practices/:id/return", s.apiReturnPractice),
		get("/practices/:id/revisions", s.apiPracticeRevisions),
		post("/practices/:id/attachments", s.apiPracticeUpload).uploadsTo(uploadToPractice),
	}
}

func (s *server) practicePageRoutes() []route {
	return []route{
		get("/praktyki", s.pagePractices),
		get("/praktyki/nowa", s.pageNewPractice),
		post("/praktyki", s.pageCreatePractice),
		get("/praktyki/:id", s.pagePractice),
		get("/praktyki/:id/druk", s.pagePracticePrint),
		get("/praktyki/:id/edytuj", s.pageEditPractice),
		post("/praktyki/:id/edytuj", s.pageSavePractice),
		get("/praktyki/:id/historia", s.pagePracticeHistory),
		get("/praktyki/:id/zglos", s.pageConfirmPracticeMove("submit")),
		post("/praktyki/:id/zglos", s.pagePracticeMove("submit")),
		get("/praktyki/:id/opublikuj", s.pageConfirmPracticeMove("publish")),
		post("/praktyki/:id/opublikuj", s.pagePracticeMove("publish")),
		get("/praktyki/:id/zwroc", s.pageReturnPracticeForm),
		post("/praktyki/:id/zwroc", s.pageReturnPractice),
		post("/praktyki/:id/pliki", s.pagePracticeUpload).uploadsTo(uploadToPractice),
	}
}

// --- JSON API ---------------------------------------------------------------

// practiceFilter reads the list filters from the query string.
func practiceFilter(c *fiber.Ctx) (practices.Filter, int, error) {
	p, page, err := pageParams(c)
	if err != nil {
		return practices.Filter{}, 0, err
	}
	f := practices.Filter{JSTKind: c.Query("jst_kind"), Voivodeship: c.Query("voivodeship"), Status: c.Query("status"), Page: p}
	if v := c.Query("area"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, 0, apperr.Invalid("area", "err.area_unknown")
		}
		f.AreaID = n
	}
	return f, page, nil
}

func (s *server) apiPractices(c *fiber.Ctx) error {
	f, page, err := practiceFilter(c)
	if err != nil {
		return err
	}
	list, err := s.Practices.List(c.UserContext(), actor(c), f)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, f.Page, page))
}

func (s *server) apiCreatePractice(c *fiber.Ctx) error {
	var in practices.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Practices.Create(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *server) apiPractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Practices.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// apiEditPractice saves {…, version}; a stale version answers 409 with
// error.current holding the practice that won (nothing is lost).
func (s *server) apiEditPractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in practices.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Practices.Edit(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiPracticeMove(do func(*server, *fiber.Ctx, int64) (practices.Practice, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		if len(c.Body()) > 0 {
			var none struct{}
			if err := decodeJSON(c, &none); err != nil {
				return err
			}
		}
		p, err := do(s, c, id)
		if err != nil {
			return err
		}
		return c.JSON(p)
	}
}

type returnRequest struct {
	Comment string `json:"comment"`
}

func (s *server) apiReturnPractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in returnRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Practices.Return(c.UserContext(), actor(c), id, in.Comment)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiPracticeRevisions(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, revs, err := s.Practices.History(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": revs})
}

// uploadPractice stores the form's file on a practice; who may upload is
// checked before a byte of the body is read.
func (s *server) uploadPractice(c *fiber.Ctx, practiceID int64) (notes.Attachment, error) {
	u, rec, cancel, err := s.receiveUpload(c, func() error { return s.Notes.CanUploadPractice(c.UserContext(), actor(c), practiceID) })
	if err != nil {
		return notes.Attachment{}, err
	}
	defer cancel()
	return s.Notes.UploadPractice(c.UserContext(), actor(c), practiceID, notes.UploadInput{Filename: u.filename, File: rec})
}

func (s *server) apiPracticeUpload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, err := s.uploadPractice(c, id)
	if err != nil {
		return err // a file over the limit: 413 too_large (handleError)
	}
	return c.Status(fiber.StatusCreated).JSON(at)
}

// --- pages ------------------------------------------------------------------

// practicesPerPage is how many published practices /praktyki shows at once.
const practicesPerPage = 20

type practicesPageData struct {
	Published []practices.Practice
	Own       []practices.Practice // the reader's groups' drafts, submitted and returned
	Review    []practices.Practice // staff: submitted ones waiting for review
	Areas     []model.Area
	JSTKinds  []string
	Voivods   []string
	Filter    practices.Filter
	AreaSel   string
	Filtered  bool
	CanCreate bool
	Page      int
	HasMore   bool
	Extra     string
}

func (s *server) pagePractices(c *fiber.Ctx) error {
	f, page, err := practiceFilter(c)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		f, page = practices.Filter{Page: store.Page{Limit: 21}}, 1
		c.Status(fiber.StatusOK)
	} else if err != nil {
		return err
	}
	ctx, a := c.UserContext(), actor(c)
	if err := a.LoggedIn(); err != nil {
		return err
	}
	d := practicesPageData{JSTKinds: model.JSTKinds, Voivods: model.Voivodeships, Filter: f, Page: page,
		CanCreate: a.IsStaff() || len(a.WritingGroupIDs()) > 0}
	if f.AreaID != 0 {
		d.AreaSel = strconv.FormatInt(f.AreaID, 10)
	}
	d.Filtered = f.AreaID != 0 || f.JSTKind != "" || f.Voivodeship != ""
	f.Page = store.Page{Limit: practicesPerPage + 1, Offset: (page - 1) * practicesPerPage}
	pub := f
	pub.Status = access.PracticePublished
	list, err := s.Practices.List(ctx, a, pub)
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		o := pageOpts{Title: s.tr(c).T("practice.title"), Nav: "practices", Errors: s.translateErrors(c, verr.Fields), NewsletterOffer: true}
		c.Status(fiber.StatusBadRequest)
		d.Areas, _ = s.Practices.Areas(ctx)
		return s.render(c, "practices", o, d)
	}
	if err != nil {
		return err
	}
	pl := paginate(list, f.Page, page)
	d.Published, d.HasMore = pl.Items, pl.HasMore
	if page == 1 {
		all := practices.Filter{Page: store.Page{Limit: 200}}
		for _, st := range []string{access.PracticeReturned, access.PracticeDraft, access.PracticeSubmitted} {
			own := all
			own.Status, own.OwnGroups = st, true
			l, err := s.Practices.List(ctx, a, own)
			if err != nil {
				return err
			}
			d.Own = append(d.Own, l...)
		}
		if a.IsStaff() {
			rev := all
			rev.Status = access.PracticeSubmitted
			if d.Review, err = s.Practices.List(ctx, a, rev); err != nil {
				return err
			}
		}
	}
	if d.Areas, err = s.Practices.Areas(ctx); err != nil {
		return err
	}
	extra := url.Values{}
	if f.AreaID != 0 {
		extra.Set("area", d.AreaSel)
	}
	if f.JSTKind != "" {
		extra.Set("jst_kind", f.JSTKind)
	}
	if f.Voivodeship != "" {
		extra.Set("voivodeship", f.Voivodeship)
	}
	if len(extra) > 0 {
		d.Extra = "&" + extra.Encode()
	}
	return s.render(c, "practices", pageOpts{Title: s.tr(c).T("practice.title"), Nav: "practices", NewsletterOffer: true}, d)
}

type practiceEditData struct {
	Practice      *practices.Practice // nil for a new one
	Form          practices.Form
	Version       int
	SelectedAreas map[int64]bool
	JSTSel        string
	Parts         []string
	Conflict      *practices.Practice
}

func (s *server) pageNewPractice(c *fiber.Ctx) error {
	gid, _ := strconv.ParseInt(c.Query("group_id"), 10, 64)
	return s.renderNewPractice(c, gid, pageOpts{}, nil)
}

func (s *server) renderNewPractice(c *fiber.Ctx, groupID int64, o pageOpts, areas []int64) error {
	f, err := s.Practices.NewForm(c.UserContext(), actor(c), groupID)
	if err != nil {
		return err
	}
	if o.Form == nil {
		o.Form = map[string]string{}
	}
	jstSel := o.Form["jst_id"]
	if jstSel == "" && f.JSTID != 0 {
		jstSel = strconv.FormatInt(f.JSTID, 10)
	}
	o.Title, o.Nav = s.tr(c).T("practice.new"), "practices"
	return s.render(c, "practice_edit", o, practiceEditData{Form: f, SelectedAreas: selected(areas), JSTSel: jstSel,
		Parts: practices.Parts})
}

func selected(ids []int64) map[int64]bool {
	m := map[int64]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// practiceFormInput reads the practice form.
func practiceFormInput(c *fiber.Ctx) (practices.Input, map[string]string, []int64) {
	form := map[string]string{"title": c.FormValue("title"), "jst_id": c.FormValue("jst_id"), "group_id": c.FormValue("group_id")}
	in := practices.Input{}
	t := form["title"]
	in.Title = &t
	if v, err := strconv.ParseInt(form["jst_id"], 10, 64); err == nil {
		in.JSTID = &v
	} else {
		var zero int64
		in.JSTID = &zero
	}
	if v, err := strconv.ParseInt(form["group_id"], 10, 64); err == nil {
		in.GroupID = &v
	}
	areas := formIDs(c, "areas")
	in.Areas = &areas
	for _, name := range practices.Parts {
		v := c.FormValue(name)
		form[name] = v
		switch name {
		case "problem":
			in.Problem = &v
		case "solution":
			in.Solution = &v
		case "results":
			in.Results = &v
		case "costs":
			in.Costs = &v
		case "transfer":
			in.Transfer = &v
		case "contact":
			in.Contact = &v
		}
	}
	return in, form, areas
}

func (s *server) pageCreatePractice(c *fiber.Ctx) error {
	in, form, areas := practiceFormInput(c)
	p, err := s.Practices.Create(c.UserContext(), actor(c), in)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		var gid int64
		if in.GroupID != nil {
			gid = *in.GroupID
		}
		return s.renderNewPractice(c, gid, pageOpts{Errors: fe, Form: form}, areas)
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.practice_created")
	return c.Redirect(p.URL, fiber.StatusSeeOther)
}

type practicePageData struct {
	Practice       practices.Practice
	MaxUploadBytes string
	Allowed        string
	Print          bool
	// PublicURL makes the print view's links whole addresses, so paper and
	// PDF say where to find the practice.
	PublicURL string
}

func (s *server) pagePractice(c *fiber.Ctx) error { return s.renderPractice(c, pageOpts{}, false) }

func (s *server) pagePracticePrint(c *fiber.Ctx) error { return s.renderPractice(c, pageOpts{}, true) }

func (s *server) renderPractice(c *fiber.Ctx, o pageOpts, print bool) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Practices.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	limit, _ := s.Notes.Limits()
	o.Title, o.Nav = p.Title, "practices"
	name := "practice"
	if print {
		name = "practice_print"
	}
	return s.render(c, name, o, practicePageData{Practice: p, MaxUploadBytes: humanSize(limit, lang(c)),
		Allowed: notes.AllowedLabels(), Print: print, PublicURL: strings.TrimRight(s.Config.PublicURL.String(), "/")})
}

func (s *server) editData(c *fiber.Ctx, p practices.Practice, version int) (practiceEditData, error) {
	f, err := s.Practices.EditForm(c.UserContext(), actor(c), p)
	if err != nil {
		return practiceEditData{}, err
	}
	ids := []int64{}
	for _, a := range p.Areas {
		ids = append(ids, a.ID)
	}
	return practiceEditData{Practice: &p, Form: f, Version: version, SelectedAreas: selected(ids),
		JSTSel: strconv.FormatInt(p.JST.ID, 10), Parts: practices.Parts}, nil
}

func practiceForm(p practices.Practice) map[string]string {
	return map[string]string{"title": p.Title, "problem": p.Problem, "solution": p.Solution, "results": p.Results,
		"costs": p.Costs, "transfer": p.Transfer, "contact": p.Contact}
}

func (s *server) pageEditPractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Practices.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !p.CanEdit {
		return apperr.ErrForbidden
	}
	d, err := s.editData(c, p, p.Version)
	if err != nil {
		return err
	}
	return s.render(c, "practice_edit", pageOpts{Title: s.tr(c).T("practice.edit_title", "Title", p.Title), Nav: "practices",
		Form: practiceForm(p)}, d)
}

func (s *server) pageSavePractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in, form, areas := practiceFormInput(c)
	in.GroupID = nil
	in.Version, _ = strconv.Atoi(c.FormValue("version"))
	p, err := s.Practices.Edit(c.UserContext(), actor(c), id, in)
	if err == nil {
		s.flash(c, "flash.saved")
		return c.Redirect(p.URL, fiber.StatusSeeOther)
	}
	var conflict *apperr.Conflict
	fe := s.formError(c, err, rateOnForm)
	if fe == nil && !errors.As(err, &conflict) {
		return err
	}
	cur, err := s.Practices.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	d, err := s.editData(c, cur, in.Version)
	if err != nil {
		return err
	}
	d.SelectedAreas, d.JSTSel = selected(areas), form["jst_id"]
	if conflict != nil {
		c.Status(fiber.StatusConflict)
		if cv, ok := conflict.Current.(practices.Current); ok {
			d.Conflict = &cv.Practice
			// Saving again means "my text, knowing theirs".
			d.Version = cv.Version
		}
	}
	return s.render(c, "practice_edit", pageOpts{Title: s.tr(c).T("practice.edit_title", "Title", cur.Title), Nav: "practices",
		Errors: fe, Form: form}, d)
}

type practiceHistoryData struct {
	Practice  practices.Practice
	Revisions []practices.Revision
}

func (s *server) pagePracticeHistory(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, revs, err := s.Practices.History(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "practice_history", pageOpts{Title: s.tr(c).T("practice.history_title", "Title", p.Title), Nav: "practices"},
		practiceHistoryData{Practice: p, Revisions: revs})
}

// pageConfirmPracticeMove asks before submitting or publishing.
func (s *server) pageConfirmPracticeMove(move string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		p, err := s.Practices.Get(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		if move == "submit" && !p.CanSubmit || move == "publish" && !p.CanReview {
			return apperr.ErrForbidden
		}
		tr := s.tr(c)
		return s.render(c, "confirm", pageOpts{Title: tr.T("practice." + move), Nav: "practices"}, confirmPage{
			Question: tr.T("practice.confirm_"+move, "Title", p.Title), Detail: tr.T("practice.confirm_" + move + "_detail"),
			Action: c.Path(), Button: tr.T("practice." + move), Cancel: p.URL})
	}
}

func (s *server) pagePracticeMove(move string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var p practices.Practice
		if move == "submit" {
			p, err = s.Practices.Submit(c.UserContext(), actor(c), id)
		} else {
			p, err = s.Practices.Publish(c.UserContext(), actor(c), id)
		}
		if fe := s.formError(c, err, rateToErrorPage); fe != nil {
			// Parts missing for review: the practice page says which.
			return s.renderPractice(c, pageOpts{Errors: fe}, false)
		}
		if err != nil {
			return err
		}
		if move == "submit" {
			s.flash(c, "flash.practice_submit")
		} else {
			s.flash(c, "flash.practice_publish")
		}
		return c.Redirect(p.URL, fiber.StatusSeeOther)
	}
}

func (s *server) pageReturnPracticeForm(c *fiber.Ctx) error { return s.renderReturnForm(c, pageOpts{}) }

func (s *server) renderReturnForm(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Practices.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if !p.CanReview {
		return apperr.ErrForbidden
	}
	o.Title, o.Nav = s.tr(c).T("practice.return"), "practices"
	return s.render(c, "practice_return", o, practicePageData{Practice: p})
}

func (s *server) pageReturnPractice(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	comment := c.FormValue("comment")
	p, err := s.Practices.Return(c.UserContext(), actor(c), id, comment)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderReturnForm(c, pageOpts{Errors: fe, Form: map[string]string{"comment": comment}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.practice_return")
	return c.Redirect(p.URL, fiber.StatusSeeOther)
}

func (s *server) pagePracticeUpload(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	at, err := s.uploadPractice(c, id)
	if err == nil {
		s.flash(c, "flash.file_uploaded")
		return c.Redirect(fmt.Sprintf("/praktyki/%d#file-%d", id, at.ID), fiber.StatusSeeOther)
	}
	fe := s.uploadFormError(c, err, rateOnForm)
	if fe == nil {
		return err
	}
	return s.renderPractice(c, pageOpts{Errors: fe}, false)
}
