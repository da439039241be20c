package forum

import (
	"context"
	"fmt"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Watch is a person's choice about a thread or a group (SPEC §4 …/watch):
// "watch" tells them of every new post, "mute" of nothing but what addresses
// them personally (a reply to their post, a quote, a mention), "none" is the
// default (the same, plus replies in threads they opened).
type Watch struct {
	ThreadID *int64 `json:"thread_id,omitempty"`
	GroupID  int64  `json:"group_id"`
	State    string `json:"state"`
}

// WatchStates accepted by PUT …/watch; DELETE is "none".
const (
	WatchOn   = store.WatchOn
	WatchMute = store.WatchMute
	WatchNone = "none"
)

func checkWatchState(state string) (string, error) {
	switch state {
	case WatchOn, WatchMute:
		return state, nil
	case WatchNone, "":
		return "", nil
	}
	return "", apperr.Invalid("state", "err.choice")
}

func stateName(s string) string {
	if s == "" {
		return WatchNone
	}
	return s
}

// WatchThread sets the actor's choice about a thread they may read (observers
// included: watching is reading).
func (s *Service) WatchThread(ctx context.Context, a *access.Actor, threadID int64, state string) (Watch, error) {
	if err := a.LoggedIn(); err != nil {
		return Watch{}, err
	}
	st, err := checkWatchState(state)
	if err != nil {
		return Watch{}, err
	}
	row, err := store.GetThreadRow(ctx, s.db, threadID, a.UserID)
	if err != nil {
		return Watch{}, err
	}
	if err := s.readableThread(a, row.Group(), row.Thread); err != nil {
		return Watch{}, err
	}
	if row.MergedInto != nil {
		return Watch{}, s.mergedInto(ctx, s.db, a, *row.MergedInto)
	}
	if err := store.SetThreadWatch(ctx, s.db, a.UserID, threadID, st); err != nil {
		return Watch{}, err
	}
	return Watch{ThreadID: &threadID, GroupID: row.GroupID, State: stateName(st)}, nil
}

// WatchGroup sets the actor's choice about a group they may read.
func (s *Service) WatchGroup(ctx context.Context, a *access.Actor, groupID int64, state string) (Watch, error) {
	if err := a.LoggedIn(); err != nil {
		return Watch{}, err
	}
	st, err := checkWatchState(state)
	if err != nil {
		return Watch{}, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return Watch{}, err
	}
	if err := a.Read(g); err != nil {
		return Watch{}, err
	}
	if err := store.SetGroupWatch(ctx, s.db, a.UserID, groupID, st); err != nil {
		return Watch{}, err
	}
	return Watch{GroupID: groupID, State: stateName(st)}, nil
}

// Person is someone the mention completion offers.
type Person struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

// MaxSuggestions is how many people the completion offers at most.
const MaxSuggestions = 8

// People offers the readers of a group whose name (any word of it) starts
// with prefix, for the mention completion. Only someone who may read the
// group asks, and only its readers are offered: the list is part of the
// place. A prefix is required and at most MaxSuggestions are returned: the
// list of a common group is everyone, and nobody needs to page through it.
func (s *Service) People(ctx context.Context, a *access.Actor, groupID int64, prefix string) ([]Person, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return nil, err
	}
	if err := a.Read(g); err != nil {
		return nil, err
	}
	if n := len([]rune(prefix)); n < 1 || n > 100 {
		return nil, apperr.Invalid("q", "err.mention_query")
	}
	// A person types a few letters at a time; 60 lookups a minute is far
	// more than that and far less than walking the member list.
	if err := s.lookups.Allow(a.UserID); err != nil {
		return nil, err
	}
	rows, err := store.SuggestPeople(ctx, s.db, g.ID, false, prefix, MaxSuggestions)
	if err != nil {
		return nil, err
	}
	out := make([]Person, len(rows))
	for i, r := range rows {
		out[i] = Person{ID: r.ID, Name: r.Name, JST: r.JST}
	}
	return out, nil
}

// postNotifications records, in the transaction that wrote post postID, who
// hears of it and why, one notification each (notify.Plan keeps the most
// personal reason): people watching the thread or its group; the thread's
// author unless they muted it (not for its first post); the author of the
// post replied to; authors of quoted posts; people mentioned. It also makes
// the writer and the people mentioned watch the thread, unless they muted
// it. The store leaves out whoever may not read the thread, and Record the
// writer.
func postNotifications(ctx context.Context, tx *store.Tx, a *access.Actor, t model.Thread, g model.Group, postID int64,
	replyAuthor *int64, body string, mentioned []int64, first bool) error {
	watchers, err := store.ThreadWatchers(ctx, tx, t.ID, g.ID)
	if err != nil {
		return err
	}
	var threadAuthor *int64
	if !first {
		muted, err := store.ThreadMuters(ctx, tx, t.ID, []int64{t.AuthorID})
		if err != nil {
			return err
		}
		if len(muted) == 0 {
			threadAuthor = &t.AuthorID
		}
	}
	quoted, err := store.PostAuthorIDs(ctx, tx, notify.QuotedPosts(body))
	if err != nil {
		return err
	}
	plan := postPlan(watchers, threadAuthor, replyAuthor, quoted, mentioned)
	if err := notify.RecordPlan(ctx, tx, plan, store.NewNotifications{ActorID: a.UserID, ActorName: a.Name, GroupID: g.ID,
		TargetType: "post", TargetID: postID, Title: t.Title}); err != nil {
		return fmt.Errorf("notifications of post %d: %w", postID, err)
	}
	return store.AutoWatchThread(ctx, tx, t.ID, append([]int64{a.UserID}, mentioned...))
}

// postPlan is who hears of a post and why: its thread's watchers, the
// thread's author (nil: its first post, or they muted it), the author of
// the post replied to, the authors of quoted posts, the people mentioned.
func postPlan(watchers []int64, threadAuthor, replyAuthor *int64, quoted, mentioned []int64) notify.Plan {
	var plan notify.Plan
	plan.Add(notify.WatchedThread, watchers...)
	if threadAuthor != nil {
		plan.Add(notify.ThreadReply, *threadAuthor)
	}
	if replyAuthor != nil {
		plan.Add(notify.Reply, *replyAuthor)
	}
	plan.Add(notify.Quote, quoted...)
	plan.Add(notify.Mention, mentioned...)
	return plan
}
