package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

// PracticeParts is a good practice's structured description: Markdown sources
// and their sanitized HTML (rendered by the service at write time).
type PracticeParts struct {
	Problem      string `db:"problem"`
	ProblemHTML  string `db:"problem_html"`
	Solution     string `db:"solution"`
	SolutionHTML string `db:"solution_html"`
	Results      string `db:"results"`
	ResultsHTML  string `db:"results_html"`
	Costs        string `db:"costs"`
	CostsHTML    string `db:"costs_html"`
	Transfer     string `db:"transfer"`
	TransferHTML string `db:"transfer_html"`
	Contact      string `db:"contact"`
	ContactHTML  string `db:"contact_html"`
}

// PracticeRow is a practice with its group (for permission checks), its JST
// (kind and voivodeship come from there), its author and its areas.
type PracticeRow struct {
	ID            int64      `db:"id"`
	GroupID       int64      `db:"group_id"`
	JSTID         int64      `db:"jst_id"`
	AuthorID      int64      `db:"author_id"`
	Title         string     `db:"title"`
	Status        string     `db:"status"`
	Version       int        `db:"version"`
	CreatedAt     time.Time  `db:"created_at"`
	UpdatedAt     time.Time  `db:"updated_at"`
	PublishedAt   *time.Time `db:"published_at"`
	ThreadID      *int64     `db:"thread_id"`
	ReturnComment string     `db:"return_comment"`
	EditedBy      *int64     `db:"edited_by"`
	PracticeParts
	GroupName   string  `db:"group_name"`
	GroupKind   string  `db:"group_kind"`
	JSTName     string  `db:"jst_name"`
	JSTKind     string  `db:"jst_kind"`
	Voivodeship string  `db:"voivodeship"`
	AuthorName  string  `db:"author_name"`
	EditorName  *string `db:"editor_name"`
	AreasJSON   []byte  `db:"areas"`
}

func (r PracticeRow) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind}
}

// Areas decodes the practice's support areas.
func (r PracticeRow) Areas() ([]model.Area, error) {
	out := []model.Area{}
	if len(r.AreasJSON) == 0 {
		return out, nil
	}
	var raw []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.AreasJSON, &raw); err != nil {
		return nil, fmt.Errorf("decode areas of practice %d: %w", r.ID, err)
	}
	for _, a := range raw {
		out = append(out, model.Area{ID: a.ID, Name: a.Name})
	}
	return out, nil
}

const practiceSelect = `
	SELECT p.id, p.group_id, p.jst_id, p.author_id, p.title, p.status, p.version, p.created_at, p.updated_at,
	       p.published_at, p.thread_id, p.return_comment, p.edited_by,
	       p.problem, p.problem_html, p.solution, p.solution_html, p.results, p.results_html,
	       p.costs, p.costs_html, p.transfer, p.transfer_html, p.contact, p.contact_html,
	       g.name AS group_name, g.kind AS group_kind,
	       j.name AS jst_name, j.kind AS jst_kind, j.voivodeship,
	       au.display_name AS author_name, ed.display_name AS editor_name,
	       COALESCE((SELECT json_agg(json_build_object('id', sa.id, 'name', sa.name) ORDER BY sa.position, sa.id)
	                 FROM practice_areas pa JOIN support_areas sa ON sa.id = pa.area_id
	                 WHERE pa.practice_id = p.id), '[]')::text AS areas
	FROM practices p
	JOIN groups g ON g.id = p.group_id
	JOIN jst j ON j.id = p.jst_id
	JOIN users au ON au.id = p.author_id
	LEFT JOIN users ed ON ed.id = p.edited_by`

// NewPractice is a practice as first written (always a draft).
type NewPractice struct {
	GroupID  int64
	JSTID    int64
	AuthorID int64
	Title    string
	ThreadID int64
	PracticeParts
}

// CreatePractice writes a new draft and returns its id.
func CreatePractice(ctx context.Context, q Q, p NewPractice) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert practice", `
		INSERT INTO practices (group_id, jst_id, author_id, title, thread_id,
		    problem, problem_html, solution, solution_html, results, results_html,
		    costs, costs_html, transfer, transfer_html, contact, contact_html)
		VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING id`,
		p.GroupID, p.JSTID, p.AuthorID, p.Title, p.ThreadID,
		p.Problem, p.ProblemHTML, p.Solution, p.SolutionHTML, p.Results, p.ResultsHTML,
		p.Costs, p.CostsHTML, p.Transfer, p.TransferHTML, p.Contact, p.ContactHTML)
	return id, err
}

// SetPracticeThread links a practice to its discussion thread.
func SetPracticeThread(ctx context.Context, q Q, practiceID, threadID int64) error {
	return execOne(ctx, q, fmt.Sprintf("link practice %d to thread %d", practiceID, threadID),
		`UPDATE practices SET thread_id = $2 WHERE id = $1`, practiceID, threadID)
}

// SetPracticeAreas replaces a practice's support areas.
func SetPracticeAreas(ctx context.Context, q Q, practiceID int64, areaIDs []int64) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM practice_areas WHERE practice_id = $1`, practiceID); err != nil {
		return fmt.Errorf("clear areas of practice %d: %w", practiceID, err)
	}
	if len(areaIDs) == 0 {
		return nil
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO practice_areas (practice_id, area_id) SELECT $1, unnest($2::bigint[])`,
		practiceID, pq.Array(areaIDs)); err != nil {
		return fmt.Errorf("set areas of practice %d: %w", practiceID, err)
	}
	return nil
}

// GetPracticeRow loads one practice.
func GetPracticeRow(ctx context.Context, q Q, id int64) (PracticeRow, error) {
	var r PracticeRow
	err := one(ctx, q, &r, fmt.Sprintf("load practice %d", id), practiceSelect+` WHERE p.id = $1`, id)
	return r, err
}

// LockPractice takes the practice's row lock for the rest of the transaction
// (edits and transitions of one practice happen one at a time).
func LockPractice(ctx context.Context, q Q, id int64) error {
	var got int64
	return one(ctx, q, &got, fmt.Sprintf("lock practice %d", id), `SELECT id FROM practices WHERE id = $1 FOR UPDATE`, id)
}

// PracticeFilter selects practices for a list. The visibility rule of package
// access (CanReadPractice) is repeated here in SQL so that paging counts only
// what the reader may see: published ones for every logged-in reader, the
// others for staff and for readers of the practice's group.
type PracticeFilter struct {
	Staff bool
	// ReadableGroups are the reader's groups (any role); common groups are
	// readable by everyone and need not be listed.
	ReadableGroups []int64
	Statuses       []string
	// OnlyGroups, if set, keeps practices of these groups only.
	OnlyGroups  []int64
	AreaID      int64
	JSTKind     string
	Voivodeship string
	Page        Page
}

// ListPracticeRows lists practices, newest published (then newest changed) first.
func ListPracticeRows(ctx context.Context, q Q, f PracticeFilter) ([]PracticeRow, error) {
	args := []any{f.Staff, pq.Array(f.ReadableGroups)}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where := []string{`(p.status = 'published' OR $1 OR g.kind = 'common' OR p.group_id = ANY($2::bigint[]))`}
	if len(f.Statuses) > 0 {
		where = append(where, "p.status = ANY("+arg(pq.Array(f.Statuses))+"::text[])")
	}
	if f.OnlyGroups != nil {
		where = append(where, "p.group_id = ANY("+arg(pq.Array(f.OnlyGroups))+"::bigint[])")
	}
	if f.AreaID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM practice_areas pa WHERE pa.practice_id = p.id AND pa.area_id = "+arg(f.AreaID)+")")
	}
	if f.JSTKind != "" {
		where = append(where, "j.kind = "+arg(f.JSTKind))
	}
	if f.Voivodeship != "" {
		where = append(where, "j.voivodeship = "+arg(f.Voivodeship))
	}
	query := practiceSelect + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY p.published_at DESC NULLS LAST, p.updated_at DESC, p.id DESC LIMIT ` + arg(f.Page.Limit) + ` OFFSET ` + arg(f.Page.Offset)
	out := []PracticeRow{}
	err := selectAll(ctx, q, &out, "list practices", query, args...)
	return out, err
}

// UpdatePractice replaces a practice's title and description if it is still
// at expectedVersion and returns the new version; a stale version touches
// nothing and answers ErrNotFound, which the service turns into a conflict.
func UpdatePractice(ctx context.Context, q Q, id int64, expectedVersion int, jstID int64, title string, p PracticeParts, editorID int64) (int, error) {
	var v int
	err := one(ctx, q, &v, fmt.Sprintf("update practice %d", id), `
		UPDATE practices SET title = $3, jst_id = $4,
		    problem = $5, problem_html = $6, solution = $7, solution_html = $8, results = $9, results_html = $10,
		    costs = $11, costs_html = $12, transfer = $13, transfer_html = $14, contact = $15, contact_html = $16,
		    edited_by = $17, version = version + 1, updated_at = now()
		WHERE id = $1 AND version = $2
		RETURNING version`, id, expectedVersion, title, jstID,
		p.Problem, p.ProblemHTML, p.Solution, p.SolutionHTML, p.Results, p.ResultsHTML,
		p.Costs, p.CostsHTML, p.Transfer, p.TransferHTML, p.Contact, p.ContactHTML, editorID)
	return v, err
}

// SetPracticeStatus moves a practice to status (the service has checked the
// transition). Publishing stamps published_at the first time; returning keeps
// the comment, any other move leaves the last comment where it is.
func SetPracticeStatus(ctx context.Context, q Q, id int64, status, comment string) error {
	return execOne(ctx, q, fmt.Sprintf("set status of practice %d", id), `
		UPDATE practices SET status = $2,
		    return_comment = CASE WHEN $2 = 'returned' THEN $3 ELSE return_comment END,
		    published_at = CASE WHEN $2 = 'published' THEN COALESCE(published_at, now()) ELSE published_at END,
		    updated_at = now()
		WHERE id = $1`, id, status, comment)
}

// PracticeRevision is one saved version of a practice.
type PracticeRevision struct {
	PracticeID int64     `db:"practice_id"`
	Version    int       `db:"version"`
	Title      string    `db:"title"`
	Body       []byte    `db:"body"`
	EditorID   int64     `db:"editor_id"`
	EditorName string    `db:"editor_name"`
	CreatedAt  time.Time `db:"created_at"`
}

// InsertPracticeRevision records one version (body: the parts' sources as JSON).
func InsertPracticeRevision(ctx context.Context, q Q, r PracticeRevision) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO practice_revisions (practice_id, version, title, body, editor_id) VALUES ($1, $2, $3, $4, $5)`,
		r.PracticeID, r.Version, r.Title, r.Body, r.EditorID)
	if err != nil {
		return fmt.Errorf("insert revision %d of practice %d: %w", r.Version, r.PracticeID, err)
	}
	return nil
}

// ListPracticeRevisions returns every version of a practice, oldest first.
func ListPracticeRevisions(ctx context.Context, q Q, practiceID int64) ([]PracticeRevision, error) {
	out := []PracticeRevision{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list revisions of practice %d", practiceID), `
		SELECT r.practice_id, r.version, r.title, r.body, r.editor_id, u.display_name AS editor_name, r.created_at
		FROM practice_revisions r JOIN users u ON u.id = r.editor_id
		WHERE r.practice_id = $1 ORDER BY r.version`, practiceID)
	return out, err
}

// GroupMemberJSTs lists the JSTs represented among a group's members (any
// role), by name in Polish order: the JSTs a practice of the group may be about.
func GroupMemberJSTs(ctx context.Context, q Q, groupID int64) ([]model.JST, error) {
	out := []model.JST{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("jst of group %d", groupID), `
		SELECT j.id, j.name, j.kind, j.voivodeship, j.teryt, j.created_at FROM jst j
		WHERE j.id IN (SELECT u.jst_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1)
		ORDER BY j.name COLLATE "pl-x-icu", j.id`, groupID)
	return out, err
}

// GetJST loads one JST.
func GetJST(ctx context.Context, q Q, id int64) (model.JST, error) {
	var out model.JST
	err := one(ctx, q, &out, fmt.Sprintf("load jst %d", id),
		`SELECT id, name, kind, voivodeship, teryt, created_at FROM jst WHERE id = $1`, id)
	return out, err
}

// ListPracticeAttachments returns the files attached to one practice.
func ListPracticeAttachments(ctx context.Context, q Q, practiceID int64) ([]AttachmentRow, error) {
	out := []AttachmentRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list attachments of practice %d", practiceID),
		attachmentSelect+` WHERE a.practice_id = $1 ORDER BY a.id`, practiceID)
	return out, err
}

// CountPracticeAttachments counts a practice's files (the per-owner cap).
func CountPracticeAttachments(ctx context.Context, q Q, practiceID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, fmt.Sprintf("count attachments of practice %d", practiceID),
		`SELECT count(*) FROM attachments WHERE practice_id = $1`, practiceID)
	return n, err
}
