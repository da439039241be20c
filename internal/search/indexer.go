package search

import (
	"context"
	"log/slog"
	"time"

	"github.com/gwd-jst/forumjst/internal/store"
)

// A new post reaches the index through a backlog (migration 20): the reply
// only queues its id, which kept the document's cost — 0.5 ms of
// PostgreSQL's CPU and a queue on the GIN index under 16 writers — off the
// reply's path. RunIndexer writes the documents in batches; a search first
// indexes what is left (store.SearchDocs), so it still finds every post
// committed before it began.

// IndexBatch is how many posts one indexing statement takes.
const IndexBatch = 500

// IndexEvery is how long the indexer rests once the backlog is empty.
const IndexEvery = 200 * time.Millisecond

// RunIndexer indexes the backlog until ctx ends. Every instance runs one;
// they skip the posts another holds.
func (s *Service) RunIndexer(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(IndexEvery)
	defer t.Stop()
	for ctx.Err() == nil {
		n, err := store.IndexPostBacklog(ctx, s.db, IndexBatch, true)
		if err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "index the search backlog", "err", err)
		}
		if err == nil && n == IndexBatch {
			continue // more waiting: no rest
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
