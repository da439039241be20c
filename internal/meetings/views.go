package meetings

import (
	"encoding/json"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
)

// MeetingFields are a meeting's own fields as the API shows them (SPEC §4),
// in the order clients have always seen. model.Meeting is the row and has no
// JSON tags; Meeting (and notes.MeetingInfo) embed the row for Go code and
// templates, and encode through this type, so a column added to the row
// cannot reach a client by accident.
type MeetingFields struct {
	ID         int64      `json:"id"`
	GroupID    int64      `json:"group_id"`
	Title      string     `json:"title"`
	StartsAt   time.Time  `json:"starts_at"`
	EndsAt     time.Time  `json:"ends_at"`
	Location   string     `json:"location"`
	OnlineURL  string     `json:"online_url"`
	Agenda     string     `json:"agenda"`
	AgendaHTML string     `json:"agenda_html"`
	Status     string     `json:"status"`
	LastSeq    int64      `json:"last_seq"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at"`
	EndedAt    *time.Time `json:"ended_at"`
}

// FieldsOf is the API form of a meeting row.
func FieldsOf(m model.Meeting) MeetingFields {
	return MeetingFields{ID: m.ID, GroupID: m.GroupID, Title: m.Title, StartsAt: m.StartsAt, EndsAt: m.EndsAt,
		Location: m.Location, OnlineURL: m.OnlineURL, Agenda: m.Agenda, AgendaHTML: m.AgendaHTML, Status: m.Status,
		LastSeq: m.LastSeq, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt, StartedAt: m.StartedAt, EndedAt: m.EndedAt}
}

// WithGroupName is a meeting's API form: its fields and its group's name.
type WithGroupName struct {
	MeetingFields
	GroupName string `json:"group_name"`
}

// MarshalJSON encodes the API fields only (CanModerate and CanChat are for pages).
func (m Meeting) MarshalJSON() ([]byte, error) {
	return json.Marshal(WithGroupName{FieldsOf(m.Meeting), m.GroupName})
}
