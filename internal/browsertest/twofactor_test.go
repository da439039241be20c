package browsertest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// phoneWidth is the narrowest phone the set-up and code pages are checked at.
const phoneWidth, phoneHeight = 360, 780

// A moderator sets up two-factor login from the account page (reading the key
// from the page, as a person would type it into their app), logs out, and logs
// in again with the password and then a code. The set-up page, the recovery
// codes and the code page pass axe at 1280 px and 360 px and are saved as
// screenshots. The moderator is a fresh account, not a demo one: the other
// browser tests log the demo people in with their password alone.
func TestTwoFactorModerator(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	group, err := store.GetGroupBySlug(context.Background(), s.env.DB, memberGroup)
	if err != nil {
		t.Fatal(err)
	}
	mod := s.env.NewUser(model.RoleMember)
	s.env.AddMember(mod.ID, group.ID, model.GroupModerator)
	p := s.newTab(t)

	typeLogin := func() int64 {
		t.Helper()
		if st := p.open("/login"); st != 200 {
			t.Fatalf("GET /login = %d", st)
		}
		p.do("type the credentials",
			chromedp.SendKeys(chromedp.CSS("#f-email"), mod.Email),
			chromedp.SendKeys(chromedp.CSS("#f-password"), testkit.Password))
		return p.submit("submit the login form", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
	}
	if st := typeLogin(); st != 200 || p.path() != "/" {
		t.Fatalf("password login before 2FA: %s %d", p.path(), st)
	}

	// The account page is reached from the name in the header; two-step
	// login from its own link there.
	if st := p.submit("click the name in the header", chromedp.Click(chromedp.CSS(`.whoami a`))); st != 200 || p.path() != "/konto" {
		t.Fatalf("header name leads to %s (%d), want /konto", p.path(), st)
	}
	if st := p.submit("follow the two-step login link", chromedp.Click(chromedp.CSS(`main a[href="/konto/2fa"]`))); st != 200 || p.path() != "/konto/2fa" {
		t.Fatalf("the account page's two-step link leads to %s (%d), want /konto/2fa", p.path(), st)
	}
	p.checkPage("twofactor-start")
	if st := p.submit("start the set-up", chromedp.Click(chromedp.CSS(`form[action="/konto/2fa/setup"] button`))); st != 200 {
		t.Fatalf("start the set-up = %d", st)
	}
	// The QR code is an image from our own origin (the CSP allows no data:
	// URIs) and it loaded.
	qr := eval[[]any](p, `(() => { const i = document.querySelector("img.qr"); return [i.getAttribute("src"), i.complete && i.naturalWidth, i.alt] })()`)
	if src, _ := qr[0].(string); !strings.HasPrefix(src, "/konto/2fa/qr/") {
		t.Errorf("QR src = %v, want /konto/2fa/qr/…", qr[0])
	}
	if w, _ := qr[1].(float64); w < 200 {
		t.Errorf("QR image not loaded (natural width %v)", qr[1])
	}
	if alt, _ := qr[2].(string); alt == "" {
		t.Error("QR image has no alt text")
	}
	secret := eval[string](p, `document.getElementById("totp-secret").dataset.secret`)
	if shown := eval[string](p, `document.getElementById("totp-secret").textContent.replace(/\s/g, "")`); shown != secret || len(secret) != 32 {
		t.Fatalf("secret shown as %q, data %q", shown, secret)
	}
	p.checkPage("twofactor-setup")
	p.viewport(phoneWidth, phoneHeight, true)
	p.open("/konto/2fa")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > phoneWidth {
		t.Errorf("set-up page at %dpx scrolls sideways: %dpx wide", phoneWidth, w)
	}
	p.checkPage("twofactor-setup-mobile")
	p.viewport(desktopWidth, desktopHeight, false)
	p.open("/konto/2fa")

	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p.do("type the password and the code",
		chromedp.SendKeys(chromedp.CSS("#f-password"), testkit.Password),
		chromedp.SendKeys(chromedp.CSS("#f-code"), code))
	if st := p.submit("confirm the code", chromedp.Click(chromedp.CSS(`form[action="/konto/2fa/enable"] button`))); st != 200 {
		t.Fatalf("confirm the code = %d", st)
	}
	codes := eval[[]string](p, `[...document.querySelectorAll(".recovery-codes code")].map(c => c.textContent)`)
	if len(codes) != 10 {
		t.Fatalf("recovery codes shown: %q, want 10", codes)
	}
	p.checkPage("twofactor-recovery-codes")
	if st := p.submit("continue", chromedp.Click(chromedp.CSS(`main a.button[href="/konto/2fa"]`))); st != 200 {
		t.Fatalf("continue = %d", st)
	}
	if txt := eval[string](p, `document.querySelector("main .notice.success").textContent`); !strings.Contains(txt, "włączone") {
		t.Errorf("account page after enabling says %q", txt)
	}
	p.checkPage("twofactor-enabled")

	// Log out, and in again: the password leads to the code page.
	if st := p.submit("log out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`))); st != 200 || p.path() != "/login" {
		t.Fatalf("log out: %s %d", p.path(), st)
	}
	if st := typeLogin(); st != 200 || !strings.HasPrefix(p.path(), "/login/2fa") {
		t.Fatalf("password login with 2FA lands on %s (%d), want /login/2fa", p.path(), st)
	}
	if eval[bool](p, `!!document.querySelector(".whoami")`) {
		t.Fatal("logged in before the code")
	}
	p.checkPage("login-2fa")
	p.viewport(phoneWidth, phoneHeight, true)
	p.open("/login/2fa")
	if w := eval[int](p, `document.documentElement.scrollWidth`); w > phoneWidth {
		t.Errorf("code page at %dpx scrolls sideways: %dpx wide", phoneWidth, w)
	}
	p.checkPage("login-2fa-mobile")
	p.viewport(desktopWidth, desktopHeight, false)
	p.open("/login/2fa")

	// A wrong code: an error the person can act on, focus on the summary.
	wrong := "000000"
	for d := -1; d <= 2; d++ {
		if c, _ := totp.GenerateCode(secret, time.Now().Add(time.Duration(d)*30*time.Second)); c == wrong {
			wrong = "111111" // one in a million
		}
	}
	p.do("type a wrong code", chromedp.SendKeys(chromedp.CSS("#f-code"), wrong))
	if st := p.submit("submit a wrong code", chromedp.Click(chromedp.CSS(`main form[action="/login/2fa"] button`))); st != 401 {
		t.Fatalf("wrong code = %d, want 401", st)
	}
	if inv := eval[string](p, `document.getElementById("f-code").getAttribute("aria-invalid") || ""`); inv != "true" {
		t.Error("the code field is not marked invalid after a wrong code")
	}
	p.checkPage("login-2fa-error")

	// The code of the next time step: the one used to enable is spent.
	next, err := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p.do("type the code", chromedp.SendKeys(chromedp.CSS("#f-code"), next))
	if st := p.submit("submit the code", chromedp.Click(chromedp.CSS(`main form[action="/login/2fa"] button`))); st != 200 || p.path() != "/" {
		t.Fatalf("code login lands on %s (%d), want / with 200", p.path(), st)
	}
	if who := eval[string](p, `document.querySelector(".whoami").textContent`); !strings.Contains(who, mod.Name) {
		t.Errorf("after the code the header says %q, want %q", who, mod.Name)
	}
}

// The admins' page of per-role dates passes axe (it is only looked at: a date
// set here would apply to the demo people the other tests log in as).
func TestTwoFactorAdminPage(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	p := s.newTab(t)
	p.loginForm(adminEmail)
	if st := p.open("/admin/2fa"); st != 200 {
		t.Fatalf("GET /admin/2fa = %d", st)
	}
	roles := eval[[]string](p, `[...document.querySelectorAll("main form[action^='/admin/2fa/']")].map(f => f.getAttribute("action"))`)
	if strings.Join(roles, " ") != "/admin/2fa/admin /admin/2fa/staff /admin/2fa/moderator" {
		t.Errorf("forms %q, want one per role", roles)
	}
	p.checkPage("admin-2fa")
}
