package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/newsletter"
)

// The programme newsletter (issue 12 item 8): /newsletter and /api/v1/newsletters.

func (s *server) newsletterPageRoutes() []route {
	return []route{
		get("/newsletter", s.pageNewsletters),
		post("/newsletter", s.pageNewsletterCreate),
		post("/newsletter/subscribe", s.pageNewsletterSubscribe),
		get("/newsletter/nowy", s.pageNewsletterNew),
		get("/newsletter/:id", s.pageNewsletter),
		post("/newsletter/:id/edit", s.pageNewsletterEdit),
		post("/newsletter/:id/send", s.pageNewsletterSend),
	}
}

// pageNewsletterSubscribe is the programme pages' "Zapisz się do newslettera"
// button: the newsletter preference becomes "immediately" (what /konto/poczta
// and the unsubscribe link change too), then back to the page it was on.
func (s *server) pageNewsletterSubscribe(c *fiber.Ctx) error {
	if _, err := s.Mail.SetPrefs(c.UserContext(), actor(c), map[string]string{mail.KindNewsletter: mail.Immediately}); err != nil {
		return err
	}
	s.flash(c, "flash.newsletter_subscribed")
	return c.Redirect(localPath(c.FormValue("next"), "/newsletter"), fiber.StatusSeeOther)
}

func (s *server) newsletterAPIRoutes() []route {
	return []route{
		get("/newsletters", s.apiNewsletters),
		post("/newsletters", s.apiCreateNewsletter),
		get("/newsletters/:id", s.apiNewsletter),
		patch("/newsletters/:id", s.apiUpdateNewsletter),
		get("/newsletters/:id/preview", s.apiNewsletterPreview),
		post("/newsletters/:id/send", s.apiSendNewsletter),
	}
}

func (s *server) apiNewsletters(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Newsletter.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, p, page))
}

func (s *server) apiCreateNewsletter(c *fiber.Ctx) error {
	var in newsletter.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.Newsletter.Create(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(n)
}

func (s *server) apiNewsletter(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	n, err := s.Newsletter.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *server) apiUpdateNewsletter(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in newsletter.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.Newsletter.Update(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *server) apiNewsletterPreview(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Newsletter.Preview(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiSendNewsletter(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in newsletter.Audience
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	n, err := s.Newsletter.Send(c.UserContext(), actor(c), id, in)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

type newslettersPage struct {
	Items   []newsletter.Newsletter
	Page    int
	HasMore bool
	Staff   bool
}

func (s *server) pageNewsletters(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Newsletter.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	tr := s.tr(c)
	return s.render(c, "newsletters", pageOpts{Title: tr.T("newsletter.title"), Nav: "newsletter"},
		newslettersPage{Items: pg.Items, Page: page, HasMore: pg.HasMore, Staff: actor(c).IsStaff()})
}

type newsletterPage struct {
	N       newsletter.Newsletter
	Staff   bool
	New     bool
	Preview *mail.Preview
	// The audience form's choices, ticked as sent (after an error).
	KindOpts  []choice
	GroupOpts []choice
	Audience  newsletter.Audience
	Confirm   bool
}

type choice struct {
	Value, Label string
	Checked      bool
}

func (s *server) pageNewsletterNew(c *fiber.Ctx) error {
	if _, err := s.Newsletter.Groups(c.UserContext(), actor(c)); err != nil {
		return err // staff only
	}
	tr := s.tr(c)
	return s.render(c, "newsletter", pageOpts{Title: tr.T("newsletter.new"), Nav: "newsletter"},
		newsletterPage{Staff: true, New: true})
}

func (s *server) pageNewsletterCreate(c *fiber.Ctx) error {
	in := newsletter.Input{Subject: c.FormValue("subject"), Body: c.FormValue("body")}
	n, err := s.Newsletter.Create(c.UserContext(), actor(c), in)
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		tr := s.tr(c)
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "newsletter", pageOpts{Title: tr.T("newsletter.new"), Nav: "newsletter",
			Errors: s.translateErrors(c, verr.Fields), Form: map[string]string{"subject": in.Subject, "body": in.Body}},
			newsletterPage{Staff: true, New: true})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.newsletter_saved")
	return c.Redirect("/newsletter/"+strconv.FormatInt(n.ID, 10), fiber.StatusSeeOther)
}

// renderNewsletter shows an issue; to staff, a draft comes with its mail
// preview, the edit form and the audience form.
func (s *server) renderNewsletter(c *fiber.Ctx, id int64, o pageOpts, d newsletterPage) error {
	ctx, a := c.UserContext(), actor(c)
	n, err := s.Newsletter.Get(ctx, a, id)
	if err != nil {
		return err
	}
	d.N, d.Staff = n, a.IsStaff()
	if d.Staff && n.SentAt == nil {
		tr := s.tr(c)
		for _, k := range model.GroupKinds {
			d.KindOpts = append(d.KindOpts, choice{Value: k, Label: tr.T("kind." + k), Checked: slices.Contains(d.Audience.GroupKinds, k)})
		}
		groups, err := s.Newsletter.Groups(ctx, a)
		if err != nil {
			return err
		}
		for _, g := range groups {
			d.GroupOpts = append(d.GroupOpts, choice{Value: strconv.FormatInt(g.ID, 10), Label: g.Name + " (" + tr.T("kind."+g.Kind) + ")",
				Checked: slices.Contains(d.Audience.GroupIDs, g.ID)})
		}
		p, err := s.Newsletter.Preview(ctx, a, id)
		if err != nil {
			return err
		}
		d.Preview = &p
		if o.Form == nil {
			o.Form = map[string]string{"subject": n.Subject, "body": n.Body}
		}
	}
	o.Title, o.Nav = n.Subject, "newsletter"
	noForeignReferrer(c)
	return s.render(c, "newsletter", o, d)
}

func (s *server) pageNewsletter(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	return s.renderNewsletter(c, id, pageOpts{}, newsletterPage{})
}

func (s *server) pageNewsletterEdit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := newsletter.Input{Subject: c.FormValue("subject"), Body: c.FormValue("body")}
	_, err = s.Newsletter.Update(c.UserContext(), actor(c), id, in)
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		c.Status(fiber.StatusBadRequest)
		return s.renderNewsletter(c, id, pageOpts{Errors: s.translateErrors(c, verr.Fields),
			Form: map[string]string{"subject": in.Subject, "body": in.Body}}, newsletterPage{})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.newsletter_saved")
	return c.Redirect("/newsletter/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}

// pageNewsletterSend sends only with the confirmation box ticked: a sent
// issue cannot be taken back.
func (s *server) pageNewsletterSend(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	aud := newsletter.Audience{All: c.FormValue("all") == "1"}
	args := c.Request().PostArgs()
	for _, v := range args.PeekMulti("group_kinds") {
		aud.GroupKinds = append(aud.GroupKinds, string(v))
	}
	for _, v := range args.PeekMulti("group_ids") {
		gid, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return apperr.Invalid("group_ids", "err.invalid_choice")
		}
		aud.GroupIDs = append(aud.GroupIDs, gid)
	}
	confirmed := c.FormValue("confirm") == "1"
	if !confirmed {
		err = apperr.Invalid("confirm", "err.newsletter_confirm")
	} else {
		_, err = s.Newsletter.Send(c.UserContext(), actor(c), id, aud)
	}
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		c.Status(fiber.StatusBadRequest)
		return s.renderNewsletter(c, id, pageOpts{Errors: s.translateErrors(c, verr.Fields)},
			newsletterPage{Audience: aud, Confirm: confirmed})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.newsletter_sent")
	return c.Redirect("/newsletter/"+strconv.FormatInt(id, 10), fiber.StatusSeeOther)
}
