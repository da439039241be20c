package moderation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// autoHideReason is what the author and moderators see on a post hidden by reports.
const autoHideReason = "Ukryty automatycznie po zgłoszeniach – czeka na decyzję moderatora."

// Report records a member's report of a post (once per member per post). When
// the post reaches the threshold of distinct open reports it is hidden pending
// review. Reports count toward hiding a post, so they are a member's write:
// only those who may write in the group and are not muted there may report
// (observers and muted members get the same refusal as for posting).
func (s *Service) Report(ctx context.Context, a *access.Actor, postID int64, reason string) (int64, error) {
	if err := a.LoggedIn(); err != nil {
		return 0, err
	}
	reason = cleanReason(reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", reason, true)
	var flagID int64
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // no page follows the report queue live; an auto-hide touches the thread below
		p, err := store.GetPostRow(ctx, tx, postID)
		if err != nil {
			return err
		}
		// Lock the thread: concurrent reports of one post are counted one at a time.
		t, g, err := store.LockThread(ctx, tx, p.ThreadID)
		if err != nil {
			return err
		}
		if err := a.Read(g); err != nil {
			return err
		}
		if (t.Hidden || p.Hidden || p.DeletedAt != nil) && !a.CanModerate(g) {
			return apperr.ErrNotFound
		}
		mutedUntil, muteReason, err := store.MuteInForce(ctx, tx, g.ID, a.UserID)
		if err != nil {
			return err
		}
		if err := a.WriteUnmuted(g, mutedUntil, muteReason); err != nil {
			return err
		}
		if p.AuthorID == a.UserID {
			return apperr.Invalid("post_id", "err.report_own")
		}
		if err := v.Err(); err != nil {
			return err
		}
		flagID, err = store.CreateFlag(ctx, tx, postID, a.UserID, reason)
		if store.IsUniqueViolation(err, "flags_post_id_reporter_id_key") {
			return &apperr.Conflict{Code: "already_reported", Message: "you have already reported this post"}
		}
		if err != nil {
			return err
		}
		n, err := store.CountOpenFlags(ctx, tx, postID)
		if err != nil {
			return err
		}
		if n >= s.set.FlagHideThreshold && !p.Hidden {
			if err := store.SetPostHidden(ctx, tx, postID, true, autoHideReason, true); err != nil {
				return err
			}
			touchThread(tx, p.ThreadID)
			if err := store.AppendAudit(ctx, tx, store.NewAuditEntry{Action: "post.auto_hide", TargetType: "post", TargetID: postID,
				GroupID: &g.ID, Reason: autoHideReason, Details: map[string]any{"reports": n, "thread_id": p.ThreadID}}); err != nil {
				return err
			}
		}
		return nil
	})
	return flagID, err
}

// moderatedGroup checks that the actor moderates a group (404 if they cannot read it).
func moderatedGroup(ctx context.Context, q store.Q, a *access.Actor, groupID int64) (model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return model.Group{}, err
	}
	g, err := store.GetGroup(ctx, q, groupID)
	if err != nil {
		return g, err
	}
	return g, a.Moderate(g)
}

// Flags lists a group's reports for its moderators; state "" means all.
func (s *Service) Flags(ctx context.Context, a *access.Actor, groupID int64, state string, p store.Page) (model.Group, []store.Flag, error) {
	g, err := moderatedGroup(ctx, s.db, a, groupID)
	if err != nil {
		return g, nil, err
	}
	if state != "" && state != "open" && state != "resolved" && state != "dismissed" {
		return g, nil, apperr.Invalid("state", "err.choice")
	}
	flags, err := store.ListFlags(ctx, s.db, groupID, state, p)
	return g, flags, err
}

// CloseFlag resolves (the report was right) or dismisses (it was not) a report
// with a note. Dismissing the last open report of a post that reports hid
// shows the post again.
func (s *Service) CloseFlag(ctx context.Context, a *access.Actor, flagID int64, resolve bool, note string) (store.Flag, error) {
	if err := a.LoggedIn(); err != nil {
		return store.Flag{}, err
	}
	note = cleanReason(note)
	v := &apperr.Validation{}
	checkReason(v, "note", note, false)
	state, action := "dismissed", "flag.dismiss"
	if resolve {
		state, action = "resolved", "flag.resolve"
	}
	var out store.Flag
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // as in Report: a post shown or hidden again touches its thread below
		f, err := store.GetFlag(ctx, tx, flagID)
		if err != nil {
			return err
		}
		g, err := moderatedGroup(ctx, tx, a, f.GroupID)
		if err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		if err := store.CloseFlag(ctx, tx, flagID, state, note, a.UserID); errors.Is(err, store.ErrNotFound) {
			return &apperr.Conflict{Code: "already_closed", Message: "this report was already handled"}
		} else if err != nil {
			return err
		}
		p, err := store.GetPostRow(ctx, tx, f.PostID)
		if err != nil {
			return err
		}
		if resolve && p.AutoHidden {
			// The report was right: the hide pending review becomes a
			// moderator's hide, which later dismissals do not undo.
			if err := store.SetPostHidden(ctx, tx, f.PostID, true, p.HiddenReason, false); err != nil {
				return err
			}
			touchThread(tx, p.ThreadID)
		}
		if !resolve {
			open, err := store.CountOpenFlags(ctx, tx, f.PostID)
			if err != nil {
				return err
			}
			if p.AutoHidden && open == 0 {
				if err := store.SetPostHidden(ctx, tx, f.PostID, false, "", false); err != nil {
					return err
				}
				touchThread(tx, p.ThreadID)
			}
		}
		if err := audit(ctx, tx, a, action, "flag", flagID, g.ID, note,
			map[string]any{"post_id": f.PostID, "report": f.Reason}); err != nil {
			return err
		}
		out, err = store.GetFlag(ctx, tx, flagID)
		return err
	})
	return out, err
}

// MuteInput silences a member in a group until a time.
type MuteInput struct {
	UserID int64     `json:"user_id"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// Mute stops a member posting and chatting in a group until a time; they see the reason.
func (s *Service) Mute(ctx context.Context, a *access.Actor, groupID int64, in MuteInput) (store.Mute, error) {
	in.Reason = cleanReason(in.Reason)
	v := &apperr.Validation{}
	checkReason(v, "reason", in.Reason, true)
	if !in.Until.After(s.now()) {
		v.Add("until", "err.until_past")
	} else if in.Until.After(s.now().AddDate(1, 0, 0)) {
		v.Add("until", "err.until_far")
	}
	var m store.Mute
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// A mute is read on every write the member tries; no open page shows it.
		tx.Quiet()
		g, err := moderatedGroup(ctx, tx, a, groupID)
		if err != nil {
			return err
		}
		// Only the group's own people are named: anyone else is one 404 (issue 10).
		target, err := store.GroupMuteTarget(ctx, tx, g.ID, in.UserID)
		if err != nil {
			return err
		}
		if in.UserID == a.UserID {
			v.Add("user_id", "err.mute_self")
		}
		if target.Role != model.RoleMember {
			v.Add("user_id", "err.mute_staff")
		}
		if err := v.Err(); err != nil {
			return err
		}
		if m, err = store.CreateMute(ctx, tx, g.ID, in.UserID, in.Until, in.Reason, a.UserID); err != nil {
			return err
		}
		return audit(ctx, tx, a, "member.mute", "user", in.UserID, g.ID, in.Reason,
			map[string]any{"until": in.Until.UTC().Format(time.RFC3339), "name": target.Name})
	})
	return m, err
}

// Unmute lifts a member's mute in a group.
func (s *Service) Unmute(ctx context.Context, a *access.Actor, groupID, userID int64) error {
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // as in Mute
		g, err := moderatedGroup(ctx, tx, a, groupID)
		if err != nil {
			return err
		}
		n, err := store.LiftMutes(ctx, tx, g.ID, userID)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("mute of user %d: %w", userID, apperr.ErrNotFound)
		}
		return audit(ctx, tx, a, "member.unmute", "user", userID, g.ID, "", nil)
	})
}

// Mutes lists the mutes in force in a group.
func (s *Service) Mutes(ctx context.Context, a *access.Actor, groupID int64) (model.Group, []store.Mute, []model.Member, error) {
	g, err := moderatedGroup(ctx, s.db, a, groupID)
	if err != nil {
		return g, nil, nil, err
	}
	ms, err := store.ListActiveMutes(ctx, s.db, groupID)
	if err != nil {
		return g, nil, nil, err
	}
	members, err := store.ListMembers(ctx, s.db, groupID)
	return g, ms, members, err
}

// GroupSettings are what a group's moderators may change.
type GroupSettings struct {
	ModeratorsOnlyThreads *bool `json:"moderators_only_threads"`
}

func (s *Service) UpdateGroup(ctx context.Context, a *access.Actor, groupID int64, in GroupSettings) (model.Group, error) {
	var out model.Group
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		g, err := moderatedGroup(ctx, tx, a, groupID)
		if err != nil {
			return err
		}
		out = g
		touchGroup(tx, g.ID) // its pages offer "new thread" by this setting
		if in.ModeratorsOnlyThreads == nil || *in.ModeratorsOnlyThreads == g.ModeratorsOnlyThreads {
			return nil
		}
		if out, err = store.SetGroupModeratorsOnly(ctx, tx, groupID, *in.ModeratorsOnlyThreads); err != nil {
			return err
		}
		return audit(ctx, tx, a, "group.settings", "group", g.ID, g.ID, "",
			map[string]any{"moderators_only_threads": map[string]any{"before": g.ModeratorsOnlyThreads, "after": out.ModeratorsOnlyThreads}})
	})
	return out, err
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	GroupID int64
	ActorID int64
	Action  string
	Page    store.Page
}

// Audit reads the log: admins see everything; a group's moderators (and staff)
// see their group's entries and must name the group, without what the entries
// say of threads and groups they may not read.
func (s *Service) Audit(ctx context.Context, a *access.Actor, q AuditQuery) ([]model.AuditEntry, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	if !a.IsAdmin() {
		if q.GroupID == 0 {
			return nil, apperr.Invalid("group_id", "err.required")
		}
		if _, err := moderatedGroup(ctx, s.db, a, q.GroupID); err != nil {
			return nil, err
		}
	}
	entries, err := store.ListAudit(ctx, s.db, store.AuditFilter{GroupID: q.GroupID, ActorID: q.ActorID, Action: q.Action}, q.Page)
	if err != nil {
		return nil, err
	}
	return s.redactAudit(ctx, a, entries) // audit.go: other groups' threads and ids
}

// AuditActors lists the people who appear as actors in the log the reader
// may see (one group's for its moderators, any for admins): the same rule
// as Audit, so the filter names no one the log itself would not show.
func (s *Service) AuditActors(ctx context.Context, a *access.Actor, groupID int64) ([]model.AuditActor, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	if !a.IsAdmin() {
		if groupID == 0 {
			return nil, apperr.Invalid("group_id", "err.required")
		}
		if _, err := moderatedGroup(ctx, s.db, a, groupID); err != nil {
			return nil, err
		}
	}
	actors, err := store.AuditActors(ctx, s.db, groupID)
	if err != nil {
		return nil, fmt.Errorf("audit actors of group %d: %w", groupID, err)
	}
	return actors, nil
}
