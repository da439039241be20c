package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// What people do with their own account (issue 12 item 6): their name,
// position, language and notification preferences, their password and their
// sessions. Every method acts on the principal's own account only.

// NotifyKinds are the in-app notification kinds a person may turn off (the
// kinds the notifications table knows). All are on until turned off.
var NotifyKinds = []string{"reply", "quote", "mention", "watched_thread", "meeting_scheduled", "meeting_reminder", "meeting_started", "note_added"}

// Prefs is a person's preferences as the API shows them: every kind named,
// so a client need not know the defaults. Notify is which in-app
// notifications one wants; Mail how each kind is mailed (immediately,
// digest, never: the choices of /konto/poczta and /api/v1/me/mail-prefs,
// stored in mail_prefs). Mail is filled by Me (GET/PATCH /api/v1/me), not
// by ViewMe, which reads nothing (the login answer's user has no mail part).
type Prefs struct {
	Notify map[string]bool   `json:"notify"`
	Mail   map[string]string `json:"mail,omitempty"`
}

// PrefsInput is a change to the preferences: only the kinds named change.
// Unknown members are refused by the strict decoder, unknown kinds here.
type PrefsInput struct {
	Notify map[string]bool   `json:"notify"`
	Mail   map[string]string `json:"mail"`
}

// storedPrefs reads the prefs column leniently: parts written by other
// features (mail) are not this type's business.
type storedPrefs struct {
	Notify map[string]bool `json:"notify"`
}

// PrefsOf is u's preferences with the defaults filled in.
func PrefsOf(u model.User) Prefs {
	var st storedPrefs
	if len(u.Prefs) > 0 {
		// The column is written only through UpdateMe; a malformed value
		// (edited by hand) falls back to the defaults rather than failing
		// every page of its owner.
		_ = json.Unmarshal(u.Prefs, &st)
	}
	p := Prefs{Notify: make(map[string]bool, len(NotifyKinds))}
	for _, k := range NotifyKinds {
		on, set := st.Notify[k]
		p.Notify[k] = on || !set
	}
	return p
}

// JSTRef names a JST.
type JSTRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func jstRef(id *int64, name *string) *JSTRef {
	if id == nil || name == nil {
		return nil
	}
	return &JSTRef{ID: *id, Name: *name}
}

// MeView is the signed-in person's own account (GET/PATCH /api/v1/me): the
// user as admins see it plus position (the job title), the JST, the chosen
// language (null: not chosen), preferences and memberships.
type MeView struct {
	UserView
	Position    string           `json:"position"`
	JST         *JSTRef          `json:"jst"`
	Lang        *string          `json:"lang"`
	Prefs       Prefs            `json:"prefs"`
	Memberships []MembershipView `json:"memberships"`
}

// ViewMe is the API form of the principal's own account.
func ViewMe(p *Principal) MeView {
	return MeView{UserView: ViewUser(p.User), Position: p.User.JobTitle, JST: jstRef(p.User.JSTID, p.User.JSTName),
		Lang: p.User.Lang, Prefs: PrefsOf(p.User), Memberships: ViewMemberships(p.Memberships)}
}

// Me is the principal's own account with every preference, the mail ones
// included (GET and PATCH /api/v1/me).
func (s *Service) Me(ctx context.Context, p *Principal) (MeView, error) {
	if p == nil {
		return MeView{}, apperr.ErrUnauthenticated
	}
	v := ViewMe(p)
	m, err := mail.ReadPrefs(ctx, s.db, p.User.ID)
	if err != nil {
		return MeView{}, err
	}
	v.Prefs.Mail = m
	return v, nil
}

// MeUpdate is PATCH /api/v1/me: nil members stay as they are. The JST is
// shown but set by administrators only.
type MeUpdate struct {
	Name     *string     `json:"name"`
	Position *string     `json:"position"`
	Lang     *string     `json:"lang"`
	Prefs    *PrefsInput `json:"prefs"`
}

// UpdateMe changes the principal's own profile and preferences and returns
// the account as it now is.
func (s *Service) UpdateMe(ctx context.Context, p *Principal, in MeUpdate) (model.User, error) {
	if p == nil {
		return model.User{}, apperr.ErrUnauthenticated
	}
	if p.TwoFactorSetupRequired {
		// GET /api/v1/me stays open to someone held at the two-factor set-up
		// (the web layer's gate); changing the account does not.
		return model.User{}, apperr.ErrTwoFactorSetupRequired
	}
	v := &apperr.Validation{}
	var up store.ProfileUpdate
	if in.Name != nil {
		n := clean(*in.Name)
		checkName(v, "name", n)
		up.Name = &n
	}
	if in.Position != nil {
		j := clean(*in.Position)
		checkLength(v, "position", j, 0, 150)
		up.JobTitle = &j
	}
	if in.Lang != nil {
		checkOneOf(v, "lang", *in.Lang, []string{"pl", "en"})
		up.Lang = in.Lang
	}
	if in.Prefs != nil {
		if in.Prefs.Notify == nil && in.Prefs.Mail == nil {
			v.Add("prefs", "err.required")
		}
		mail.CheckPrefs(v, "prefs.mail.", in.Prefs.Mail)
		for k := range in.Prefs.Notify {
			if !oneOf(k, NotifyKinds) {
				v.Add("prefs.notify."+k, "err.unknown_kind")
			}
		}
		if in.Prefs.Notify != nil {
			b, err := json.Marshal(in.Prefs.Notify)
			if err != nil {
				return model.User{}, fmt.Errorf("encode notification preferences: %w", err)
			}
			up.Notify = b
		}
	}
	if err := v.Err(); err != nil {
		return model.User{}, err
	}
	var after model.User
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if err := store.UpdateProfile(ctx, tx, p.User.ID, up); err != nil {
			return err
		}
		if in.Prefs != nil && len(in.Prefs.Mail) > 0 {
			if err := mail.WritePrefs(ctx, tx, p.User.ID, in.Prefs.Mail); err != nil {
				return err
			}
		}
		var err error
		after, err = store.GetUser(ctx, tx, p.User.ID)
		if err != nil {
			return err
		}
		if after.Name != p.User.Name {
			// Open live connections carry the name they were opened with
			// (presence, chat): they re-check and pick up the new one.
			tx.Revoke(p.User.ID, false)
		} else {
			tx.Quiet() // position, language, preferences: nobody follows them live
		}
		if d := userDiff(p.User, after, false); len(d) > 0 {
			// Name and position are what others see of a person: a change is
			// on record like an admin's.
			return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "account.update",
				TargetType: "user", TargetID: p.User.ID, Details: d})
		}
		return nil
	})
	if err != nil {
		return model.User{}, err
	}
	return after, nil
}

// SetLang records the interface language the principal chose with the
// language switch.
func (s *Service) SetLang(ctx context.Context, p *Principal, lang string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if !oneOf(lang, []string{"pl", "en"}) {
		return apperr.Invalid("lang", "err.choice")
	}
	return store.UpdateProfile(ctx, s.db, p.User.ID, store.ProfileUpdate{Lang: &lang})
}

func oneOf(v string, allowed []string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// ChangePassword sets a new password after checking the current one
// (throttled and counted like a login). Every other session of the person
// ends, and their live connections with it; the session making the change
// stays (ASVS 7.4.3).
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next, ip string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	v := &apperr.Validation{}
	if current == "" {
		v.Add("current_password", "err.required")
	}
	if next == "" {
		v.Add("new_password", "err.required")
	} else if err := s.policy.check("new_password", next); err != nil {
		v.Add("new_password", err.(*apperr.Validation).Fields["new_password"])
	}
	if err := v.Err(); err != nil {
		return err
	}
	if err := s.checkOwnPassword(ctx, p, current, ip); err != nil {
		return renameField(err, "password", "current_password")
	}
	hash, err := HashPassword(next, s.set.Argon2)
	if err != nil {
		return err
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if err := store.SetPasswordHash(ctx, tx, p.User.ID, hash); err != nil {
			return err
		}
		ended, err := store.DeleteOtherUserSessions(ctx, tx, p.User.ID, p.tokenHash)
		if err != nil {
			return err
		}
		// The other sessions' sockets find their session gone and close.
		tx.Revoke(p.User.ID, false)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "account.password_change",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"other_sessions_ended": ended}})
	})
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "password changed", "user_id", p.User.ID)
	return nil
}

// renameField moves a validation error from one field to another.
func renameField(err error, from, to string) error {
	var ve *apperr.Validation
	if errors.As(err, &ve) {
		if msg, ok := ve.Fields[from]; ok {
			return apperr.Invalid(to, msg)
		}
	}
	return err
}

// SessionView is one of the person's sessions (GET /api/v1/me/sessions). The
// id is a random public id: never the token nor its hash.
type SessionView struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Device     string    `json:"device"`
	UserAgent  string    `json:"user_agent"`
	IP         string    `json:"ip"`
	Current    bool      `json:"current"`
}

// Sessions lists the principal's live sessions, the current one first.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]SessionView, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	rows, err := store.ListUserSessions(ctx, s.db, p.User.ID, p.tokenHash, s.set.SessionIdle)
	if err != nil {
		return nil, err
	}
	out := make([]SessionView, len(rows))
	for i, r := range rows {
		out[i] = SessionView{ID: r.PublicID, CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: r.ExpiresAt,
			Device: DeviceSummary(r.UserAgent), UserAgent: r.UserAgent, IP: r.IP, Current: r.Current}
	}
	return out, nil
}

// EndSession ends one of the principal's sessions by its public id (the
// current one too: that is a logout) and closes its live connections.
// Another person's session, like an unknown id, is not found. current says
// whether the request's own session ended.
func (s *Service) EndSession(ctx context.Context, p *Principal, publicID string) (current bool, err error) {
	if p == nil {
		return false, apperr.ErrUnauthenticated
	}
	if _, err := uuid.Parse(publicID); err != nil {
		return false, apperr.ErrNotFound
	}
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		var err error
		if current, err = store.DeleteUserSessionByPublicID(ctx, tx, p.User.ID, publicID, p.tokenHash); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return apperr.ErrNotFound
			}
			return err
		}
		tx.Revoke(p.User.ID, false) // that session's sockets close
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "account.session_end",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"session": publicID, "current": current}})
	})
	if err != nil {
		return false, err
	}
	return current, nil
}

// DeviceSummary names the browser and system of a User-Agent header in a few
// words ("Firefox, Windows"), enough to recognise one's own devices.
func DeviceSummary(ua string) string {
	if ua == "" {
		return "?"
	}
	browser := "?"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chromium/", "Chromium"},
		{"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"}, {"curl/", "curl"}, {"Go-http-client", "Go"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + ", " + system
}
