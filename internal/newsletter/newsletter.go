// Package newsletter is the programme newsletter (issue 12 item 8): staff
// write an issue in Markdown, preview it as the mail it becomes, and send it
// to an audience through the mail queue; members read past issues at
// /newsletter and opt out with the "newsletter" mail preference (or the link
// in every issue).
package newsletter

import (
	"context"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

const maxBody = 50000

// Service owns newsletters. Safe for concurrent use.
type Service struct {
	db   *store.DB
	mail *mail.Service
	md   *markup.Renderer
}

func New(db *sqlx.DB, announcer topic.Announcer, ms *mail.Service, md *markup.Renderer) *Service {
	return &Service{db: store.NewDB(db, announcer), mail: ms, md: md}
}

// Newsletter is an issue as the API shows it.
type Newsletter struct {
	ID         int64      `json:"id"`
	Subject    string     `json:"subject"`
	Body       string     `json:"body"`
	BodyHTML   string     `json:"body_html"`
	Author     *string    `json:"author"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	SentAt     *time.Time `json:"sent_at"`
	Audience   *Audience  `json:"audience,omitempty"`
	Recipients int        `json:"recipients"`
}

// Audience is who an issue goes to: everyone, or the members of groups of
// these kinds and of these groups.
type Audience struct {
	All        bool     `json:"all"`
	GroupKinds []string `json:"group_kinds"`
	GroupIDs   []int64  `json:"group_ids"`
}

// Input is what staff write.
type Input struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

func view(n store.Newsletter) Newsletter {
	v := Newsletter{ID: n.ID, Subject: n.Subject, Body: n.Body, BodyHTML: n.BodyHTML, Author: n.AuthorName,
		CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, SentAt: n.SentAt, Recipients: n.Recipients}
	if n.SentAt != nil {
		v.Audience = &Audience{All: n.AudienceAll, GroupKinds: append([]string{}, n.GroupKinds...), GroupIDs: append([]int64{}, n.GroupIDs...)}
	}
	return v
}

func staff(a *access.Actor) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	if !a.IsStaff() {
		return apperr.ErrNotFound // drafts and sending do not exist for members
	}
	return nil
}

func (s *Service) validate(in *Input) (string, error) {
	in.Subject = strings.TrimSpace(in.Subject)
	v := &apperr.Validation{}
	if n := utf8.RuneCountInString(in.Subject); n < 3 || n > 200 {
		v.Add("subject", "err.newsletter_subject")
	}
	if strings.TrimSpace(in.Body) == "" {
		v.Add("body", "err.required")
	} else if len(in.Body) > maxBody {
		v.Add("body", "err.too_long")
	}
	if err := v.Err(); err != nil {
		return "", err
	}
	return s.md.RenderField("body", in.Body)
}

// Create writes a draft (staff).
func (s *Service) Create(ctx context.Context, a *access.Actor, in Input) (Newsletter, error) {
	if err := staff(a); err != nil {
		return Newsletter{}, err
	}
	html, err := s.validate(&in)
	if err != nil {
		return Newsletter{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a draft is followed by nobody live
		if id, err = store.CreateNewsletter(ctx, tx, a.UserID, in.Subject, in.Body, html); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "newsletter.create",
			TargetType: "newsletter", TargetID: id, Details: map[string]any{"subject": in.Subject}})
	})
	if err != nil {
		return Newsletter{}, err
	}
	return s.Get(ctx, a, id)
}

// Update rewrites a draft (staff); a sent issue answers 409.
func (s *Service) Update(ctx context.Context, a *access.Actor, id int64, in Input) (Newsletter, error) {
	if err := staff(a); err != nil {
		return Newsletter{}, err
	}
	cur, err := store.GetNewsletter(ctx, s.db, id, false)
	if err != nil {
		return Newsletter{}, err
	}
	if cur.SentAt != nil {
		return Newsletter{}, &apperr.Conflict{Code: "already_sent", Message: "the newsletter was sent and cannot change"}
	}
	html, err := s.validate(&in)
	if err != nil {
		return Newsletter{}, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet()
		if err := store.UpdateNewsletter(ctx, tx, id, in.Subject, in.Body, html); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "newsletter.update",
			TargetType: "newsletter", TargetID: id})
	})
	if err != nil {
		return Newsletter{}, err
	}
	return s.Get(ctx, a, id)
}

// Get is one issue: a sent one for every member, a draft only for staff.
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (Newsletter, error) {
	if err := a.LoggedIn(); err != nil {
		return Newsletter{}, err
	}
	n, err := store.GetNewsletter(ctx, s.db, id, false)
	if err != nil {
		return Newsletter{}, err
	}
	if n.SentAt == nil && !a.IsStaff() {
		return Newsletter{}, apperr.ErrNotFound
	}
	return view(n), nil
}

// List is the archive, newest first (staff see drafts first).
func (s *Service) List(ctx context.Context, a *access.Actor, p store.Page) ([]Newsletter, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	rows, err := store.ListNewsletters(ctx, s.db, a.IsStaff(), p)
	if err != nil {
		return nil, err
	}
	out := make([]Newsletter, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out, nil
}

// message is the mail of an issue for one recipient.
func (s *Service) message(n store.Newsletter, to string, userID int64, name, lang string) mail.Message {
	return mail.Message{To: to, UserID: userID, Lang: lang, Kind: mail.KindNewsletter, Pref: mail.PrefNewsletter,
		DedupeKey: fmt.Sprintf("newsletter:%d:%d", n.ID, userID),
		Build: func(tr *i18n.Printer) mail.Content {
			return mail.Content{
				Subject:  n.Subject,
				Greeting: tr.T("mail.greeting", "Name", name),
				// Sanitized by internal/markup when it was written.
				BodyHTML: template.HTML(n.BodyHTML),
				BodyText: n.Body,
				Action:   &mail.Action{Label: tr.T("mail.newsletter.action"), URL: s.mail.URL(fmt.Sprintf("/newsletter/%d", n.ID))},
				Small:    []string{tr.T("mail.newsletter.why", "URL", s.mail.URL("/konto/poczta"))},
			}
		}}
}

// Preview is the issue as the mail the actor would get (staff).
func (s *Service) Preview(ctx context.Context, a *access.Actor, id int64) (mail.Preview, error) {
	if err := staff(a); err != nil {
		return mail.Preview{}, err
	}
	n, err := store.GetNewsletter(ctx, s.db, id, false)
	if err != nil {
		return mail.Preview{}, err
	}
	u, err := store.GetUser(ctx, s.db, a.UserID)
	if err != nil {
		return mail.Preview{}, err
	}
	lang := ""
	if u.Lang != nil {
		lang = *u.Lang
	}
	return s.mail.Compose(s.message(n, u.Email, u.ID, u.Name, lang))
}

// Send queues one mail per recipient of the audience, in one unit of work
// with the issue marked sent, and returns the issue. Sending it again (a
// retried request, a second click, another instance) changes nothing and
// answers the issue as sent: the row lock orders concurrent sends, and each
// mail's dedupe key (issue, person) could not be queued twice anyway.
func (s *Service) Send(ctx context.Context, a *access.Actor, id int64, aud Audience) (Newsletter, error) {
	if err := staff(a); err != nil {
		return Newsletter{}, err
	}
	v := &apperr.Validation{}
	for _, k := range aud.GroupKinds {
		if !slices.Contains(model.GroupKinds, k) {
			v.Add("group_kinds", "err.invalid_choice")
		}
	}
	if !aud.All && len(aud.GroupKinds) == 0 && len(aud.GroupIDs) == 0 {
		v.Add("audience", "err.newsletter_audience")
	}
	if len(aud.GroupIDs) > 0 {
		found, err := store.ExistingGroupIDs(ctx, s.db, aud.GroupIDs)
		if err != nil {
			return Newsletter{}, err
		}
		if len(found) != len(slices.Compact(slices.Sorted(slices.Values(aud.GroupIDs)))) {
			v.Add("group_ids", "err.invalid_choice")
		}
	}
	if err := v.Err(); err != nil {
		return Newsletter{}, err
	}
	if aud.All {
		aud.GroupKinds, aud.GroupIDs = nil, nil
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		n, err := store.GetNewsletter(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if n.SentAt != nil {
			tx.Quiet()
			return nil
		}
		people, err := store.NewsletterRecipients(ctx, tx, aud.All, aud.GroupKinds, aud.GroupIDs)
		if err != nil {
			return err
		}
		queued := 0
		for _, p := range people {
			mid, err := s.mail.Enqueue(ctx, tx, s.message(n, p.Email, p.UserID, p.Name, p.Lang))
			if err != nil {
				return err
			}
			if mid != 0 {
				queued++
			}
		}
		tx.Quiet() // an audience nobody is in still marks the issue sent
		if err := store.MarkNewsletterSent(ctx, tx, id, a.UserID, aud.All, aud.GroupKinds, aud.GroupIDs, queued); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "newsletter.send",
			TargetType: "newsletter", TargetID: id, Details: map[string]any{"recipients": queued, "all": aud.All,
				"group_kinds": aud.GroupKinds, "group_ids": aud.GroupIDs}})
	})
	if err != nil {
		return Newsletter{}, err
	}
	return s.Get(ctx, a, id)
}

// GroupChoice is a group staff may address an issue to.
type GroupChoice struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Groups lists every group for the audience form (staff).
func (s *Service) Groups(ctx context.Context, a *access.Actor) ([]GroupChoice, error) {
	if err := staff(a); err != nil {
		return nil, err
	}
	gs, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]GroupChoice, len(gs))
	for i, g := range gs {
		out[i] = GroupChoice{ID: g.ID, Name: g.Name, Kind: g.Kind}
	}
	return out, nil
}
