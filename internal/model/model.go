// Package model holds the plain domain types shared by stores, services and the web
// layer. Field tags give their database columns and their JSON (SPEC §4) names.
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
	ID          int64     `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"`
	Kind        string    `db:"kind" json:"kind"`
	Voivodeship string    `db:"voivodeship" json:"voivodeship"`
	TERYT       *string   `db:"teryt" json:"teryt"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

type User struct {
	ID           int64     `db:"id" json:"id"`
	Email        string    `db:"email" json:"email"`
	Name         string    `db:"display_name" json:"name"`
	JobTitle     string    `db:"job_title" json:"job_title"`
	JSTID        *int64    `db:"jst_id" json:"jst_id"`
	JSTName      *string   `db:"jst_name" json:"jst_name"`
	Role         string    `db:"role" json:"role"`
	Disabled     bool      `db:"disabled" json:"disabled"`
	PasswordHash string    `db:"password_hash" json:"-"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time `db:"updated_at" json:"updated_at"`
}

type Group struct {
	ID          int64     `db:"id" json:"id"`
	Name        string    `db:"name" json:"name"`
	Slug        string    `db:"slug" json:"slug"`
	Kind        string    `db:"kind" json:"kind"`
	Description string    `db:"description" json:"description"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	// ModeratorsOnlyThreads: only moderators open threads; members reply.
	ModeratorsOnlyThreads bool `db:"moderators_only_threads" json:"moderators_only_threads"`
}

// Membership as seen from a user (with the group's name and kind).
type Membership struct {
	GroupID   int64  `db:"group_id" json:"group_id"`
	GroupName string `db:"group_name" json:"group_name"`
	GroupKind string `db:"group_kind" json:"group_kind"`
	Role      string `db:"role" json:"role"`
}

// Member as seen from a group.
type Member struct {
	UserID   int64     `db:"user_id" json:"user_id"`
	Name     string    `db:"display_name" json:"name"`
	JobTitle string    `db:"job_title" json:"job_title"`
	JSTName  *string   `db:"jst_name" json:"jst"`
	Role     string    `db:"role" json:"role"`
	Since    time.Time `db:"created_at" json:"since"`
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
	ID        int64      `db:"id" json:"id"`
	Email     string     `db:"email" json:"email"`
	Role      string     `db:"role" json:"role"`
	JSTID     *int64     `db:"jst_id" json:"jst_id"`
	JobTitle  string     `db:"job_title" json:"job_title"`
	GroupID   *int64     `db:"group_id" json:"group_id"`
	GroupRole *string    `db:"group_role" json:"group_role"`
	CreatedBy int64      `db:"created_by" json:"created_by"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	ExpiresAt time.Time  `db:"expires_at" json:"expires_at"`
	Accepted  *time.Time `db:"accepted_at" json:"accepted_at"`
}

type AuditEntry struct {
	ID         int64     `db:"id" json:"id"`
	ActorID    *int64    `db:"actor_id" json:"actor_id"`
	ActorName  *string   `db:"actor_name" json:"actor_name"`
	Action     string    `db:"action" json:"action"`
	TargetType string    `db:"target_type" json:"target_type"`
	TargetID   *int64    `db:"target_id" json:"target_id"`
	GroupID    *int64    `db:"group_id" json:"group_id"`
	Reason     string    `db:"reason" json:"reason"`
	Details    []byte    `db:"details" json:"-"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

type Area struct {
	ID        int64  `db:"id" json:"id"`
	Name      string `db:"name" json:"name"`
	MacroArea string `db:"macro_area" json:"macro_area"`
	Position  int    `db:"position" json:"position"`
}

type Thread struct {
	ID             int64     `db:"id" json:"id"`
	GroupID        int64     `db:"group_id" json:"group_id"`
	Title          string    `db:"title" json:"title"`
	AuthorID       int64     `db:"author_id" json:"author_id"`
	Pinned         bool      `db:"pinned" json:"pinned"`
	Locked         bool      `db:"locked" json:"locked"`
	Hidden         bool      `db:"hidden" json:"hidden"`
	PostCount      int       `db:"post_count" json:"post_count"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	LastActivityAt time.Time `db:"last_activity_at" json:"last_activity_at"`
	// SlowModeSeconds: members may post once per this many seconds (0 = off).
	SlowModeSeconds int `db:"slow_mode_seconds" json:"slow_mode_seconds"`
	// MergedInto is set on the stub left behind by a merge.
	MergedInto *int64 `db:"merged_into" json:"merged_into,omitempty"`
}

type Post struct {
	ID        int64      `db:"id" json:"id"`
	ThreadID  int64      `db:"thread_id" json:"thread_id"`
	Position  int        `db:"position" json:"position"`
	AuthorID  int64      `db:"author_id" json:"-"`
	Body      string     `db:"body" json:"body"`
	BodyHTML  string     `db:"body_html" json:"body_html"`
	ReplyTo   *int64     `db:"reply_to" json:"reply_to"`
	Version   int        `db:"version" json:"version"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	EditedAt  *time.Time `db:"edited_at" json:"edited_at"`
	DeletedAt *time.Time `db:"deleted_at" json:"-"`
	Hidden    bool       `db:"hidden" json:"hidden"`
}

type Meeting struct {
	ID         int64      `db:"id" json:"id"`
	GroupID    int64      `db:"group_id" json:"group_id"`
	Title      string     `db:"title" json:"title"`
	StartsAt   time.Time  `db:"starts_at" json:"starts_at"`
	EndsAt     time.Time  `db:"ends_at" json:"ends_at"`
	Location   string     `db:"location" json:"location"`
	OnlineURL  string     `db:"online_url" json:"online_url"`
	Agenda     string     `db:"agenda" json:"agenda"`
	AgendaHTML string     `db:"agenda_html" json:"agenda_html"`
	Status     string     `db:"status" json:"status"`
	LastSeq    int64      `db:"last_seq" json:"last_seq"`
	CreatedBy  int64      `db:"created_by" json:"created_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	StartedAt  *time.Time `db:"started_at" json:"started_at"`
	EndedAt    *time.Time `db:"ended_at" json:"ended_at"`
}

type ChatMessage struct {
	ID        int64     `db:"id" json:"id"`
	MeetingID int64     `db:"meeting_id" json:"meeting_id"`
	Seq       int64     `db:"seq" json:"seq"`
	AuthorID  int64     `db:"author_id" json:"-"`
	ClientID  string    `db:"client_id" json:"client_id"`
	Body      string    `db:"body" json:"body"`
	BodyHTML  string    `db:"body_html" json:"body_html"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

type Note struct {
	ID        int64     `db:"id" json:"id"`
	MeetingID int64     `db:"meeting_id" json:"meeting_id"`
	AuthorID  int64     `db:"author_id" json:"author_id"`
	Title     string    `db:"title" json:"title"`
	Body      string    `db:"body" json:"body"`
	BodyHTML  string    `db:"body_html" json:"body_html"`
	Version   int       `db:"version" json:"version"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}
