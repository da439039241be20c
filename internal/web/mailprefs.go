package web

import (
	"errors"
	"maps"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
)

// Mail preferences (issue 12 item 5): /konto/poczta and /api/v1/me/mail-prefs.

func (s *server) mailPrefsPageRoutes() []route {
	return []route{
		get("/konto/poczta", s.pageMailPrefs),
		post("/konto/poczta", s.pageMailPrefsPost),
	}
}

func (s *server) mailPrefsAPIRoutes() []route {
	return []route{
		get("/me/mail-prefs", s.apiMailPrefs),
		put("/me/mail-prefs", s.apiSetMailPrefs),
	}
}

func (s *server) apiMailPrefs(c *fiber.Ctx) error {
	p, err := s.Mail.Prefs(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *server) apiSetMailPrefs(c *fiber.Ctx) error {
	var in mail.Prefs
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.Mail.SetPrefs(c.UserContext(), actor(c), in.Prefs)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// prefRow is one kind on the page: its name and the modes it takes.
type prefRow struct {
	Kind, Label, Mode string
	Modes             []string
}

type mailPrefsPage struct{ Rows []prefRow }

func (s *server) mailPrefsRows(c *fiber.Ctx, current map[string]string) []prefRow {
	tr := s.tr(c)
	rows := make([]prefRow, 0, len(mail.PrefKinds))
	for _, k := range mail.PrefKinds {
		rows = append(rows, prefRow{Kind: k, Label: mail.KindLabel(tr, k), Mode: current[k], Modes: mail.Modes(k)})
	}
	return rows
}

func (s *server) pageMailPrefs(c *fiber.Ctx) error {
	p, err := s.Mail.Prefs(c.UserContext(), actor(c))
	if err != nil {
		return err
	}
	tr := s.tr(c)
	return s.render(c, "mail_prefs", pageOpts{Title: tr.T("mailprefs.title"), Nav: "mailprefs"},
		mailPrefsPage{Rows: s.mailPrefsRows(c, p.Prefs)})
}

func (s *server) pageMailPrefsPost(c *fiber.Ctx) error {
	in := map[string]string{}
	for _, k := range mail.PrefKinds {
		if v := c.FormValue("pref_" + k); v != "" {
			in[k] = v
		}
	}
	_, err := s.Mail.SetPrefs(c.UserContext(), actor(c), in)
	var verr *apperr.Validation
	if errors.As(err, &verr) {
		tr := s.tr(c)
		fields := map[string]string{}
		for k, v := range verr.Fields {
			fields["pref_"+strings.TrimPrefix(k, "prefs.")] = v
		}
		shown, err := s.Mail.Prefs(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		maps.Copy(shown.Prefs, in) // what was sent, over what is stored
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "mail_prefs", pageOpts{Title: tr.T("mailprefs.title"), Nav: "mailprefs",
			Errors: s.translateErrors(c, fields)}, mailPrefsPage{Rows: s.mailPrefsRows(c, shown.Prefs)})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect("/konto/poczta", fiber.StatusSeeOther)
}
