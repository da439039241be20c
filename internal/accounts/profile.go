package accounts

import (
	"context"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Profiles (/u/{id}, GET /api/v1/users/{id}). Who may see whom: staff and
// admins see everyone; everyone sees themselves and the programme's staff;
// a member sees the people of the groups they read (their own groups and the
// common ones) and the author of any post or chat message they may read. Any
// other profile is 404, like anything else one may not read (SPEC §3). The
// rule itself is SQL (store.GetVisibleUser), so the list of posts and the
// check cannot disagree.

// ProfilePostLimit is how many recent posts a profile lists.
const ProfilePostLimit = 10

// ProfileView is a person as the viewer may see them.
type ProfileView struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	Position string  `json:"position"`
	JST      *JSTRef `json:"jst"`
	// Staff marks the programme's staff (staff and admins), who answer for
	// the forum; members' roles are not shown.
	Staff bool `json:"staff"`
	// Former marks an account its owner deleted: the name is "former
	// participant", the rest is gone.
	Former       bool                 `json:"former"`
	SharedGroups []SharedGroupView    `json:"shared_groups"`
	RecentPosts  []ProfilePostSummary `json:"recent_posts"`
}

// SharedGroupView is a group the viewer and the person are both members of.
type SharedGroupView struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// ProfilePostSummary is one of the person's recent posts the viewer may read.
type ProfilePostSummary struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url"`
	ThreadID    int64     `json:"thread_id"`
	ThreadTitle string    `json:"thread_title"`
	GroupID     int64     `json:"group_id"`
	GroupName   string    `json:"group_name"`
	Excerpt     string    `json:"excerpt"`
	CreatedAt   time.Time `json:"created_at"`
}

// FormerName is what an anonymised account is called, by language.
var FormerName = map[string]string{"pl": "Były uczestnik", "en": "Former participant"}

// Profile returns the person id as the actor may see them, or
// apperr.ErrNotFound.
func (s *Service) Profile(ctx context.Context, a *access.Actor, id int64) (ProfileView, error) {
	if err := a.LoggedIn(); err != nil {
		return ProfileView{}, err
	}
	row, err := store.GetVisibleUser(ctx, s.db, a.UserID, a.IsStaff(), id)
	if errors.Is(err, store.ErrNotFound) {
		return ProfileView{}, apperr.ErrNotFound
	}
	if err != nil {
		return ProfileView{}, err
	}
	groups, err := store.SharedGroups(ctx, s.db, a.UserID, id)
	if err != nil {
		return ProfileView{}, err
	}
	posts, err := store.RecentPostsVisible(ctx, s.db, a.UserID, a.IsStaff(), id, ProfilePostLimit)
	if err != nil {
		return ProfileView{}, err
	}
	v := ProfileView{ID: row.ID, Name: row.Name, Position: row.JobTitle, JST: jstRef(row.JSTID, row.JSTName),
		Staff: row.Role == "staff" || row.Role == "admin", Former: row.DeletedAt != nil,
		SharedGroups: make([]SharedGroupView, len(groups)), RecentPosts: make([]ProfilePostSummary, len(posts))}
	for i, g := range groups {
		v.SharedGroups[i] = SharedGroupView{ID: g.ID, Name: g.Name, Kind: g.Kind}
	}
	for i, p := range posts {
		v.RecentPosts[i] = ProfilePostSummary{ID: p.ID, URL: "/p/" + strconv.FormatInt(p.ID, 10), ThreadID: p.ThreadID, ThreadTitle: p.ThreadTitle,
			GroupID: p.GroupID, GroupName: p.GroupName, Excerpt: excerpt(p.Body, 200), CreatedAt: p.CreatedAt}
	}
	return v, nil
}

// excerpt is the first n characters of a post's Markdown on one line.
func excerpt(body string, n int) string {
	s := clean(body)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
