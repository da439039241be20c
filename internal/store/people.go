package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// Person is someone who may be mentioned somewhere.
type Person struct {
	ID   int64   `db:"id"`
	Name string  `db:"display_name"`
	JST  *string `db:"jst_name"`
}

// groupReaders selects the people who may read group $1 now — the rules of
// package access (SPEC §3) in SQL, as notificationAccessCond states them: an
// enabled account that is staff or admin, or the group is `common`, or they
// have a membership in it; with $2 (a hidden thread) only its moderators and
// staff.
const groupReaders = `
	FROM users u
	JOIN groups g ON g.id = $1
	LEFT JOIN memberships m ON m.user_id = u.id AND m.group_id = g.id
	LEFT JOIN jst j ON j.id = u.jst_id
	WHERE NOT u.disabled
	  AND (u.role IN ('staff', 'admin') OR g.kind = 'common' OR m.role IS NOT NULL)
	  AND (NOT $2::boolean OR u.role IN ('staff', 'admin') OR m.role = 'moderator')`

// ResolveMentions finds, among the people who may read group groupID (only
// its moderators and staff when moderatorsOnly), those whose display name is
// exactly one of names ("as shown", SPEC §4: no case folding, which would
// depend on the database's locale for "Ł" and the like).
func ResolveMentions(ctx context.Context, q Q, groupID int64, moderatorsOnly bool, names []string) ([]Person, error) {
	out := []Person{}
	if len(names) == 0 {
		return out, nil
	}
	err := selectAll(ctx, q, &out, fmt.Sprintf("resolve mentions in group %d", groupID), `
		SELECT u.id, u.display_name, j.name AS jst_name`+groupReaders+`
		  AND u.display_name = ANY($3::text[])
		ORDER BY u.id`, groupID, moderatorsOnly, pq.Array(names))
	return out, err
}

// SuggestPeople lists up to limit people who may read group groupID and one
// of whose names (any word of the display name) starts with prefix, for the
// mention completion; alphabetical.
func SuggestPeople(ctx context.Context, q Q, groupID int64, moderatorsOnly bool, prefix string, limit int) ([]Person, error) {
	out := []Person{}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
	err := selectAll(ctx, q, &out, fmt.Sprintf("suggest people in group %d", groupID), `
		SELECT u.id, u.display_name, j.name AS jst_name`+groupReaders+`
		  AND (lower(u.display_name) LIKE lower($3) || '%' OR lower(u.display_name) LIKE '% ' || lower($3) || '%')
		ORDER BY u.display_name, u.id
		LIMIT $4`, groupID, moderatorsOnly, like, limit)
	return out, err
}

// PostAuthorIDs lists the authors of the given posts (those that exist).
func PostAuthorIDs(ctx context.Context, q Q, postIDs []int64) ([]int64, error) {
	out := []int64{}
	if len(postIDs) == 0 {
		return out, nil
	}
	err := selectAll(ctx, q, &out, "authors of posts", `
		SELECT DISTINCT author_id FROM posts WHERE id = ANY($1::bigint[]) ORDER BY author_id`, pq.Array(postIDs))
	return out, err
}
