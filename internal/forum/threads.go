package forum

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/ratelimit"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// ThreadQuery selects a page of a group's threads.
type ThreadQuery struct {
	AreaID int64
	Sort   string // "activity" or "created"
	Page   store.Page
}

// ThreadItem is one entry of a group's thread list.
type ThreadItem struct {
	Thread
	Unread    int  `json:"unread"`
	NeverRead bool `json:"never_read"`
}

// GroupView is what the group page shows.
type GroupView struct {
	Group       model.Group
	Threads     []ThreadItem
	Areas       []model.Area
	CanWrite    bool
	CanModerate bool
	// CanOpenThreads: may write here, and the group is not moderators-only (or they moderate it).
	CanOpenThreads bool
	// OpenFlags is the open report count, shown to the group's moderators.
	OpenFlags int
	// Watch is the reader's choice about the group: watch, mute or none.
	Watch string
	// Meeting is the group's live meeting, else its next one (nil if none).
	Meeting *MeetingBanner
}

// Group lists a group's threads for a reader: pinned first, then by activity.
func (s *Service) Group(ctx context.Context, a *access.Actor, groupID int64, q ThreadQuery) (GroupView, error) {
	if err := a.LoggedIn(); err != nil {
		return GroupView{}, err
	}
	// The group with the rest of the page's head — areas, watch choice,
	// meeting banner — in one statement (issue 16); nothing of it is shown
	// unless the reader may read the group.
	head, err := store.GetGroupPageHead(ctx, s.hot, groupID, a.UserID)
	if err != nil {
		return GroupView{}, err
	}
	g := head.Group
	if err := a.Read(g); err != nil {
		return GroupView{}, err
	}
	if q.Sort != "created" {
		q.Sort = "activity"
	}
	rows, err := store.ListThreads(ctx, s.hot, store.ThreadFilter{GroupID: g.ID, UserID: a.UserID, AreaID: q.AreaID,
		Sort: q.Sort, IncludeHidden: a.CanModerate(g)}, q.Page)
	if err != nil {
		return GroupView{}, err
	}
	v := GroupView{Group: g, Threads: make([]ThreadItem, 0, len(rows)), CanWrite: a.CanWrite(g), CanModerate: a.CanModerate(g)}
	v.CanOpenThreads = v.CanWrite && (!g.ModeratorsOnlyThreads || v.CanModerate)
	if v.CanModerate {
		if v.OpenFlags, err = store.CountGroupOpenFlags(ctx, s.hot, g.ID); err != nil {
			return GroupView{}, err
		}
	}
	for _, r := range rows {
		t, err := threadFrom(r.Thread, r.AuthorName, r.AreasJSON)
		if err != nil {
			return GroupView{}, err
		}
		v.Threads = append(v.Threads, ThreadItem{Thread: t, Unread: r.Unread, NeverRead: r.NeverRead})
	}
	v.Areas = head.Areas
	v.Watch = stateName(head.WatchState)
	if head.Meeting != nil {
		v.Meeting = viewMeetingBanner(*head.Meeting)
	}
	return v, nil
}

// NewThreadForm is what the form for a new thread needs: the group, the
// areas to tag it with, and whether the reader may open threads there.
type NewThreadForm struct {
	Group          model.Group
	Areas          []model.Area
	CanOpenThreads bool
}

// NewThreadForm reads the group a new thread would go to, for a reader of it,
// without listing its threads.
func (s *Service) NewThreadForm(ctx context.Context, a *access.Actor, groupID int64) (NewThreadForm, error) {
	if err := a.LoggedIn(); err != nil {
		return NewThreadForm{}, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return NewThreadForm{}, err
	}
	if err := a.Read(g); err != nil {
		return NewThreadForm{}, err
	}
	f := NewThreadForm{Group: g, CanOpenThreads: a.CanWrite(g) && (!g.ModeratorsOnlyThreads || a.CanModerate(g))}
	if f.Areas, err = store.ListAreas(ctx, s.db); err != nil {
		return NewThreadForm{}, err
	}
	return f, nil
}

// ThreadView is one page of a thread.
type ThreadView struct {
	Thread      Thread
	Group       model.Group
	Posts       []Post
	Page        int
	PageCount   int
	FirstUnread int // position of the first unread post, 0 if none
	CanPost     bool
	CanModerate bool
	// CanReport: reports are a write (they can hide a post), so observers and
	// muted members do not get the link.
	CanReport bool
	// PostingClosed explains why CanPost is false for a member ("locked", "observer", "muted").
	PostingClosed string
	// Mute is the reader's mute in this group, if one is in force.
	Mute *MuteInfo
	// Watch and GroupWatch are the reader's choices: watch, mute or none.
	Watch, GroupWatch string
}

// MuteInfo tells a muted member until when and why.
type MuteInfo struct {
	Until  time.Time
	Reason string
}

// Merged is returned for a thread that was merged into another: its URL
// redirects, for readers of the target only (see mergedInto).
type Merged struct{ Into int64 }

func (m *Merged) Error() string { return fmt.Sprintf("thread merged into %d", m.Into) }

// mergedInto answers for a thread merged into thread into: a redirect there
// for those who may read the target, and ErrNotFound for everyone else, since
// the target may be in another group (a staff merge) and its id is not theirs
// to learn.
func (s *Service) mergedInto(ctx context.Context, q store.Q, a *access.Actor, into int64) error {
	row, err := store.GetThreadRow(ctx, q, into, a.UserID)
	if err != nil {
		return err
	}
	if err := s.readableThread(a, row.Group(), row.Thread); err != nil {
		return err
	}
	return &Merged{Into: into}
}

// Thread loads one page of a thread. With markRead (the HTML page), the
// reader's position moves to the last post shown, in the posts statement, and
// the posts come without their Markdown Body, which the page does not show
// (issue 16). It runs two statements whatever the post count: the thread and
// the page of posts.
func (s *Service) Thread(ctx context.Context, a *access.Actor, threadID int64, page int, markRead bool) (ThreadView, error) {
	if err := a.LoggedIn(); err != nil {
		return ThreadView{}, err
	}
	row, err := store.GetThreadRow(ctx, s.hot, threadID, a.UserID)
	if err != nil {
		return ThreadView{}, err
	}
	g := row.Group()
	if err := s.readableThread(a, g, row.Thread); err != nil {
		return ThreadView{}, err
	}
	if row.MergedInto != nil {
		return ThreadView{}, s.mergedInto(ctx, s.db, a, *row.MergedInto)
	}
	t, err := threadFrom(row.Thread, row.AuthorName, row.AreasJSON)
	if err != nil {
		return ThreadView{}, err
	}
	v := ThreadView{Thread: t, Group: g, Page: page, PageCount: pageCount(row.PostCount), CanModerate: a.CanModerate(g),
		Watch: stateName(row.WatchState), GroupWatch: stateName(row.GroupWatchState)}
	if page < 1 || page > v.PageCount {
		return ThreadView{}, fmt.Errorf("page %d of thread %d: %w", page, threadID, apperr.ErrNotFound)
	}
	if row.MuteUntil != nil {
		v.Mute = &MuteInfo{Until: *row.MuteUntil, Reason: deref(row.MuteReason)}
	}
	switch {
	case !a.CanWrite(g):
		v.PostingClosed = "observer"
	case v.Mute != nil:
		v.PostingClosed = "muted"
	case row.Locked && !v.CanModerate:
		v.PostingClosed = "locked"
	default:
		v.CanPost = true
	}
	writer := a.CanWrite(g) && v.Mute == nil
	v.CanReport = writer
	lastRead := 0
	if row.LastReadPos != nil {
		lastRead = *row.LastReadPos
	}
	if lastRead < row.PostCount {
		v.FirstUnread = lastRead + 1
	}
	from := (page-1)*PageSize + 1
	var rows []store.PostRow
	if markRead {
		// The read position moves in the same statement (issue 16).
		rows, err = store.ListPostRangeMarkRead(ctx, s.hot, threadID, from, from+PageSize-1, a.UserID, lastRead)
	} else {
		rows, err = store.ListPostRange(ctx, s.hot, threadID, from, from+PageSize-1, a.UserID)
	}
	if err != nil {
		return ThreadView{}, err
	}
	v.Posts = make([]Post, 0, len(rows))
	for _, r := range rows {
		p := postFor(a, r, v.CanModerate)
		// Whoever may not write here (an observer, a muted member) edits nothing.
		p.CanEdit = p.CanEdit && writer
		p.Reported = r.Reported
		v.Posts = append(v.Posts, p)
	}
	return v, nil
}

// readableThread: the group must be readable, and a hidden thread exists only
// for its moderators.
func (s *Service) readableThread(a *access.Actor, g model.Group, t model.Thread) error {
	if err := a.Read(g); err != nil {
		return err
	}
	if t.Hidden && !a.CanModerate(g) {
		return apperr.ErrNotFound
	}
	return nil
}

// CanFollowThread reports (as ErrNotFound) whether a may follow a thread's live
// updates: exactly when they may read its page.
func (s *Service) CanFollowThread(ctx context.Context, a *access.Actor, threadID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	row, err := store.GetThreadRow(ctx, s.db, threadID, a.UserID)
	if err != nil {
		return err
	}
	return s.readableThread(a, row.Group(), row.Thread)
}

// CanFollowGroup: a group's live updates are for those who may read it.
func (s *Service) CanFollowGroup(ctx context.Context, a *access.Actor, groupID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return err
	}
	return a.Read(g)
}

// Locate finds the thread and page of a post (permalinks).
func (s *Service) Locate(ctx context.Context, a *access.Actor, postID int64) (threadID int64, page int, err error) {
	if err := a.LoggedIn(); err != nil {
		return 0, 0, err
	}
	p, err := store.GetPostRow(ctx, s.db, postID)
	if err != nil {
		return 0, 0, err
	}
	row, err := store.GetThreadRow(ctx, s.db, p.ThreadID, a.UserID)
	if err != nil {
		return 0, 0, err
	}
	if err := s.readableThread(a, row.Group(), row.Thread); err != nil {
		return 0, 0, err
	}
	return p.ThreadID, pageOf(p.Position), nil
}

// NewThreadInput opens a thread with its first post.
type NewThreadInput struct {
	Title string  `json:"title"`
	Body  string  `json:"body"`
	Areas []int64 `json:"areas"`
}

// CreateThread opens a thread in a group and returns it with its first post.
func (s *Service) CreateThread(ctx context.Context, a *access.Actor, groupID int64, in NewThreadInput) (Thread, Post, error) {
	if err := a.LoggedIn(); err != nil {
		return Thread{}, Post{}, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return Thread{}, Post{}, err
	}
	if err := s.checkWrite(ctx, s.db, a, g); err != nil {
		return Thread{}, Post{}, err
	}
	if g.ModeratorsOnlyThreads && !a.CanModerate(g) {
		return Thread{}, Post{}, errModeratorsOnly
	}
	in.Title = textnorm.OneLine(in.Title)
	v := &apperr.Validation{}
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		v.Add("title", "err.required")
	case n < 3:
		v.Add("title", "err.title_length")
	case n > 200:
		v.Add("title", "err.title_length")
	}
	body := checkBody(v, in.Body)
	areas := dedupe(in.Areas)
	if len(areas) > 3 {
		v.Add("areas", "err.areas_max")
	}
	if err := v.Err(); err != nil {
		return Thread{}, Post{}, err
	}
	if len(areas) > 0 {
		found, err := store.ExistingAreaIDs(ctx, s.db, areas)
		if err != nil {
			return Thread{}, Post{}, err
		}
		if len(found) != len(areas) {
			return Thread{}, Post{}, apperr.Invalid("areas", "err.area_unknown")
		}
	}
	if err := s.rate().Check(ctx, s.db, a); err != nil {
		return Thread{}, Post{}, err
	}
	// Everything that can refuse cheaply has: only now resolve the mentions
	// and render.
	people, err := notify.People(ctx, s.db, g.ID, false, body)
	if err != nil {
		return Thread{}, Post{}, err
	}
	html, mentioned, err := s.md.RenderFieldMentions("body", body, people)
	if err != nil {
		return Thread{}, Post{}, err
	}
	var threadID, postID int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if err := s.rate().CheckLocked(ctx, tx, a); err != nil {
			return err
		}
		var err error
		if threadID, err = store.CreateThread(ctx, tx, store.NewThread{GroupID: g.ID, Title: in.Title, AuthorID: a.UserID}); err != nil {
			return err
		}
		if err := store.SetThreadAreas(ctx, tx, threadID, areas); err != nil {
			return err
		}
		var pos int
		if postID, pos, err = store.CreatePost(ctx, tx, store.NewPost{ThreadID: threadID, AuthorID: a.UserID, Body: body, BodyHTML: html}); err != nil {
			return err
		}
		// The post is its own first version until edited (store.UpdatePostBody).
		t := model.Thread{ID: threadID, GroupID: g.ID, Title: in.Title, AuthorID: a.UserID}
		if err = postNotifications(ctx, tx, a, t, g, postID, nil, body, mentioned, true); err != nil {
			return err
		}
		changed(tx, threadID, g.ID)
		return store.MarkRead(ctx, tx, a.UserID, threadID, pos)
	})
	if err != nil {
		return Thread{}, Post{}, err
	}
	return s.threadAndPost(ctx, a, threadID, postID)
}

func (s *Service) threadAndPost(ctx context.Context, a *access.Actor, threadID, postID int64) (Thread, Post, error) {
	row, err := store.GetThreadRow(ctx, s.db, threadID, a.UserID)
	if err != nil {
		return Thread{}, Post{}, err
	}
	t, err := threadFrom(row.Thread, row.AuthorName, row.AreasJSON)
	if err != nil {
		return Thread{}, Post{}, err
	}
	pr, err := store.GetPostRow(ctx, s.db, postID)
	if err != nil {
		return Thread{}, Post{}, err
	}
	return t, postFor(a, pr, a.CanModerate(row.Group())), nil
}

// checkBody normalizes and validates a post body (1–50,000 characters). It does
// not render: that waits until every other check has passed.
func checkBody(v *apperr.Validation, raw string) string {
	body := textnorm.Block(raw)
	switch n := utf8.RuneCountInString(body); {
	case n == 0:
		v.Add("body", "err.required")
	case n > 50000:
		v.Add("body", "err.body_long")
	}
	return body
}

// rate is the per-account limit on this kind of write (see ratelimit).
func (s *Service) rate() ratelimit.PerMinute {
	return ratelimit.PerMinute{Limit: s.set.PostsPerMinute, Count: store.CountRecentPosts, Now: s.now}
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// errModeratorsOnly: in this group only moderators open threads; members reply.
var errModeratorsOnly = &apperr.Denied{Code: "moderators_only", Message: "only moderators open threads in this group"}

// checkWrite: a may write in g and is not muted there (access.WriteUnmuted).
func (s *Service) checkWrite(ctx context.Context, q store.Q, a *access.Actor, g model.Group) error {
	if err := a.Write(g); err != nil {
		return err
	}
	until, reason, err := store.MuteInForce(ctx, q, g.ID, a.UserID)
	if err != nil {
		return err
	}
	return a.WriteUnmuted(g, until, reason)
}

// checkSlowMode allows members one post per SlowModeSeconds in the thread.
func (s *Service) checkSlowMode(ctx context.Context, q store.Q, a *access.Actor, g model.Group, t model.Thread) error {
	if t.SlowModeSeconds == 0 || a.CanModerate(g) {
		return nil
	}
	last, err := store.LastPostAt(ctx, q, t.ID, a.UserID)
	if err != nil {
		return err
	}
	return s.slowModeWait(a, g, t, last)
}

// slowModeWait refuses a member's post until SlowModeSeconds after their
// last one (last: nil if none) in the thread.
func (s *Service) slowModeWait(a *access.Actor, g model.Group, t model.Thread, last *time.Time) error {
	if t.SlowModeSeconds == 0 || a.CanModerate(g) || last == nil {
		return nil
	}
	if wait := last.Add(time.Duration(t.SlowModeSeconds) * time.Second).Sub(s.now()); wait > 0 {
		return &apperr.RateLimited{RetryAfter: wait}
	}
	return nil
}

// errLocked is what a member gets for posting in a locked thread.
var errLocked = &apperr.Denied{Code: "thread_locked", Message: "this thread is locked"}

// NewPostInput is a reply.
type NewPostInput struct {
	Body    string `json:"body"`
	ReplyTo *int64 `json:"reply_to"`
}

// Reply appends a post to a thread. The unit of work has two statements in
// the usual case (issue 16): store.LoadReplyTarget takes the writer's row
// lock and reads what the checks need — existence, permission, lock, mute,
// slow mode, validity and rate, in that order, all before rendering — and
// store.AppendReply checks again under the thread's row lock while it writes
// the post, its revision, the read mark and the auto-watch, returning the post
// and who may hear of it; the notifications follow (notify.RecordPlan).
func (s *Service) Reply(ctx context.Context, a *access.Actor, threadID int64, in NewPostInput) (Post, error) {
	if err := a.LoggedIn(); err != nil {
		return Post{}, err
	}
	v := &apperr.Validation{}
	body := checkBody(v, in.Body)
	var out Post
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		now := s.now()
		rate := s.rate()
		limit := rate.Limit
		if a.IsStaff() {
			limit = 0 // staff are not limited, and take no writer's lock
		}
		since := now.Add(-time.Minute)
		// The author's lock first (here), then the thread's (AppendReply),
		// always in that order.
		hot := s.hot.In(tx)
		row, err := store.LoadReplyTarget(ctx, hot, threadID, a.UserID, since, limit > 0)
		if err != nil {
			return err
		}
		t, g := row.Thread, row.Group()
		if err := s.writableThread(ctx, tx, a, g, t); err != nil {
			return err
		}
		if err := a.WriteUnmuted(g, row.MuteUntil, deref(row.MuteReason)); err != nil {
			return err
		}
		if err := s.slowModeWait(a, g, t, row.LastPostAt); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if limit > 0 && row.RecentPosts >= limit {
			return &apperr.RateLimited{RetryAfter: time.Minute}
		}
		// Everything that can refuse cheaply has: only now resolve the
		// mentions and render.
		people, err := notify.People(ctx, tx, g.ID, t.Hidden, body)
		if err != nil {
			return err
		}
		html, mentioned, err := s.md.RenderFieldMentions("body", body, people)
		if err != nil {
			return err
		}
		nr := store.NewReply{ThreadID: threadID, GroupID: g.ID, AuthorID: a.UserID, Moderator: a.CanModerate(g), Now: now,
			RateLimit: limit, Since: since, Body: body, BodyHTML: html, ReplyTo: in.ReplyTo,
			Watch: append([]int64{a.UserID}, mentioned...), Quoted: notify.QuotedPosts(body), Mentioned: mentioned}
		nr.Reasons, nr.Strengths, nr.Kinds = notify.Reasons()
		r, ok, err := store.AppendReply(ctx, hot, nr)
		if err != nil {
			return err
		}
		if !ok {
			// Something changed since the checks: find what, one check at
			// a time under the same locks, and refuse with its error.
			if g, err = s.replyRefused(ctx, tx, a, threadID, in.ReplyTo); err != nil {
				return err
			}
			nr.GroupID, nr.Moderator = g.ID, a.CanModerate(g)
			if r, ok, err = store.AppendReply(ctx, hot, nr); err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("reply to thread %d: refused although every check passes", threadID)
			}
		}
		// The statement recorded the notifications (postPlan's rule, the
		// reasons' strengths from notify): announce them, and mail them —
		// all kinds at once, each notification with its own kind.
		recorded, err := r.Notifications()
		if err != nil {
			return err
		}
		sent := make([]store.SentNotification, len(recorded))
		for i, n := range recorded {
			sent[i] = store.SentNotification{UserID: n.UserID, ID: n.ID, Kind: n.Kind,
				Recipient: &store.SentRecipient{Email: n.Email, Name: n.Name, Lang: n.Lang, Mode: n.Mode}}
		}
		if err := notify.Recorded(ctx, tx, store.NewNotifications{ActorID: a.UserID, ActorName: a.Name, GroupID: g.ID,
			TargetType: "post", TargetID: r.ID, Title: r.ThreadTitle}, sent); err != nil {
			return fmt.Errorf("notifications of post %d: %w", r.ID, err)
		}
		changed(tx, threadID, g.ID)
		out = postFor(a, r.PostRow, a.CanModerate(g))
		return nil
	})
	if err != nil {
		return Post{}, err
	}
	return out, nil
}

// replyRefused runs a reply's checks one by one inside its unit of work, as
// they ran before AppendReply folded them into its statement: the rate limit
// (under the writer's lock, already held), the thread's lock, readable and
// writable, not muted, slow mode, a reply_to in this thread. It returns the
// first refusal, or the thread's group if every check passes.
func (s *Service) replyRefused(ctx context.Context, tx *store.Tx, a *access.Actor, threadID int64, replyTo *int64) (model.Group, error) {
	if err := s.rate().Check(ctx, tx, a); err != nil {
		return model.Group{}, err
	}
	t, g, err := store.LockThread(ctx, tx, threadID)
	if err != nil {
		return g, err
	}
	if err := s.writableThread(ctx, tx, a, g, t); err != nil {
		return g, err
	}
	if err := s.checkWrite(ctx, tx, a, g); err != nil {
		return g, err
	}
	if err := s.checkSlowMode(ctx, tx, a, g, t); err != nil {
		return g, err
	}
	if replyTo != nil {
		rp, err := store.GetPostRow(ctx, tx, *replyTo)
		if err != nil || rp.ThreadID != threadID {
			return g, apperr.Invalid("reply_to", "err.reply_to")
		}
	}
	return g, nil
}

// writableThread: readable, not merged into another thread (whose address the
// caller is sent to if they may read it), writable group, and not locked
// (moderators excepted).
func (s *Service) writableThread(ctx context.Context, q store.Q, a *access.Actor, g model.Group, t model.Thread) error {
	if err := s.readableThread(a, g, t); err != nil {
		return err
	}
	if t.MergedInto != nil {
		return s.mergedInto(ctx, q, a, *t.MergedInto)
	}
	if err := a.Write(g); err != nil {
		return err
	}
	if t.Locked && !a.CanModerate(g) {
		return errLocked
	}
	return nil
}

// postContext loads a post, its thread and group, and checks the thread is readable.
func (s *Service) postContext(ctx context.Context, q store.Q, a *access.Actor, postID int64) (store.PostRow, model.Thread, model.Group, error) {
	p, err := store.GetPostRow(ctx, q, postID)
	if err != nil {
		return p, model.Thread{}, model.Group{}, err
	}
	row, err := store.GetThreadRow(ctx, q, p.ThreadID, a.UserID)
	if err != nil {
		return p, model.Thread{}, model.Group{}, err
	}
	g := row.Group()
	if err := s.readableThread(a, g, row.Thread); err != nil {
		return p, row.Thread, g, err
	}
	return p, row.Thread, g, nil
}

// Post loads a single post as a reader sees it, with the page it is on.
func (s *Service) Post(ctx context.Context, a *access.Actor, postID int64) (Post, Thread, model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return Post{}, Thread{}, model.Group{}, err
	}
	p, t, g, err := s.postContext(ctx, s.db, a, postID)
	if err != nil {
		return Post{}, Thread{}, model.Group{}, err
	}
	th, err := threadFrom(t, "", nil)
	return postFor(a, p, a.CanModerate(g)), th, g, err
}

// EditInput changes a post's text; Version is the version the editor started from.
type EditInput struct {
	Body    string `json:"body"`
	Version int    `json:"version"`
}

// Current is what a stale editor receives with the 409, so nothing is lost.
type Current struct {
	ID       int64  `json:"id"`
	Version  int    `json:"version"`
	Body     string `json:"body"`
	BodyHTML string `json:"body_html"`
}

// EditPost replaces a post's text if nobody changed it since in.Version; every
// version is kept as a revision naming its editor.
func (s *Service) EditPost(ctx context.Context, a *access.Actor, postID int64, in EditInput) (Post, error) {
	if err := a.LoggedIn(); err != nil {
		return Post{}, err
	}
	v := &apperr.Validation{}
	body := checkBody(v, in.Body)
	if in.Version < 1 {
		v.Add("version", "err.required")
	}
	// Who may edit is known before the text is rendered; the transaction asks
	// again, under the row it changes.
	pre, err := s.editablePost(ctx, s.db, a, postID)
	if err != nil {
		return Post{}, err
	}
	if err := v.Err(); err != nil {
		return Post{}, err
	}
	tr, err := store.GetThreadRow(ctx, s.db, pre.ThreadID, a.UserID)
	if err != nil {
		return Post{}, err
	}
	people, err := notify.People(ctx, s.db, tr.GroupID, tr.Hidden, body)
	if err != nil {
		return Post{}, err
	}
	html, mentioned, err := s.md.RenderFieldMentions("body", body, people)
	if err != nil {
		return Post{}, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		p, err := s.editablePost(ctx, tx, a, postID)
		if err != nil {
			return err
		}
		// Someone newly mentioned by the edit hears of it; whoever was
		// already told of this post is not told again (one per post).
		if len(mentioned) > 0 {
			var plan notify.Plan
			plan.Add(notify.Mention, mentioned...)
			if err = notify.RecordPlan(ctx, tx, plan, store.NewNotifications{ActorID: a.UserID, GroupID: tr.GroupID,
				TargetType: "post", TargetID: postID, Title: tr.Title}); err != nil {
				return err
			}
			if err := store.AutoWatchThread(ctx, tx, p.ThreadID, mentioned); err != nil {
				return err
			}
		}
		newVersion, err := store.UpdatePostBody(ctx, tx, postID, in.Version, body, html, a.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return &apperr.Conflict{Code: "stale_version", Message: "the post was changed since you opened it",
				Current: Current{ID: p.ID, Version: p.Version, Body: p.Body, BodyHTML: p.BodyHTML}}
		}
		if err != nil {
			return err
		}
		// Open pages of the thread re-read it (its group's list is unchanged).
		tx.Touch(topic.Name(topic.Thread, p.ThreadID), 0)
		return store.InsertPostRevision(ctx, tx, postID, newVersion, body, a.UserID)
	})
	if err != nil {
		return Post{}, err
	}
	p, _, _, err := s.Post(ctx, a, postID)
	return p, err
}

// editablePost loads a post that a may edit: their own (in a thread they may
// still write in) or, for moderators, anyone's; not deleted; and a not muted in
// the group, moderators included (mute means no writing there at all).
func (s *Service) editablePost(ctx context.Context, q store.Q, a *access.Actor, postID int64) (store.PostRow, error) {
	p, t, g, err := s.postContext(ctx, q, a, postID)
	if err != nil {
		return p, err
	}
	own := p.AuthorID == a.UserID
	if (!own && !a.CanModerate(g)) || p.DeletedAt != nil {
		return p, apperr.ErrForbidden
	}
	if own && !a.CanModerate(g) {
		if err := s.writableThread(ctx, q, a, g, t); err != nil {
			return p, err
		}
	}
	return p, s.checkWrite(ctx, q, a, g)
}

// DeletePost soft-deletes: readers see a tombstone, moderators still see the text.
// A muted member may still delete their own posts: taking one's words back is
// not writing, moderators keep the text, and keeping it up would only prolong
// what the mute is meant to stop.
func (s *Service) DeletePost(ctx context.Context, a *access.Actor, postID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		p, _, g, err := s.postContext(ctx, tx, a, postID)
		if err != nil {
			return err
		}
		if p.AuthorID != a.UserID && !a.CanModerate(g) {
			return apperr.ErrForbidden
		}
		if p.DeletedAt != nil {
			return apperr.ErrNotFound
		}
		tx.Touch(topic.Name(topic.Thread, p.ThreadID), 0)
		return store.SoftDeletePost(ctx, tx, postID, a.UserID)
	})
}

// Revisions lists every version of a post, newest first, for its author and moderators.
func (s *Service) Revisions(ctx context.Context, a *access.Actor, postID int64) (Post, []store.Revision, error) {
	if err := a.LoggedIn(); err != nil {
		return Post{}, nil, err
	}
	p, _, g, err := s.postContext(ctx, s.db, a, postID)
	if err != nil {
		return Post{}, nil, err
	}
	if p.AuthorID != a.UserID && !a.CanModerate(g) {
		return Post{}, nil, apperr.ErrForbidden
	}
	revs, err := store.ListPostRevisions(ctx, s.db, postID)
	return postFor(a, p, a.CanModerate(g)), revs, err
}

// MarkRead records that the reader has read the thread up to postID.
func (s *Service) MarkRead(ctx context.Context, a *access.Actor, threadID, postID int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	p, _, _, err := s.postContext(ctx, s.db, a, postID)
	if err != nil {
		return err
	}
	if p.ThreadID != threadID {
		return apperr.Invalid("post_id", "err.post_not_in_thread")
	}
	return store.MarkRead(ctx, s.db, a.UserID, threadID, p.Position)
}

// Areas lists the support areas for anyone logged in.
func (s *Service) Areas(ctx context.Context, a *access.Actor) ([]model.Area, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	return store.ListAreas(ctx, s.db)
}

// AreaInput names a support area and its macro-area.
type AreaInput struct {
	Name      string `json:"name"`
	MacroArea string `json:"macro_area"`
}

var macroAreas = []string{"planowanie_rozwoju", "gospodarowanie_zasobami", "wspolpraca_z_partnerami"}

// MacroAreas are the needs diagnosis' three macro-areas.
func MacroAreas() []string { return macroAreas }

// SaveArea creates (id 0) or renames an area; admins only, audited.
func (s *Service) SaveArea(ctx context.Context, a *access.Actor, id int64, in AreaInput) (model.Area, error) {
	if err := a.Admin(); err != nil {
		return model.Area{}, err
	}
	in.Name = textnorm.OneLine(in.Name)
	v := &apperr.Validation{}
	if n := utf8.RuneCountInString(in.Name); n < 3 || n > 200 {
		v.Add("name", "err.area_name")
	}
	ok := false
	for _, m := range macroAreas {
		ok = ok || m == in.MacroArea
	}
	if !ok {
		v.Add("macro_area", "err.choice")
	}
	if err := v.Err(); err != nil {
		return model.Area{}, err
	}
	var out model.Area
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // areas are admin data no page follows live
		var err error
		action := "area.create"
		if id == 0 {
			out, err = store.CreateArea(ctx, tx, in.Name, in.MacroArea)
		} else {
			action = "area.update"
			out, err = store.UpdateArea(ctx, tx, id, in.Name, in.MacroArea)
		}
		if store.IsUniqueViolation(err, "") {
			return apperr.Invalid("name", "err.area_taken")
		}
		if err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: action, TargetType: "area",
			TargetID: out.ID, Details: map[string]any{"name": out.Name, "macro_area": out.MacroArea}})
	})
	return out, err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Preview is the HTML a text would be shown as: the same normalization,
// bounds and sanitizer as a stored post, nothing stored. The writing
// toolbar's "Podgląd" (issue 14) asks for it, so a preview never differs
// from what publishing would show.
type Preview struct {
	HTML string `json:"html"`
}

// Preview renders raw as a post. groupID, when not 0, is the group the text
// is being written in: its
// mentions are then linked the way publishing there would link them (the
// reader must be able to read the group; another group's answers 404).
func (s *Service) Preview(ctx context.Context, a *access.Actor, raw string, groupID int64) (Preview, error) {
	if err := a.LoggedIn(); err != nil {
		return Preview{}, err
	}
	v := &apperr.Validation{}
	body := checkBody(v, raw)
	if err := v.Err(); err != nil {
		return Preview{}, err
	}
	// A person previews a few times a minute; a loop would only burn CPU.
	if err := s.previews.Allow(a.UserID); err != nil {
		return Preview{}, err
	}
	var people markup.People
	if groupID != 0 {
		g, err := store.GetGroup(ctx, s.db, groupID)
		if err != nil {
			return Preview{}, err
		}
		if err := a.Read(g); err != nil {
			return Preview{}, err
		}
		if people, err = notify.People(ctx, s.db, g.ID, false, body); err != nil {
			return Preview{}, err
		}
	}
	html, _, err := s.md.RenderFieldMentions("body", body, people)
	return Preview{HTML: html}, err
}
