package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
)

// The accessibility statement's dates, updated by hand: the law (ustawa z 4
// kwietnia 2019 r. o dostępności cyfrowej…) wants the dates of the site's
// publication and last significant update, of the statement, of its last
// review, and of the last audit. The automated audit is the axe-core run of
// the browser test suite (internal/browsertest, WCAG 2.1 A and AA rules over
// every page type at desktop and phone widths): bump statementAudited when
// that suite is run green for a release, and statementReviewed when someone
// has gone through the statement and the known gaps again.
var (
	sitePublished     = time.Date(2026, time.December, 2, 12, 0, 0, 0, time.UTC)
	siteUpdated       = time.Date(2026, time.December, 2, 12, 0, 0, 0, time.UTC)
	statementPrepared = time.Date(2026, time.December, 2, 12, 0, 0, 0, time.UTC)
	statementReviewed = time.Date(2026, time.December, 2, 12, 0, 0, 0, time.UTC)
	statementAudited  = time.Date(2026, time.December, 2, 12, 0, 0, 0, time.UTC)
)

// statementPath is the statement's address, the one the law's monitoring
// looks for on public bodies' sites.
const statementPath = "/deklaracja-dostepnosci"

// accessibilityRoutes: the accessibility statement, public like /about.
func (s *server) accessibilityRoutes() []route {
	return []route{
		get(statementPath, s.pageAccessibility).whileHeld(),
	}
}

// statementDate is one date of the statement: shown in the reader's
// language, and as YYYY-MM-DD in <time datetime> (the form the statement's
// official template asks for).
type statementDate struct {
	Text string
	ISO  string
}

type accessibilityView struct {
	SiteURL string
	Contact string // FORUM_ACCESSIBILITY_CONTACT; empty: the programme office
	// Mailbox is where requests go while no contact is configured:
	// dostepnosc@ and the public URL's host, a placeholder the deployment
	// replaces by setting FORUM_ACCESSIBILITY_CONTACT.
	Mailbox   string
	Published statementDate
	Updated   statementDate
	Prepared  statementDate
	Reviewed  statementDate
	Audited   statementDate
}

func (s *server) pageAccessibility(c *fiber.Ctx) error {
	tr := s.tr(c)
	d := func(t time.Time) statementDate { return statementDate{Text: tr.Date(t), ISO: t.Format("2006-01-02")} }
	v := accessibilityView{
		SiteURL:   s.Config.PublicURL.String(),
		Contact:   s.Config.AccessibilityContact,
		Mailbox:   "dostepnosc@" + s.Config.PublicURL.Hostname(),
		Published: d(sitePublished),
		Updated:   d(siteUpdated),
		Prepared:  d(statementPrepared),
		Reviewed:  d(statementReviewed),
		Audited:   d(statementAudited),
	}
	return s.render(c, "accessibility", pageOpts{Title: tr.T("a11y.statement.title"), Nav: "accessibility"}, v)
}
