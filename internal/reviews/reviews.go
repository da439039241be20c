// Package reviews is the opinions on training materials (issue 15 item 3):
// staff put a draft of the training programme up for review (a document,
// numbered sections pasted as Markdown, a deadline, the groups asked);
// members of those groups comment on each section and rate it, reply to each
// other, and staff answer every comment. The summary, exported as Markdown
// or CSV, is the review the programme hands to ORE.
//
// Permissions are internal/access's (ReadReview, CommentReview,
// AdministerReview, CreateReview), asked by every method here, so the pages,
// the API and the live topic section:ID cannot disagree.
package reviews

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/ratelimit"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Limits of what people write.
const (
	maxDescription = 20000
	maxSectionBody = 100000
	maxComment     = 10000
	maxReason      = 2000
)

// Ratings of a section, in the order pages and exports show them.
var Ratings = []string{"clear", "needs_changes", "unclear"}

// Responses staff give to a comment.
const (
	Accepted = "accepted" // "uwzględniono"
	Rejected = "rejected" // "nie uwzględniono": needs a reason
)

// CommentsPerMinute is how many comments and replies one account may write
// a minute (staff are exempt): enough for anyone reading and writing, not
// for a script.
const CommentsPerMinute = 10

// Service owns materials under review. Safe for concurrent use.
type Service struct {
	db    *store.DB
	md    *markup.Renderer
	files *notes.Service
	now   func() time.Time
	limit ratelimit.PerMinute
}

// New builds the service; files is the notes service, whose upload
// directory and type detection keep the draft documents.
func New(db *sqlx.DB, announcer topic.Announcer, md *markup.Renderer, files *notes.Service) *Service {
	s := &Service{db: store.NewDB(db, announcer), md: md, files: files, now: time.Now}
	s.limit = ratelimit.PerMinute{Limit: CommentsPerMinute, Count: store.CountReviewComments, Now: func() time.Time { return s.now() }}
	return s
}

// --- what the API answers -------------------------------------------------

// Person is an author as the API shows them.
type Person struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst,omitempty"`
}

// Group is a group the material is open to.
type Group struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Document is the draft document.
type Document struct {
	Filename    string    `json:"filename"`
	Kind        string    `json:"kind"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	Checksum    string    `json:"checksum"`
	URL         string    `json:"url"`
	UploadedAt  time.Time `json:"uploaded_at"`
	KindLabel   string    `json:"-"`
}

// Review is a material under review.
type Review struct {
	ID              int64     `json:"id"`
	Title           string    `json:"title"`
	Description     string    `json:"description"`
	DescriptionHTML string    `json:"description_html"`
	Deadline        time.Time `json:"deadline"`
	// Open: comments are taken (the deadline has not passed).
	Open         bool      `json:"open"`
	Author       Person    `json:"author"`
	CreatedAt    time.Time `json:"created_at"`
	Groups       []Group   `json:"groups"`
	Document     *Document `json:"document"`
	SectionCount int       `json:"section_count"`
	CommentCount int       `json:"comment_count"`
	// What the reader may do.
	CanComment    bool `json:"can_comment"`
	CanAdminister bool `json:"can_administer"`
}

// ReviewDetail is one material with its sections (GET /reviews/{id}); a
// list's items come without them.
type ReviewDetail struct {
	Review
	Sections []Section `json:"sections"`
}

// Counts are a section's ratings (top-level comments).
type Counts struct {
	Clear        int `json:"clear"`
	NeedsChanges int `json:"needs_changes"`
	Unclear      int `json:"unclear"`
}

// Of is the count of one rating.
func (c Counts) Of(rating string) int {
	switch rating {
	case "clear":
		return c.Clear
	case "needs_changes":
		return c.NeedsChanges
	case "unclear":
		return c.Unclear
	}
	return 0
}

// Section is a numbered section of the material.
type Section struct {
	ID           int64     `json:"id"`
	ReviewID     int64     `json:"review_id"`
	Number       string    `json:"number"`
	Title        string    `json:"title"`
	Body         string    `json:"body"`
	BodyHTML     string    `json:"body_html"`
	CommentCount int       `json:"comment_count"`
	Ratings      Counts    `json:"ratings"`
	CreatedAt    time.Time `json:"created_at"`
	// LastCommentID is the newest comment's id (0 without comments): the
	// section page's live script counts from it.
	LastCommentID int64 `json:"last_comment_id"`
}

// Response is staff's answer to a comment.
type Response struct {
	Status string    `json:"status"`
	Reason string    `json:"reason"`
	By     *Person   `json:"by"`
	At     time.Time `json:"at"`
}

// Comment is a comment on a section, or a reply to one.
type Comment struct {
	ID        int64     `json:"id"`
	SectionID int64     `json:"section_id"`
	ReviewID  int64     `json:"review_id"`
	Author    Person    `json:"author"`
	ReplyTo   *int64    `json:"reply_to"`
	Rating    *string   `json:"rating"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	CreatedAt time.Time `json:"created_at"`
	Response  *Response `json:"response"`
	// Replies of a top-level comment, oldest first (never nested deeper).
	Replies []Comment `json:"replies,omitempty"`
}

// SectionView is one section with its comments, for a reader.
type SectionView struct {
	Review   Review    `json:"review"`
	Section  Section   `json:"section"`
	Comments []Comment `json:"comments"`
}

// --- conversions -----------------------------------------------------------

// DocumentURL is where the draft document downloads (the review's read rule).
func DocumentURL(reviewID int64) string { return fmt.Sprintf("/opiniowanie/%d/dokument", reviewID) }

func (s *Service) view(a *access.Actor, r store.Review) Review {
	v := Review{ID: r.ID, Title: r.Title, Description: r.Description, DescriptionHTML: r.DescriptionHTML,
		Deadline: r.Deadline, Open: s.open(r), Author: Person{ID: r.AuthorID, Name: r.AuthorName},
		CreatedAt: r.CreatedAt, Groups: []Group{}, SectionCount: r.Sections, CommentCount: r.Comments}
	for _, g := range r.Groups() {
		v.Groups = append(v.Groups, Group{ID: g.ID, Name: g.Name, Kind: g.Kind})
	}
	if r.DocChecksum != nil {
		k, _ := notes.KindOf(*r.DocKind)
		d := &Document{Filename: *r.DocFilename, Kind: *r.DocKind, ContentType: k.MIME, Size: *r.DocSize,
			Checksum: *r.DocChecksum, URL: DocumentURL(r.ID), KindLabel: k.Label}
		if r.DocUploadedAt != nil {
			d.UploadedAt = *r.DocUploadedAt
		}
		v.Document = d
	}
	_, err := a.CommentReview(r.Groups())
	v.CanComment = err == nil && v.Open
	v.CanAdminister = a.AdministerReview(r.Groups()) == nil
	return v
}

func (s *Service) open(r store.Review) bool { return s.now().Before(r.Deadline) }

func sectionFrom(r store.ReviewSection) Section {
	out := Section{ID: r.ID, ReviewID: r.ReviewID, Number: r.Number, Title: r.Title, Body: r.Body, BodyHTML: r.BodyHTML,
		CommentCount: r.CommentCount, Ratings: Counts{Clear: r.Clear, NeedsChanges: r.NeedsChanges, Unclear: r.Unclear},
		CreatedAt: r.CreatedAt}
	if r.LastCommentID != nil {
		out.LastCommentID = *r.LastCommentID
	}
	return out
}

func commentFrom(r store.ReviewComment) Comment {
	c := Comment{ID: r.ID, SectionID: r.SectionID, ReviewID: r.ReviewID,
		Author:  Person{ID: r.AuthorID, Name: r.AuthorName, JST: r.AuthorJST},
		ReplyTo: r.ReplyTo, Rating: r.Rating, Body: r.Body, BodyHTML: r.BodyHTML, CreatedAt: r.CreatedAt}
	if r.ResponseStatus != nil {
		resp := &Response{Status: *r.ResponseStatus, Reason: r.ResponseReason}
		if r.RespondedAt != nil {
			resp.At = *r.RespondedAt
		}
		if r.RespondedBy != nil && r.ResponderName != nil {
			resp.By = &Person{ID: *r.RespondedBy, Name: *r.ResponderName}
		}
		c.Response = resp
	}
	return c
}

// thread nests replies under their comments (the rows come ordered so).
func thread(rows []store.ReviewComment) map[int64][]Comment {
	out := map[int64][]Comment{}
	for _, r := range rows {
		c := commentFrom(r)
		list := out[r.SectionID]
		if r.ReplyTo != nil && len(list) > 0 && list[len(list)-1].ID == *r.ReplyTo {
			list[len(list)-1].Replies = append(list[len(list)-1].Replies, c)
		} else {
			list = append(list, c)
		}
		out[r.SectionID] = list
	}
	return out
}

// --- reading ----------------------------------------------------------------

// readable loads a review the actor may read (ErrNotFound otherwise).
func (s *Service) readable(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.Review, error) {
	if err := a.LoggedIn(); err != nil {
		return store.Review{}, err
	}
	r, err := store.GetReview(ctx, q, id)
	if err != nil {
		return r, err
	}
	return r, a.ReadReview(r.Groups())
}

// List is the materials the reader may read: open ones first, by deadline.
func (s *Service) List(ctx context.Context, a *access.Actor, p store.Page) ([]Review, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	rows, err := store.ListReviews(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := []Review{}
	for _, r := range rows {
		if a.ReadReview(r.Groups()) == nil {
			out = append(out, s.view(a, r))
		}
	}
	if p.Offset >= len(out) {
		return []Review{}, nil
	}
	out = out[p.Offset:]
	if p.Limit > 0 && len(out) > p.Limit {
		out = out[:p.Limit]
	}
	return out, nil
}

// Get is one material with its sections.
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (ReviewDetail, error) {
	r, err := s.readable(ctx, s.db, a, id)
	if err != nil {
		return ReviewDetail{}, err
	}
	rows, err := store.ListReviewSections(ctx, s.db, id)
	if err != nil {
		return ReviewDetail{}, err
	}
	v := ReviewDetail{Review: s.view(a, r)}
	v.Sections = make([]Section, len(rows))
	for i, row := range rows {
		v.Sections[i] = sectionFrom(row)
	}
	return v, nil
}

// Section is one section with its comments and replies.
func (s *Service) Section(ctx context.Context, a *access.Actor, sectionID int64) (SectionView, error) {
	if err := a.LoggedIn(); err != nil {
		return SectionView{}, err
	}
	sec, err := store.GetReviewSection(ctx, s.db, sectionID)
	if err != nil {
		return SectionView{}, err
	}
	r, err := s.readable(ctx, s.db, a, sec.ReviewID)
	if err != nil {
		return SectionView{}, err
	}
	rows, err := store.ListReviewComments(ctx, s.db, []int64{sectionID})
	if err != nil {
		return SectionView{}, err
	}
	comments := thread(rows)[sectionID]
	if comments == nil {
		comments = []Comment{}
	}
	return SectionView{Review: s.view(a, r), Section: sectionFrom(sec), Comments: comments}, nil
}

// CanFollowSection is the live topic section:ID's rule: the section page's.
func (s *Service) CanFollowSection(ctx context.Context, a *access.Actor, sectionID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	h, err := store.GetReviewSectionHead(ctx, s.db, sectionID)
	if err != nil {
		return err
	}
	_, err = s.readable(ctx, s.db, a, h.ReviewID)
	return err
}

// Document opens the draft document for a reader of the material (everyone
// else gets ErrNotFound, as for the page). The caller closes the file.
func (s *Service) Document(ctx context.Context, a *access.Actor, reviewID int64) (Document, *os.File, error) {
	r, err := s.readable(ctx, s.db, a, reviewID)
	if err != nil {
		return Document{}, nil, err
	}
	v := s.view(a, r)
	if v.Document == nil {
		return Document{}, nil, fmt.Errorf("document of review %d: %w", reviewID, apperr.ErrNotFound)
	}
	f, err := s.files.OpenStored(ctx, v.Document.Checksum)
	if err != nil {
		return Document{}, nil, err
	}
	return *v.Document, f, nil
}

// --- staff: materials, documents, sections ---------------------------------

// Input is a new material.
type Input struct {
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Deadline    string  `json:"deadline"`
	GroupIDs    []int64 `json:"group_ids"`
}

// ParseDeadline reads a deadline as RFC 3339, as a form's datetime-local
// ("2026-12-20T18:00", Warsaw time) or as a date (the end of that day in
// Warsaw).
func ParseDeadline(s string, zone *time.Location) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", s, zone); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		return t.AddDate(0, 0, 1).Add(-time.Minute), true
	}
	return time.Time{}, false
}

var warsaw = func() *time.Location {
	l, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return time.UTC
	}
	return l
}()

// Create puts a material up for review (staff).
func (s *Service) Create(ctx context.Context, a *access.Actor, in Input) (ReviewDetail, error) {
	if err := a.CreateReview(); err != nil {
		return ReviewDetail{}, err
	}
	in.Title = strings.TrimSpace(in.Title)
	v := &apperr.Validation{}
	if n := utf8.RuneCountInString(in.Title); n < 3 || n > 200 {
		v.Add("title", "err.review_title")
	}
	if len(in.Description) > maxDescription {
		v.Add("description", "err.too_long")
	}
	deadline, ok := ParseDeadline(in.Deadline, warsaw)
	switch {
	case strings.TrimSpace(in.Deadline) == "":
		v.Add("deadline", "err.required")
	case !ok:
		v.Add("deadline", "err.review_deadline_format")
	case !deadline.After(s.now()):
		v.Add("deadline", "err.review_deadline_past")
	}
	ids := slices.Compact(slices.Sorted(slices.Values(in.GroupIDs)))
	var groups []model.Group
	if len(ids) == 0 {
		v.Add("group_ids", "err.review_groups")
	} else {
		var err error
		if groups, err = store.GroupsByID(ctx, s.db, ids); err != nil {
			return ReviewDetail{}, err
		}
		if len(groups) != len(ids) {
			v.Add("group_ids", "err.review_groups_unknown")
		}
	}
	if err := v.Err(); err != nil {
		return ReviewDetail{}, err
	}
	html, err := s.md.RenderField("description", in.Description)
	if err != nil {
		return ReviewDetail{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // the list is read when a page loads; nobody follows it live
		if id, err = store.InsertReview(ctx, tx, store.NewReview{Title: in.Title, Description: in.Description,
			DescriptionHTML: html, Deadline: deadline, AuthorID: a.UserID}); err != nil {
			return err
		}
		if err := store.SetReviewGroups(ctx, tx, id, ids); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "review.create", TargetType: "review",
			TargetID: id, Details: map[string]any{"title": in.Title, "deadline": deadline.UTC().Format(time.RFC3339), "group_ids": ids}})
	})
	if err != nil {
		return ReviewDetail{}, err
	}
	return s.Get(ctx, a, id)
}

// CanUploadDocument is the upload permission alone (staff, an existing
// material): the web layer asks before it reads a byte of the body, and to
// grant the upload its long read timeout; UploadDocument asks again.
func (s *Service) CanUploadDocument(ctx context.Context, a *access.Actor, reviewID int64) error {
	r, err := s.readable(ctx, s.db, a, reviewID)
	if err != nil {
		return err
	}
	return a.AdministerReview(r.Groups())
}

// UploadDocument stores (or replaces) the draft document: PDF or DOCX, the
// type decided from the content by the notes service's detection.
func (s *Service) UploadDocument(ctx context.Context, a *access.Actor, reviewID int64, filename string, rec *notes.Received) (ReviewDetail, error) {
	if err := s.CanUploadDocument(ctx, a, reviewID); err != nil {
		rec.Discard()
		return ReviewDetail{}, err
	}
	if k := rec.Kind(); k != "pdf" && k != "docx" {
		rec.Discard()
		if rec == nil {
			return ReviewDetail{}, apperr.Invalid("file", "err.file_required")
		}
		return ReviewDetail{}, apperr.Invalid("file", "err.review_document_type")
	}
	err := s.files.Store(ctx, filename, rec, func(tx *store.Tx, f notes.StoredFile) (string, error) {
		tx.Quiet() // the page shows the document when it loads
		old, err := store.SetReviewDocument(ctx, tx, reviewID, store.ReviewDocument{Filename: f.Filename, Kind: f.Kind,
			Size: f.Size, Checksum: f.Checksum})
		if err != nil {
			return "", err
		}
		return old, store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "review.document", TargetType: "review",
			TargetID: reviewID, Details: map[string]any{"filename": f.Filename, "size": f.Size}})
	})
	if err != nil {
		return ReviewDetail{}, err
	}
	return s.Get(ctx, a, reviewID)
}

// SectionInput is a section as staff paste it.
type SectionInput struct {
	Number string `json:"number"`
	Title  string `json:"title"`
	Body   string `json:"body"`
}

var sectionNumber = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$`)

// sortKey is a section number as integers ("2.10" after "2.9").
func sortKey(number string) []int64 {
	parts := strings.Split(number, ".")
	out := make([]int64, len(parts))
	for i, p := range parts {
		out[i], _ = strconv.ParseInt(p, 10, 64)
	}
	return out
}

// AddSection adds a numbered section (staff). Its text is Markdown, pasted
// from the document; it is rendered and sanitized here, after every check.
func (s *Service) AddSection(ctx context.Context, a *access.Actor, reviewID int64, in SectionInput) (Section, error) {
	r, err := s.readable(ctx, s.db, a, reviewID)
	if err != nil {
		return Section{}, err
	}
	if err := a.AdministerReview(r.Groups()); err != nil {
		return Section{}, err
	}
	in.Number = strings.TrimSuffix(strings.TrimSpace(in.Number), ".")
	in.Title = strings.TrimSpace(in.Title)
	v := &apperr.Validation{}
	if !sectionNumber.MatchString(in.Number) {
		v.Add("number", "err.review_section_number")
	}
	if n := utf8.RuneCountInString(in.Title); n < 1 || n > 200 {
		v.Add("title", "err.review_section_title")
	}
	if strings.TrimSpace(in.Body) == "" {
		v.Add("body", "err.required")
	} else if len(in.Body) > maxSectionBody {
		v.Add("body", "err.too_long")
	}
	if err := v.Err(); err != nil {
		return Section{}, err
	}
	html, err := s.md.RenderField("body", in.Body)
	if err != nil {
		return Section{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // a new section shows when the material's page loads
		if err := store.LockReview(ctx, tx, reviewID); err != nil {
			return err
		}
		id, err = store.InsertReviewSection(ctx, tx, store.NewReviewSection{ReviewID: reviewID, Number: in.Number,
			SortKey: sortKey(in.Number), Title: in.Title, Body: in.Body, BodyHTML: html})
		if store.IsUniqueViolation(err, "review_sections_review_id_number_key") {
			return apperr.Invalid("number", "err.review_section_taken")
		}
		if err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "review.section_add", TargetType: "review",
			TargetID: reviewID, Details: map[string]any{"title": r.Title, "section": in.Number + " " + in.Title}})
	})
	if err != nil {
		return Section{}, err
	}
	row, err := store.GetReviewSection(ctx, s.db, id)
	return sectionFrom(row), err
}

// --- comments and responses -------------------------------------------------

// CommentInput is a comment (rating required) or a reply (reply_to, no rating).
type CommentInput struct {
	Body    string `json:"body"`
	Rating  string `json:"rating"`
	ReplyTo *int64 `json:"reply_to"`
}

// ErrClosed refuses a comment after the deadline.
func errClosed(deadline time.Time) error {
	return &apperr.Conflict{Code: "review_closed",
		Message: "the review closed at " + deadline.UTC().Format(time.RFC3339) + "; comments are no longer taken"}
}

// Comment adds a comment to a section, or a reply to one of its comments.
// Members (not observers) of the chosen groups may, not muted in all of
// them, before the deadline, within CommentsPerMinute.
func (s *Service) Comment(ctx context.Context, a *access.Actor, sectionID int64, in CommentInput) (Comment, error) {
	if err := a.LoggedIn(); err != nil {
		return Comment{}, err
	}
	sec, err := store.GetReviewSectionHead(ctx, s.db, sectionID)
	if err != nil {
		return Comment{}, err
	}
	r, err := s.readable(ctx, s.db, a, sec.ReviewID)
	if err != nil {
		return Comment{}, err
	}
	writable, err := a.CommentReview(r.Groups())
	if err != nil {
		return Comment{}, err
	}
	if !a.IsStaff() {
		if err := s.unmutedSomewhere(ctx, a, writable); err != nil {
			return Comment{}, err
		}
	}
	if !s.open(r) {
		return Comment{}, errClosed(r.Deadline)
	}
	v := &apperr.Validation{}
	var rating *string
	if in.ReplyTo != nil {
		if in.Rating != "" {
			v.Add("rating", "err.review_reply_rating")
		}
		parent, err := store.GetReviewComment(ctx, s.db, *in.ReplyTo)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && parent.SectionID != sectionID):
			v.Add("reply_to", "err.review_reply_to")
		case err != nil:
			return Comment{}, err
		case parent.ReplyTo != nil:
			// One level of replies: answer the comment, not the reply.
			v.Add("reply_to", "err.review_reply_nested")
		}
	} else {
		if !slices.Contains(Ratings, in.Rating) {
			v.Add("rating", "err.review_rating")
		} else {
			rating = &in.Rating
		}
	}
	if strings.TrimSpace(in.Body) == "" {
		v.Add("body", "err.required")
	} else if len(in.Body) > maxComment {
		v.Add("body", "err.too_long")
	}
	if err := v.Err(); err != nil {
		return Comment{}, err
	}
	if err := s.limit.Check(ctx, s.db, a); err != nil {
		return Comment{}, err
	}
	html, err := s.md.RenderField("body", in.Body)
	if err != nil {
		return Comment{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// Counted again under the writer's lock: parallel requests of one
		// account pass one after another.
		if err := s.limit.CheckLocked(ctx, tx, a); err != nil {
			return err
		}
		// Under the section's lock: the count and newest id the live topic
		// follows move in commit order.
		if err := store.LockReviewSection(ctx, tx, sectionID); err != nil {
			return err
		}
		id, err = store.InsertReviewComment(ctx, tx, store.NewReviewComment{SectionID: sectionID, AuthorID: a.UserID,
			ReplyTo: in.ReplyTo, Rating: rating, Body: in.Body, BodyHTML: html})
		if err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Section, sectionID), 0)
		return nil
	})
	if err != nil {
		return Comment{}, err
	}
	row, err := store.GetReviewComment(ctx, s.db, id)
	return commentFrom(row), err
}

// unmutedSomewhere: mute means no writing in the group; a member muted in
// every chosen group they write in may not comment.
func (s *Service) unmutedSomewhere(ctx context.Context, a *access.Actor, writable []model.Group) error {
	var refusal error
	for _, g := range writable {
		until, reason, err := store.MuteInForce(ctx, s.db, g.ID, a.UserID)
		if err != nil {
			return err
		}
		if err := a.WriteUnmuted(g, until, reason); err == nil {
			return nil
		} else if refusal == nil {
			refusal = err
		}
	}
	return refusal
}

// ResponseInput is staff's answer to a comment.
type ResponseInput struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Respond records staff's answer to a top-level comment ("uwzględniono" /
// "nie uwzględniono" with a reason); it may be changed; every answer is
// audited.
func (s *Service) Respond(ctx context.Context, a *access.Actor, commentID int64, in ResponseInput) (Comment, error) {
	if err := a.LoggedIn(); err != nil {
		return Comment{}, err
	}
	c, err := store.GetReviewComment(ctx, s.db, commentID)
	if err != nil {
		return Comment{}, err
	}
	r, err := s.readable(ctx, s.db, a, c.ReviewID)
	if err != nil {
		return Comment{}, err
	}
	if err := a.AdministerReview(r.Groups()); err != nil {
		return Comment{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	v := &apperr.Validation{}
	if c.ReplyTo != nil {
		v.Add("status", "err.review_response_reply")
	}
	switch in.Status {
	case Accepted:
	case Rejected:
		if in.Reason == "" {
			v.Add("reason", "err.review_reason_required")
		}
	default:
		v.Add("status", "err.review_response_status")
	}
	if utf8.RuneCountInString(in.Reason) > maxReason {
		v.Add("reason", "err.too_long")
	}
	if err := v.Err(); err != nil {
		return Comment{}, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if err := store.RespondReviewComment(ctx, tx, commentID, in.Status, in.Reason, a.UserID); err != nil {
			return err
		}
		// Open section pages learn nothing new from the head (the count is
		// the same), but the touch keeps the rule: every write announces.
		tx.Touch(topic.Name(topic.Section, c.SectionID), 0)
		details := map[string]any{"title": r.Title, "status": in.Status, "comment_author_id": c.AuthorID, "section_id": c.SectionID}
		if c.ResponseStatus != nil {
			details["previous_status"] = *c.ResponseStatus
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "review.respond", TargetType: "review_comment",
			TargetID: commentID, Reason: in.Reason, Details: details})
	})
	if err != nil {
		return Comment{}, err
	}
	row, err := store.GetReviewComment(ctx, s.db, commentID)
	return commentFrom(row), err
}

// --- summary ------------------------------------------------------------------

// SectionSummary is a section with its counts and comments.
type SectionSummary struct {
	Section  Section   `json:"section"`
	Comments []Comment `json:"comments"`
}

// Summary is the review as the programme hands it on.
type Summary struct {
	Review   Review           `json:"review"`
	Sections []SectionSummary `json:"sections"`
	Totals   Counts           `json:"totals"`
}

// Summary gathers every section's counts, comments, replies and responses,
// for a reader of the material.
func (s *Service) Summary(ctx context.Context, a *access.Actor, reviewID int64) (Summary, error) {
	v, err := s.Get(ctx, a, reviewID)
	if err != nil {
		return Summary{}, err
	}
	ids := make([]int64, len(v.Sections))
	for i, sec := range v.Sections {
		ids[i] = sec.ID
	}
	rows, err := store.ListReviewComments(ctx, s.db, ids)
	if err != nil {
		return Summary{}, err
	}
	bySection := thread(rows)
	out := Summary{Review: v.Review, Sections: make([]SectionSummary, len(v.Sections))}
	for i, sec := range v.Sections {
		cs := bySection[sec.ID]
		if cs == nil {
			cs = []Comment{}
		}
		out.Sections[i] = SectionSummary{Section: sec, Comments: cs}
		out.Totals.Clear += sec.Ratings.Clear
		out.Totals.NeedsChanges += sec.Ratings.NeedsChanges
		out.Totals.Unclear += sec.Ratings.Unclear
	}
	return out, nil
}

// GroupChoices are the groups a new material may be opened to (staff).
func (s *Service) GroupChoices(ctx context.Context, a *access.Actor) ([]Group, error) {
	if err := a.CreateReview(); err != nil {
		return nil, err
	}
	gs, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	out := make([]Group, len(gs))
	for i, g := range gs {
		out[i] = Group{ID: g.ID, Name: g.Name, Kind: g.Kind}
	}
	return out, nil
}

// CommentFor is one comment with its section for a reader of its material (the response page).
func (s *Service) CommentFor(ctx context.Context, a *access.Actor, commentID int64) (SectionView, Comment, error) {
	if err := a.LoggedIn(); err != nil {
		return SectionView{}, Comment{}, err
	}
	c, err := store.GetReviewComment(ctx, s.db, commentID)
	if err != nil {
		return SectionView{}, Comment{}, err
	}
	v, err := s.Section(ctx, a, c.SectionID)
	if err != nil {
		return SectionView{}, Comment{}, err
	}
	return v, commentFrom(c), nil
}
