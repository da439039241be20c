package notes

import (
	"context"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Answers, in the order forms show them.
var Answers = []string{store.AnswerYes, store.AnswerMaybe, store.AnswerNo}

// AttendanceEntry is one person on the list.
type AttendanceEntry struct {
	User Person `json:"user"`
	// Answer is yes (będę), maybe (może), no (nie będę), or null.
	Answer *string `json:"answer"`
	// Attended is null until a moderator confirms who came.
	Attended  *bool  `json:"attended"`
	GroupRole string `json:"group_role,omitempty"`
}

// Counts summarise the answers and the confirmed attendance.
type Counts struct {
	Yes      int `json:"yes"`
	Maybe    int `json:"maybe"`
	No       int `json:"no"`
	NoAnswer int `json:"no_answer"`
	Attended int `json:"attended"`
}

// Attendance is a meeting's list as the reader sees it.
type Attendance struct {
	MeetingID int64             `json:"meeting_id"`
	MyAnswer  *string           `json:"my_answer"`
	Watching  bool              `json:"watching"`
	Counts    Counts            `json:"counts"`
	Items     []AttendanceEntry `json:"items"`
	// Confirmed: a moderator has recorded who attended.
	Confirmed bool `json:"confirmed"`
	// CanAnswer: members and moderators, until the meeting has ended.
	CanAnswer bool `json:"-"`
	// CanConfirm: moderators confirm, and export the list.
	CanConfirm bool `json:"-"`
}

// ErrMeetingEnded refuses answers once a meeting is over.
var ErrMeetingEnded = &apperr.Denied{Code: "meeting_ended", Message: "the meeting has ended"}

// Attendance returns a meeting's list for a reader of its group.
func (s *Service) Attendance(ctx context.Context, a *access.Actor, meetingID int64) (Attendance, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return Attendance{}, err
	}
	return s.attendance(ctx, s.db, a, m)
}

func (s *Service) attendance(ctx context.Context, q store.Q, a *access.Actor, m store.MeetingRow) (Attendance, error) {
	rows, err := store.AttendanceList(ctx, q, m.ID, m.GroupID)
	if err != nil {
		return Attendance{}, err
	}
	g := m.Group()
	out := Attendance{MeetingID: m.ID, Items: make([]AttendanceEntry, 0, len(rows)),
		CanAnswer: a.CanWrite(g) && m.Status != "ended", CanConfirm: a.CanModerate(g)}
	for _, r := range rows {
		e := AttendanceEntry{User: Person{ID: r.UserID, Name: r.Name, JST: r.JSTName}, GroupRole: r.GroupRole.String}
		if r.Answer.Valid {
			ans := r.Answer.String
			e.Answer = &ans
			switch ans {
			case store.AnswerYes:
				out.Counts.Yes++
			case store.AnswerMaybe:
				out.Counts.Maybe++
			case store.AnswerNo:
				out.Counts.No++
			}
		} else {
			out.Counts.NoAnswer++
		}
		if r.Attended.Valid {
			att := r.Attended.Bool
			e.Attended = &att
			out.Confirmed = true
			if att {
				out.Counts.Attended++
			}
		}
		if r.UserID == a.UserID {
			out.MyAnswer = e.Answer
		}
		out.Items = append(out.Items, e)
	}
	if out.MyAnswer == nil && !a.Anonymous() {
		// Someone not on the list (staff, say) may still have answered.
		ans, err := store.GetAnswer(ctx, q, m.ID, a.UserID)
		if err != nil {
			return Attendance{}, err
		}
		if ans != "" {
			out.MyAnswer = &ans
		}
	}
	if out.Watching, err = store.IsWatching(ctx, q, m.ID, a.UserID); err != nil {
		return Attendance{}, err
	}
	return out, nil
}

// Answer records whether the actor will come. "Będę" also watches the meeting
// (its changes reach them); "nie będę" stops watching; "może" leaves it as it is.
func (s *Service) Answer(ctx context.Context, a *access.Actor, meetingID int64, answer string) (Attendance, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return Attendance{}, err
	}
	if err := a.Write(m.Group()); err != nil {
		return Attendance{}, err
	}
	if answer != store.AnswerYes && answer != store.AnswerMaybe && answer != store.AnswerNo {
		return Attendance{}, apperr.Invalid("answer", "err.answer")
	}
	if m.Status == "ended" {
		return Attendance{}, ErrMeetingEnded
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // attendance is shown when a page loads; no page follows it live
		if err := store.SetAnswer(ctx, tx, meetingID, a.UserID, answer); err != nil {
			return err
		}
		switch answer {
		case store.AnswerYes:
			return store.WatchMeeting(ctx, tx, meetingID, a.UserID)
		case store.AnswerNo:
			return store.UnwatchMeeting(ctx, tx, meetingID, a.UserID)
		}
		return nil
	})
	if err != nil {
		return Attendance{}, err
	}
	return s.attendance(ctx, s.db, a, m)
}

// ConfirmAttendance records who attended: the listed people attended, everyone
// else on the list did not. Moderators only; it lands in the audit log.
func (s *Service) ConfirmAttendance(ctx context.Context, a *access.Actor, meetingID int64, attended []int64) (Attendance, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return Attendance{}, err
	}
	if err := a.Moderate(m.Group()); err != nil {
		return Attendance{}, err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // as in Answer
		rows, err := store.AttendanceList(ctx, tx, m.ID, m.GroupID)
		if err != nil {
			return err
		}
		listed := make(map[int64]bool, len(rows))
		everyone := make([]int64, 0, len(rows))
		for _, r := range rows {
			listed[r.UserID] = true
			everyone = append(everyone, r.UserID)
		}
		for _, id := range attended {
			if !listed[id] {
				return apperr.Invalid("attended", "err.attendance_user")
			}
		}
		if err := store.SetAttended(ctx, tx, m.ID, everyone, attended, a.UserID); err != nil {
			return err
		}
		gid := m.GroupID
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "attendance.confirm", TargetType: "meeting",
			TargetID: m.ID, GroupID: &gid, Details: map[string]any{"title": m.Title, "attended": len(dedupe(attended)), "listed": len(everyone)}})
	})
	if err != nil {
		return Attendance{}, err
	}
	return s.attendance(ctx, s.db, a, m)
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// ExportAttendance returns the list for the CSV the programme reports to its
// funder; moderators only.
func (s *Service) ExportAttendance(ctx context.Context, a *access.Actor, meetingID int64) (MeetingInfo, Attendance, error) {
	m, err := s.meeting(ctx, s.db, a, meetingID)
	if err != nil {
		return MeetingInfo{}, Attendance{}, err
	}
	if err := a.Moderate(m.Group()); err != nil {
		return MeetingInfo{}, Attendance{}, err
	}
	att, err := s.attendance(ctx, s.db, a, m)
	return MeetingInfo{Meeting: m.Meeting, GroupName: m.GroupName}, att, err
}

// AnswerValue is the answer or "" (for templates, which cannot compare pointers).
func (e AttendanceEntry) AnswerValue() string {
	if e.Answer == nil {
		return ""
	}
	return *e.Answer
}

// AttendedValue is "yes", "no", or "" while unconfirmed.
func (e AttendanceEntry) AttendedValue() string {
	switch {
	case e.Attended == nil:
		return ""
	case *e.Attended:
		return "yes"
	default:
		return "no"
	}
}

// Mine is the actor's own answer or "".
func (a Attendance) Mine() string {
	if a.MyAnswer == nil {
		return ""
	}
	return *a.MyAnswer
}
