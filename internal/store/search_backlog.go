package store

import (
	"context"
	"fmt"
)

// A new post's search document is written off the reply's path (migration
// 20): the insert queues the post's id in search_post_backlog and
// IndexPostBacklog writes the documents, a batch per statement.

// indexBacklogSQL takes up to $1 posts off the backlog, oldest first, and
// writes their documents (search_index_posts reads the posts after the rows
// are taken, so a change committed before is in the document, and a change
// made after waits for this statement's commit and then finds the document).
const indexBacklogSQL = `
	WITH taken AS (
		DELETE FROM search_post_backlog
		WHERE post_id IN (SELECT post_id FROM search_post_backlog ORDER BY post_id LIMIT $1 FOR UPDATE %s)
		RETURNING post_id)
	SELECT (SELECT count(*) FROM taken), search_index_posts(ARRAY(SELECT post_id FROM taken))`

// IndexPostBacklog indexes up to limit posts of the backlog and says how many
// it took off it. With skipLocked it leaves the posts another indexer holds
// (instances share the work); without, it waits for them, so that once it
// returns 0 every post committed before the call is in the index.
func IndexPostBacklog(ctx context.Context, q Q, limit int, skipLocked bool) (int, error) {
	lock := ""
	if skipLocked {
		lock = "SKIP LOCKED"
	}
	var taken, indexed int
	row := q.QueryRowxContext(ctx, fmt.Sprintf(indexBacklogSQL, lock), limit)
	if err := row.Scan(&taken, &indexed); err != nil {
		return 0, fmt.Errorf("index the search backlog: %w", err)
	}
	return taken, nil
}

// indexWholeBacklog indexes every post queued before it began, waiting for
// batches other indexers have under way: after it, a read of search_docs
// finds every post committed before the call (SearchDocs reads no sooner).
func indexWholeBacklog(ctx context.Context, q Q) error {
	const batch = 500
	for {
		n, err := IndexPostBacklog(ctx, q, batch, false)
		if err != nil || n < batch {
			return err
		}
	}
}
