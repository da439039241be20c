package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// SearchQuery is one search as the search service has validated it. TSQuery is
// a to_tsquery expression the service built from words of letters and digits
// only; everything else travels as a parameter.
type SearchQuery struct {
	// UserID is who searches: what they may read is decided from their row and
	// memberships inside the query (SPEC §3), never by filtering a page later.
	UserID  int64
	TSQuery string
	// Words are the searched-for words, each a tsquery of its own, such
	// that TSQuery matches nothing one of them misses: the planner's estimate
	// of the rarest is a share of documents TSQuery cannot exceed, where its
	// own estimate (products of shares, as if words never came together)
	// could fall far below the truth.
	Words     []string
	GroupID   int64
	GroupKind string
	AreaID    int64
	AuthorID  int64
	Type      string
	From, To  *time.Time
	Newest    bool
	Limit     int
	Offset    int
	// Candidates caps the ranked set: relevance orders the newest Candidates
	// readable matches, so a word in every other post costs no more than a
	// rare one.
	Candidates int
}

// SearchHitRow is one hit with what a result list shows of it.
type SearchHitRow struct {
	// Found is how many candidates the query gathered (see SearchDocs).
	Found     int       `db:"found"`
	Kind      string    `db:"kind"`
	RefID     int64     `db:"ref_id"`
	GroupID   int64     `db:"group_id"`
	GroupName string    `db:"group_name"`
	CreatedAt time.Time `db:"created_at"`
	AuthorID  int64     `db:"author_id"`
	Author    string    `db:"author_name"`
	AuthorJST *string   `db:"author_jst"`
	// Title is the thing's own title, or its thread's or meeting's.
	Title string `db:"title"`
	// Text is the plain source the snippet is cut from ('' for titles only).
	Text string `db:"text"`
	// MeetingTitle names the meeting of a note, message or file.
	MeetingTitle *string `db:"meeting_title"`
	MeetingID    *int64  `db:"meeting_id"`
	Seq          *int64  `db:"seq"`
}

// searchScope is the reader's groups: every group for staff and admins, else
// the groups they belong to (any role) and every common group; moderates marks
// where hidden documents may be found. A disabled or unknown user reads nothing.
// scoped is every group the search's own filters (group, kind) allow: a
// public document (a published good practice) is read by every logged-in
// person, whatever their groups; an unpublished one only by the readers of
// the authors' group, like everything else (access.CanReadPractice).
const searchScope = `
	WITH me AS (
		SELECT id, role IN ('staff', 'admin') AS staff FROM users WHERE id = $1 AND NOT disabled
	), readable AS (
		SELECT g.id, (me.staff OR m.role = 'moderator') AS moderates
		FROM groups g CROSS JOIN me
		LEFT JOIN memberships m ON m.group_id = g.id AND m.user_id = me.id
		WHERE (me.staff OR g.kind = 'common' OR m.role IS NOT NULL)%[1]s
	), scoped AS (
		SELECT g.id FROM groups g CROSS JOIN me WHERE true%[1]s
	)`

// searchWindow is how many of the newest documents the first attempt reads
// to gather need hits. Measured over 1,000,000 posts (make bench-search): a
// window of 20,000 costs about 20 ms when wasted on a rare word, while 5,000
// sent medium-frequency words to the second attempt, which then reads tens
// of thousands of matches (seconds).
func searchWindow(need int) int { return max(20_000, need*20) }

// SearchDocs answers one page of hits (Limit rows at most) the user may read.
//
// The permission filter is two array comparisons on search_docs' own columns,
// so paging counts only readable documents. Hits are taken newest first up
// to Candidates (relevance then ranks those) or to the end of the page
// (newest first), in at most two attempts, because PostgreSQL cannot know
// how many of a word's matches the searcher may read:
//
//  1. walk the created_at index over the newest searchWindow documents: a
//     common word fills the candidates after a few hundred rows, and then
//     they are exactly the newest matches;
//  2. otherwise the word is rare among readable documents: read all its
//     readable matches from the GIN index (MATERIALIZED keeps the planner
//     from walking the whole created_at index instead) and sort them.
//
// Both attempts answer the same rows whenever the first one fills, so which
// one runs is only a matter of cost, decided by skipWindow.
func SearchDocs(ctx context.Context, q Q, sq SearchQuery) ([]SearchHitRow, error) {
	if err := indexWholeBacklog(ctx, q); err != nil {
		return nil, err
	}
	need := sq.Candidates
	if sq.Newest {
		need = sq.Offset + sq.Limit
	}
	skip, err := skipWindow(ctx, q, sq, need)
	if err != nil {
		return nil, err
	}
	if !skip {
		rows, err := searchDocs(ctx, q, sq, need, true)
		if err != nil || len(rows) > 0 && rows[0].Found >= need {
			return rows, err
		}
	}
	return searchDocs(ctx, q, sq, need, false)
}

// unknownShare is the most PostgreSQL estimates for a lexeme outside the
// statistics ANALYZE keeps of search_docs.tsv (DEFAULT_TS_MATCH_SEL): at or
// below it the estimate is a guess, above it a measured share.
const unknownShare = 0.005

// fewMatches is how many matches the GIN read takes in the time of the
// window's walk: reading one match costs what about 50 rows of the walk do
// (make bench-search: the walk over 20,000 documents ≈ 10 ms; the GIN read
// ≈ 2 ms for 51 matches, 700 ms for 48,000).
func fewMatches(window int) int { return window / 50 }

// skipWindow says whether the walk over the newest documents is sure to be
// wasted or to cost more than reading every match from the GIN index:
//   - the planner's estimate of the rarest word's share of documents says the
//     window cannot hold need matches even if all were readable;
//   - or every word's estimate is only a guess (they are outside the
//     statistics) and counting shows no more than fewMatches matches.
//
// Only rare words are counted: counting builds the GIN bitmap of every word,
// and one common word beside a rare one (szkoła termomodernizacja) takes
// hundreds of milliseconds, which the walk saves whenever it fills.
func skipWindow(ctx context.Context, q Q, sq SearchQuery, need int) (bool, error) {
	window := searchWindow(need)
	fewest, most, err := matchShares(ctx, q, sq.Words)
	switch {
	case err != nil:
		return false, err
	case fewest*float64(window) < float64(need):
		return true, nil
	case most > unknownShare:
		return false, nil
	}
	// MATERIALIZED: planned without the LIMIT, the count reads the GIN index
	// (a LIMIT could send a rare-looking word to a sequential scan), and
	// stops after one match more than the bound.
	var n int
	err = one(ctx, q, &n, "count search matches", `WITH m AS MATERIALIZED (
			SELECT 1 FROM search_docs WHERE tsv @@ to_tsquery('forum_search', $1)
		) SELECT count(*) FROM (SELECT 1 FROM m LIMIT $2) l`, sq.TSQuery, fewMatches(window)+1)
	return err == nil && n <= fewMatches(window), err
}

// matchShares are the planner's estimates of the share of documents the
// rarest and the commonest of words match, from the most common lexemes
// ANALYZE keeps of search_docs.tsv: a word outside them gets a small share
// (half the least common one's), which is the point, since only common words
// can fill the window. Estimating costs one plan of a scan per word and one of
// the table, no execution (about half a millisecond). A plan of another shape
// than one scan per branch says nothing, and the search walks first as if
// every word were common.
func matchShares(ctx context.Context, q Q, words []string) (fewest, most float64, err error) {
	if len(words) == 0 {
		return 1, 1, nil
	}
	scans := make([]string, 0, len(words)+1)
	args := make([]any, 0, len(words))
	for i, w := range words {
		scans = append(scans, fmt.Sprintf("SELECT 1 FROM search_docs WHERE tsv @@ to_tsquery('forum_search', $%d)", i+1))
		args = append(args, w)
	}
	scans = append(scans, "SELECT 1 FROM search_docs")
	var plan []byte
	if err := q.QueryRowxContext(ctx, "EXPLAIN (FORMAT JSON) "+strings.Join(scans, " UNION ALL "), args...).Scan(&plan); err != nil {
		return 0, 0, fmt.Errorf("estimate search matches: %w", err)
	}
	var out []struct {
		Plan struct {
			Plans []struct {
				Rows float64 `json:"Plan Rows"`
			}
		}
	}
	if err := json.Unmarshal(plan, &out); err != nil {
		return 0, 0, fmt.Errorf("read search estimate: %w", err)
	}
	if len(out) != 1 || len(out[0].Plan.Plans) != len(scans) {
		return 1, 1, nil
	}
	rows := out[0].Plan.Plans
	all := max(rows[len(words)].Rows, 1)
	fewest, most = rows[0].Rows/all, rows[0].Rows/all
	for _, r := range rows[1:len(words)] {
		fewest, most = min(fewest, r.Rows/all), max(most, r.Rows/all)
	}
	return fewest, most, nil
}

func searchDocs(ctx context.Context, q Q, sq SearchQuery, need int, window bool) ([]SearchHitRow, error) {
	args := []any{sq.UserID, sq.TSQuery}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }

	var scope strings.Builder
	if sq.GroupID != 0 {
		fmt.Fprintf(&scope, " AND g.id = %s", arg(sq.GroupID))
	}
	if sq.GroupKind != "" {
		fmt.Fprintf(&scope, " AND g.kind = %s", arg(sq.GroupKind))
	}
	where := []string{
		`d.tsv @@ to_tsquery('forum_search', $2)`,
		`(d.group_id = ANY (ARRAY(SELECT id FROM readable)) OR d.public AND d.group_id = ANY (ARRAY(SELECT id FROM scoped)))`,
		`(NOT d.hidden OR d.group_id = ANY (ARRAY(SELECT id FROM readable WHERE moderates)))`,
	}
	if sq.Type != "" {
		where = append(where, "d.kind = "+arg(sq.Type))
	}
	if sq.AuthorID != 0 {
		where = append(where, "d.author_id = "+arg(sq.AuthorID))
	}
	if sq.From != nil {
		where = append(where, "d.created_at >= "+arg(*sq.From))
	}
	if sq.To != nil {
		where = append(where, "d.created_at < "+arg(*sq.To))
	}
	if sq.AreaID != 0 {
		// Threads and posts by their thread's areas, practices by their own.
		area := arg(sq.AreaID)
		where = append(where, "(EXISTS (SELECT 1 FROM thread_areas ta WHERE ta.thread_id = d.thread_id AND ta.area_id = "+area+")"+
			" OR d.kind = 'practice' AND EXISTS (SELECT 1 FROM practice_areas pa WHERE pa.practice_id = d.ref_id AND pa.area_id = "+area+"))")
	}
	const cols = `d.kind, d.ref_id, d.group_id, d.author_id, d.created_at, d.meeting_id, d.tsv`
	var cand string
	if window {
		cand = `, cand AS (
			SELECT ` + cols + ` FROM (SELECT * FROM search_docs ORDER BY created_at DESC LIMIT ` + arg(searchWindow(need)) + `) d
			WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY d.created_at DESC, d.kind, d.ref_id DESC LIMIT ` + arg(need) + `)`
	} else {
		cand = `, matches AS MATERIALIZED (
			SELECT ` + cols + ` FROM search_docs d WHERE ` + strings.Join(where, " AND ") + `
		), cand AS (
			SELECT * FROM matches d ORDER BY d.created_at DESC, d.kind, d.ref_id DESC LIMIT ` + arg(need) + `)`
	}
	rank := `0::real`
	if !sq.Newest {
		rank = `ts_rank(tsv, to_tsquery('forum_search', $2))`
	}
	hits := cand + `, page AS (
			SELECT kind, ref_id, group_id, author_id, created_at, meeting_id, ` + rank + ` AS rank
			FROM cand ORDER BY rank DESC, created_at DESC, kind, ref_id DESC
			LIMIT ` + arg(sq.Limit) + ` OFFSET ` + arg(sq.Offset) + `)`
	// Each kind's title and text come from a subquery run only for rows of
	// that kind (a page has 21 at most) rather than from seven outer joins,
	// whose join orders cost the planner 2–3 ms of every search statement
	// (EXPLAIN over 1,000,000 posts; the subqueries plan in under 1 ms).
	query := fmt.Sprintf(searchScope, scope.String()) + hits + `
		SELECT (SELECT count(*) FROM cand) AS found,
		       page.kind, page.ref_id, page.group_id, g.name AS group_name, page.created_at,
		       page.author_id, u.display_name AS author_name, j.name AS author_jst,
		       COALESCE(CASE page.kind WHEN 'thread' THEN (SELECT title FROM threads WHERE id = page.ref_id)
		            WHEN 'post' THEN (SELECT t.title FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.id = page.ref_id)
		            WHEN 'note' THEN (SELECT title FROM notes WHERE id = page.ref_id)
		            WHEN 'meeting' THEN dm.title WHEN 'message' THEN dm.title
		            WHEN 'practice' THEN (SELECT title FROM practices WHERE id = page.ref_id)
		            ELSE (SELECT filename FROM attachments WHERE id = page.ref_id) END, '') AS title,
		       COALESCE(CASE page.kind WHEN 'post' THEN (SELECT body FROM posts WHERE id = page.ref_id)
		            WHEN 'note' THEN (SELECT body FROM notes WHERE id = page.ref_id)
		            WHEN 'meeting' THEN dm.agenda
		            WHEN 'message' THEN (SELECT body FROM chat_messages WHERE id = page.ref_id)
		            WHEN 'practice' THEN (SELECT concat_ws(E'\n\n', problem, solution, results, costs, transfer) FROM practices WHERE id = page.ref_id)
		            ELSE '' END, '') AS text,
		       dm.title AS meeting_title, page.meeting_id,
		       CASE page.kind WHEN 'message' THEN (SELECT seq FROM chat_messages WHERE id = page.ref_id) END AS seq
		FROM page
		JOIN groups g ON g.id = page.group_id
		JOIN users u ON u.id = page.author_id
		LEFT JOIN jst j ON j.id = u.jst_id
		LEFT JOIN meetings dm ON dm.id = page.meeting_id
		ORDER BY page.rank DESC, page.created_at DESC, page.kind, page.ref_id DESC`
	out := []SearchHitRow{}
	err := selectAll(ctx, q, &out, "search", query, args...)
	return out, err
}

// SearchGroupRow is a group the search form offers.
type SearchGroupRow struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
	Kind string `db:"kind"`
}

// ListSearchGroups lists the groups the user may search, by the same rule
// SearchDocs applies.
func ListSearchGroups(ctx context.Context, q Q, userID int64) ([]SearchGroupRow, error) {
	out := []SearchGroupRow{}
	err := selectAll(ctx, q, &out, "list searchable groups", fmt.Sprintf(searchScope, "")+`
		SELECT g.id, g.name, g.kind FROM groups g JOIN readable r ON r.id = g.id ORDER BY g.name, g.id`, userID)
	return out, err
}
