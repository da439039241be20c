package moderation

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/view"
)

// AuditEntryView is an audit log entry as the API shows it (SPEC §4): the row
// in internal/model has no JSON tags, so only these fields reach a client.
type AuditEntryView struct {
	ID         int64     `json:"id"`
	ActorID    *int64    `json:"actor_id"`
	ActorName  *string   `json:"actor_name"`
	Action     string    `json:"action"`
	TargetType string    `json:"target_type"`
	TargetID   *int64    `json:"target_id"`
	GroupID    *int64    `json:"group_id"`
	Reason     string    `json:"reason"`
	CreatedAt  time.Time `json:"created_at"`
	// Details is what changed, before and after ({} when nothing was recorded).
	Details json.RawMessage `json:"details"`
}

// ViewAuditEntry is the API form of an entry (already redacted for its reader by Audit).
func ViewAuditEntry(e model.AuditEntry) AuditEntryView {
	v := AuditEntryView{ID: e.ID, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, GroupID: e.GroupID, Reason: e.Reason, CreatedAt: e.CreatedAt, Details: json.RawMessage(e.Details)}
	if len(bytes.TrimSpace(e.Details)) == 0 {
		v.Details = json.RawMessage("{}")
	}
	return v
}

// FlagView is a report about a post as the moderation queue API shows it.
type FlagView struct {
	ID             int64      `json:"id"`
	PostID         int64      `json:"post_id"`
	ThreadID       int64      `json:"thread_id"`
	ThreadTitle    string     `json:"thread_title"`
	GroupID        int64      `json:"group_id"`
	PostAuthor     string     `json:"post_author"`
	PostBody       string     `json:"post_body"`
	PostHidden     bool       `json:"post_hidden"`
	ReporterID     int64      `json:"reporter_id"`
	ReporterName   string     `json:"reporter_name"`
	Reason         string     `json:"reason"`
	State          string     `json:"state"`
	ResolutionNote string     `json:"resolution_note"`
	ResolvedBy     *int64     `json:"resolved_by"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

func ViewFlag(f store.Flag) FlagView {
	return FlagView{ID: f.ID, PostID: f.PostID, ThreadID: f.ThreadID, ThreadTitle: f.ThreadTitle, GroupID: f.GroupID,
		PostAuthor: f.PostAuthor, PostBody: f.PostBody, PostHidden: f.PostHidden, ReporterID: f.ReporterID,
		ReporterName: f.ReporterName, Reason: f.Reason, State: f.State, ResolutionNote: f.ResolutionNote,
		ResolvedBy: f.ResolvedBy, ResolvedAt: f.ResolvedAt, CreatedAt: f.CreatedAt}
}

func ViewFlags(fs []store.Flag) []FlagView { return view.All(fs, ViewFlag) }

// MuteView is a member's silence in one group until a time.
type MuteView struct {
	ID        int64     `json:"id"`
	GroupID   int64     `json:"group_id"`
	UserID    int64     `json:"user_id"`
	UserName  string    `json:"user_name"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func ViewMute(m store.Mute) MuteView {
	return MuteView{ID: m.ID, GroupID: m.GroupID, UserID: m.UserID, UserName: m.UserName, Until: m.Until, Reason: m.Reason,
		CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt}
}

func ViewMutes(ms []store.Mute) []MuteView { return view.All(ms, ViewMute) }
