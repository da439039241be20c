// Package search finds what a member may read: thread titles, posts, session
// notes, meetings (title and agenda), chat messages and file names, in one
// list (issue 13, SPEC §4 GET /api/v1/search).
//
// The rules live here and in the query: the words typed become a tsquery of
// folded stems (see parse), the filters are validated, and the store applies
// the permission rules of SPEC §3 inside SQL, so a page of results and its
// "more" link count only what the searcher may read.
package search

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// PerPage is how many hits a page shows.
const PerPage = 20

// MaxPage bounds paging newest first; nobody reads fifty pages of hits.
const MaxPage = 50

// Candidates is how many of the newest matches relevance orders: ten pages.
// Ranking every match of a common word would read most of the index (SPEC §8:
// "ranking applied to a capped candidate set").
const Candidates = PerPage * 10

// Types are the kinds of hit, in the order the page offers them.
var Types = []string{"thread", "post", "note", "meeting", "message", "file", "practice"}

// Service answers searches.
type Service struct {
	db *sqlx.DB
	// zone is where the forum's days begin and end (SPEC §1): a "to" date
	// includes that whole day in Warsaw.
	zone *time.Location
}

func New(db *sqlx.DB) (*Service, error) {
	zone, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return nil, fmt.Errorf("load Europe/Warsaw: %w", err)
	}
	return &Service{db: db, zone: zone}, nil
}

// Input is a search as typed into the box or the query string: every value
// is text, validated here so the page and the API answer alike.
type Input struct {
	Q        string
	GroupID  string
	Kind     string // group kind
	Area     string
	Type     string // kind of hit
	AuthorID string
	From     string // YYYY-MM-DD or RFC 3339
	To       string // YYYY-MM-DD (that whole day included) or RFC 3339
	Sort     string
	Page     string
}

// Person is a hit's author as the API shows people.
type Person struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

// Hit is one result (SPEC §4).
type Hit struct {
	Type        string    `json:"type"`
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	SnippetHTML string    `json:"snippet_html"`
	GroupID     int64     `json:"group_id"`
	Author      Person    `json:"author"`
	CreatedAt   time.Time `json:"created_at"`
	// For the page: the group's name and, for notes, messages and files,
	// the meeting they belong to.
	GroupName string `json:"-"`
	Meeting   string `json:"-"`
}

// Result is one page of hits.
type Result struct {
	Items   []Hit `json:"items"`
	Page    int   `json:"page"`
	Limit   int   `json:"limit"`
	HasMore bool  `json:"has_more"`
}

// Search answers one page. Anonymous visitors are refused; a query with no
// word to look for is a validation error on q, never an empty scan.
func (s *Service) Search(ctx context.Context, a *access.Actor, in Input) (Result, error) {
	if err := a.LoggedIn(); err != nil {
		return Result{}, err
	}
	sq, p, err := validate(in, s.zone)
	if err != nil {
		return Result{}, err
	}
	sq.UserID = a.UserID
	page := sq.Offset/PerPage + 1
	rows, err := store.SearchDocs(ctx, s.db, sq)
	if err != nil {
		return Result{}, err
	}
	res := Result{Items: make([]Hit, 0, len(rows)), Page: page, Limit: PerPage}
	if len(rows) > PerPage {
		rows, res.HasMore = rows[:PerPage], true
	}
	hl := p.highlights()
	for _, r := range rows {
		res.Items = append(res.Items, hit(r, hl))
	}
	return res, nil
}

func hit(r store.SearchHitRow, hl []term) Hit {
	h := Hit{Type: r.Kind, ID: r.RefID, Title: r.Title, GroupID: r.GroupID, GroupName: r.GroupName,
		// The driver gives the session's zone; SPEC §4 answers in UTC.
		Author: Person{ID: r.AuthorID, Name: r.Author, JST: r.AuthorJST}, CreatedAt: r.CreatedAt.UTC()}
	if r.MeetingTitle != nil && r.Kind != "meeting" {
		h.Meeting = *r.MeetingTitle
	}
	id := strconv.FormatInt(r.RefID, 10)
	switch r.Kind {
	case "thread":
		h.URL = "/t/" + id
	case "post":
		h.URL = "/p/" + id
	case "note":
		h.URL = "/n/" + id
	case "meeting":
		h.URL = "/m/" + id
	case "message":
		// The meeting page shows the chat a page at a time from after=.
		if r.MeetingID != nil && r.Seq != nil {
			h.URL = "/m/" + strconv.FormatInt(*r.MeetingID, 10) + "?after=" + strconv.FormatInt(*r.Seq-1, 10) +
				"#c" + strconv.FormatInt(*r.Seq, 10)
		}
	case "file":
		h.URL = "/attachments/" + id
	case "practice":
		h.URL = "/praktyki/" + id
	}
	// The text around the words, or the title when only the title has them.
	var found bool
	if strings.TrimSpace(r.Text) != "" {
		h.SnippetHTML, found = snippet(r.Text, hl)
	}
	if !found {
		if s, inTitle := snippet(r.Title, hl); inTitle || h.SnippetHTML == "" {
			h.SnippetHTML = s
		}
	}
	return h
}

// validate turns the input into a store query, every problem at once.
func validate(in Input, zone *time.Location) (store.SearchQuery, parsed, error) {
	var v apperr.Validation
	sq := store.SearchQuery{Limit: PerPage + 1, Candidates: Candidates}
	var p parsed
	q := strings.TrimSpace(in.Q)
	switch {
	case !utf8.ValidString(q):
		v.Add("q", "err.search_words")
	case utf8.RuneCountInString(q) > MaxQueryRunes:
		v.Add("q", "err.search_long")
	default:
		p = parse(q)
		switch {
		case len(p.items) > 0 && !p.positive():
			v.Add("q", "err.search_only_excluded")
		case !p.positive():
			v.Add("q", "err.search_words")
		}
		sq.TSQuery, sq.Words = p.tsquery(), p.words()
	}
	sq.GroupID = optionalID(&v, "group_id", in.GroupID)
	sq.AreaID = optionalID(&v, "area", in.Area)
	sq.AuthorID = optionalID(&v, "author_id", in.AuthorID)
	if in.Kind != "" {
		if !oneOf(in.Kind, model.GroupKinds) {
			v.Add("kind", "err.search_kind")
		}
		sq.GroupKind = in.Kind
	}
	if in.Type != "" {
		if !oneOf(in.Type, Types) {
			v.Add("type", "err.search_type")
		}
		sq.Type = in.Type
	}
	switch in.Sort {
	case "", "relevance":
	case "newest":
		sq.Newest = true
	default:
		v.Add("sort", "err.search_sort")
	}
	sq.From = optionalTime(&v, "from", in.From, zone, false)
	sq.To = optionalTime(&v, "to", in.To, zone, true)
	if sq.From != nil && sq.To != nil && !sq.To.After(*sq.From) {
		v.Add("to", "err.search_range")
	}
	if in.Page != "" {
		n, err := strconv.Atoi(in.Page)
		if err != nil || n < 1 || n > MaxPage {
			v.Add("page", "err.search_page")
		} else {
			sq.Offset = (n - 1) * PerPage
		}
	}
	return sq, p, v.Err()
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func optionalID(v *apperr.Validation, field, s string) int64 {
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		v.Add(field, "err.search_id")
		return 0
	}
	return n
}

// optionalTime reads a date (a whole day in Warsaw; "to" includes that day)
// or an RFC 3339 instant.
func optionalTime(v *apperr.Validation, field, s string, zone *time.Location, endOfDay bool) *time.Time {
	if s == "" {
		return nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		if endOfDay {
			t = t.AddDate(0, 0, 1)
		}
		return &t
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return &t
	}
	v.Add(field, "err.search_date")
	return nil
}

// Group is a group one may search in.
type Group struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Area is a support area to filter by.
type Area struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Options are the choices of the search form: the groups one may read and
// the support areas, and the person the author filter names.
type Options struct {
	Groups []Group
	Areas  []Area
	Types  []string
	Kinds  []string
	// Author is the person of the author_id filter, when the searcher may see
	// them (as on their profile); nil otherwise, and the filter shows no name.
	Author *Author
}

// Author names the person the hits are filtered by.
type Author struct {
	ID   int64
	Name string
	// Former: the account was deleted and its name is gone (the page says
	// "former participant" in the reader's language).
	Former bool
}

// Options lists the form's choices; authorID is the author_id of the query
// as typed, named if it is a person the searcher may see.
func (s *Service) Options(ctx context.Context, a *access.Actor, authorID string) (Options, error) {
	if err := a.LoggedIn(); err != nil {
		return Options{}, err
	}
	var o Options
	if id, err := strconv.ParseInt(authorID, 10, 64); err == nil && id > 0 {
		u, err := store.GetVisibleUser(ctx, s.db, a.UserID, a.IsStaff(), id)
		switch {
		case err == nil:
			o.Author = &Author{ID: u.ID, Name: u.Name, Former: u.DeletedAt != nil}
		case !errors.Is(err, store.ErrNotFound):
			return Options{}, err
		}
	}
	gs, err := store.ListSearchGroups(ctx, s.db, a.UserID)
	if err != nil {
		return Options{}, err
	}
	as, err := store.ListAreas(ctx, s.db)
	if err != nil {
		return Options{}, err
	}
	o.Types, o.Kinds = Types, model.GroupKinds
	for _, g := range gs {
		o.Groups = append(o.Groups, Group{ID: g.ID, Name: g.Name, Kind: g.Kind})
	}
	for _, ar := range as {
		o.Areas = append(o.Areas, Area{ID: ar.ID, Name: ar.Name})
	}
	return o, nil
}
