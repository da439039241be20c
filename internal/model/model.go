// Package model holds the plain domain types shared by stores, services and the web
// layer. Field tags give their database columns only: these are rows, never API
// answers. Each service has its own API types (accounts.UserView, forum.Post, …)
// listing exactly the fields SPEC §4 promises, so a new column cannot leak.
package model

import "time"

// Global roles.
const (
	RoleAdmin  = "admin"
	RoleStaff  = "staff"
	RoleMember = "member"
)

// Membership roles within a group.
const (
	GroupModerator = "moderator"
	GroupMember    = "member"
	GroupObserver  = "observer"
)

// Group kinds, in the order the index shows them.
const (
	KindRural  = "rural"
	KindUrban  = "urban"
	KindCounty = "county"
	KindCommon = "common"
)

var GroupKinds = []string{KindRural, KindUrban, KindCounty, KindCommon}

var GlobalRoles = []string{RoleAdmin, RoleStaff, RoleMember}

var GroupRoles = []string{GroupModerator, GroupMember, GroupObserver}

// JST kinds (SPEC §2).
var JSTKinds = []string{"gmina_wiejska", "gmina_miejska", "gmina_miejsko_wiejska", "powiat", "miasto_na_prawach_powiatu"}

// Voivodeships, for validation and the admin form.
var Voivodeships = []string{
	"dolnośląskie", "kujawsko-pomorskie", "lubelskie", "lubuskie", "łódzkie", "małopolskie",
	"mazowieckie", "opolskie", "podkarpackie", "podlaskie", "pomorskie", "śląskie",
	"świętokrzyskie", "warmińsko-mazurskie", "wielkopolskie", "zachodniopomorskie",
}

type JST struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	Kind        string    `db:"kind"`
	Voivodeship string    `db:"voivodeship"`
	TERYT       *string   `db:"teryt"`
	CreatedAt   time.Time `db:"created_at"`
}

type User struct {
	ID           int64     `db:"id"`
	Email        string    `db:"email"`
	Name         string    `db:"display_name"`
	JobTitle     string    `db:"job_title"`
	JSTID        *int64    `db:"jst_id"`
	JSTName      *string   `db:"jst_name"`
	Role         string    `db:"role"`
	Disabled     bool      `db:"disabled"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
	// Lang is the interface language the user chose (nil: not chosen).
	Lang *string `db:"lang"`
	// Prefs is the raw JSON object of preferences; package accounts reads it.
	Prefs []byte `db:"prefs"`
	// DeletedAt is set when the account was anonymised at its owner's request.
	DeletedAt *time.Time `db:"deleted_at"`
}

type Group struct {
	ID          int64     `db:"id"`
	Name        string    `db:"name"`
	Slug        string    `db:"slug"`
	Kind        string    `db:"kind"`
	Description string    `db:"description"`
	CreatedAt   time.Time `db:"created_at"`
	// ModeratorsOnlyThreads: only moderators open threads; members reply.
	ModeratorsOnlyThreads bool `db:"moderators_only_threads"`
}

// Membership as seen from a user (with the group's name and kind).
type Membership struct {
	GroupID   int64  `db:"group_id"`
	GroupName string `db:"group_name"`
	GroupKind string `db:"group_kind"`
	Role      string `db:"role"`
}

// Member as seen from a group.
type Member struct {
	UserID   int64     `db:"user_id"`
	Name     string    `db:"display_name"`
	JobTitle string    `db:"job_title"`
	JSTName  *string   `db:"jst_name"`
	Role     string    `db:"role"`
	Since    time.Time `db:"created_at"`
}

type Session struct {
	TokenHash  []byte    `db:"token_hash"`
	UserID     int64     `db:"user_id"`
	CSRFToken  string    `db:"csrf_token"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	Rotate     bool      `db:"rotate"`
}

type Invitation struct {
	ID        int64      `db:"id"`
	Email     string     `db:"email"`
	Role      string     `db:"role"`
	JSTID     *int64     `db:"jst_id"`
	JobTitle  string     `db:"job_title"`
	GroupID   *int64     `db:"group_id"`
	GroupRole *string    `db:"group_role"`
	CreatedBy int64      `db:"created_by"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	Accepted  *time.Time `db:"accepted_at"`
}

type AuditEntry struct {
	ID         int64     `db:"id"`
	ActorID    *int64    `db:"actor_id"`
	ActorName  *string   `db:"actor_name"`
	Action     string    `db:"action"`
	TargetType string    `db:"target_type"`
	TargetID   *int64    `db:"target_id"`
	GroupID    *int64    `db:"group_id"`
	Reason     string    `db:"reason"`
	Details    []byte    `db:"details"`
	CreatedAt  time.Time `db:"created_at"`
}

// AuditActor is a person who appears as the actor of audit entries: the
// audit log page's person filter offers them.
type AuditActor struct {
	ID   int64  `db:"id"`
	Name string `db:"name"`
}

type Area struct {
	ID        int64  `db:"id"`
	Name      string `db:"name"`
	MacroArea string `db:"macro_area"`
	Position  int    `db:"position"`
}

type Thread struct {
	ID             int64     `db:"id"`
	GroupID        int64     `db:"group_id"`
	Title          string    `db:"title"`
	AuthorID       int64     `db:"author_id"`
	Pinned         bool      `db:"pinned"`
	Locked         bool      `db:"locked"`
	Hidden         bool      `db:"hidden"`
	PostCount      int       `db:"post_count"`
	CreatedAt      time.Time `db:"created_at"`
	LastActivityAt time.Time `db:"last_activity_at"`
	// SlowModeSeconds: members may post once per this many seconds (0 = off).
	SlowModeSeconds int `db:"slow_mode_seconds"`
	// MergedInto is set on the stub left behind by a merge.
	MergedInto *int64 `db:"merged_into"`
}

type Post struct {
	ID        int64      `db:"id"`
	ThreadID  int64      `db:"thread_id"`
	Position  int        `db:"position"`
	AuthorID  int64      `db:"author_id"`
	Body      string     `db:"body"`
	BodyHTML  string     `db:"body_html"`
	ReplyTo   *int64     `db:"reply_to"`
	Version   int        `db:"version"`
	CreatedAt time.Time  `db:"created_at"`
	EditedAt  *time.Time `db:"edited_at"`
	DeletedAt *time.Time `db:"deleted_at"`
	Hidden    bool       `db:"hidden"`
}

type Meeting struct {
	ID         int64      `db:"id"`
	GroupID    int64      `db:"group_id"`
	Title      string     `db:"title"`
	StartsAt   time.Time  `db:"starts_at"`
	EndsAt     time.Time  `db:"ends_at"`
	Location   string     `db:"location"`
	OnlineURL  string     `db:"online_url"`
	Agenda     string     `db:"agenda"`
	AgendaHTML string     `db:"agenda_html"`
	Status     string     `db:"status"`
	LastSeq    int64      `db:"last_seq"`
	CreatedBy  int64      `db:"created_by"`
	CreatedAt  time.Time  `db:"created_at"`
	StartedAt  *time.Time `db:"started_at"`
	EndedAt    *time.Time `db:"ended_at"`
}

type ChatMessage struct {
	ID        int64     `db:"id"`
	MeetingID int64     `db:"meeting_id"`
	Seq       int64     `db:"seq"`
	AuthorID  int64     `db:"author_id"`
	ClientID  string    `db:"client_id"`
	Body      string    `db:"body"`
	BodyHTML  string    `db:"body_html"`
	CreatedAt time.Time `db:"created_at"`
}

type Note struct {
	ID        int64     `db:"id"`
	MeetingID int64     `db:"meeting_id"`
	AuthorID  int64     `db:"author_id"`
	Title     string    `db:"title"`
	Body      string    `db:"body"`
	BodyHTML  string    `db:"body_html"`
	Version   int       `db:"version"`
	CreatedAt time.Time `db:"created_at"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Mail statuses: queued waits for (another) attempt, sent was accepted by the
// SMTP server, failed gave up after the last attempt, kept was stored while no
// SMTP server was configured and is only shown to administrators.
const (
	MailQueued = "queued"
	MailSent   = "sent"
	MailFailed = "failed"
	MailKept   = "kept"
)

// Mail is one row of the outgoing mail queue.
type Mail struct {
	ID             int64      `db:"id"`
	To             string     `db:"to_addr"`
	UserID         *int64     `db:"user_id"`
	Kind           string     `db:"kind"`
	Lang           string     `db:"lang"`
	Subject        string     `db:"subject"`
	Text           string     `db:"body_text"`
	HTML           string     `db:"body_html"`
	UnsubscribeURL string     `db:"unsubscribe_url"`
	MessageID      string     `db:"message_id"`
	Status         string     `db:"status"`
	Attempts       int        `db:"attempts"`
	NextAttemptAt  time.Time  `db:"next_attempt_at"`
	LastError      string     `db:"last_error"`
	CreatedAt      time.Time  `db:"created_at"`
	SentAt         *time.Time `db:"sent_at"`
	// Content is what a mail stored unrendered says (JSON; Text and HTML are
	// empty then): mail.Service renders the bodies from it. Nil: rendered.
	Content *string `db:"content"`
}
