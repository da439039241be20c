package store

import "context"

// SearchAttempt runs one of SearchDocs' two attempts: the walk over the
// newest documents (window) or the read of every match from the GIN index,
// after indexing the backlog of new posts as SearchDocs does first.
func SearchAttempt(ctx context.Context, q Q, sq SearchQuery, need int, window bool) ([]SearchHitRow, error) {
	if err := indexWholeBacklog(ctx, q); err != nil {
		return nil, err
	}
	return searchDocs(ctx, q, sq, need, window)
}

// SessionUsersQuery is the batched session look-up's text (GetSessionUsers).
var SessionUsersQuery = sessionUsersOnly
