package store

import (
	"context"
	"fmt"
	"time"
)

// This file holds what a person does with their own account (issue 12 items 6
// and 7): the profile they edit, the sessions they see and end, the profile
// others see, the export of their data and the anonymisation of the account.

// ProfileUpdate carries what a person may change about themselves; nil leaves
// a column alone.
type ProfileUpdate struct {
	Name     *string
	JobTitle *string
	Lang     *string
	// Notify is a JSON object of in-app notification kinds → on/off, merged
	// into prefs.notify; other parts of prefs (mail, added by the mail queue)
	// are left as they are.
	Notify []byte
}

func UpdateProfile(ctx context.Context, q Q, id int64, u ProfileUpdate) error {
	var notify *string
	if u.Notify != nil {
		s := string(u.Notify)
		notify = &s
	}
	return execOne(ctx, q, fmt.Sprintf("update profile of user %d", id), `
		UPDATE users SET
			display_name = COALESCE($2, display_name),
			job_title    = COALESCE($3, job_title),
			lang         = COALESCE($4, lang),
			prefs        = CASE WHEN $5::jsonb IS NULL THEN prefs
			                    ELSE jsonb_set(prefs, '{notify}', COALESCE(prefs -> 'notify', '{}') || $5::jsonb) END,
			updated_at   = now()
		WHERE id = $1 AND deleted_at IS NULL`, id, u.Name, u.JobTitle, u.Lang, notify)
}

// SetPasswordHash replaces a user's password hash.
func SetPasswordHash(ctx context.Context, q Q, id int64, hash string) error {
	return execOne(ctx, q, fmt.Sprintf("set password of user %d", id),
		`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
}

// SessionInfo is one of a user's live sessions as its owner may see it: never
// the token nor its hash.
type SessionInfo struct {
	PublicID   string    `db:"public_id"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	IP         string    `db:"ip"`
	UserAgent  string    `db:"user_agent"`
	Current    bool      `db:"current"`
}

// ListUserSessions returns a user's live sessions (not expired, not idle),
// the one with currentHash marked, most recently used first.
func ListUserSessions(ctx context.Context, q Q, userID int64, currentHash []byte, idle time.Duration) ([]SessionInfo, error) {
	out := []SessionInfo{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list sessions of user %d", userID), `
		SELECT public_id::text AS public_id, created_at, last_seen_at, expires_at, ip, user_agent,
		       token_hash = $2 AS current
		FROM sessions
		WHERE user_id = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $3)
		ORDER BY (token_hash = $2) DESC, last_seen_at DESC, created_at DESC`, userID, currentHash, idle.Seconds())
	return out, err
}

// DeleteUserSessionByPublicID ends one session of the user. Another user's
// session is not found: the id alone never reaches someone else's session.
// current says whether it was the session with currentHash.
func DeleteUserSessionByPublicID(ctx context.Context, q Q, userID int64, publicID string, currentHash []byte) (current bool, err error) {
	err = one(ctx, q, &current, "delete session by public id", `
		DELETE FROM sessions WHERE user_id = $1 AND public_id = $2::uuid
		RETURNING token_hash = $3`, userID, publicID, currentHash)
	return current, err
}

// userVisibleCond is true when the user u may be seen by viewer $1 whose
// staff flag is $2 — the profile rule (README "Profiles"): staff and admins
// see everyone; everyone sees themselves and the programme's staff; members
// see the people of the groups they read (their own groups and the common
// ones) and the authors of the posts and chat messages they may read (a name
// in a thread always leads somewhere).
const userVisibleCond = `(
	$2 OR u.id = $1 OR u.role IN ('staff', 'admin')
	OR EXISTS (SELECT 1 FROM memberships m JOIN groups g ON g.id = m.group_id
	           LEFT JOIN memberships vm ON vm.user_id = $1 AND vm.group_id = g.id
	           WHERE m.user_id = u.id AND (g.kind = 'common' OR vm.role IS NOT NULL))
	OR EXISTS (SELECT 1 FROM posts p JOIN threads t ON t.id = p.thread_id JOIN groups g ON g.id = t.group_id
	           LEFT JOIN memberships vm ON vm.user_id = $1 AND vm.group_id = g.id
	           WHERE p.author_id = u.id AND p.deleted_at IS NULL
	             AND (g.kind = 'common' OR vm.role IS NOT NULL)
	             AND ((NOT t.hidden AND NOT p.hidden) OR vm.role = 'moderator'))
	OR EXISTS (SELECT 1 FROM chat_messages c JOIN meetings mt ON mt.id = c.meeting_id JOIN groups g ON g.id = mt.group_id
	           LEFT JOIN memberships vm ON vm.user_id = $1 AND vm.group_id = g.id
	           WHERE c.author_id = u.id AND (g.kind = 'common' OR vm.role IS NOT NULL)))`

// GetVisibleUser loads user id if viewerID (staff: viewerStaff) may see them,
// else ErrNotFound.
func GetVisibleUser(ctx context.Context, q Q, viewerID int64, viewerStaff bool, id int64) (ProfileRow, error) {
	var r ProfileRow
	err := one(ctx, q, &r, fmt.Sprintf("load visible user %d", id), `
		SELECT u.id, u.display_name, u.job_title, u.role, j.id AS jst_id, j.name AS jst_name, j.kind AS jst_kind,
		       u.deleted_at, u.created_at
		FROM users u LEFT JOIN jst j ON j.id = u.jst_id
		WHERE u.id = $3 AND `+userVisibleCond, viewerID, viewerStaff, id)
	return r, err
}

// ProfileRow is what a profile shows of a person.
type ProfileRow struct {
	ID        int64      `db:"id"`
	Name      string     `db:"display_name"`
	JobTitle  string     `db:"job_title"`
	Role      string     `db:"role"`
	JSTID     *int64     `db:"jst_id"`
	JSTName   *string    `db:"jst_name"`
	JSTKind   *string    `db:"jst_kind"`
	DeletedAt *time.Time `db:"deleted_at"`
	CreatedAt time.Time  `db:"created_at"`
}

// SharedGroup is a group both people are members of.
type SharedGroup struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
	Kind string `db:"kind"`
}

// SharedGroups lists the groups both users have a membership in, by name.
func SharedGroups(ctx context.Context, q Q, a, b int64) ([]SharedGroup, error) {
	out := []SharedGroup{}
	err := selectAll(ctx, q, &out, "list shared groups", `
		SELECT g.id, g.name, g.kind
		FROM memberships ma JOIN memberships mb ON mb.group_id = ma.group_id AND mb.user_id = $2
		JOIN groups g ON g.id = ma.group_id
		WHERE ma.user_id = $1
		ORDER BY g.name, g.id`, a, b)
	return out, err
}

// ProfilePost is one of a person's posts as a profile lists it.
type ProfilePost struct {
	ID          int64     `db:"id"`
	ThreadID    int64     `db:"thread_id"`
	ThreadTitle string    `db:"thread_title"`
	GroupID     int64     `db:"group_id"`
	GroupName   string    `db:"group_name"`
	Body        string    `db:"body"`
	CreatedAt   time.Time `db:"created_at"`
}

// RecentPostsVisible lists authorID's newest posts that the viewer may read,
// by the rules of package access in SQL (as notificationAccessCond): staff
// read every group; others `common` groups and their own; hidden threads and
// posts only for the group's moderators (and staff); deleted posts and merge
// stubs never. Walks posts_author_idx newest first and stops at limit.
func RecentPostsVisible(ctx context.Context, q Q, viewerID int64, viewerStaff bool, authorID int64, limit int) ([]ProfilePost, error) {
	out := []ProfilePost{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list recent posts of user %d", authorID), `
		SELECT p.id, p.thread_id, t.title AS thread_title, g.id AS group_id, g.name AS group_name,
		       left(p.body, 400) AS body, p.created_at
		FROM posts p
		JOIN threads t ON t.id = p.thread_id
		JOIN groups g ON g.id = t.group_id
		LEFT JOIN memberships vm ON vm.user_id = $1 AND vm.group_id = g.id
		WHERE p.author_id = $3 AND p.deleted_at IS NULL AND t.merged_into IS NULL
		  AND ($2 OR g.kind = 'common' OR vm.role IS NOT NULL)
		  AND ((NOT t.hidden AND NOT p.hidden) OR $2 OR vm.role = 'moderator')
		ORDER BY p.created_at DESC, p.id DESC
		LIMIT $4`, viewerID, viewerStaff, authorID, limit)
	return out, err
}

// ActiveAdminsExcept locks and counts the enabled admin accounts other than
// id: two admins deleting themselves at once cannot both pass the "not the
// last admin" check.
func ActiveAdminsExcept(ctx context.Context, q Q, id int64) (int, error) {
	ids := []int64{}
	err := selectAll(ctx, q, &ids, "lock admins", `
		SELECT id FROM users WHERE role = 'admin' AND NOT disabled AND deleted_at IS NULL
		ORDER BY id FOR UPDATE`)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range ids {
		if a != id {
			n++
		}
	}
	return n, nil
}

// AnonymiseUser turns an account into "a former participant": the name given,
// an e-mail address that is unique and can never be delivered (RFC 2606
// .invalid), an unusable password hash, no position, JST, language or
// preferences, disabled and an ordinary member. Their posts, notes and chat
// messages keep their author id and so stay readable under the new name.
// Everything that only served the person goes: sessions, second factor,
// memberships, notifications, watches, read marks, presence.
func AnonymiseUser(ctx context.Context, tx *Tx, id int64, name, unusableHash string) (oldEmail string, err error) {
	err = one(ctx, tx, &oldEmail, fmt.Sprintf("anonymise user %d", id), `
		UPDATE users u SET display_name = $2, email = 'former-' || u.id || '@deleted.invalid',
		       job_title = '', jst_id = NULL, lang = NULL, prefs = '{}', password_hash = $3,
		       disabled = true, role = 'member', deleted_at = now(), updated_at = now()
		FROM (SELECT email FROM users WHERE id = $1 FOR UPDATE) old
		WHERE u.id = $1 AND u.deleted_at IS NULL
		RETURNING old.email`, id, name, unusableHash)
	if err != nil {
		return "", err
	}
	for _, stmt := range []string{
		`DELETE FROM sessions WHERE user_id = $1`,
		`DELETE FROM login_challenges WHERE user_id = $1`,
		`DELETE FROM two_factor WHERE user_id = $1`,
		`DELETE FROM two_factor_setups WHERE user_id = $1`,
		`DELETE FROM two_factor_recovery_codes WHERE user_id = $1`,
		`DELETE FROM memberships WHERE user_id = $1`,
		`DELETE FROM notifications WHERE user_id = $1`,
		`DELETE FROM meeting_watchers WHERE user_id = $1`,
		`DELETE FROM thread_reads WHERE user_id = $1`,
		`DELETE FROM live_presence WHERE user_id = $1`,
		`DELETE FROM thread_watches WHERE user_id = $1`,
		`DELETE FROM group_watches WHERE user_id = $1`,
		`DELETE FROM mail_prefs WHERE user_id = $1`,
		`DELETE FROM mail_digests WHERE user_id = $1`,
		`DELETE FROM password_resets WHERE user_id = $1`,
		// Queued mail would still reach the old address; sent mail keeps
		// the address and the words: neither outlives the account.
		`DELETE FROM mails WHERE user_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, stmt, id); err != nil {
			return "", fmt.Errorf("anonymise user %d: %s: %w", id, stmt, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE account = lower($1)`, oldEmail); err != nil {
		return "", fmt.Errorf("anonymise user %d: login failures: %w", id, err)
	}
	// Mail to the address from before the account existed (the invitation).
	if _, err := tx.ExecContext(ctx, `DELETE FROM mails WHERE lower(to_addr) = lower($1)`, oldEmail); err != nil {
		return "", fmt.Errorf("anonymise user %d: mails to the address: %w", id, err)
	}
	return oldEmail, nil
}

// jsonTime writes a timestamptz column as RFC 3339 UTC, the API's form.
func jsonTime(col string) string {
	return `to_char(` + col + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
}

// exportQueries are the parts of a person's data export, each one JSON object
// per row, all selected by the owner's id ($1) and nothing else: the export
// holds what the forum keeps about its owner — their profile, memberships,
// posts (with every revision they wrote), notes (with their revisions), chat
// messages, uploaded files, attendance and notifications — and no one else's
// words (a reply's parent is named by id only).
var exportQueries = map[string]string{
	"profile": `
		SELECT json_build_object('id', u.id, 'email', u.email, 'name', u.display_name, 'position', u.job_title,
		       'jst', CASE WHEN j.id IS NULL THEN NULL ELSE json_build_object('id', j.id, 'name', j.name, 'kind', j.kind) END,
		       'role', u.role, 'lang', u.lang, 'prefs', u.prefs, 'created_at', ` + jsonTime("u.created_at") + `,
		       'updated_at', ` + jsonTime("u.updated_at") + `,
		       'two_factor_enabled', EXISTS (SELECT 1 FROM two_factor tf WHERE tf.user_id = u.id),
		       'sessions', COALESCE((SELECT json_agg(json_build_object('id', s.public_id, 'created_at', ` + jsonTime("s.created_at") + `,
		                    'last_seen_at', ` + jsonTime("s.last_seen_at") + `, 'ip', s.ip, 'user_agent', s.user_agent) ORDER BY s.created_at)
		                    FROM sessions s WHERE s.user_id = u.id), '[]'))
		FROM users u LEFT JOIN jst j ON j.id = u.jst_id WHERE u.id = $1`,
	"memberships": `
		SELECT json_build_object('group_id', g.id, 'group_name', g.name, 'group_kind', g.kind, 'role', m.role,
		       'since', ` + jsonTime("m.created_at") + `)
		FROM memberships m JOIN groups g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name, g.id`,
	"posts": `
		SELECT json_build_object('id', p.id, 'thread_id', p.thread_id, 'thread_title', t.title, 'group_id', t.group_id,
		       'body', p.body, 'reply_to', p.reply_to, 'version', p.version, 'created_at', ` + jsonTime("p.created_at") + `,
		       'edited_at', ` + jsonTime("p.edited_at") + `, 'deleted_at', ` + jsonTime("p.deleted_at") + `, 'hidden', p.hidden,
		       'revisions', COALESCE((SELECT json_agg(json_build_object('version', r.version, 'body', r.body,
		                    'created_at', ` + jsonTime("r.created_at") + `) ORDER BY r.version)
		                    FROM post_revisions r WHERE r.post_id = p.id AND r.editor_id = $1),
		                 -- Never edited: its one version, the post itself (theirs: p.author_id = $1).
		                 (SELECT json_build_array(json_build_object('version', 1, 'body', p.body, 'created_at', ` + jsonTime("p.created_at") + `))
		                  WHERE NOT EXISTS (SELECT 1 FROM post_revisions r WHERE r.post_id = p.id)), '[]'))
		FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.author_id = $1 ORDER BY p.id`,
	"threads": `
		SELECT json_build_object('id', t.id, 'group_id', t.group_id, 'title', t.title, 'created_at', ` + jsonTime("t.created_at") + `)
		FROM threads t WHERE t.author_id = $1 ORDER BY t.id`,
	"notes": `
		SELECT json_build_object('id', n.id, 'meeting_id', n.meeting_id, 'title', n.title, 'body', n.body, 'version', n.version,
		       'created_at', ` + jsonTime("n.created_at") + `, 'updated_at', ` + jsonTime("n.updated_at") + `,
		       'revisions', COALESCE((SELECT json_agg(json_build_object('version', r.version, 'title', r.title, 'body', r.body,
		                    'created_at', ` + jsonTime("r.created_at") + `) ORDER BY r.version)
		                    FROM note_revisions r WHERE r.note_id = n.id AND r.editor_id = $1), '[]'))
		FROM notes n WHERE n.author_id = $1 ORDER BY n.id`,
	"note_edits": `
		SELECT json_build_object('note_id', r.note_id, 'version', r.version, 'title', r.title, 'body', r.body,
		       'created_at', ` + jsonTime("r.created_at") + `)
		FROM note_revisions r JOIN notes n ON n.id = r.note_id
		WHERE r.editor_id = $1 AND n.author_id <> $1 ORDER BY r.note_id, r.version`,
	"chat_messages": `
		SELECT json_build_object('id', c.id, 'meeting_id', c.meeting_id, 'meeting_title', mt.title, 'seq', c.seq,
		       'body', c.body, 'created_at', ` + jsonTime("c.created_at") + `)
		FROM chat_messages c JOIN meetings mt ON mt.id = c.meeting_id WHERE c.author_id = $1 ORDER BY c.id`,
	"files": `
		SELECT json_build_object('id', a.id, 'meeting_id', a.meeting_id, 'note_id', a.note_id, 'filename', a.filename,
		       'kind', a.kind, 'size_bytes', a.size_bytes, 'sha256', a.checksum, 'created_at', ` + jsonTime("a.created_at") + `)
		FROM attachments a WHERE a.uploader_id = $1 ORDER BY a.id`,
	"attendance": `
		SELECT json_build_object('meeting_id', a.meeting_id, 'meeting_title', mt.title, 'starts_at', ` + jsonTime("mt.starts_at") + `,
		       'answer', a.answer, 'answered_at', ` + jsonTime("a.answered_at") + `, 'attended', a.attended,
		       'confirmed_at', ` + jsonTime("a.confirmed_at") + `)
		FROM attendance a JOIN meetings mt ON mt.id = a.meeting_id WHERE a.user_id = $1 ORDER BY mt.starts_at, a.meeting_id`,
	"notifications": `
		SELECT json_build_object('id', n.id, 'kind', n.kind, 'group_id', n.group_id, 'target_type', n.target_type,
		       'target_id', n.target_id, 'title', n.title, 'created_at', ` + jsonTime("n.created_at") + `,
		       'read_at', ` + jsonTime("n.read_at") + `)
		FROM notifications n WHERE n.user_id = $1 ORDER BY n.id`,
	"watches": `
		SELECT json_build_object('thread_id', w.thread_id, 'group_id', NULL, 'state', w.state, 'updated_at', ` + jsonTime("w.updated_at") + `)
		FROM thread_watches w WHERE w.user_id = $1
		UNION ALL
		SELECT json_build_object('thread_id', NULL, 'group_id', w.group_id, 'state', w.state, 'updated_at', ` + jsonTime("w.updated_at") + `)
		FROM group_watches w WHERE w.user_id = $1`,
	"mail_prefs": `
		SELECT json_build_object('kind', p.kind, 'mode', p.mode, 'updated_at', ` + jsonTime("p.updated_at") + `)
		FROM mail_prefs p WHERE p.user_id = $1 ORDER BY p.kind`,
	// Mails sent to the person: what, when and whether it went — not the
	// bodies, which quote other people's posts.
	"mails": `
		SELECT json_build_object('id', m.id, 'kind', m.kind, 'subject', m.subject, 'status', m.status,
		       'created_at', ` + jsonTime("m.created_at") + `, 'sent_at', ` + jsonTime("m.sent_at") + `)
		FROM mails m WHERE m.user_id = $1 ORDER BY m.id`,
	// The programme's own work (issue 15): practices one wrote (as they
	// stand now: a practice is edited by its group), one's tournament ballots
	// (the entry and practice by id: the title is the authors' words) and
	// one's comments on training materials.
	"practices": `
		SELECT json_build_object('id', p.id, 'title', p.title, 'status', p.status, 'jst_id', p.jst_id, 'group_id', p.group_id,
		       'problem', p.problem, 'solution', p.solution, 'results', p.results, 'costs', p.costs,
		       'transfer', p.transfer, 'contact', p.contact, 'created_at', ` + jsonTime("p.created_at") + `,
		       'published_at', ` + jsonTime("p.published_at") + `)
		FROM practices p WHERE p.author_id = $1 ORDER BY p.id`,
	"tournament_ballots": `
		SELECT json_build_object('tournament_id', t.id, 'tournament', t.title, 'entry_id', b.entry_id, 'practice_id', e.practice_id,
		       'scores', (SELECT json_agg(json_build_object('criterion', c.name, 'weight', c.weight, 'score', s.score) ORDER BY c.position)
		                  FROM tournament_scores s JOIN tournament_criteria c ON c.id = s.criterion_id
		                  WHERE s.entry_id = b.entry_id AND s.voter_id = b.voter_id),
		       'created_at', ` + jsonTime("b.created_at") + `, 'updated_at', ` + jsonTime("b.updated_at") + `)
		FROM tournament_ballots b
		JOIN tournament_entries e ON e.id = b.entry_id
		JOIN tournaments t ON t.id = e.tournament_id
		WHERE b.voter_id = $1 ORDER BY t.id, b.entry_id`,
	"review_comments": `
		SELECT json_build_object('id', c.id, 'review_id', r.id, 'review', r.title, 'section', sec.number,
		       'reply_to', c.reply_to, 'rating', c.rating, 'body', c.body, 'created_at', ` + jsonTime("c.created_at") + `,
		       'response_status', c.response_status)
		FROM review_comments c
		JOIN review_sections sec ON sec.id = c.section_id
		JOIN reviews r ON r.id = sec.review_id
		WHERE c.author_id = $1 ORDER BY c.id`,
}

// ExportParts names the export's parts in the order the archive holds them.
var ExportParts = []string{"profile", "memberships", "threads", "posts", "notes", "note_edits", "chat_messages", "files", "attendance",
	"notifications", "watches", "mail_prefs", "mails", "practices", "tournament_ballots", "review_comments"}

// ExportRows streams one part of a user's export: fn gets each row's JSON
// object in turn, so a person with years of posts costs one row of memory.
func ExportRows(ctx context.Context, q Q, part string, userID int64, fn func(obj []byte) error) error {
	query, ok := exportQueries[part]
	if !ok {
		return fmt.Errorf("export: unknown part %q", part)
	}
	rows, err := q.QueryxContext(ctx, query, userID)
	if err != nil {
		return fmt.Errorf("export %s: %w", part, err)
	}
	defer rows.Close()
	var obj []byte
	for rows.Next() {
		if err := rows.Scan(&obj); err != nil {
			return fmt.Errorf("export %s: scan: %w", part, err)
		}
		if err := fn(obj); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("export %s: %w", part, err)
	}
	return nil
}

// ExportFile is an uploaded file of the person, for copying into the export.
type ExportFile struct {
	ID       int64  `db:"id"`
	Filename string `db:"filename"`
	Checksum string `db:"checksum"`
}

// UploadedFiles lists the files a user uploaded.
func UploadedFiles(ctx context.Context, q Q, userID int64) ([]ExportFile, error) {
	out := []ExportFile{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list files of user %d", userID),
		`SELECT id, filename, checksum FROM attachments WHERE uploader_id = $1 ORDER BY id`, userID)
	return out, err
}

// notifyKindAllowed is the SQL condition that the recipient nr (see
// notificationAccessJoins) has not turned notifications of kind $k off in
// their preferences.
func notifyKindAllowed(kindParam string) string {
	return `COALESCE((nr.prefs -> 'notify' ->> ` + kindParam + `)::boolean, true)`
}
