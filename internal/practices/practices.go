// Package practices owns the good-practice library (issue 15 item 1): a
// group's members describe a solution of managing local education run by one
// of their JSTs, submit it, and programme staff publish it (then every member
// of every group reads it) or return it with a comment. Every save keeps a
// revision and a stale save is refused with the current text (409), as for
// notes; files reuse the notes' file store; the discussion thread is opened in
// the authors' group by the forum service in the same unit of work.
//
// Who may do what is package access (CanReadPractice, CanEditPractice,
// CanSubmitPractice, CanReviewPractice), asked here once for HTML, JSON and the
// file routes alike. Another group's draft is ErrNotFound.
package practices

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Notification kinds of this package (labels "notifications.kind.<kind>").
const (
	NotifyPublished = "practice_published"
	NotifyReturned  = "practice_returned"
)

// MaxPartRunes bounds each part of the description.
const MaxPartRunes = 20_000

// MaxCommentRunes bounds a return comment.
const MaxCommentRunes = 2_000

// Parts names the description's parts in the order a practice shows them.
var Parts = []string{"problem", "solution", "results", "costs", "transfer", "contact"}

// requiredToSubmit are the parts a practice must have before review.
var requiredToSubmit = []string{"problem", "solution", "results", "contact"}

type Service struct {
	db    *store.DB
	md    *markup.Renderer
	forum *forum.Service
	files *notes.Service
}

// New builds the service; announcer learns each committed change (the live
// hub): the discussion thread's topics when a practice is created, the
// authors' notifications when staff publish or return it.
func New(db *sqlx.DB, announcer topic.Announcer, md *markup.Renderer, fs *forum.Service, files *notes.Service) *Service {
	return &Service{db: store.NewDB(db, announcer), md: md, forum: fs, files: files}
}

// JST is the JST running a practice (its kind and voivodeship filter the library).
type JST struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Voivodeship string `json:"voivodeship"`
}

// Person is an author or editor.
type Person struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Area is a support area of a practice.
type Area struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Practice is a good practice as the API shows it.
type Practice struct {
	ID            int64              `json:"id"`
	GroupID       int64              `json:"group_id"`
	GroupName     string             `json:"group_name"`
	JST           JST                `json:"jst"`
	Author        Person             `json:"author"`
	EditedBy      *Person            `json:"edited_by"`
	Title         string             `json:"title"`
	Status        string             `json:"status"`
	Areas         []Area             `json:"areas"`
	Problem       string             `json:"problem"`
	ProblemHTML   string             `json:"problem_html"`
	Solution      string             `json:"solution"`
	SolutionHTML  string             `json:"solution_html"`
	Results       string             `json:"results"`
	ResultsHTML   string             `json:"results_html"`
	Costs         string             `json:"costs"`
	CostsHTML     string             `json:"costs_html"`
	Transfer      string             `json:"transfer"`
	TransferHTML  string             `json:"transfer_html"`
	Contact       string             `json:"contact"`
	ContactHTML   string             `json:"contact_html"`
	ThreadID      *int64             `json:"thread_id"`
	ReturnComment *string            `json:"return_comment"`
	Version       int                `json:"version"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	PublishedAt   *time.Time         `json:"published_at"`
	Attachments   []notes.Attachment `json:"attachments,omitempty"`
	URL           string             `json:"url"`

	// What the reader may do (pages decide which buttons to show).
	CanEdit   bool `json:"-"`
	CanSubmit bool `json:"-"`
	CanReview bool `json:"-"`
	CanUpload bool `json:"-"`
}

// Sections are the description's parts with their HTML, for pages.
func (p Practice) Sections() []Section {
	return []Section{{"problem", p.ProblemHTML}, {"solution", p.SolutionHTML}, {"results", p.ResultsHTML},
		{"costs", p.CostsHTML}, {"transfer", p.TransferHTML}, {"contact", p.ContactHTML}}
}

// Section is one part of a practice's description.
type Section struct {
	Part string
	HTML string
}

func view(a *access.Actor, r store.PracticeRow) (Practice, error) {
	areas, err := r.Areas()
	if err != nil {
		return Practice{}, err
	}
	p := Practice{ID: r.ID, GroupID: r.GroupID, GroupName: r.GroupName,
		JST:    JST{ID: r.JSTID, Name: r.JSTName, Kind: r.JSTKind, Voivodeship: r.Voivodeship},
		Author: Person{ID: r.AuthorID, Name: r.AuthorName}, Title: r.Title, Status: r.Status, Areas: []Area{},
		Problem: r.Problem, ProblemHTML: r.ProblemHTML, Solution: r.Solution, SolutionHTML: r.SolutionHTML,
		Results: r.Results, ResultsHTML: r.ResultsHTML, Costs: r.Costs, CostsHTML: r.CostsHTML,
		Transfer: r.Transfer, TransferHTML: r.TransferHTML, Contact: r.Contact, ContactHTML: r.ContactHTML,
		ThreadID: r.ThreadID, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PublishedAt: r.PublishedAt,
		URL: fmt.Sprintf("/praktyki/%d", r.ID)}
	for _, ar := range areas {
		p.Areas = append(p.Areas, Area{ID: ar.ID, Name: ar.Name})
	}
	if r.EditedBy != nil && r.EditorName != nil {
		p.EditedBy = &Person{ID: *r.EditedBy, Name: *r.EditorName}
	}
	g := r.Group()
	// The discussion is a thread of the authors' group: a reader of another
	// group would be sent to a 404, so they are not given it.
	if !a.CanRead(g) {
		p.ThreadID = nil
	}
	// The comment is for the authors (and staff) while it is returned.
	if r.Status == access.PracticeReturned && r.ReturnComment != "" && (a.CanRead(g)) {
		c := r.ReturnComment
		p.ReturnComment = &c
	}
	p.CanEdit = a.CanEditPractice(g, r.Status)
	p.CanSubmit = a.CanSubmitPractice(g, r.Status)
	p.CanReview = a.CanReviewPractice(g, r.Status)
	p.CanUpload = p.CanEdit
	return p, nil
}

// readable loads a practice the actor may read (others: ErrNotFound).
func (s *Service) readable(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.PracticeRow, error) {
	if err := a.LoggedIn(); err != nil {
		return store.PracticeRow{}, err
	}
	r, err := store.GetPracticeRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	return r, a.ReadPractice(r.Group(), r.Status)
}

// Get returns one practice with its files, for a reader.
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (Practice, error) {
	r, err := s.readable(ctx, s.db, a, id)
	if err != nil {
		return Practice{}, err
	}
	p, err := view(a, r)
	if err != nil {
		return Practice{}, err
	}
	if p.CanEdit || p.CanSubmit {
		// A member muted in the group may read it but not change it.
		muted, err := s.muted(ctx, s.db, a, r.GroupID)
		if err != nil {
			return Practice{}, err
		}
		if muted {
			p.CanEdit, p.CanSubmit, p.CanUpload = false, false, false
		}
	}
	if p.Attachments, err = s.files.PracticeFiles(ctx, a, id); err != nil {
		return Practice{}, err
	}
	return p, nil
}

func (s *Service) muted(ctx context.Context, q store.Q, a *access.Actor, groupID int64) (bool, error) {
	if a.IsStaff() {
		return false, nil
	}
	until, _, err := store.MuteInForce(ctx, q, groupID, a.UserID)
	return until != nil, err
}

// checkUnmuted refuses a member muted in the group (staff are never muted).
func (s *Service) checkUnmuted(ctx context.Context, q store.Q, a *access.Actor, g model.Group) error {
	if a.IsStaff() {
		return nil
	}
	until, reason, err := store.MuteInForce(ctx, q, g.ID, a.UserID)
	if err != nil {
		return err
	}
	return a.WriteUnmuted(g, until, reason)
}

// Filter selects practices for a list; zero values select everything.
type Filter struct {
	AreaID      int64
	JSTKind     string
	Voivodeship string
	Status      string
	// OwnGroups keeps the practices of the reader's own groups only.
	OwnGroups bool
	Page      store.Page
}

// List returns the practices the reader may see that match f: published ones
// for everybody, the others for their group's readers and staff.
func (s *Service) List(ctx context.Context, a *access.Actor, f Filter) ([]Practice, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	v := &apperr.Validation{}
	if f.JSTKind != "" && !slices.Contains(model.JSTKinds, f.JSTKind) {
		v.Add("jst_kind", "err.jst_kind")
	}
	if f.Voivodeship != "" && !slices.Contains(model.Voivodeships, f.Voivodeship) {
		v.Add("voivodeship", "err.voivodeship")
	}
	if f.Status != "" && !slices.Contains(access.PracticeStatuses, f.Status) {
		v.Add("status", "err.practice_status")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sf := store.PracticeFilter{Staff: a.IsStaff(), ReadableGroups: a.GroupIDs(), AreaID: f.AreaID, JSTKind: f.JSTKind,
		Voivodeship: f.Voivodeship, Page: f.Page}
	if f.Status != "" {
		sf.Statuses = []string{f.Status}
	}
	if f.OwnGroups {
		sf.OnlyGroups = a.GroupIDs()
	}
	rows, err := store.ListPracticeRows(ctx, s.db, sf)
	if err != nil {
		return nil, err
	}
	out := make([]Practice, len(rows))
	for i, r := range rows {
		if out[i], err = view(a, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Input creates or edits a practice. On edit, Version is the version the
// editor started from and nil fields stay as they are; GroupID is for
// creation only.
type Input struct {
	GroupID  *int64   `json:"group_id"`
	JSTID    *int64   `json:"jst_id"`
	Title    *string  `json:"title"`
	Areas    *[]int64 `json:"areas"`
	Problem  *string  `json:"problem"`
	Solution *string  `json:"solution"`
	Results  *string  `json:"results"`
	Costs    *string  `json:"costs"`
	Transfer *string  `json:"transfer"`
	Contact  *string  `json:"contact"`
	Version  int      `json:"version"`
}

func (in Input) part(name string) *string {
	switch name {
	case "problem":
		return in.Problem
	case "solution":
		return in.Solution
	case "results":
		return in.Results
	case "costs":
		return in.Costs
	case "transfer":
		return in.Transfer
	case "contact":
		return in.Contact
	}
	return nil
}

// sources are the Markdown sources of the parts, by name.
type sources map[string]string

func sourcesOf(p store.PracticeParts) sources {
	return sources{"problem": p.Problem, "solution": p.Solution, "results": p.Results, "costs": p.Costs,
		"transfer": p.Transfer, "contact": p.Contact}
}

// render turns sources into stored parts, each rendered and sanitized; the
// callers have made every other check first.
func (s *Service) render(src sources) (store.PracticeParts, error) {
	var out store.PracticeParts
	html := map[string]string{}
	for _, name := range Parts {
		h, err := s.md.RenderField(name, src[name])
		if err != nil {
			return out, err
		}
		html[name] = h
	}
	out = store.PracticeParts{Problem: src["problem"], ProblemHTML: html["problem"], Solution: src["solution"],
		SolutionHTML: html["solution"], Results: src["results"], ResultsHTML: html["results"], Costs: src["costs"],
		CostsHTML: html["costs"], Transfer: src["transfer"], TransferHTML: html["transfer"], Contact: src["contact"],
		ContactHTML: html["contact"]}
	return out, nil
}

func checkTitle(v *apperr.Validation, raw string) string {
	t := textnorm.OneLine(raw)
	switch n := utf8.RuneCountInString(t); {
	case n == 0:
		v.Add("title", "err.required")
	case n < 3 || n > 200:
		v.Add("title", "err.title_length")
	}
	return t
}

func checkPart(v *apperr.Validation, name, raw string) string {
	t := textnorm.Block(raw)
	if utf8.RuneCountInString(t) > MaxPartRunes {
		v.Add(name, "err.practice_part_long")
	}
	return t
}

func checkAreas(ctx context.Context, q store.Q, v *apperr.Validation, ids []int64) ([]int64, error) {
	out := []int64{}
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > 3 {
		v.Add("areas", "err.areas_max")
		return out, nil
	}
	if len(out) > 0 {
		found, err := store.ExistingAreaIDs(ctx, q, out)
		if err != nil {
			return nil, err
		}
		if len(found) != len(out) {
			v.Add("areas", "err.area_unknown")
		}
	}
	return out, nil
}

// Form is what the form for a new practice offers: the groups the actor may
// propose in, and for the chosen group the JSTs of its members.
type Form struct {
	Groups  []model.Group
	GroupID int64
	JSTs    []model.JST
	JSTID   int64
	Areas   []model.Area
}

// NewForm prepares the form for a new practice in groupID (0: the actor's
// first group where they write).
func (s *Service) NewForm(ctx context.Context, a *access.Actor, groupID int64) (Form, error) {
	if err := a.LoggedIn(); err != nil {
		return Form{}, err
	}
	f := Form{}
	groups, err := s.proposableGroups(ctx, a)
	if err != nil {
		return f, err
	}
	if len(groups) == 0 {
		return f, apperr.ErrForbidden
	}
	f.Groups = groups
	f.GroupID = groups[0].ID
	for _, g := range groups {
		if g.ID == groupID {
			f.GroupID = g.ID
		}
	}
	return f, s.fillForm(ctx, a, &f)
}

// EditForm prepares the JST and area choices for editing p.
func (s *Service) EditForm(ctx context.Context, a *access.Actor, p Practice) (Form, error) {
	f := Form{GroupID: p.GroupID, JSTID: p.JST.ID}
	return f, s.fillForm(ctx, a, &f)
}

func (s *Service) fillForm(ctx context.Context, a *access.Actor, f *Form) error {
	var err error
	if f.JSTs, err = store.GroupMemberJSTs(ctx, s.db, f.GroupID); err != nil {
		return err
	}
	if f.JSTID == 0 {
		if u, err := store.GetUser(ctx, s.db, a.UserID); err == nil && u.JSTID != nil {
			f.JSTID = *u.JSTID
		}
	}
	f.Areas, err = store.ListAreas(ctx, s.db)
	return err
}

// proposableGroups: the groups the actor is a member or moderator of; staff
// may propose in every group.
func (s *Service) proposableGroups(ctx context.Context, a *access.Actor) ([]model.Group, error) {
	all, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	mine := a.WritingGroupIDs()
	out := []model.Group{}
	for _, g := range all {
		if a.IsStaff() || slices.Contains(mine, g.ID) {
			out = append(out, g)
		}
	}
	return out, nil
}

// Create writes a new draft in the authors' group with its discussion
// thread, both in one unit of work.
func (s *Service) Create(ctx context.Context, a *access.Actor, in Input) (Practice, error) {
	if err := a.LoggedIn(); err != nil {
		return Practice{}, err
	}
	v := &apperr.Validation{}
	var groupID int64
	if in.GroupID != nil {
		groupID = *in.GroupID
	} else if mine := a.WritingGroupIDs(); len(mine) == 1 {
		groupID = mine[0]
	} else {
		v.Add("group_id", "err.required")
	}
	var g model.Group
	if groupID != 0 {
		var err error
		g, err = store.GetGroup(ctx, s.db, groupID)
		if errors.Is(err, store.ErrNotFound) {
			v.Add("group_id", "err.practice_group")
		} else if err != nil {
			return Practice{}, err
		} else if !a.CanRead(g) {
			v.Add("group_id", "err.practice_group")
		} else if err := a.Write(g); err != nil {
			return Practice{}, err
		} else if err := s.checkUnmuted(ctx, s.db, a, g); err != nil {
			return Practice{}, err
		}
	}
	title := checkTitle(v, deref(in.Title))
	src := sources{}
	for _, name := range Parts {
		src[name] = checkPart(v, name, deref(in.part(name)))
	}
	var areas []int64
	if in.Areas != nil {
		var err error
		if areas, err = checkAreas(ctx, s.db, v, *in.Areas); err != nil {
			return Practice{}, err
		}
	}
	var jstID int64
	if in.JSTID != nil {
		jstID = *in.JSTID
	} else if u, err := store.GetUser(ctx, s.db, a.UserID); err != nil {
		return Practice{}, err
	} else if u.JSTID != nil {
		jstID = *u.JSTID
	}
	if g.ID != 0 {
		if err := s.checkJST(ctx, s.db, v, g.ID, jstID); err != nil {
			return Practice{}, err
		}
	}
	if err := v.Err(); err != nil {
		return Practice{}, err
	}
	parts, err := s.render(src)
	if err != nil {
		return Practice{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		var err error
		id, err = store.CreatePractice(ctx, tx, store.NewPractice{GroupID: g.ID, JSTID: jstID, AuthorID: a.UserID,
			Title: title, PracticeParts: parts})
		if err != nil {
			return err
		}
		if err := store.SetPracticeAreas(ctx, tx, id, areas); err != nil {
			return err
		}
		if err := store.InsertPracticeRevision(ctx, tx, revision(id, 1, title, jstID, areas, src, a.UserID)); err != nil {
			return err
		}
		// The discussion thread: in the authors' group, linking back.
		body := fmt.Sprintf("Wątek do dyskusji o dobrej praktyce [%s](/praktyki/%d).", markdownText(title), id)
		threadID, err := s.forum.OpenThreadIn(ctx, tx, a, g, title, body, areas)
		if err != nil {
			return err
		}
		return store.SetPracticeThread(ctx, tx, id, threadID)
	})
	if err != nil {
		return Practice{}, err
	}
	return s.Get(ctx, a, id)
}

// markdownText escapes what would end a link's text early.
func markdownText(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch r {
		case '[', ']', '\\', '*', '_', '`', '<', '>':
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// checkJST: the practice's JST is one of its group's members' JSTs.
func (s *Service) checkJST(ctx context.Context, q store.Q, v *apperr.Validation, groupID, jstID int64) error {
	if jstID == 0 {
		v.Add("jst_id", "err.required")
		return nil
	}
	jsts, err := store.GroupMemberJSTs(ctx, q, groupID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(jsts, func(j model.JST) bool { return j.ID == jstID }) {
		v.Add("jst_id", "err.practice_jst")
	}
	return nil
}

func revision(id int64, version int, title string, jstID int64, areas []int64, src sources, editor int64) store.PracticeRevision {
	m := map[string]any{"jst_id": jstID, "areas": areas}
	for k, v := range src {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return store.PracticeRevision{PracticeID: id, Version: version, Title: title, Body: b, EditorID: editor}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ErrStale is the conflict code of a save based on an old version.
const ErrStale = "stale_version"

// Current is what a stale editor receives with the 409, so they can merge.
type Current struct {
	Practice
}

// Edit saves a new version if nobody saved one since in.Version. A stale save
// changes nothing and answers a Conflict carrying the current practice, so
// the editor's own text is never discarded.
func (s *Service) Edit(ctx context.Context, a *access.Actor, id int64, in Input) (Practice, error) {
	pre, err := s.readable(ctx, s.db, a, id)
	if err != nil {
		return Practice{}, err
	}
	if err := a.EditPractice(pre.Group(), pre.Status); err != nil {
		return Practice{}, err
	}
	if err := s.checkUnmuted(ctx, s.db, a, pre.Group()); err != nil {
		return Practice{}, err
	}
	v := &apperr.Validation{}
	if in.Version < 1 {
		v.Add("version", "err.required")
	}
	if in.GroupID != nil && *in.GroupID != pre.GroupID {
		v.Add("group_id", "err.practice_group_fixed")
	}
	title := pre.Title
	if in.Title != nil {
		title = checkTitle(v, *in.Title)
	}
	src := sourcesOf(pre.PracticeParts)
	for _, name := range Parts {
		if p := in.part(name); p != nil {
			src[name] = checkPart(v, name, *p)
		}
	}
	preAreas, err := pre.Areas()
	if err != nil {
		return Practice{}, err
	}
	areas := []int64{}
	for _, ar := range preAreas {
		areas = append(areas, ar.ID)
	}
	areasChanged := false
	if in.Areas != nil {
		if areas, err = checkAreas(ctx, s.db, v, *in.Areas); err != nil {
			return Practice{}, err
		}
		areasChanged = true
	}
	jstID := pre.JSTID
	if in.JSTID != nil && *in.JSTID != pre.JSTID {
		jstID = *in.JSTID
		if err := s.checkJST(ctx, s.db, v, pre.GroupID, jstID); err != nil {
			return Practice{}, err
		}
	}
	if err := v.Err(); err != nil {
		return Practice{}, err
	}
	parts, err := s.render(src)
	if err != nil {
		return Practice{}, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // nobody follows a practice live; its page reads it when loaded
		if err := store.LockPractice(ctx, tx, id); err != nil {
			return err
		}
		cur, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.EditPractice(cur.Group(), cur.Status); err != nil {
			return err
		}
		if cur.Version != in.Version {
			p, verr := view(a, cur)
			if verr != nil {
				return verr
			}
			return &apperr.Conflict{Code: ErrStale, Message: "the practice was changed since you opened it", Current: Current{p}}
		}
		curAreas, err := cur.Areas()
		if err != nil {
			return err
		}
		same := title == cur.Title && jstID == cur.JSTID && maps(sourcesOf(cur.PracticeParts), src) &&
			(!areasChanged || sameAreas(curAreas, areas))
		if same {
			return nil // saving what is there is not a change
		}
		newVersion, err := store.UpdatePractice(ctx, tx, id, in.Version, jstID, title, parts, a.UserID)
		if err != nil {
			return err
		}
		if err := store.SetPracticeAreas(ctx, tx, id, areas); err != nil {
			return err
		}
		return store.InsertPracticeRevision(ctx, tx, revision(id, newVersion, title, jstID, areas, src, a.UserID))
	})
	if err != nil {
		return Practice{}, err
	}
	return s.Get(ctx, a, id)
}

func maps(a, b sources) bool {
	for _, n := range Parts {
		if a[n] != b[n] {
			return false
		}
	}
	return true
}

func sameAreas(cur []model.Area, ids []int64) bool {
	if len(cur) != len(ids) {
		return false
	}
	for _, ar := range cur {
		if !slices.Contains(ids, ar.ID) {
			return false
		}
	}
	return true
}

// errWrongStatus: the transition does not start from the practice's status.
func errWrongStatus(status string) error {
	return &apperr.Conflict{Code: "wrong_status", Message: "the practice is " + status + " and cannot make this move"}
}

// Submit hands a draft or returned practice to programme staff for review.
// Its problem, solution, results and contact must be written.
func (s *Service) Submit(ctx context.Context, a *access.Actor, id int64) (Practice, error) {
	return s.transition(ctx, a, id, "practice.submit", access.PracticeSubmitted, "", func(r store.PracticeRow) error {
		if err := a.ReadPractice(r.Group(), r.Status); err != nil {
			return err
		}
		if !a.CanWrite(r.Group()) {
			return apperr.ErrForbidden
		}
		if err := a.SubmitPractice(r.Group(), r.Status); err != nil {
			return errWrongStatus(r.Status)
		}
		v := &apperr.Validation{}
		src := sourcesOf(r.PracticeParts)
		for _, n := range requiredToSubmit {
			if src[n] == "" {
				v.Add(n, "err.practice_part_required")
			}
		}
		return v.Err()
	})
}

// Publish makes a submitted practice readable by every member of every group
// (programme staff only) and tells its author.
func (s *Service) Publish(ctx context.Context, a *access.Actor, id int64) (Practice, error) {
	return s.transition(ctx, a, id, "practice.publish", access.PracticePublished, "", s.reviewCheck(a))
}

// Return sends a submitted practice back to its authors with a comment
// (programme staff only); it is editable again and its author is told.
func (s *Service) Return(ctx context.Context, a *access.Actor, id int64, comment string) (Practice, error) {
	comment = textnorm.Block(comment)
	v := &apperr.Validation{}
	switch n := utf8.RuneCountInString(comment); {
	case n == 0:
		v.Add("comment", "err.required")
	case n > MaxCommentRunes:
		v.Add("comment", "err.practice_comment_long")
	}
	check := s.reviewCheck(a)
	return s.transition(ctx, a, id, "practice.return", access.PracticeReturned, comment, func(r store.PracticeRow) error {
		if err := check(r); err != nil {
			return err
		}
		return v.Err()
	})
}

func (s *Service) reviewCheck(a *access.Actor) func(store.PracticeRow) error {
	return func(r store.PracticeRow) error {
		if err := a.ReadPractice(r.Group(), r.Status); err != nil {
			return err
		}
		if !a.IsStaff() {
			return apperr.ErrForbidden
		}
		if !a.CanReviewPractice(r.Group(), r.Status) {
			return errWrongStatus(r.Status)
		}
		return nil
	}
}

// transition moves a practice to status under its row lock after check
// passed on the locked row, audits it, and tells the author when staff
// published or returned it.
func (s *Service) transition(ctx context.Context, a *access.Actor, id int64, action, status, comment string,
	check func(store.PracticeRow) error) (Practice, error) {
	if err := a.LoggedIn(); err != nil {
		return Practice{}, err
	}
	if _, err := s.readable(ctx, s.db, a, id); err != nil {
		return Practice{}, err
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // the author's notification (if any) is announced by notify.Record
		if err := store.LockPractice(ctx, tx, id); err != nil {
			return err
		}
		r, err := store.GetPracticeRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := check(r); err != nil {
			return err
		}
		if status == access.PracticeSubmitted {
			if err := s.checkUnmuted(ctx, tx, a, r.Group()); err != nil {
				return err
			}
		}
		if err := store.SetPracticeStatus(ctx, tx, id, status, comment); err != nil {
			return err
		}
		gid := r.GroupID
		details := map[string]any{"title": r.Title, "from": r.Status}
		if comment != "" {
			details["comment"] = comment
		}
		if err := store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: action, TargetType: "practice",
			TargetID: id, GroupID: &gid, Reason: comment, Details: details}); err != nil {
			return err
		}
		kind := ""
		switch status {
		case access.PracticePublished:
			kind = NotifyPublished
		case access.PracticeReturned:
			kind = NotifyReturned
		}
		if kind == "" {
			return nil
		}
		return notify.Record(ctx, tx, store.NewNotifications{UserIDs: []int64{r.AuthorID}, Kind: kind, ActorID: a.UserID,
			GroupID: r.GroupID, TargetType: "practice", TargetID: id, Title: r.Title})
	})
	if err != nil {
		return Practice{}, err
	}
	return s.Get(ctx, a, id)
}

// Revision is one saved version of a practice.
type Revision struct {
	Version   int               `json:"version"`
	Title     string            `json:"title"`
	Parts     map[string]string `json:"parts"`
	Editor    Person            `json:"editor"`
	CreatedAt time.Time         `json:"created_at"`
	// Changed names the parts (and "title") this version changed.
	Changed []string `json:"changed"`
}

// History lists every version of a practice, newest first, for its readers.
func (s *Service) History(ctx context.Context, a *access.Actor, id int64) (Practice, []Revision, error) {
	p, err := s.Get(ctx, a, id)
	if err != nil {
		return Practice{}, nil, err
	}
	revs, err := store.ListPracticeRevisions(ctx, s.db, id)
	if err != nil {
		return Practice{}, nil, err
	}
	out := make([]Revision, 0, len(revs))
	var prev *Revision
	for _, rv := range revs {
		parts := map[string]string{}
		raw := map[string]any{}
		if err := json.Unmarshal(rv.Body, &raw); err != nil {
			return Practice{}, nil, fmt.Errorf("decode revision %d of practice %d: %w", rv.Version, id, err)
		}
		for _, n := range Parts {
			if s, ok := raw[n].(string); ok {
				parts[n] = s
			}
		}
		r := Revision{Version: rv.Version, Title: rv.Title, Parts: parts, Editor: Person{ID: rv.EditorID, Name: rv.EditorName},
			CreatedAt: rv.CreatedAt, Changed: []string{}}
		if prev != nil {
			if prev.Title != r.Title {
				r.Changed = append(r.Changed, "title")
			}
			for _, n := range Parts {
				if prev.Parts[n] != parts[n] {
					r.Changed = append(r.Changed, n)
				}
			}
		}
		out = append(out, r)
		prev = &out[len(out)-1]
	}
	slices.Reverse(out)
	return p, out, nil
}

// Areas lists the support areas (the list threads use), for filters.
func (s *Service) Areas(ctx context.Context) ([]model.Area, error) {
	return store.ListAreas(ctx, s.db)
}
