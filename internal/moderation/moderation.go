// Package moderation owns what moderators do to their groups' content — pin,
// lock, hide, rename, move, merge, split, hide posts, handle reports, slow mode,
// mutes — and the audit log that records every such action. Who may do it is
// decided by package access; each action is one transaction with its audit entry.
package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Settings come from configuration.
type Settings struct {
	// FlagHideThreshold: this many distinct open reports hide a post pending
	// review (default 3).
	FlagHideThreshold int
}

type Service struct {
	db  *store.DB
	set Settings
	now func() time.Time
}

// New builds the service; announcer learns every committed change (the live
// hub in the server, topic.Discard in tools).
func New(db *sqlx.DB, announcer topic.Announcer, set Settings) *Service {
	if set.FlagHideThreshold <= 0 {
		set.FlagHideThreshold = 3
	}
	return &Service{db: store.NewDB(db, announcer), set: set, now: time.Now}
}

// touchThread and touchGroup record, in the unit of work, that open pages of
// a thread or a group must re-read them once it commits.
func touchThread(tx *store.Tx, id int64) { tx.Touch(topic.Name(topic.Thread, id), 0) }
func touchGroup(tx *store.Tx, id int64)  { tx.Touch(topic.Name(topic.Group, id), 0) }

// Thread actions without arguments.
const (
	Pin    = "pin"
	Unpin  = "unpin"
	Lock   = "lock"
	Unlock = "unlock"
	Hide   = "hide"
	Unhide = "unhide"
)

// ThreadActions lists the actions ThreadAction accepts.
var ThreadActions = []string{Pin, Unpin, Lock, Unlock, Hide, Unhide}

// moderatedThread locks a thread and checks the actor moderates its group:
// readers who are not moderators get 403, everyone else 404.
func moderatedThread(ctx context.Context, tx *store.Tx, a *access.Actor, threadID int64) (model.Thread, model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return model.Thread{}, model.Group{}, err
	}
	t, g, err := store.LockThread(ctx, tx, threadID)
	if err != nil {
		return t, g, err
	}
	if t.MergedInto != nil {
		return t, g, apperr.ErrNotFound
	}
	if err := a.Read(g); err != nil {
		return t, g, err
	}
	if t.Hidden && !a.CanModerate(g) {
		return t, g, apperr.ErrNotFound
	}
	return t, g, a.Moderate(g)
}

func audit(ctx context.Context, tx *store.Tx, a *access.Actor, action, targetType string, targetID, groupID int64, reason string, details map[string]any) error {
	return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: action, TargetType: targetType,
		TargetID: targetID, GroupID: &groupID, Reason: reason, Details: details})
}

func cleanReason(r string) string { return textnorm.Block(r) }

// checkReason: a reason is required (3–1000 characters) where something is hidden or removed.
func checkReason(v *apperr.Validation, field, r string, required bool) {
	n := utf8.RuneCountInString(r)
	switch {
	case n == 0 && required:
		v.Add(field, "err.reason_required")
	case n > 0 && n < 3:
		v.Add(field, "err.too_short")
	case n > 1000:
		v.Add(field, "err.too_long")
	}
}

// ThreadAction pins, unpins, locks, unlocks, hides or unhides a thread.
// Hiding needs a reason; the others may carry one.
func (s *Service) ThreadAction(ctx context.Context, a *access.Actor, threadID int64, action, reason string) error {
	reason = cleanReason(reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", reason, action == Hide)
	yes, no := true, false
	var c store.ThreadChange
	switch action {
	case Pin:
		c.Pinned = &yes
	case Unpin:
		c.Pinned = &no
	case Lock:
		c.Locked = &yes
	case Unlock:
		c.Locked = &no
	case Hide:
		c.Hidden = &yes
	case Unhide:
		c.Hidden = &no
	default:
		return fmt.Errorf("thread action %q: %w", action, apperr.ErrNotFound)
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, g, err := moderatedThread(ctx, tx, a, threadID)
		if err != nil {
			return err
		}
		touchThread(tx, t.ID)
		touchGroup(tx, g.ID)
		if err := v.Err(); err != nil {
			return err
		}
		if err := store.UpdateThread(ctx, tx, threadID, c); err != nil {
			return err
		}
		return audit(ctx, tx, a, "thread."+action, "thread", t.ID, g.ID, reason, map[string]any{"title": t.Title})
	})
}

// ThreadEdit renames a thread, replaces its areas, or sets slow mode.
type ThreadEdit struct {
	Title           *string  `json:"title"`
	Areas           *[]int64 `json:"areas"`
	SlowModeMinutes *int     `json:"slow_mode_minutes"`
	Reason          string   `json:"reason"`
}

func (s *Service) EditThread(ctx context.Context, a *access.Actor, threadID int64, in ThreadEdit) error {
	v := &apperr.Validation{}
	var c store.ThreadChange
	if in.Title != nil {
		t := textnorm.OneLine(*in.Title)
		if n := utf8.RuneCountInString(t); n < 3 || n > 200 {
			v.Add("title", "err.title_length")
		}
		c.Title = &t
	}
	var areas []int64
	if in.Areas != nil {
		seen := map[int64]bool{}
		for _, id := range *in.Areas {
			if !seen[id] {
				seen[id] = true
				areas = append(areas, id)
			}
		}
		if len(areas) > 3 {
			v.Add("areas", "err.areas_max")
		}
	}
	if in.SlowModeMinutes != nil {
		m := *in.SlowModeMinutes
		if m < 0 || m > 1440 {
			v.Add("slow_mode_minutes", "err.slow_mode")
		}
		secs := m * 60
		c.SlowModeSeconds = &secs
	}
	reason := cleanReason(in.Reason)
	checkReason(v, "reason", reason, false)
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, g, err := moderatedThread(ctx, tx, a, threadID)
		if err != nil {
			return err
		}
		touchThread(tx, t.ID)
		touchGroup(tx, g.ID)
		if err := v.Err(); err != nil {
			return err
		}
		details := map[string]any{}
		if c.Title != nil && *c.Title != t.Title {
			details["title"] = map[string]any{"before": t.Title, "after": *c.Title}
		}
		if c.SlowModeSeconds != nil && *c.SlowModeSeconds != t.SlowModeSeconds {
			details["slow_mode_seconds"] = map[string]any{"before": t.SlowModeSeconds, "after": *c.SlowModeSeconds}
		}
		if err := store.UpdateThread(ctx, tx, threadID, c); err != nil {
			return err
		}
		if in.Areas != nil {
			if len(areas) > 0 {
				found, err := store.ExistingAreaIDs(ctx, tx, areas)
				if err != nil {
					return err
				}
				if len(found) != len(areas) {
					return apperr.Invalid("areas", "err.area_unknown")
				}
			}
			if err := store.SetThreadAreas(ctx, tx, threadID, areas); err != nil {
				return err
			}
			details["areas"] = areas
		}
		if len(details) == 0 {
			return nil
		}
		return audit(ctx, tx, a, "thread.edit", "thread", t.ID, g.ID, reason, details)
	})
}

// Move puts a thread in another group; the actor must moderate both (or be staff).
func (s *Service) Move(ctx context.Context, a *access.Actor, threadID, groupID int64, reason string) error {
	reason = cleanReason(reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", reason, false)
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, from, err := moderatedThread(ctx, tx, a, threadID)
		if err != nil {
			return err
		}
		touchThread(tx, t.ID)
		touchGroup(tx, from.ID)
		touchGroup(tx, groupID)
		to, err := store.GetGroup(ctx, tx, groupID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !a.CanRead(to)) {
			return apperr.Invalid("group_id", "err.group_unknown")
		}
		if err != nil {
			return err
		}
		if !a.CanModerate(to) {
			return apperr.Invalid("group_id", "err.move_not_moderator")
		}
		if to.ID == from.ID {
			return apperr.Invalid("group_id", "err.move_same_group")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := store.MoveThread(ctx, tx, threadID, to.ID); err != nil {
			return err
		}
		details := map[string]any{"title": t.Title, "from_group": from.ID, "to_group": to.ID}
		if err := audit(ctx, tx, a, "thread.move", "thread", t.ID, from.ID, reason, details); err != nil {
			return err
		}
		// The destination group's moderators see the arrival in their log too.
		return audit(ctx, tx, a, "thread.move", "thread", t.ID, to.ID, reason, details)
	})
}

// Merge moves every post of src into dst (interleaved by time); src's URL then
// redirects to dst. Both threads must be in groups the actor moderates.
func (s *Service) Merge(ctx context.Context, a *access.Actor, src, dst int64, reason string) error {
	reason = cleanReason(reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", reason, false)
	if src == dst {
		v.Add("into_thread_id", "err.merge_same")
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// Lock in id order so two opposite merges cannot deadlock, but judge
		// the source first whatever the order: a reader of the source who may
		// not moderate it gets 403, a stranger 404, and only then is a target
		// they may not use a validation error.
		first, second := min(src, dst), max(src, dst)
		var srcErr, dstErr error
		for _, id := range []int64{first, second} {
			_, _, err := moderatedThread(ctx, tx, a, id)
			if id == src {
				srcErr = err
			} else {
				dstErr = err
			}
			if first == second {
				break
			}
		}
		if srcErr != nil {
			return srcErr
		}
		if errors.Is(dstErr, apperr.ErrNotFound) || errors.Is(dstErr, apperr.ErrForbidden) {
			return apperr.Invalid("into_thread_id", "err.thread_unknown")
		} else if dstErr != nil {
			return dstErr
		}
		if err := v.Err(); err != nil {
			return err
		}
		st, sg, err := store.LockThread(ctx, tx, src)
		if err != nil {
			return err
		}
		dt, _, err := store.LockThread(ctx, tx, dst)
		if err != nil {
			return err
		}
		if err := store.MergeThreads(ctx, tx, src, dst); err != nil {
			return err
		}
		touchThread(tx, src)
		touchThread(tx, dst)
		touchGroup(tx, sg.ID)
		return audit(ctx, tx, a, "thread.merge", "thread", src, sg.ID, reason,
			map[string]any{"title": st.Title, "into_thread_id": dst, "into_title": dt.Title, "posts": st.PostCount})
	})
}

// SplitInput names the posts that become a new thread.
type SplitInput struct {
	PostIDs []int64 `json:"post_ids"`
	Title   string  `json:"title"`
	Reason  string  `json:"reason"`
}

// Split moves the selected posts of a thread into a new thread in the same group
// and returns the new thread's id.
func (s *Service) Split(ctx context.Context, a *access.Actor, threadID int64, in SplitInput) (int64, error) {
	title := textnorm.OneLine(in.Title)
	reason := cleanReason(in.Reason)
	v := &apperr.Validation{}
	if n := utf8.RuneCountInString(title); n < 3 || n > 200 {
		v.Add("title", "err.title_length")
	}
	checkReason(v, "reason", reason, false)
	if len(in.PostIDs) == 0 {
		v.Add("post_ids", "err.split_none")
	}
	var newID int64
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		t, g, err := moderatedThread(ctx, tx, a, threadID)
		if err != nil {
			return err
		}
		touchThread(tx, t.ID)
		touchGroup(tx, g.ID)
		if err := v.Err(); err != nil {
			return err
		}
		posts, err := store.PostsOfThread(ctx, tx, threadID, in.PostIDs)
		if err != nil {
			return err
		}
		switch {
		case len(posts) != len(uniq(in.PostIDs)):
			return apperr.Invalid("post_ids", "err.split_foreign")
		case len(posts) == t.PostCount:
			return apperr.Invalid("post_ids", "err.split_all")
		}
		if newID, err = store.CreateThread(ctx, tx, store.NewThread{GroupID: g.ID, Title: title, AuthorID: posts[0].AuthorID,
			At: posts[0].CreatedAt}); err != nil {
			return err
		}
		ids := make([]int64, len(posts))
		for i, p := range posts {
			ids[i] = p.ID
		}
		if err := store.SplitPosts(ctx, tx, threadID, newID, ids); err != nil {
			return err
		}
		return audit(ctx, tx, a, "thread.split", "thread", threadID, g.ID, reason,
			map[string]any{"title": t.Title, "new_thread_id": newID, "new_title": title, "post_ids": ids})
	})
	return newID, err
}

func uniq(ids []int64) []int64 {
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

// moderatedPost loads a post and checks the actor moderates its group.
func moderatedPost(ctx context.Context, tx *store.Tx, a *access.Actor, postID int64) (store.PostRow, model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return store.PostRow{}, model.Group{}, err
	}
	p, err := store.GetPostRow(ctx, tx, postID)
	if err != nil {
		return p, model.Group{}, err
	}
	_, g, err := moderatedThread(ctx, tx, a, p.ThreadID)
	return p, g, err
}

// HidePost hides a post with a reason its author sees; UnhidePost shows it again.
func (s *Service) HidePost(ctx context.Context, a *access.Actor, postID int64, hide bool, reason string) error {
	reason = cleanReason(reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", reason, hide)
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		p, g, err := moderatedPost(ctx, tx, a, postID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := store.SetPostHidden(ctx, tx, postID, hide, reason, false); err != nil {
			return err
		}
		touchThread(tx, p.ThreadID)
		action := "post.hide"
		if !hide {
			action = "post.unhide"
		}
		return audit(ctx, tx, a, action, "post", p.ID, g.ID, reason, map[string]any{"thread_id": p.ThreadID, "author": p.AuthorName})
	})
}
