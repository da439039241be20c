package forum

import (
	"context"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// OpenThreadIn opens a thread with its first post inside the caller's unit of
// work (a good practice opens its discussion thread in the same transaction
// that stores it, so neither exists without the other). The caller has
// checked that a may write in g and validated title (3–200 characters); body
// is rendered here, after those checks. Watchers of the group hear of it as
// of any new thread; the thread and group topics are touched.
func (s *Service) OpenThreadIn(ctx context.Context, tx *store.Tx, a *access.Actor, g model.Group, title, body string, areas []int64) (int64, error) {
	html, err := s.md.RenderField("body", body)
	if err != nil {
		return 0, err
	}
	threadID, err := store.CreateThread(ctx, tx, store.NewThread{GroupID: g.ID, Title: title, AuthorID: a.UserID})
	if err != nil {
		return 0, err
	}
	if err := store.SetThreadAreas(ctx, tx, threadID, areas); err != nil {
		return 0, err
	}
	postID, pos, err := store.CreatePost(ctx, tx, store.NewPost{ThreadID: threadID, AuthorID: a.UserID, Body: body, BodyHTML: html})
	if err != nil {
		return 0, err
	}
	// The post is its own first version until edited (store.UpdatePostBody).
	t := model.Thread{ID: threadID, GroupID: g.ID, Title: title, AuthorID: a.UserID}
	if err := postNotifications(ctx, tx, a, t, g, postID, nil, body, nil, true); err != nil {
		return 0, err
	}
	changed(tx, threadID, g.ID)
	return threadID, store.MarkRead(ctx, tx, a.UserID, threadID, pos)
}
