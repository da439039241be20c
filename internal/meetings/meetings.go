// Package meetings owns GWD sessions and their live chat: scheduling, starting
// and ending, and storing chat messages with a gap-free per-meeting seq assigned
// under the meeting row's lock, so seq order is commit order (SPEC §5). It
// persists first and only then tells the live layer, through its Announcer.
package meetings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/batch"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/notify"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/textnorm"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Settings come from configuration.
type Settings struct {
	// ChatPerTenSeconds limits one account's chat messages (default 10 per 10 s).
	ChatPerTenSeconds int
	// Log receives what fails after a send already succeeded (mentions'
	// notifications); nil discards it.
	Log *slog.Logger
}

type Service struct {
	db   *store.DB
	hot  *store.Prepared // the chat's statements, prepared once
	md   *markup.Renderer
	set  Settings
	live Announcer
	now  func() time.Time
	// writers store each meeting's chat sends together (writer.go).
	writers writers
	// groups batches the look-ups of websocket subscribes (Authorize): a
	// room filling up costs a few statements instead of one per person.
	groups *batch.Loader[int64, model.Group]
}

// Announcer learns what the meetings service committed: the changes of its
// units of work, and each chat message, which is stored by one statement
// outside any unit of work (the chat's hot path: no BEGIN, no COMMIT). The
// live hub implements it.
type Announcer interface {
	topic.Announcer
	// ChatMessages hands over the messages one statement committed on this
	// instance, in seq order, so that this instance's subscribers get them at
	// once instead of reading them back — together: each subscriber's share
	// queued at once and written with one call, not one wake-up and one
	// write per message; other instances get the hint {topic, seq}.
	ChatMessages(ctx context.Context, ms []Message)
}

// New builds the service; live learns every committed change.
func New(db *sqlx.DB, live Announcer, md *markup.Renderer, set Settings) *Service {
	if set.ChatPerTenSeconds <= 0 {
		set.ChatPerTenSeconds = 10
	}
	if set.Log == nil {
		set.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: store.NewDB(db, live), hot: store.NewPrepared(db), md: md, set: set, live: live, now: time.Now,
		writers: writers{pending: map[int64][]*run{}}}
	s.groups = batch.New(func(ctx context.Context, ids []int64) (map[int64]model.Group, error) {
		return store.MeetingGroups(ctx, s.hot, ids)
	}, authorizeBatchMax, authorizeBatchTimeout)
	return s
}

const (
	// authorizeBatchMax bounds the meetings one statement looks up.
	authorizeBatchMax = 256
	// authorizeBatchTimeout bounds one batched look-up, which serves many
	// subscribes and so has its own deadline.
	authorizeBatchTimeout = 10 * time.Second
)

// Meeting is a meeting as the API shows it.
// It encodes as WithGroupName (see MarshalJSON in views.go).
type Meeting struct {
	model.Meeting
	GroupName   string
	CanModerate bool
	CanChat     bool
	// CanWrite: the reader may write in the group, so the chat's message box
	// is ready (hidden) before the start and opens when the meeting goes live.
	CanWrite bool
	// Observer: the reader is an observer of the group (reads, never writes).
	Observer bool
}

func view(a *access.Actor, r store.MeetingRow) Meeting {
	g := r.Group()
	w := a.CanWrite(g)
	return Meeting{Meeting: r.Meeting, GroupName: r.GroupName, CanModerate: a.CanModerate(g),
		CanChat: r.Status == "live" && w, CanWrite: w, Observer: !w && a.GroupRole(g.ID) == model.GroupObserver}
}

// readable loads a meeting and checks the actor may read its group.
func (s *Service) readable(ctx context.Context, q store.Q, a *access.Actor, id int64) (store.MeetingRow, error) {
	if err := a.LoggedIn(); err != nil {
		return store.MeetingRow{}, err
	}
	r, err := store.GetMeetingRow(ctx, q, id)
	if err != nil {
		return r, err
	}
	return r, a.Read(r.Group())
}

// Get returns a meeting for a reader.
func (s *Service) Get(ctx context.Context, a *access.Actor, id int64) (Meeting, error) {
	r, err := s.readable(ctx, s.db, a, id)
	if err != nil {
		return Meeting{}, err
	}
	return view(a, r), nil
}

// Authorize answers as Get would, without building the meeting: a
// websocket subscribe's check. It reads only the meeting's group, together
// with the other subscribes waiting meanwhile (one statement for a burst,
// read after this call began: package batch); the rule is a's, applied here
// for each caller.
func (s *Service) Authorize(ctx context.Context, a *access.Actor, id int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	g, ok, err := s.groups.Load(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("load meeting %d: %w", id, err)
	case !ok:
		return fmt.Errorf("load meeting %d: %w", id, apperr.ErrNotFound)
	}
	return a.Read(g)
}

// List returns a group's upcoming or past meetings.
func (s *Service) List(ctx context.Context, a *access.Actor, groupID int64, past bool, p store.Page) (model.Group, []Meeting, error) {
	if err := a.LoggedIn(); err != nil {
		return model.Group{}, nil, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return g, nil, err
	}
	if err := a.Read(g); err != nil {
		return g, nil, err
	}
	rows, err := store.ListMeetings(ctx, s.db, groupID, past, p)
	if err != nil {
		return g, nil, err
	}
	out := make([]Meeting, 0, len(rows))
	for _, r := range rows {
		out = append(out, view(a, r))
	}
	return g, out, nil
}

// Group is the group whose meetings these are, for a reader of it.
func (s *Service) Group(ctx context.Context, a *access.Actor, groupID int64) (model.Group, error) {
	if err := a.LoggedIn(); err != nil {
		return model.Group{}, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return model.Group{}, err
	}
	if err := a.Read(g); err != nil {
		return model.Group{}, err
	}
	return g, nil
}

// Input describes a meeting; on update nil fields stay as they are.
type Input struct {
	Title     *string    `json:"title"`
	StartsAt  *time.Time `json:"starts_at"`
	EndsAt    *time.Time `json:"ends_at"`
	Location  *string    `json:"location"`
	OnlineURL *string    `json:"online_url"`
	Agenda    *string    `json:"agenda"`
}

// check validates in against the meeting's current values (zero for a new one).
func (s *Service) check(in *Input, cur model.Meeting) (store.MeetingChange, error) {
	v := &apperr.Validation{}
	c := store.MeetingChange{StartsAt: in.StartsAt, EndsAt: in.EndsAt}
	if in.Title != nil {
		t := textnorm.OneLine(*in.Title)
		if n := utf8.RuneCountInString(t); n < 3 || n > 200 {
			v.Add("title", "err.title_length")
		}
		c.Title = &t
	} else if cur.ID == 0 {
		v.Add("title", "err.required")
	}
	starts, ends := cur.StartsAt, cur.EndsAt
	if in.StartsAt != nil {
		starts = *in.StartsAt
	}
	if in.EndsAt != nil {
		ends = *in.EndsAt
	}
	switch {
	case starts.IsZero():
		v.Add("starts_at", "err.required")
	case ends.IsZero():
		v.Add("ends_at", "err.required")
	case !ends.After(starts):
		v.Add("ends_at", "err.ends_before_starts")
	case ends.Sub(starts) > 7*24*time.Hour:
		v.Add("ends_at", "err.meeting_too_long")
	}
	if in.Location != nil {
		l := strings.TrimSpace(*in.Location)
		if utf8.RuneCountInString(l) > 300 {
			v.Add("location", "err.too_long")
		}
		c.Location = &l
	}
	if in.OnlineURL != nil {
		u := strings.TrimSpace(*in.OnlineURL)
		if u != "" {
			p, err := url.Parse(u)
			if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || len(u) > 500 {
				v.Add("online_url", "err.url")
			}
		}
		c.OnlineURL = &u
	}
	if in.Agenda != nil {
		ag := strings.TrimSpace(*in.Agenda)
		var html string
		if utf8.RuneCountInString(ag) > 20000 {
			v.Add("agenda", "err.too_long")
		} else {
			// Callers have checked that the actor moderates the group; the
			// rendering is bounded (package markup), its refusal is on this field.
			var err error
			if html, err = s.md.RenderField("agenda", ag); err != nil {
				var verr *apperr.Validation
				if !errors.As(err, &verr) {
					return c, err
				}
				v.Add("agenda", verr.Fields["agenda"])
			}
		}
		c.Agenda, c.AgendaHTML = &ag, &html
	}
	return c, v.Err()
}

// RoleBadges says who speaks with a role in a meeting's chat and room: the
// group's moderators and the programme staff (user id → "moderator"|"staff").
func (s *Service) RoleBadges(ctx context.Context, a *access.Actor, meetingID int64) (map[int64]string, error) {
	r, err := s.readable(ctx, s.db, a, meetingID)
	if err != nil {
		return nil, err
	}
	return store.GroupRoleBadges(ctx, s.db, r.GroupID)
}

// Check validates a new meeting's fields without storing anything, so a form
// whose dates could not be read still reports every other problem at once.
func (s *Service) Check(in Input) error {
	_, err := s.check(&in, model.Meeting{})
	return err
}

// Create schedules a meeting; the group's moderators (and staff) may.
func (s *Service) Create(ctx context.Context, a *access.Actor, groupID int64, in Input) (Meeting, error) {
	if err := a.LoggedIn(); err != nil {
		return Meeting{}, err
	}
	g, err := store.GetGroup(ctx, s.db, groupID)
	if err != nil {
		return Meeting{}, err
	}
	if err := a.Moderate(g); err != nil {
		return Meeting{}, err
	}
	c, err := s.check(&in, model.Meeting{})
	if err != nil {
		return Meeting{}, err
	}
	var id int64
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		m, err := store.CreateMeeting(ctx, tx, store.NewMeeting{GroupID: g.ID, Title: *c.Title, StartsAt: *c.StartsAt, EndsAt: *c.EndsAt,
			Location: deref(c.Location), OnlineURL: deref(c.OnlineURL), Agenda: deref(c.Agenda), AgendaHTML: deref(c.AgendaHTML), CreatedBy: a.UserID})
		if err != nil {
			return err
		}
		id = m.ID
		tx.Touch(topic.Name(topic.Group, g.ID), 0)
		if err := s.tellGroup(ctx, tx, a, g.ID, notify.MeetingScheduled, m.ID, m.Title); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "meeting.create", TargetType: "meeting",
			TargetID: m.ID, GroupID: &g.ID, Details: map[string]any{"title": m.Title}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.Get(ctx, a, id)
}

// tellGroup notifies the group's members and the meeting's followers (not
// the actor) of a meeting.
func (s *Service) tellGroup(ctx context.Context, tx *store.Tx, a *access.Actor, groupID int64, kind string, meetingID int64, title string) error {
	members, err := store.MeetingAudienceIDs(ctx, tx, meetingID, groupID)
	if err != nil {
		return err
	}
	return notify.Record(ctx, tx, store.NewNotifications{UserIDs: members, Kind: kind, ActorID: a.UserID,
		GroupID: groupID, TargetType: "meeting", TargetID: meetingID, Title: title})
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Update edits a meeting's details (not its status).
func (s *Service) Update(ctx context.Context, a *access.Actor, id int64, in Input) (Meeting, error) {
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		r, err := s.readable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.Moderate(r.Group()); err != nil {
			return err
		}
		c, err := s.check(&in, r.Meeting)
		if err != nil {
			return err
		}
		if err := store.UpdateMeeting(ctx, tx, id, c); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Meeting, id), 0) // its room re-reads it
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "meeting.update", TargetType: "meeting",
			TargetID: id, GroupID: &r.GroupID, Details: map[string]any{"title": r.Title}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.Get(ctx, a, id)
}

// SetStatus moves a meeting scheduled → live → ended; moderators only.
func (s *Service) SetStatus(ctx context.Context, a *access.Actor, id int64, status string) (Meeting, error) {
	from := map[string]string{"live": "scheduled", "ended": "live"}[status]
	if from == "" {
		return Meeting{}, fmt.Errorf("meeting status %q: %w", status, apperr.ErrNotFound)
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if err := a.LoggedIn(); err != nil {
			return err
		}
		r, err := store.LockMeetingRow(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := a.Moderate(r.Group()); err != nil {
			return err
		}
		if r.Status != from {
			return &apperr.Conflict{Code: "bad_status", Message: fmt.Sprintf("the meeting is %s, not %s", r.Status, from)}
		}
		if _, err := store.SetMeetingStatus(ctx, tx, id, status); err != nil {
			return err
		}
		tx.Touch(topic.Name(topic.Meeting, id), 0)
		// The group's open pages carry its meeting banner.
		tx.Touch(topic.Name(topic.Group, r.GroupID), 0)
		if status == "live" {
			if err := s.tellGroup(ctx, tx, a, r.GroupID, notify.MeetingStarted, id, r.Title); err != nil {
				return err
			}
		}
		action := map[string]string{"live": "meeting.start", "ended": "meeting.end"}[status]
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: action, TargetType: "meeting",
			TargetID: id, GroupID: &r.GroupID, Details: map[string]any{"title": r.Title}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.Get(ctx, a, id)
}

// Message is a chat message as clients see it (SPEC §5).
type Message struct {
	ID        int64     `json:"id"`
	Seq       int64     `json:"seq"`
	MeetingID int64     `json:"meeting_id"`
	Author    Author    `json:"author"`
	Body      string    `json:"body"`
	BodyHTML  string    `json:"body_html"`
	ClientID  string    `json:"client_id"`
	CreatedAt time.Time `json:"created_at"`
}

// Author is how a chat message's writer appears.
type Author struct {
	ID   int64   `json:"id"`
	Name string  `json:"name"`
	JST  *string `json:"jst"`
}

func messageFrom(r store.ChatRow) Message {
	return Message{ID: r.ID, Seq: r.Seq, MeetingID: r.MeetingID, Author: Author{ID: r.AuthorID, Name: r.AuthorName, JST: r.AuthorJST},
		Body: r.Body, BodyHTML: r.BodyHTML, ClientID: r.ClientID, CreatedAt: r.CreatedAt}
}

// Send errors carry the codes of SPEC §5's error frames.
var (
	ErrNotLive  = &apperr.Denied{Code: "meeting_not_live", Message: "the meeting is not live"}
	ErrTooLong  = apperr.Invalid("body", "err.chat_length")
	ErrClientID = apperr.Invalid("client_id", "err.client_id")
)

// Send stores a chat message and returns it once committed. The same client id
// from the same author returns the stored message and stores nothing new (a
// UNIQUE constraint, kept forever). The seq is assigned under the meeting row's
// lock in the statement that stores the message (with whatever else this
// instance sends to the meeting meanwhile: writer.go), so it is gap-free and
// in commit order.
func (s *Service) Send(ctx context.Context, a *access.Actor, meetingID int64, clientID, body string) (Message, bool, error) {
	return s.SendThen(ctx, a, meetingID, clientID, body, nil)
}

// SendThen is Send for a sender that also follows the meeting (a websocket):
// stored, unless nil, runs once the message is committed (or found stored)
// and before it is announced, so that the sender's acknowledgement goes out
// ahead of its own copy of the message. stored runs in the meeting's writer
// and must not block.
func (s *Service) SendThen(ctx context.Context, a *access.Actor, meetingID int64, clientID, body string, stored func(Message)) (Message, bool, error) {
	var ann Announcements
	defer ann.Wait()
	return s.sendThen(ctx, a, meetingID, clientID, body, stored, &ann)
}

// sendThen is SendThen without waiting for the announcement, which goes to ann.
func (s *Service) sendThen(ctx context.Context, a *access.Actor, meetingID int64, clientID, body string, stored func(Message), ann *Announcements) (Message, bool, error) {
	if err := a.LoggedIn(); err != nil {
		return Message{}, false, err
	}
	cid, err := uuid.Parse(clientID)
	if err != nil {
		return Message{}, false, ErrClientID
	}
	clientID = cid.String()
	body = textnorm.Block(body)
	n := utf8.RuneCountInString(body)
	// The checks read without locking anything, in one query; only the
	// storing statement takes the meeting row's lock, for one round trip, so
	// one meeting's chat is not limited to one transaction's worth of round
	// trips at a time, and the meeting's writer stores this instance's sends
	// together.
	sender, err := store.GetChatSender(ctx, s.hot, meetingID, a.UserID, clientID, s.now().Add(-10*time.Second))
	if err != nil {
		return Message{}, false, err
	}
	if err := a.Write(sender.Group()); err != nil {
		return Message{}, false, err
	}
	// A resend of a message already stored answers with it, whatever the
	// meeting's state now: the client only missed the ack.
	if sender.ExistingID != nil {
		return s.resent(ctx, a, meetingID, clientID, stored)
	}
	if sender.Status != "live" {
		return Message{}, false, ErrNotLive
	}
	if n == 0 || n > 4000 {
		return Message{}, false, ErrTooLong
	}
	if err := a.WriteUnmuted(sender.Group(), sender.MutedUntil, deref(sender.MuteReason)); err != nil {
		return Message{}, false, err
	}
	if !a.IsStaff() && sender.Recent >= s.set.ChatPerTenSeconds {
		return Message{}, false, &apperr.RateLimited{RetryAfter: 10 * time.Second}
	}
	// Mentions are resolved among the meeting's readers, and only when the
	// text has an "@" at all: the chat's hot path gains no query.
	var people markup.People
	if strings.IndexByte(body, '@') >= 0 {
		if people, err = notify.People(ctx, s.db, sender.GroupID, false, body); err != nil {
			return Message{}, false, err
		}
	}
	// Rendered only now that the sender may send it. Text that would render
	// too large is "too long" (SPEC §5 has no other code for it).
	html, mentioned, err := s.md.RenderMentions(body, people)
	if errors.Is(err, markup.ErrTooLarge) {
		return Message{}, false, ErrTooLong
	}
	if err != nil {
		return Message{}, false, err
	}
	var msg Message
	err = s.storeRun(meetingID, &run{ctx: ctx, author: Author{ID: a.UserID, Name: sender.Name, JST: sender.JST},
		rows: []store.NewChatMessage{{MeetingID: meetingID, AuthorID: a.UserID, ClientID: clientID, Body: body, BodyHTML: html}},
		committed: func(ms []Message) {
			msg = ms[0]
			if stored != nil {
				stored(msg)
			}
		}}, ann)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Message{}, false, ErrNotLive // ended since the check above
	case store.IsUniqueViolation(err, store.ChatClientIDKey):
		// The same client id raced itself (two tabs resending at once).
		return s.resent(ctx, a, meetingID, clientID, stored)
	case err != nil:
		return Message{}, false, err
	}
	if len(mentioned) > 0 {
		ann.Wait() // the message reaches its readers before the mentions' notifications
		s.tellMentioned(ctx, a, msg, sender.GroupID, mentioned)
	}
	return msg, true, nil
}

// tellMentioned notifies the people a chat message mentions. The message is
// stored by a statement of the meeting's writer (AppendChatMessages), so
// this is a transaction after it: a failure here is logged, never reported
// to the sender as a failed send — the message is already in the chat.
func (s *Service) tellMentioned(ctx context.Context, a *access.Actor, msg Message, groupID int64, mentioned []int64) {
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// Only notifications are written; each announces itself, and when
		// none is (the mentioned may no longer read it) nothing changed.
		tx.Quiet()
		m, err := store.GetMeetingRow(ctx, tx, msg.MeetingID)
		if err != nil {
			return err
		}
		var plan notify.Plan
		plan.Add(notify.Mention, mentioned...)
		return notify.RecordPlan(ctx, tx, plan, store.NewNotifications{ActorID: a.UserID, GroupID: groupID,
			TargetType: "message", TargetID: msg.ID, Title: m.Title})
	})
	if err != nil {
		s.set.Log.ErrorContext(ctx, "notify chat mentions", "meeting_id", msg.MeetingID, "err", err)
	}
}

// ReminderLead is how long before its start a meeting is reminded of.
const ReminderLead = 15 * time.Minute

// SendReminders tells the audience of every scheduled meeting starting within
// ReminderLead that it starts soon, once per meeting however many instances
// run it (see store.ClaimMeetingReminders), and returns how many meetings it
// reminded of. app.Serve's housekeeping runs it every minute.
func (s *Service) SendReminders(ctx context.Context) (int, error) {
	now := s.now()
	var due []store.DueReminder
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		// The claim marks are followed by nobody live; the reminders
		// announce themselves (notify.Record).
		tx.Quiet()
		var err error
		if due, err = store.ClaimMeetingReminders(ctx, tx, now, now.Add(ReminderLead), 100); err != nil {
			return err
		}
		for _, m := range due {
			audience, err := store.MeetingAudienceIDs(ctx, tx, m.ID, m.GroupID)
			if err != nil {
				return err
			}
			if err := notify.Record(ctx, tx, store.NewNotifications{UserIDs: audience, Kind: notify.MeetingReminder,
				GroupID: m.GroupID, TargetType: "meeting", TargetID: m.ID, Title: m.Title}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("meeting reminders: %w", err)
	}
	return len(due), nil
}

// resent answers a resend with the stored message and announces it again.
func (s *Service) resent(ctx context.Context, a *access.Actor, meetingID int64, clientID string, stored func(Message)) (Message, bool, error) {
	old, err := s.stored(ctx, a, meetingID, clientID)
	if err != nil {
		return Message{}, false, err
	}
	if stored != nil {
		stored(old)
	}
	s.announceResent(ctx, old)
	return old, false, nil
}

// announceResent announces a resent message again. The first announcement
// may never have gone out: an instance killed between COMMIT and NOTIFY
// leaves a stored message nobody was told about, whose client resends it
// (here or to another instance) because it got no ack. Receivers that
// already have it skip it by seq, so a second hint costs one read of nothing
// new.
func (s *Service) announceResent(ctx context.Context, m Message) {
	s.live.Announce(ctx, topic.Events{Changes: []topic.Change{{Topic: topic.Name(topic.Meeting, m.MeetingID), Seq: m.Seq}}})
}

// stored finds an author's message by client id (ErrNotFound if none).
func (s *Service) stored(ctx context.Context, a *access.Actor, meetingID int64, clientID string) (Message, error) {
	r, err := store.FindChatMessage(ctx, s.hot, meetingID, a.UserID, clientID)
	if err != nil {
		return Message{}, err
	}
	return messageFrom(r), nil
}

// After returns up to limit messages with seq > after, for a reader.
func (s *Service) After(ctx context.Context, a *access.Actor, meetingID, after int64, limit int) ([]Message, error) {
	if _, err := s.readable(ctx, s.db, a, meetingID); err != nil {
		return nil, err
	}
	return s.AfterUnchecked(ctx, meetingID, after, limit)
}

// AfterUnchecked reads messages for a topic whose subscriber was already checked
// (the live layer re-reads on every hint).
func (s *Service) AfterUnchecked(ctx context.Context, meetingID, after int64, limit int) ([]Message, error) {
	rows, err := store.ChatAfter(ctx, s.hot, meetingID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[i] = messageFrom(r)
	}
	return out, nil
}

// Outgoing is one message of a batch a connection sends (SendBatch).
type Outgoing struct {
	ClientID string
	Body     string
}

// SendBatch sends messages one author wrote into one meeting, in order, as
// SendThen would one after the other, but with one checking query and one
// storing statement for the whole batch (issue 16: a connection's sends
// pipelined, so a fast sender no longer queues behind two round trips per
// message). Each message gets exactly the checks it would get alone (the
// rate limit counts the batch's earlier messages); the accepted ones are
// stored together, gap-free and in order, by the meeting's writer. reply
// runs once per message, in order: with the stored message (after the
// commit, before it is announced, like SendThen's stored) or with the error
// SendThen would have returned; it must not block, as it runs in the writer
// once the batch is stored. A client id seen twice in items ends the batch
// there: the rest go on one by one, so the repeat answers as a resend.
func (s *Service) SendBatch(ctx context.Context, a *access.Actor, meetingID int64, items []Outgoing, reply func(i int, m Message, err error)) {
	var ann Announcements
	defer ann.Wait()
	s.SendBatchThen(ctx, a, meetingID, items, reply, &ann)
}

// SendBatchThen is SendBatch for a caller that sends run after run: it
// returns once the batch is answered (its messages committed, the replies
// made) and adds the announcement of what it stored to ann instead of
// waiting for it; the caller waits with ann.Wait before it answers anything
// else or ends.
func (s *Service) SendBatchThen(ctx context.Context, a *access.Actor, meetingID int64, items []Outgoing, reply func(i int, m Message, err error), ann *Announcements) {
	sendOne := func(i int) {
		_, _, err := s.sendThen(ctx, a, meetingID, items[i].ClientID, items[i].Body, func(m Message) { reply(i, m, nil) }, ann)
		if err != nil {
			reply(i, Message{}, err)
		}
	}
	failAll := func(from, to int, err error) {
		for i := from; i < to; i++ {
			reply(i, Message{}, err)
		}
	}
	if len(items) == 1 {
		sendOne(0)
		return
	}
	if err := a.LoggedIn(); err != nil {
		failAll(0, len(items), err)
		return
	}
	type item struct {
		clientID, body, html string
		err                  error
		resend, accepted     bool
		mentioned            []int64
		msg                  Message // the stored one: accepted, or the one a resend repeats
	}
	ps := make([]item, 0, len(items))
	ids := make([]string, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		cid, err := uuid.Parse(it.ClientID)
		if err != nil {
			ps = append(ps, item{err: ErrClientID})
			continue
		}
		if seen[cid.String()] {
			break // a repeat within the batch: from here on one by one
		}
		seen[cid.String()] = true
		ps = append(ps, item{clientID: cid.String(), body: textnorm.Block(it.Body)})
		ids = append(ids, cid.String())
	}
	defer func() {
		for i := len(ps); i < len(items); i++ {
			sendOne(i)
		}
	}()
	sender, err := store.GetChatSenderBatch(ctx, s.hot, meetingID, a.UserID, ids, s.now().Add(-10*time.Second))
	if err == nil {
		err = a.Write(sender.Group())
	}
	if err != nil {
		for i := range ps {
			if ps[i].err == nil {
				ps[i].err = err
			}
		}
	}
	existing := make(map[string]bool, len(sender.Existing))
	for _, id := range sender.Existing {
		existing[id] = true
	}
	var batch []store.NewChatMessage
	for i := range ps {
		p := &ps[i]
		switch {
		case p.err != nil:
			continue
		case existing[p.clientID]:
			p.resend = true
			continue
		case sender.Status != "live":
			p.err = ErrNotLive
			continue
		}
		if n := utf8.RuneCountInString(p.body); n == 0 || n > 4000 {
			p.err = ErrTooLong
			continue
		}
		if err := a.WriteUnmuted(sender.Group(), sender.MutedUntil, deref(sender.MuteReason)); err != nil {
			p.err = err
			continue
		}
		if !a.IsStaff() && sender.Recent+len(batch) >= s.set.ChatPerTenSeconds {
			p.err = &apperr.RateLimited{RetryAfter: 10 * time.Second}
			continue
		}
		var people markup.People
		if strings.IndexByte(p.body, '@') >= 0 {
			if people, err = notify.People(ctx, s.db, sender.GroupID, false, p.body); err != nil {
				p.err = err
				continue
			}
		}
		html, mentioned, err := s.md.RenderMentions(p.body, people)
		if errors.Is(err, markup.ErrTooLarge) {
			err = ErrTooLong
		}
		if err != nil {
			p.err = err
			continue
		}
		p.html, p.mentioned, p.accepted = html, mentioned, true
		batch = append(batch, store.NewChatMessage{MeetingID: meetingID, AuthorID: a.UserID, ClientID: p.clientID, Body: p.body, BodyHTML: html})
	}
	// A resend answers with the stored message, read now so that the writer
	// can answer the batch in order once the new messages are stored.
	for i := range ps {
		if ps[i].resend {
			ps[i].msg, ps[i].err = s.stored(ctx, a, meetingID, ps[i].clientID)
		}
	}
	// known answers an item whose answer does not wait for the storing.
	known := func(i int) bool {
		switch p := ps[i]; {
		case p.err != nil:
			reply(i, Message{}, p.err)
		case p.resend:
			reply(i, p.msg, nil)
		default:
			return false
		}
		return true
	}
	var appendErr error
	if len(batch) > 0 {
		appendErr = s.storeRun(meetingID, &run{ctx: ctx, rows: batch, author: Author{ID: a.UserID, Name: sender.Name, JST: sender.JST},
			committed: func(ms []Message) {
				next := 0
				for i := range ps {
					if !known(i) {
						ps[i].msg = ms[next]
						reply(i, ms[next], nil)
						next++
					}
				}
			}}, ann)
	}
	if len(batch) == 0 || appendErr != nil {
		// The meeting ended, or a client id was stored meanwhile (another
		// tab resending): nothing was stored, and each message goes on
		// alone, to get the answer it would have had alone.
		retry := errors.Is(appendErr, store.ErrNotFound) || store.IsUniqueViolation(appendErr, store.ChatClientIDKey)
		for i := range ps {
			switch {
			case known(i):
			case retry:
				sendOne(i)
			default:
				reply(i, Message{}, appendErr)
			}
		}
	}
	for _, p := range ps {
		switch {
		case p.err == nil && p.resend:
			s.announceResent(ctx, p.msg)
		case appendErr == nil && p.accepted && len(p.mentioned) > 0:
			ann.Wait() // the message reaches its readers before the mentions' notifications
			s.tellMentioned(ctx, a, p.msg, sender.GroupID, p.mentioned)
		}
	}
}
