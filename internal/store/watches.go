package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Watch states: a watched thread or group tells of every new post, a muted
// one never does (not even after one posts there or is mentioned). No row is
// the default.
const (
	WatchOn   = "watch"
	WatchMute = "mute"
)

// SetThreadWatch records a person's choice about a thread; "" removes it.
func SetThreadWatch(ctx context.Context, q Q, userID, threadID int64, state string) error {
	var err error
	if state == "" {
		_, err = q.ExecContext(ctx, `DELETE FROM thread_watches WHERE user_id = $1 AND thread_id = $2`, userID, threadID)
	} else {
		_, err = q.ExecContext(ctx, `
			INSERT INTO thread_watches (user_id, thread_id, state) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, thread_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, userID, threadID, state)
	}
	if err != nil {
		return fmt.Errorf("set watch of thread %d for user %d: %w", threadID, userID, err)
	}
	return nil
}

// SetGroupWatch records a person's choice about a group; "" removes it.
func SetGroupWatch(ctx context.Context, q Q, userID, groupID int64, state string) error {
	var err error
	if state == "" {
		_, err = q.ExecContext(ctx, `DELETE FROM group_watches WHERE user_id = $1 AND group_id = $2`, userID, groupID)
	} else {
		_, err = q.ExecContext(ctx, `
			INSERT INTO group_watches (user_id, group_id, state) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, group_id) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`, userID, groupID, state)
	}
	if err != nil {
		return fmt.Errorf("set watch of group %d for user %d: %w", groupID, userID, err)
	}
	return nil
}

// WatchState is a person's own choice about a thread and its group ("" for none).
type WatchState struct {
	Thread string `db:"thread_state"`
	Group  string `db:"group_state"`
}

// GetWatchState reads a person's choices about a thread (threadID 0: only the group).
func GetWatchState(ctx context.Context, q Q, userID, threadID, groupID int64) (WatchState, error) {
	var w WatchState
	err := sqlx.GetContext(ctx, q, &w, `
		SELECT COALESCE((SELECT state FROM thread_watches WHERE user_id = $1 AND thread_id = $2), '') AS thread_state,
		       COALESCE((SELECT state FROM group_watches WHERE user_id = $1 AND group_id = $3), '') AS group_state`,
		userID, threadID, groupID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("load watch state of user %d: %w", userID, err)
	}
	return w, nil
}

// AutoWatchThread makes people watch a thread they posted in or were
// mentioned in, unless they already chose (a mute stays a mute).
func AutoWatchThread(ctx context.Context, q Q, threadID int64, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	_, err := q.ExecContext(ctx, `
		INSERT INTO thread_watches (user_id, thread_id, state)
		SELECT u, $2, 'watch' FROM unnest($1::bigint[]) AS u
		ON CONFLICT (user_id, thread_id) DO NOTHING`, pq.Array(userIDs), threadID)
	if err != nil {
		return fmt.Errorf("auto-watch thread %d: %w", threadID, err)
	}
	return nil
}

// ThreadWatchers lists who hears of every new post in a thread: those who
// watch it, and those who watch its group without having muted the thread.
func ThreadWatchers(ctx context.Context, q Q, threadID, groupID int64) ([]int64, error) {
	out := []int64{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("watchers of thread %d", threadID), threadWatchersSQL, threadID, groupID)
	return out, err
}

// threadWatchersSQL lists thread $1's watchers in group $2 (AppendReply reads
// them in its own statement).
const threadWatchersSQL = `
		SELECT user_id FROM thread_watches WHERE thread_id = $1 AND state = 'watch'
		UNION
		SELECT gw.user_id FROM group_watches gw
		WHERE gw.group_id = $2 AND gw.state = 'watch'
		  AND NOT EXISTS (SELECT 1 FROM thread_watches tw WHERE tw.user_id = gw.user_id AND tw.thread_id = $1 AND tw.state = 'mute')`

// ThreadMuters lists which of the given people muted a thread.
func ThreadMuters(ctx context.Context, q Q, threadID int64, userIDs []int64) ([]int64, error) {
	out := []int64{}
	if len(userIDs) == 0 {
		return out, nil
	}
	err := selectAll(ctx, q, &out, fmt.Sprintf("muters of thread %d", threadID), `
		SELECT user_id FROM thread_watches WHERE thread_id = $1 AND state = 'mute' AND user_id = ANY($2::bigint[])`,
		threadID, pq.Array(userIDs))
	return out, err
}
