package web

// NavItem is one item of the header's main menu. The list is the single
// source of the menu's order: layout.html renders it, and the shortcuts help
// (_shortcuts.html) numbers it the way a11y.js binds SHIFT+ALT+1…8.
type NavItem struct {
	Href string
	Key  string // the label's message key
	Nav  string // the Page.Nav value that marks it aria-current
}

// NavItems is the header menu for this page's reader. The programme's spaces
// (good practices, tournaments, material reviews) are for logged-in people,
// like the forum itself; administration comes last.
func (p Page) NavItems() []NavItem {
	if p.User == nil {
		return []NavItem{
			{Href: "/about", Key: "nav.about", Nav: "about"},
			{Href: "/login", Key: "nav.login", Nav: "login"},
		}
	}
	items := []NavItem{
		{Href: "/", Key: "nav.forum", Nav: "index"},
		{Href: "/notifications", Key: "nav.notifications", Nav: "notifications"},
		{Href: "/newsletter", Key: "nav.newsletter", Nav: "newsletter"},
		{Href: "/praktyki", Key: "nav.space.practices", Nav: "practices"},
		{Href: "/turnieje", Key: "nav.space.tournaments", Nav: "tournaments"},
		{Href: "/opiniowanie", Key: "nav.space.reviews", Nav: "reviews"},
	}
	if p.IsAdmin {
		items = append(items, NavItem{Href: "/admin/users", Key: "nav.admin", Nav: "admin"})
	}
	return items
}
