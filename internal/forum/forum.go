// Package forum owns discussions: the index of groups, threads and posts, read
// positions and support areas, with the rules of who reads and writes them
// (decided by package access).
package forum

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/ratelimit"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// PageSize is the number of posts on a thread page.
const PageSize = 50

// Settings come from configuration.
type Settings struct {
	// PostsPerMinute limits how many posts (threads included) one account may
	// write per minute; 0 means the default of 10.
	PostsPerMinute int
}

type Service struct {
	db *store.DB
	// hot prepares the statements of the hot paths — a reply, the thread
	// page, the group page — once per connection: unprepared, PostgreSQL
	// planned each of them on every request (issue 16).
	hot *store.Prepared
	md  *markup.Renderer
	set Settings
	now func() time.Time
	// lookups limits the mention completion per account; previews the
	// editor's preview, which renders Markdown for nothing stored.
	lookups, previews *ratelimit.Window
}

// New builds the service; announcer learns every committed change (the live
// hub in the server, topic.Discard in tools).
func New(db *sqlx.DB, announcer topic.Announcer, md *markup.Renderer, set Settings) *Service {
	if set.PostsPerMinute <= 0 {
		set.PostsPerMinute = 10
	}
	s := &Service{db: store.NewDB(db, announcer), hot: store.NewPrepared(db), md: md, set: set, now: time.Now}
	s.lookups = &ratelimit.Window{Limit: 60, Per: time.Minute, Now: func() time.Time { return s.now() }}
	s.previews = &ratelimit.Window{Limit: 30, Per: time.Minute, Now: func() time.Time { return s.now() }}
	return s
}

// changed records, in the unit of work, that open pages of a thread and its
// group must re-read them once it commits.
func changed(tx *store.Tx, threadID, groupID int64) {
	tx.Touch(topic.Name(topic.Thread, threadID), 0)
	tx.Touch(topic.Name(topic.Group, groupID), 0)
}

// Section is one kind of GWD on the index.
type Section struct {
	Kind   string         `json:"kind"`
	Groups []GroupSummary `json:"groups"`
}

// Index lists the groups the actor may read, grouped by kind in the fixed order
// rural, urban, county, common; kinds with no visible group are left out.
func (s *Service) Index(ctx context.Context, a *access.Actor) ([]Section, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	all, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, g := range all {
		if a.CanRead(g) {
			ids = append(ids, g.ID)
		}
	}
	sums, err := store.GroupSummaries(ctx, s.db, a.UserID, ids)
	if err != nil {
		return nil, err
	}
	hs, err := store.MeetingHighlights(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	banners := meetingBanners(hs)
	sections := []Section{}
	for _, kind := range model.GroupKinds {
		sec := Section{Kind: kind}
		for _, g := range sums {
			if g.Kind == kind {
				v := viewGroupSummary(g)
				v.Meeting = banners[g.ID]
				sec.Groups = append(sec.Groups, v)
			}
		}
		if len(sec.Groups) > 0 {
			sections = append(sections, sec)
		}
	}
	return sections, nil
}

// Author is how a post's writer appears (SPEC §4: author{id,name,jst}).
type Author struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

// Thread is a thread as the API shows it.
type Thread struct {
	ID             int64     `json:"id"`
	GroupID        int64     `json:"group_id"`
	Title          string    `json:"title"`
	Areas          []AreaRef `json:"areas"`
	Pinned         bool      `json:"pinned"`
	Locked         bool      `json:"locked"`
	Hidden         bool      `json:"hidden"`
	PostCount      int       `json:"post_count"`
	CreatedAt      time.Time `json:"created_at"`
	LastActivityAt time.Time `json:"last_activity_at"`
	Author         Author    `json:"author"`
	// SlowModeSeconds: members may post once per this many seconds (0 = off).
	SlowModeSeconds int `json:"slow_mode_seconds"`
}

func threadFrom(t model.Thread, authorName string, areasJSON []byte) (Thread, error) {
	out := Thread{ID: t.ID, GroupID: t.GroupID, Title: t.Title, Pinned: t.Pinned, Locked: t.Locked, Hidden: t.Hidden,
		PostCount: t.PostCount, CreatedAt: t.CreatedAt, LastActivityAt: t.LastActivityAt, SlowModeSeconds: t.SlowModeSeconds,
		Author: Author{ID: t.AuthorID, Name: authorName}, Areas: []AreaRef{}}
	if len(areasJSON) > 0 {
		if err := json.Unmarshal(areasJSON, &out.Areas); err != nil {
			return out, fmt.Errorf("decode areas of thread %d: %w", t.ID, err)
		}
	}
	return out, nil
}

// Post is a post as readers see it. A deleted or hidden post keeps its place but
// loses its text for everyone but moderators.
type Post struct {
	ID        int64      `json:"id"`
	ThreadID  int64      `json:"thread_id"`
	Position  int        `json:"position"`
	Author    Author     `json:"author"`
	Body      string     `json:"body"`
	BodyHTML  string     `json:"body_html"`
	ReplyTo   *int64     `json:"reply_to"`
	Version   int        `json:"version"`
	CreatedAt time.Time  `json:"created_at"`
	EditedAt  *time.Time `json:"edited_at"`
	Deleted   bool       `json:"deleted"`
	Hidden    bool       `json:"hidden"`

	// For pages: where the replied-to post is and who wrote it.
	ReplyPosition *int    `json:"-"`
	ReplyAuthor   *string `json:"-"`
	HiddenReason  string  `json:"-"`
	// AuthorRole: "staff", "moderator" or "" (the badge by the name).
	AuthorRole string `json:"-"`
	// Reported: the reader has reported this post already (a post is reported
	// once per person), so the page says so instead of offering "Zgłoś".
	Reported bool `json:"-"`
	// Redacted: the text was withheld from this reader.
	Redacted  bool `json:"-"`
	CanEdit   bool `json:"-"`
	CanDelete bool `json:"-"`
}

// postFor applies the visibility rules for actor a to a stored post.
func postFor(a *access.Actor, r store.PostRow, moderator bool) Post {
	p := Post{ID: r.ID, ThreadID: r.ThreadID, Position: r.Position, Author: Author{ID: r.AuthorID, Name: r.AuthorName, JST: r.AuthorJST},
		Body: r.Body, BodyHTML: r.BodyHTML, ReplyTo: r.ReplyTo, Version: r.Version, CreatedAt: r.CreatedAt, EditedAt: r.EditedAt,
		Deleted: r.DeletedAt != nil, Hidden: r.Hidden, ReplyPosition: r.ReplyPosition, ReplyAuthor: r.ReplyAuthor, AuthorRole: r.AuthorRole}
	own := !a.Anonymous() && a.UserID == r.AuthorID
	if (p.Deleted || p.Hidden) && !moderator {
		p.Body, p.BodyHTML, p.Redacted = "", "", true
	}
	if p.Hidden && (own || moderator) {
		p.HiddenReason = r.HiddenReason
	}
	p.CanEdit = !p.Deleted && (own || moderator)
	p.CanDelete = !p.Deleted && (own || moderator)
	return p
}

// pageOf is the thread page that shows the post at position.
func pageOf(position int) int { return (position-1)/PageSize + 1 }

func pageCount(posts int) int {
	if posts == 0 {
		return 1
	}
	return pageOf(posts)
}
