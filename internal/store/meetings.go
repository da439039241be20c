package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/gwd-jst/forumjst/internal/model"
)

const meetingColumns = `id, group_id, title, starts_at, ends_at, location, online_url, agenda, agenda_html,
	status, last_seq, created_by, created_at, started_at, ended_at`

type NewMeeting struct {
	GroupID    int64
	Title      string
	StartsAt   time.Time
	EndsAt     time.Time
	Location   string
	OnlineURL  string
	Agenda     string
	AgendaHTML string
	CreatedBy  int64
}

func CreateMeeting(ctx context.Context, q Q, m NewMeeting) (model.Meeting, error) {
	var out model.Meeting
	err := one(ctx, q, &out, "insert meeting", `
		INSERT INTO meetings (group_id, title, starts_at, ends_at, location, online_url, agenda, agenda_html, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING `+meetingColumns,
		m.GroupID, m.Title, m.StartsAt, m.EndsAt, m.Location, m.OnlineURL, m.Agenda, m.AgendaHTML, m.CreatedBy)
	return out, err
}

// SetMeetingStatus moves a meeting to live or ended, stamping the moment.
func SetMeetingStatus(ctx context.Context, q Q, id int64, status string) (model.Meeting, error) {
	var out model.Meeting
	err := one(ctx, q, &out, fmt.Sprintf("set status of meeting %d", id), `
		UPDATE meetings SET status = $2,
			started_at = CASE WHEN $2 = 'live' THEN COALESCE(started_at, now()) ELSE started_at END,
			ended_at   = CASE WHEN $2 = 'ended' THEN now() ELSE ended_at END
		WHERE id = $1 RETURNING `+meetingColumns, id, status)
	return out, err
}

type NewChatMessage struct {
	MeetingID int64
	AuthorID  int64
	ClientID  string
	Body      string
	BodyHTML  string
	At        time.Time // zero means now
}

// InsertChatMessage assigns the meeting's next seq under the meeting row's lock, in
// the caller's transaction, so seq order is commit order (SPEC §5).
func InsertChatMessage(ctx context.Context, q Q, m NewChatMessage) (model.ChatMessage, error) {
	var seq int64
	err := one(ctx, q, &seq, fmt.Sprintf("next seq of meeting %d", m.MeetingID), `
		UPDATE meetings SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq`, m.MeetingID)
	if err != nil {
		return model.ChatMessage{}, err
	}
	var out model.ChatMessage
	err = one(ctx, q, &out, "insert chat message", `
		INSERT INTO chat_messages (meeting_id, seq, author_id, client_id, body, body_html, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()))
		RETURNING id, meeting_id, seq, author_id, client_id, body, body_html, created_at`,
		m.MeetingID, seq, m.AuthorID, m.ClientID, m.Body, m.BodyHTML, nullTime(m.At))
	return out, err
}

// AppendChatMessages stores messages of a live meeting in one statement, in
// the order given, whoever wrote them: the UPDATE takes the meeting row's
// lock and len(ms) consecutive seqs, the INSERT numbers the messages by their
// position, so they are gap-free and in order, committed together, and the
// statement's own commit releases the lock, which is held for one round trip
// (a meeting's writer stores every pending send of this instance so, issue
// 16). The result is in seq order. No rows (ErrNotFound) means the meeting is
// not live; a client id already stored for its author fails the whole
// statement (ChatClientIDKey), storing nothing and leaving last_seq untouched.
func AppendChatMessages(ctx context.Context, q Q, meetingID int64, ms []NewChatMessage) ([]model.ChatMessage, error) {
	authors := make([]int64, len(ms))
	ids, bodies, htmls := make([]string, len(ms)), make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		authors[i], ids[i], bodies[i], htmls[i] = m.AuthorID, m.ClientID, m.Body, m.BodyHTML
	}
	var out []model.ChatMessage
	err := selectAll(ctx, q, &out, fmt.Sprintf("append %d chat messages to meeting %d", len(ms), meetingID), `
		WITH next AS (
			UPDATE meetings SET last_seq = last_seq + cardinality($3::uuid[])
			WHERE id = $1 AND status = 'live'
			RETURNING id, last_seq - cardinality($3::uuid[]) AS first)
		INSERT INTO chat_messages (meeting_id, seq, author_id, client_id, body, body_html)
		SELECT next.id, next.first + m.n, m.author_id, m.client_id, m.body, m.body_html
		FROM next, unnest($2::bigint[], $3::uuid[], $4::text[], $5::text[]) WITH ORDINALITY AS m(author_id, client_id, body, body_html, n)
		RETURNING id, meeting_id, seq, author_id, client_id, body, body_html, created_at`,
		meetingID, pq.Array(authors), pq.Array(ids), pq.Array(bodies), pq.Array(htmls))
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("append chat messages to meeting %d: %w", meetingID, ErrNotFound)
	}
	slices.SortFunc(out, func(a, b model.ChatMessage) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, err
}

// ChatSenderBatch is ChatSender for several client ids at once: Existing
// lists those already stored for this author in this meeting.
type ChatSenderBatch struct {
	ChatSender
	Existing pq.StringArray `db:"existing"`
}

// GetChatSenderBatch reads a meeting and a would-be sender of several
// messages in one query (ErrNotFound when the meeting does not exist).
func GetChatSenderBatch(ctx context.Context, q Q, meetingID, userID int64, clientIDs []string, since time.Time) (ChatSenderBatch, error) {
	var cs ChatSenderBatch
	err := one(ctx, q, &cs, fmt.Sprintf("chat sender %d in meeting %d", userID, meetingID), `
		SELECT mt.group_id, g.name AS group_name, g.kind AS group_kind, mt.status,
		       u.display_name AS name, j.name AS jst,
		       ARRAY(SELECT c.client_id::text FROM chat_messages c
		        WHERE c.meeting_id = mt.id AND c.author_id = u.id AND c.client_id = ANY($3::uuid[])) AS existing,
		       (SELECT count(*) FROM chat_messages c WHERE c.author_id = u.id AND c.created_at > $4) AS recent,
		       mu.until AS muted_until, mu.reason AS mute_reason
		FROM meetings mt
		JOIN groups g ON g.id = mt.group_id
		JOIN users u ON u.id = $2
		LEFT JOIN jst j ON j.id = u.jst_id
		LEFT JOIN LATERAL (
			SELECT until, reason FROM mutes
			WHERE group_id = mt.group_id AND user_id = u.id AND until > now()
			ORDER BY until DESC LIMIT 1) mu ON true
		WHERE mt.id = $1`, meetingID, userID, pq.Array(clientIDs), since)
	return cs, err
}

// ChatSender is what sending a chat message checks about its meeting and its
// author, read in one query before the storing statement: under a fan-out
// each round trip waits behind the writers, so a send makes only two.
type ChatSender struct {
	GroupID    int64      `db:"group_id"`
	GroupName  string     `db:"group_name"`
	GroupKind  string     `db:"group_kind"`
	Status     string     `db:"status"` // the meeting's
	Name       string     `db:"name"`
	JST        *string    `db:"jst"`
	ExistingID *int64     `db:"existing_id"` // a message already stored under this client id
	Recent     int        `db:"recent"`      // messages sent since the rate window began
	MutedUntil *time.Time `db:"muted_until"`
	MuteReason *string    `db:"mute_reason"`
}

// Group is the meeting's group, for the permission check.
func (cs ChatSender) Group() model.Group {
	return model.Group{ID: cs.GroupID, Name: cs.GroupName, Kind: cs.GroupKind}
}

// GetChatSender reads a meeting and a would-be sender (ErrNotFound when the
// meeting does not exist).
func GetChatSender(ctx context.Context, q Q, meetingID, userID int64, clientID string, since time.Time) (ChatSender, error) {
	var cs ChatSender
	err := one(ctx, q, &cs, fmt.Sprintf("chat sender %d in meeting %d", userID, meetingID), `
		SELECT mt.group_id, g.name AS group_name, g.kind AS group_kind, mt.status,
		       u.display_name AS name, j.name AS jst,
		       (SELECT c.id FROM chat_messages c
		        WHERE c.meeting_id = mt.id AND c.author_id = u.id AND c.client_id = $3) AS existing_id,
		       (SELECT count(*) FROM chat_messages c WHERE c.author_id = u.id AND c.created_at > $4) AS recent,
		       mu.until AS muted_until, mu.reason AS mute_reason
		FROM meetings mt
		JOIN groups g ON g.id = mt.group_id
		JOIN users u ON u.id = $2
		LEFT JOIN jst j ON j.id = u.jst_id
		LEFT JOIN LATERAL (
			SELECT until, reason FROM mutes
			WHERE group_id = mt.group_id AND user_id = u.id AND until > now()
			ORDER BY until DESC LIMIT 1) mu ON true
		WHERE mt.id = $1`, meetingID, userID, clientID, since)
	return cs, err
}

// ChatClientIDKey is the constraint that makes a client id count once per author.
const ChatClientIDKey = "chat_messages_meeting_id_author_id_client_id_key"

type NewNote struct {
	MeetingID int64
	AuthorID  int64
	Title     string
	Body      string
	BodyHTML  string
}

func CreateNote(ctx context.Context, q Q, n NewNote) (int64, error) {
	var id int64
	err := one(ctx, q, &id, "insert note", `
		INSERT INTO notes (meeting_id, author_id, title, body, body_html)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		n.MeetingID, n.AuthorID, n.Title, n.Body, n.BodyHTML)
	return id, err
}

func CountMeetings(ctx context.Context, q Q, groupID int64) (int, error) {
	var n int
	err := one(ctx, q, &n, "count meetings", `SELECT count(*) FROM meetings WHERE group_id = $1`, groupID)
	return n, err
}

// MeetingRow is a meeting with its group, for permission checks and pages.
type MeetingRow struct {
	model.Meeting
	GroupName string `db:"group_name"`
	GroupKind string `db:"group_kind"`
}

func (r MeetingRow) Group() model.Group {
	return model.Group{ID: r.GroupID, Name: r.GroupName, Kind: r.GroupKind}
}

const meetingRowSelect = `
	SELECT m.id, m.group_id, m.title, m.starts_at, m.ends_at, m.location, m.online_url, m.agenda, m.agenda_html,
	       m.status, m.last_seq, m.created_by, m.created_at, m.started_at, m.ended_at,
	       g.name AS group_name, g.kind AS group_kind
	FROM meetings m JOIN groups g ON g.id = m.group_id`

func GetMeetingRow(ctx context.Context, q Q, id int64) (MeetingRow, error) {
	var r MeetingRow
	err := one(ctx, q, &r, fmt.Sprintf("load meeting %d", id), meetingRowSelect+` WHERE m.id = $1`, id)
	return r, err
}

// MeetingGroups returns the group of each meeting of ids that exists, in one
// statement: what deciding who may read a meeting needs (its group's kind and
// membership), without the agenda. Concurrent websocket subscribes are
// batched into it (meetings.Authorize).
func MeetingGroups(ctx context.Context, q Q, ids []int64) (map[int64]model.Group, error) {
	var rows []struct {
		MeetingID int64 `db:"meeting_id"`
		model.Group
	}
	err := selectAll(ctx, q, &rows, "load meetings' groups", `
		SELECT m.id AS meeting_id, g.id, g.name, g.kind
		FROM meetings m JOIN groups g ON g.id = m.group_id
		WHERE m.id = ANY($1)`, pq.Int64Array(ids))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]model.Group, len(rows))
	for _, r := range rows {
		out[r.MeetingID] = r.Group
	}
	return out, nil
}

// LockMeetingRow takes the meeting row's lock: chat seqs are assigned under it.
func LockMeetingRow(ctx context.Context, q Q, id int64) (MeetingRow, error) {
	var r MeetingRow
	err := one(ctx, q, &r, fmt.Sprintf("lock meeting %d", id), meetingRowSelect+` WHERE m.id = $1 FOR UPDATE OF m`, id)
	return r, err
}

// ListMeetings returns a group's meetings: upcoming (not ended) soonest first,
// or past (ended) newest first.
func ListMeetings(ctx context.Context, q Q, groupID int64, past bool, p Page) ([]MeetingRow, error) {
	out := []MeetingRow{}
	cond, order := `m.status <> 'ended'`, `m.starts_at, m.id`
	if past {
		cond, order = `m.status = 'ended'`, `m.starts_at DESC, m.id DESC`
	}
	err := selectAll(ctx, q, &out, fmt.Sprintf("list meetings of group %d", groupID),
		meetingRowSelect+` WHERE m.group_id = $1 AND `+cond+` ORDER BY `+order+` LIMIT $2 OFFSET $3`, groupID, p.Limit, p.Offset)
	return out, err
}

type MeetingChange struct {
	Title      *string
	StartsAt   *time.Time
	EndsAt     *time.Time
	Location   *string
	OnlineURL  *string
	Agenda     *string
	AgendaHTML *string
}

func UpdateMeeting(ctx context.Context, q Q, id int64, c MeetingChange) error {
	return execOne(ctx, q, fmt.Sprintf("update meeting %d", id), `
		UPDATE meetings SET
			title = COALESCE($2, title), starts_at = COALESCE($3, starts_at), ends_at = COALESCE($4, ends_at),
			location = COALESCE($5, location), online_url = COALESCE($6, online_url),
			agenda = COALESCE($7, agenda), agenda_html = COALESCE($8, agenda_html)
		WHERE id = $1`, id, c.Title, c.StartsAt, c.EndsAt, c.Location, c.OnlineURL, c.Agenda, c.AgendaHTML)
}

// ChatRow is a stored chat message with its author.
type ChatRow struct {
	model.ChatMessage
	AuthorName string  `db:"author_name"`
	AuthorJST  *string `db:"author_jst"`
}

const chatSelect = `
	SELECT c.id, c.meeting_id, c.seq, c.author_id, c.client_id, c.body, c.body_html, c.created_at,
	       u.display_name AS author_name, j.name AS author_jst
	FROM chat_messages c JOIN users u ON u.id = c.author_id LEFT JOIN jst j ON j.id = u.jst_id`

// FindChatMessage returns an author's message with a client id (idempotent sends).
func FindChatMessage(ctx context.Context, q Q, meetingID, authorID int64, clientID string) (ChatRow, error) {
	var r ChatRow
	err := one(ctx, q, &r, "find chat message", chatSelect+`
		WHERE c.meeting_id = $1 AND c.author_id = $2 AND c.client_id = $3`, meetingID, authorID, clientID)
	return r, err
}

// ChatAfter returns a meeting's messages with seq > after, in seq order.
func ChatAfter(ctx context.Context, q Q, meetingID, after int64, limit int) ([]ChatRow, error) {
	out := []ChatRow{}
	err := selectAll(ctx, q, &out, fmt.Sprintf("chat of meeting %d", meetingID),
		chatSelect+` WHERE c.meeting_id = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3`, meetingID, after, limit)
	return out, err
}

// CountRecentChat counts a user's chat messages since t (the chat rate limit).
func CountRecentChat(ctx context.Context, q Q, userID int64, since time.Time) (int, error) {
	var n int
	err := one(ctx, q, &n, "count recent chat",
		`SELECT count(*) FROM chat_messages WHERE author_id = $1 AND created_at > $2`, userID, since)
	return n, err
}

// MeetingHighlight is the one meeting a group's banner shows: the live one,
// else the next that has not ended.
type MeetingHighlight struct {
	ID       int64     `db:"id"`
	GroupID  int64     `db:"group_id"`
	Title    string    `db:"title"`
	Status   string    `db:"status"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
}

// The meeting a group's banner announces: the live one, else the next
// scheduled one that has not ended (MeetingHighlights for the index,
// GetGroupPageHead for the group page).
const (
	highlightCond  = `(status = 'live' OR (status = 'scheduled' AND ends_at > now()))`
	highlightOrder = `status = 'live' DESC, starts_at, id`
)

// MeetingHighlights returns at most one meeting per group (DISTINCT ON picks
// the live one first, then the soonest scheduled one whose end is still
// ahead), so the index can say "a session is on" without a query per group.
func MeetingHighlights(ctx context.Context, q Q, groupIDs []int64) ([]MeetingHighlight, error) {
	out := []MeetingHighlight{}
	if len(groupIDs) == 0 {
		return out, nil
	}
	err := selectAll(ctx, q, &out, "meeting highlights", `
		SELECT DISTINCT ON (group_id) id, group_id, title, status, starts_at, ends_at
		FROM meetings
		WHERE group_id = ANY($1) AND `+highlightCond+`
		ORDER BY group_id, `+highlightOrder, pq.Array(groupIDs))
	return out, err
}

// GroupRoleBadges returns the people who speak with a role in a group: its
// moderators ("moderator") and programme staff and admins ("staff"), for the
// badges by their names in the meeting's chat and room.
func GroupRoleBadges(ctx context.Context, q Q, groupID int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Role string `db:"role"`
	}
	err := selectAll(ctx, q, &rows, fmt.Sprintf("role badges of group %d", groupID), `
		SELECT u.id, CASE WHEN u.role IN ('admin', 'staff') THEN 'staff' ELSE 'moderator' END AS role
		FROM users u
		WHERE u.role IN ('admin', 'staff')
		   OR EXISTS (SELECT 1 FROM memberships gm WHERE gm.user_id = u.id AND gm.group_id = $1 AND gm.role = 'moderator')`, groupID)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Role
	}
	return out, nil
}
