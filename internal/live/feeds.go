package live

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/meetings"
	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/reviews"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// A presenceFeed's subscribers are listed as present (a meeting's room, a
// note's editors), those of them that lists accepts.
type presenceFeed interface {
	// lists tells whether a, who may read the topic, is listed on it: a
	// note's readers who may not edit it are not its editors.
	lists(ctx context.Context, a *access.Actor, id int64) (bool, error)
}

// A feed serves one kind of topic: who may follow it, what its state is, and
// which frames announce a change of state.
type feed interface {
	// authorize answers apperr.ErrNotFound when a may not read the topic: the
	// same service checks as the pages'.
	authorize(ctx context.Context, a *access.Actor, id int64) error
	// head reads the topic now: its log position (0 without a log) and state.
	head(ctx context.Context, id int64) (seq int64, state any, err error)
	// diff returns the frames announcing old → new, and whether subscribers'
	// rights must be checked again (a thread hidden or moved).
	diff(name string, id int64, old, new any) (frames []any, recheck bool)
	// greeting is what a new subscriber learns besides the log: the state as
	// the subscribed frame carries it, and frames such as the room's presence.
	// self is the newcomer when the topic lists them (nil otherwise). It
	// runs under the topic's lock: no queries.
	greeting(name string, id int64, state any, self *store.PresentUser) (summary any, frames []any)
}

// A logFeed also has an ordered log (a meeting's chat).
type logFeed interface {
	log(ctx context.Context, name string, id, after int64, limit int) ([]logEntry, error)
}

type logEntry struct {
	seq   int64
	frame any
}

// --- meetings: chat log, status and presence ---

type meetingFeed struct{ h *Hub }

type meetingState struct {
	Status  string
	Present []store.PresentUser
}

type chatMessageFrame struct {
	Type    string           `json:"type"`
	Topic   string           `json:"topic"`
	Message meetings.Message `json:"message"`
}

type meetingStatusFrame struct {
	Type      string `json:"type"`
	Topic     string `json:"topic"`
	MeetingID int64  `json:"meeting_id"`
	Status    string `json:"status"`
}

// presenceFrame lists who is in the room. Big rooms list the first
// presenceListMax people by name and give the count; joined/left name the
// change since the previous frame (on a greeting, joined is empty).
type presenceFrame struct {
	Type   string        `json:"type"`
	Topic  string        `json:"topic"`
	Count  int           `json:"count"`
	Users  []presentUser `json:"users"`
	Joined []presentUser `json:"joined"`
	Left   []int64       `json:"left"`
}

const presenceListMax = 100

// Everyone who may read a meeting is in its room when they follow it.
func (meetingFeed) lists(context.Context, *access.Actor, int64) (bool, error) { return true, nil }

func (f meetingFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	return f.h.meetings.Authorize(ctx, a, id)
}

func (f meetingFeed) head(ctx context.Context, id int64) (int64, any, error) {
	mh, err := store.GetMeetingHead(ctx, f.h.db, id)
	if err != nil {
		return 0, nil, err
	}
	present, err := f.h.present(ctx, topic.Name(topic.Meeting, id))
	if err != nil {
		return 0, nil, err
	}
	return mh.LastSeq, meetingState{Status: mh.Status, Present: present}, nil
}

func (f meetingFeed) log(ctx context.Context, name string, id, after int64, limit int) ([]logEntry, error) {
	msgs, err := f.h.meetings.AfterUnchecked(ctx, id, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]logEntry, len(msgs))
	for i, m := range msgs {
		out[i] = logEntry{seq: m.Seq, frame: chatMessageFrame{Type: "chat.message", Topic: name, Message: m}}
	}
	return out, nil
}

func (f meetingFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(meetingState), newState.(meetingState)
	var frames []any
	if o.Status != n.Status {
		frames = append(frames, meetingStatusFrame{Type: "meeting.status", Topic: name, MeetingID: id, Status: n.Status})
	}
	joined, left := presenceChange(o.Present, n.Present)
	if len(joined) > 0 || len(left) > 0 {
		frames = append(frames, newPresence(name, n.Present, joined, left))
	}
	return frames, false
}

// The greeting counts the newcomer in at once: the room's state learns of
// them a moment later, and the list should not flicker.
func (f meetingFeed) greeting(name string, id int64, state any, self *store.PresentUser) (any, []any) {
	s := state.(meetingState)
	return map[string]any{"status": s.Status}, []any{newPresence(name, withSelf(s.Present, self), nil, nil)}
}

// withSelf adds the newcomer to a presence list (sorted by name) if the
// topic's state has not seen them yet.
func withSelf(present []store.PresentUser, me *store.PresentUser) []store.PresentUser {
	if me == nil || slices.ContainsFunc(present, func(u store.PresentUser) bool { return u.ID == me.ID }) {
		return present
	}
	present = append(slices.Clone(present), *me)
	slices.SortFunc(present, func(a, b store.PresentUser) int {
		return cmp.Or(textnorm.ComparePeople(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	return present
}

func newPresence(name string, present, joined []store.PresentUser, left []int64) presenceFrame {
	return presenceFrame{Type: "presence", Topic: name, Count: len(present),
		Users: presentUsers(capList(present)), Joined: presentUsers(capList(joined)), Left: nonNil(left)}
}

// presentUser is how a person appears in a presence frame (SPEC §5); the row
// store.PresentUser has no JSON tags, so a column added to its query cannot
// reach a socket by accident.
type presentUser struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

// presentUsers is never nil: a frame's lists are [] when empty.
func presentUsers(us []store.PresentUser) []presentUser {
	out := make([]presentUser, len(us))
	for i, u := range us {
		out[i] = presentUser{ID: u.ID, Name: u.Name, JST: u.JST}
	}
	return out
}

func presenceChange(old, new []store.PresentUser) (joined []store.PresentUser, left []int64) {
	was := make(map[int64]bool, len(old))
	for _, u := range old {
		was[u.ID] = true
	}
	is := make(map[int64]bool, len(new))
	for _, u := range new {
		is[u.ID] = true
		if !was[u.ID] {
			joined = append(joined, u)
		}
	}
	for _, u := range old {
		if !is[u.ID] {
			left = append(left, u.ID)
		}
	}
	return joined, left
}

func capList(us []store.PresentUser) []store.PresentUser {
	if len(us) > presenceListMax {
		us = us[:presenceListMax]
	}
	return nonNil(us)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// --- threads: new posts and moderation ---

type threadFeed struct {
	db    *sqlx.DB
	forum *forum.Service
}

type threadPostFrame struct {
	Type       string `json:"type"`
	Topic      string `json:"topic"`
	ThreadID   int64  `json:"thread_id"`
	PostCount  int    `json:"post_count"`
	LastPostID int64  `json:"last_post_id"`
}

// threadUpdateFrame tells open pages a moderator locked, hid, moved, merged or
// renamed the thread.
type threadUpdateFrame struct {
	Type       string `json:"type"`
	Topic      string `json:"topic"`
	ThreadID   int64  `json:"thread_id"`
	GroupID    int64  `json:"group_id"`
	Title      string `json:"title"`
	Locked     bool   `json:"locked"`
	Hidden     bool   `json:"hidden"`
	MergedInto *int64 `json:"merged_into"`
	// MovedAway tells a subscriber who lost the thread through a move that it
	// went to a group they are not in (the group itself is not named).
	MovedAway bool `json:"moved_away,omitempty"`
}

func (f threadFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	return f.forum.CanFollowThread(ctx, a, id)
}

func (f threadFeed) head(ctx context.Context, id int64) (int64, any, error) {
	h, err := store.GetThreadHead(ctx, f.db, id)
	return 0, h, err
}

func (f threadFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(store.ThreadHead), newState.(store.ThreadHead)
	var frames []any
	if n.PostCount != o.PostCount || n.LastPostID != o.LastPostID {
		frames = append(frames, threadPostFrame{Type: "thread.post", Topic: name, ThreadID: id, PostCount: n.PostCount, LastPostID: n.LastPostID})
	}
	sameMerge := (o.MergedInto == nil) == (n.MergedInto == nil) && (o.MergedInto == nil || *o.MergedInto == *n.MergedInto)
	if o.Locked != n.Locked || o.Hidden != n.Hidden || o.GroupID != n.GroupID || o.Title != n.Title || !sameMerge {
		frames = append(frames, threadUpdateFrame{Type: "thread.update", Topic: name, ThreadID: id, GroupID: n.GroupID,
			Title: n.Title, Locked: n.Locked, Hidden: n.Hidden, MergedInto: n.MergedInto})
	}
	recheck := o.Hidden != n.Hidden || o.GroupID != n.GroupID || !sameMerge
	return frames, recheck
}

// redact words a thread's update for one subscriber. One who lost the thread
// learns that it was hidden, moved or merged, not where to: the group, title
// and merge target stay as they were. One who still reads it learns the
// merge target only if they may read that thread too.
func (f threadFeed) redact(ctx context.Context, a *access.Actor, lost bool, old any, frame any) (any, bool) {
	u, ok := frame.(threadUpdateFrame)
	if !ok {
		return frame, !lost
	}
	if lost {
		o := old.(store.ThreadHead)
		u.MovedAway = u.GroupID != o.GroupID
		u.GroupID, u.MergedInto, u.Title = o.GroupID, o.MergedInto, o.Title
		return u, true
	}
	if u.MergedInto != nil && f.forum.CanFollowThread(ctx, a, *u.MergedInto) != nil {
		u.MergedInto = nil
	}
	return u, true
}

func (f threadFeed) greeting(_ string, _ int64, state any, _ *store.PresentUser) (any, []any) {
	s := state.(store.ThreadHead)
	return map[string]any{"post_count": s.PostCount, "last_post_id": s.LastPostID, "locked": s.Locked}, nil
}

// --- groups: thread activity ---

type groupFeed struct {
	db    *sqlx.DB
	forum *forum.Service
}

type groupUpdateFrame struct {
	Type           string     `json:"type"`
	Topic          string     `json:"topic"`
	GroupID        int64      `json:"group_id"`
	Threads        int        `json:"threads"`
	LastActivityAt *time.Time `json:"last_activity_at"`
}

func (f groupFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	return f.forum.CanFollowGroup(ctx, a, id)
}

func (f groupFeed) head(ctx context.Context, id int64) (int64, any, error) {
	h, err := store.GetGroupHead(ctx, f.db, id)
	return 0, h, err
}

// groupMeetingFrame tells a group's open pages (index, group page) that a
// meeting went live or ended, so their banner says "join" or goes away.
type groupMeetingFrame struct {
	Type      string `json:"type"`
	Topic     string `json:"topic"`
	GroupID   int64  `json:"group_id"`
	MeetingID int64  `json:"meeting_id"`
	Status    string `json:"status"` // live | ended
}

func (f groupFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(store.GroupHead), newState.(store.GroupHead)
	var frames []any
	if !int64Equal(o.LiveMeetingID, n.LiveMeetingID) {
		if o.LiveMeetingID != nil {
			frames = append(frames, groupMeetingFrame{Type: "group.meeting", Topic: name, GroupID: id, MeetingID: *o.LiveMeetingID, Status: "ended"})
		}
		if n.LiveMeetingID != nil {
			frames = append(frames, groupMeetingFrame{Type: "group.meeting", Topic: name, GroupID: id, MeetingID: *n.LiveMeetingID, Status: "live"})
		}
	}
	if o.Threads != n.Threads || !timeEqual(o.LastActivityAt, n.LastActivityAt) {
		frames = append(frames, groupUpdateFrame{Type: "group.update", Topic: name, GroupID: id, Threads: n.Threads, LastActivityAt: n.LastActivityAt})
	}
	return frames, false
}

func int64Equal(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func (f groupFeed) greeting(_ string, _ int64, state any, _ *store.PresentUser) (any, []any) {
	s := state.(store.GroupHead)
	return map[string]any{"threads": s.Threads, "last_activity_at": s.LastActivityAt, "live_meeting_id": s.LiveMeetingID}, nil
}

func timeEqual(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// --- notes: who is editing, and new versions ---

// noteFeed serves note:ID, which the note's edit page follows: its subscribers
// are the people editing it, and a save by anyone is announced, so an editor
// knows before saving that they will have to merge.
type noteFeed struct {
	h     *Hub
	notes *notes.Service
}

type noteState struct {
	Head    store.NoteHead
	Editors []store.PresentUser
}

type noteUpdateFrame struct {
	Type       string    `json:"type"`
	Topic      string    `json:"topic"`
	NoteID     int64     `json:"note_id"`
	Version    int       `json:"version"`
	EditedBy   *int64    `json:"edited_by"`
	EditorName *string   `json:"editor_name"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// A note's editors are those who may edit it; an observer reading it along
// is not one of them (issue 10).
func (f noteFeed) lists(ctx context.Context, a *access.Actor, id int64) (bool, error) {
	n, err := f.notes.Note(ctx, a, id)
	return n.CanEdit, err
}

func (f noteFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	_, err := f.notes.Note(ctx, a, id)
	return err
}

func (f noteFeed) head(ctx context.Context, id int64) (int64, any, error) {
	h, err := store.GetNoteHead(ctx, f.h.db, id)
	if err != nil {
		return 0, nil, err
	}
	editors, err := f.h.present(ctx, topic.Name(topic.Note, id))
	return 0, noteState{Head: h, Editors: editors}, err
}

func (f noteFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(noteState), newState.(noteState)
	var frames []any
	if n.Head.Version != o.Head.Version {
		frames = append(frames, noteUpdateFrame{Type: "note.update", Topic: name, NoteID: id, Version: n.Head.Version,
			EditedBy: n.Head.EditedBy, EditorName: n.Head.EditorName, UpdatedAt: n.Head.UpdatedAt})
	}
	if joined, left := presenceChange(o.Editors, n.Editors); len(joined) > 0 || len(left) > 0 {
		frames = append(frames, newPresence(name, n.Editors, joined, left))
	}
	return frames, false
}

func (f noteFeed) greeting(name string, _ int64, state any, self *store.PresentUser) (any, []any) {
	s := state.(noteState)
	return map[string]any{"version": s.Head.Version}, []any{newPresence(name, withSelf(s.Editors, self), nil, nil)}
}

// --- review sections: new comments (issue 15) ---

// sectionFeed serves section:ID, which a section page of a material under
// review follows: it learns that comments were added, and offers them.
type sectionFeed struct {
	db      *sqlx.DB
	reviews *reviews.Service
}

type sectionCommentFrame struct {
	Type          string `json:"type"`
	Topic         string `json:"topic"`
	SectionID     int64  `json:"section_id"`
	CommentCount  int    `json:"comment_count"`
	LastCommentID int64  `json:"last_comment_id"`
}

func (f sectionFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	return f.reviews.CanFollowSection(ctx, a, id)
}

func (f sectionFeed) head(ctx context.Context, id int64) (int64, any, error) {
	h, err := store.GetReviewSectionHead(ctx, f.db, id)
	return 0, h, err
}

func lastComment(h store.ReviewSectionHead) int64 {
	if h.LastCommentID == nil {
		return 0
	}
	return *h.LastCommentID
}

func (f sectionFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(store.ReviewSectionHead), newState.(store.ReviewSectionHead)
	if o.CommentCount == n.CommentCount && lastComment(o) == lastComment(n) {
		return nil, false
	}
	return []any{sectionCommentFrame{Type: "section.comment", Topic: name, SectionID: id,
		CommentCount: n.CommentCount, LastCommentID: lastComment(n)}}, false
}

func (f sectionFeed) greeting(_ string, _ int64, state any, _ *store.PresentUser) (any, []any) {
	s := state.(store.ReviewSectionHead)
	return map[string]any{"comment_count": s.CommentCount, "last_comment_id": lastComment(s)}, nil
}
