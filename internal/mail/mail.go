// Package mail is the forum's outgoing e-mail: composing a mail in the
// recipient's language (plain text and HTML), queueing it in PostgreSQL in the
// transaction of the change that causes it, the worker that sends the queue
// over SMTP with retries, the signed one-click unsubscribe links, and the
// administrators' view of the queue.
//
// Any service mails with one line inside its unit of work (store.InTx):
//
//	_, err := s.mail.Enqueue(ctx, tx, mail.PasswordReset(u.Email, u.ID, lang, link))
//
// The unit records that it mailed (tx.Mailed); after the commit the app's
// relay hands its events to Service.Announce, which wakes this instance's
// worker (the workers of other instances find the mail at their next poll).
package mail

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Kinds of mail. People may unsubscribe from the kinds in Unsubscribable;
// mails they asked for themselves (a reset link) or that create an account
// (an invitation) carry no unsubscribe link.
const (
	KindPasswordReset = "password_reset"
	KindInvitation    = "invitation"
	// KindNotification is a notification mailed as it happens (a mention, a
	// reply, a meeting): the generic Notice content.
	KindNotification = "notification"
	KindDigest       = "digest"
	KindNewsletter   = "newsletter"
)

// unsubscribable reports whether mail of a kind carries a one-click
// unsubscribe link: everything but what a person asked for (a reset link)
// or what creates an account (an invitation).
func unsubscribable(kind string) bool {
	return kind != KindPasswordReset && kind != KindInvitation
}

// validPref reports whether a signed link may name this preference kind.
func validPref(kind string) bool {
	return unsubscribable(kind) && prefKindRE.MatchString(kind)
}

// Content is what a mail says, already translated. Both the text and the
// HTML part are rendered from it (the HTML escaped by html/template).
type Content struct {
	Subject    string
	Greeting   string
	Paragraphs []string
	// Sections are lists of links (a digest: notifications, new threads).
	Sections []Section
	Action   *Action
	// Small print under the action (validity, "ignore this if…").
	Small []string
	// BodyHTML is a body already rendered to sanitized HTML (a newsletter's
	// Markdown through internal/markup); BodyText is its plain text.
	BodyHTML htmltemplate.HTML
	BodyText string
}

// Section is a heading and its list of links.
type Section struct {
	Heading string
	Items   []Item
}

// Item is one line of a section, with its link.
type Item struct {
	Text string
	URL  string
}

// Action is the one link a mail is about.
type Action struct {
	Label string
	URL   string
}

// Message is a mail to compose and queue. Build is called with the
// recipient's language once the message is enqueued.
type Message struct {
	To     string
	UserID int64 // 0: not (yet) an account, e.g. an invitation
	Lang   string
	Kind   string
	// Pref is the preference kind the mail falls under ("reply", "digest",
	// "newsletter"; default Kind): its unsubscribe link turns that off, and
	// a person who chose 'never' for it gets nothing.
	Pref string
	// DedupeKey makes a second mail with the same key a no-op ("digest:7:2026-12-02").
	DedupeKey string
	Build     func(tr *i18n.Printer) Content
	// RenderOnSend stores the built content, not the rendered bodies: for
	// mails queued on a request's path (notifications), whose bodies would
	// push the row past PostgreSQL's TOAST threshold and render in the
	// request. The content is built now, in the recipient's language, so
	// the mail says what it would have said rendered now.
	RenderOnSend bool
}

// Settings come from configuration.
type Settings struct {
	PublicURL   *url.URL
	DefaultLang string
	// Secret signs unsubscribe links; empty: generated once and kept in the
	// database (shared by every instance).
	Secret string
	// Deliver is false without an SMTP server: mails are kept, not queued.
	Deliver bool
}

// Service composes, queues and lists mail. Safe for concurrent use.
type Service struct {
	db  *sqlx.DB
	udb *store.DB // units of work; announces to the service itself (Wake)
	// hot prepares the queue's insert once per connection: a reply's
	// notification mail is on the posting path, where parsing and planning
	// that insert again each time cost as much as running it (issue 16).
	hot    *store.Prepared
	cat    *i18n.Catalog
	set    Settings
	secret []byte
	html   *htmltemplate.Template
	text   *texttemplate.Template
	wake   chan struct{}
	now    func() time.Time
}

//go:embed templates/*
var templates embed.FS

// New loads the templates and the signing key (from settings or the database).
func New(ctx context.Context, db *sqlx.DB, cat *i18n.Catalog, set Settings) (*Service, error) {
	if set.DefaultLang == "" {
		set.DefaultLang = i18n.Languages[0]
	}
	h, err := htmltemplate.ParseFS(templates, "templates/mail.html")
	if err != nil {
		return nil, fmt.Errorf("mail html template: %w", err)
	}
	t, err := texttemplate.ParseFS(templates, "templates/mail.txt")
	if err != nil {
		return nil, fmt.Errorf("mail text template: %w", err)
	}
	secret := []byte(set.Secret)
	if set.Secret == "" {
		if secret, err = store.MailSecret(ctx, db); err != nil {
			return nil, err
		}
	}
	s := &Service{db: db, hot: store.NewPrepared(db), cat: cat, set: set, secret: secret, html: h, text: t,
		wake: make(chan struct{}, 1), now: time.Now}
	s.udb = store.NewDB(db, s)
	return s, nil
}

// Delivers reports whether mails go out (an SMTP server is configured).
func (s *Service) Delivers() bool { return s.set.Deliver }

// URL is an absolute link into the forum.
func (s *Service) URL(path string) string { return s.set.PublicURL.String() + path }

// Wake tells this instance's worker that a mail was committed. Call it after
// the commit; it never blocks.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Enqueue composes m in the recipient's language and stores it through q —
// the caller's transaction, so the mail exists exactly when its cause
// committed. It returns the mail's id, or 0 when nothing was stored (the
// recipient unsubscribed from this kind, or the dedupe key was used).
func (s *Service) Enqueue(ctx context.Context, tx *store.Tx, m Message) (int64, error) {
	nm, err := s.compose(m)
	if err != nil {
		return 0, err
	}
	id, err := store.EnqueueMail(ctx, s.hot.In(tx), nm)
	if err == nil && id != 0 {
		tx.Mailed()
	}
	return id, err
}

// Preview is a composed mail as its recipient would get it.
type Preview struct {
	Subject        string `json:"subject"`
	Text           string `json:"text"`
	HTML           string `json:"html"`
	UnsubscribeURL string `json:"unsubscribe_url,omitempty"`
}

// Compose renders m without queueing it (a newsletter's preview).
func (s *Service) Compose(m Message) (Preview, error) {
	nm, err := s.compose(m)
	return Preview{Subject: nm.Subject, Text: nm.Text, HTML: nm.HTML, UnsubscribeURL: nm.UnsubscribeURL}, err
}

// compose renders m in the recipient's language into a queue row; a message
// rendered on send keeps its content instead of its bodies.
func (s *Service) compose(m Message) (store.NewMail, error) {
	if m.To == "" || m.Kind == "" || m.Build == nil {
		return store.NewMail{}, errors.New("enqueue mail: recipient, kind and content are required")
	}
	lang := m.Lang
	if lang != "pl" && lang != "en" {
		lang = s.set.DefaultLang
	}
	c := m.Build(s.cat.Printer(lang))
	nm := store.NewMail{To: m.To, Kind: m.Kind, Lang: lang, Subject: oneLine(c.Subject), DedupeKey: m.DedupeKey,
		MessageID: s.messageID(), Status: model.MailKept}
	if s.set.Deliver {
		nm.Status = model.MailQueued
	}
	if m.UserID != 0 {
		id := m.UserID
		nm.UserID = &id
		pref := m.Pref
		if pref == "" {
			pref = m.Kind
		}
		if unsubscribable(m.Kind) && validPref(pref) {
			nm.UnsubscribeURL = s.URL("/unsubscribe/" + s.UnsubscribeToken(m.UserID, pref))
			nm.OptOutKind = pref
		}
	}
	if m.RenderOnSend {
		b, err := json.Marshal(c)
		if err != nil {
			return nm, fmt.Errorf("store mail content: %w", err)
		}
		nm.Content = string(b)
		return nm, nil
	}
	var err error
	nm.Text, nm.HTML, err = s.render(c, nm.Kind, lang, nm.UnsubscribeURL)
	return nm, err
}

// render is a mail's text and HTML bodies. Its inputs are all stored with a
// queued mail, so a mail rendered when it is sent reads as it would have
// read rendered when it was queued.
func (s *Service) render(c Content, kind, lang, unsubscribeURL string) (text, html string, err error) {
	tr := s.cat.Printer(lang)
	data := struct {
		Content
		Lang, SiteName, LinkHint, Footer, UnsubscribeLabel, UnsubscribeURL string
	}{Content: c, Lang: lang, SiteName: tr.T("mail.site_name"), LinkHint: tr.T("mail.link_hint"),
		Footer: tr.T("mail.footer."+footerOf(kind), "URL", s.URL("/")), UnsubscribeLabel: tr.T("mail.unsubscribe"),
		UnsubscribeURL: unsubscribeURL}
	var tb, hb bytes.Buffer
	if err := s.text.ExecuteTemplate(&tb, "mail.txt", data); err != nil {
		return "", "", fmt.Errorf("render mail text: %w", err)
	}
	if err := s.html.ExecuteTemplate(&hb, "mail.html", data); err != nil {
		return "", "", fmt.Errorf("render mail html: %w", err)
	}
	return tb.String(), hb.String(), nil
}

// rendered fills in the bodies of a mail stored with its content only (a
// notification's); a mail stored rendered is returned as it is.
func (s *Service) rendered(m model.Mail) (model.Mail, error) {
	if m.Content == nil {
		return m, nil
	}
	var c Content
	if err := json.Unmarshal([]byte(*m.Content), &c); err != nil {
		return m, fmt.Errorf("mail %d content: %w", m.ID, err)
	}
	var err error
	m.Text, m.HTML, err = s.render(c, m.Kind, m.Lang, m.UnsubscribeURL)
	return m, err
}

// Announce wakes this instance's worker when a committed unit of work queued
// mail (the app's relay hands every unit's events here and to the live hub).
func (s *Service) Announce(_ context.Context, ev topic.Events) {
	if ev.Mails > 0 {
		s.Wake()
	}
}

// footerOf says why the recipient gets this mail.
func footerOf(kind string) string {
	if unsubscribable(kind) {
		return "subscribed"
	}
	return "requested"
}

// oneLine keeps a subject on one header line whatever a translation holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func (s *Service) messageID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b) + "@" + s.set.PublicURL.Hostname()
}

// UnsubscribeToken signs (user, kind): "<user id>.<kind>.<HMAC-SHA256>". It
// never expires — an unsubscribe link in an old mail must keep working — and
// it does nothing but turn one kind of mail off for one person.
func (s *Service) UnsubscribeToken(userID int64, kind string) string {
	return strconv.FormatInt(userID, 10) + "." + kind + "." + s.sign(userID, kind)
}

func (s *Service) sign(userID int64, kind string) string {
	mac := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(mac, "unsubscribe\x00%d\x00%s", userID, kind)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Unsubscription is what a valid unsubscribe link stands for.
type Unsubscription struct {
	UserID int64
	Kind   string
}

// ParseUnsubscribe checks a link's signature; a forged, altered or unknown
// kind's token is apperr.ErrNotFound.
func (s *Service) ParseUnsubscribe(token string) (Unsubscription, error) {
	parts := strings.Split(token, ".")
	if len(token) > 200 || len(parts) != 3 || !validPref(parts[1]) {
		return Unsubscription{}, apperr.ErrNotFound
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || id <= 0 {
		return Unsubscription{}, apperr.ErrNotFound
	}
	if !hmac.Equal([]byte(parts[2]), []byte(s.sign(id, parts[1]))) {
		return Unsubscription{}, apperr.ErrNotFound
	}
	return Unsubscription{UserID: id, Kind: parts[1]}, nil
}

// Unsubscribe turns off the kind of mail a signed link names — that kind's
// preference becomes 'never'; the digest's link turns off every kind that
// went to the digest — and doing it twice is harmless. No login is needed:
// the signature is the permission.
func (s *Service) Unsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	u, err := s.ParseUnsubscribe(token)
	if err != nil {
		return u, err
	}
	return u, s.unsubscribeFrom(ctx, u.UserID, u.Kind)
}

// MailView is a queued or sent mail as administrators see it (SPEC §4).
type MailView struct {
	ID        int64      `json:"id"`
	To        string     `json:"to"`
	Subject   string     `json:"subject"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// MailDetail adds the bodies and the last delivery error.
type MailDetail struct {
	MailView
	Lang           string    `json:"lang"`
	Text           string    `json:"text"`
	HTML           string    `json:"html"`
	LastError      string    `json:"last_error"`
	NextAttemptAt  time.Time `json:"next_attempt_at"`
	UnsubscribeURL string    `json:"unsubscribe_url,omitempty"`
}

func view(m model.Mail) MailView {
	return MailView{ID: m.ID, To: m.To, Subject: m.Subject, Kind: m.Kind, Status: m.Status, Attempts: m.Attempts,
		CreatedAt: m.CreatedAt, SentAt: m.SentAt}
}

// List is the queue, newest first (administrators only).
func (s *Service) List(ctx context.Context, a *access.Actor, p store.Page) ([]MailView, error) {
	if err := a.Admin(); err != nil {
		return nil, err
	}
	rows, err := store.ListMails(ctx, s.db, p)
	if err != nil {
		return nil, err
	}
	out := make([]MailView, len(rows))
	for i, m := range rows {
		out[i] = view(m)
	}
	return out, nil
}

// Get is one mail with its bodies (administrators only).
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (MailDetail, error) {
	if err := a.Admin(); err != nil {
		return MailDetail{}, err
	}
	m, err := store.GetMail(ctx, s.db, id)
	if err != nil {
		return MailDetail{}, err
	}
	if m, err = s.rendered(m); err != nil {
		return MailDetail{}, err
	}
	d := MailDetail{MailView: view(m), Lang: m.Lang, Text: m.Text, HTML: m.HTML, LastError: m.LastError,
		NextAttemptAt: m.NextAttemptAt, UnsubscribeURL: m.UnsubscribeURL}
	if m.Kind == KindPasswordReset && m.Status != model.MailKept {
		// A reset link on its way to its owner is theirs alone: an
		// administrator reading the queue could otherwise take the account
		// over unaudited. Kept mails (no SMTP) show it: passing it on by hand
		// is what they are kept for.
		d.Text = resetLinkRE.ReplaceAllString(d.Text, "/haslo/…")
		d.HTML = resetLinkRE.ReplaceAllString(d.HTML, "/haslo/…")
	}
	return d, nil
}

var resetLinkRE = regexp.MustCompile(`/haslo/[A-Za-z0-9_-]+`)

// Housekeeping forgets mails that are done with (sent, failed or kept) after
// 90 days: the queue is a delivery mechanism, not an archive of people's mail.
func (s *Service) Housekeeping(ctx context.Context) error {
	return store.DeleteOldMails(ctx, s.db, 90*24*time.Hour)
}
