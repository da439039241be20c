package forum

import (
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/view"
)

// AreaView is a thematic area as the API shows it (SPEC §4); model.Area is
// the row and has no JSON tags, so only these fields reach a client.
type AreaView struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	MacroArea string `json:"macro_area"`
	Position  int    `json:"position"`
}

func ViewArea(a model.Area) AreaView {
	return AreaView{ID: a.ID, Name: a.Name, MacroArea: a.MacroArea, Position: a.Position}
}

func ViewAreas(as []model.Area) []AreaView { return view.All(as, ViewArea) }

// GroupSummary is one group on the index (GET /api/v1/forum) with its
// activity and the reader's unread count. The fields are those clients have
// always had, the group's own first.
type GroupSummary struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Slug        string    `json:"slug"`
	Kind        string    `json:"kind"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
	// ModeratorsOnlyThreads is not loaded for the index (store.GroupSummaries
	// does not select it), so it is always false here; kept because clients
	// have always received it.
	ModeratorsOnlyThreads bool       `json:"moderators_only_threads"`
	ThreadCount           int        `json:"thread_count"`
	LastActivityAt        *time.Time `json:"last_activity_at"`
	Unread                int        `json:"unread"`
	// Meeting is the group's live meeting, else its next one (nil if none).
	Meeting *MeetingBanner `json:"meeting,omitempty"`
}

// MeetingBanner is the meeting a group's banner announces on the index and
// the group page: "a session is on — join" or "the next session".
type MeetingBanner struct {
	ID       int64     `json:"id"`
	Title    string    `json:"title"`
	Status   string    `json:"status"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

func viewMeetingBanner(h store.MeetingHighlight) *MeetingBanner {
	return &MeetingBanner{ID: h.ID, Title: h.Title, Status: h.Status, StartsAt: h.StartsAt, EndsAt: h.EndsAt}
}

// meetingBanners maps group ids to their banner meeting.
func meetingBanners(hs []store.MeetingHighlight) map[int64]*MeetingBanner {
	out := make(map[int64]*MeetingBanner, len(hs))
	for _, h := range hs {
		out[h.GroupID] = viewMeetingBanner(h)
	}
	return out
}

func viewGroupSummary(g store.GroupSummary) GroupSummary {
	return GroupSummary{ID: g.ID, Name: g.Name, Slug: g.Slug, Kind: g.Kind, Description: g.Description, CreatedAt: g.CreatedAt,
		ModeratorsOnlyThreads: g.ModeratorsOnlyThreads, ThreadCount: g.ThreadCount, LastActivityAt: g.LastActivityAt, Unread: g.Unread}
}

// AreaRef is an area as shown on a thread. It also decodes the areas the
// thread queries aggregate as JSON (store's areasJSON).
type AreaRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Revision is one version of a post, as its author and moderators see it.
type Revision struct {
	Version    int       `json:"version"`
	Body       string    `json:"body"`
	EditorID   int64     `json:"editor_id"`
	EditorName string    `json:"editor_name"`
	CreatedAt  time.Time `json:"created_at"`
}

func ViewRevision(r store.Revision) Revision {
	return Revision{Version: r.Version, Body: r.Body, EditorID: r.EditorID, EditorName: r.EditorName, CreatedAt: r.CreatedAt}
}

func ViewRevisions(rs []store.Revision) []Revision { return view.All(rs, ViewRevision) }
