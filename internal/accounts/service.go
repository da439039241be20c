// Package accounts owns who people are: passwords, sessions, login throttling, and
// the administration of users, JSTs, groups, memberships and invitations.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/batch"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// Settings are the knobs that come from configuration.
type Settings struct {
	SessionIdle          time.Duration
	SessionMax           time.Duration
	LoginAccountFailures int
	LoginIPFailures      int
	LoginWindow          time.Duration
	InvitationTTL        time.Duration
	Argon2               Argon2Params
	// UploadDir holds uploaded files by checksum; a person's export copies
	// theirs from it.
	UploadDir string
}

// Service is safe for concurrent use.
type Service struct {
	db *store.DB
	// hot holds the session look-up, prepared once: it runs on every request
	// and every websocket connect, and planning it (many joins) cost more
	// than running it (issue 16).
	hot *store.Prepared
	// sessions batches the look-ups without the unread count (the API, the
	// websocket upgrade, live re-checks): a burst of connects costs a few
	// statements instead of one each (issue 16). Every answer is read after
	// its question was asked (package batch), so an ended session is never
	// let in.
	sessions  *batch.Loader[string, store.SessionUser]
	log       *slog.Logger
	set       Settings
	policy    passwordPolicy
	dummyHash string
	now       func() time.Time
	// exports holds a token per archive being written (personal_data.go).
	exports chan struct{}
	mailer  Mailer
}

// New builds the service. announcer learns, once an account change has
// committed, that a user's open live connections must check their session
// again at once (topic.Revocation); the live hub implements it and passes it
// on to every instance. mailer queues password-reset and invitation mails;
// nil in tools that mail nobody (then no reset can be requested).
func New(db *sqlx.DB, announcer topic.Announcer, mailer Mailer, log *slog.Logger, set Settings) (*Service, error) {
	if set.InvitationTTL == 0 {
		set.InvitationTTL = 7 * 24 * time.Hour
	}
	if set.Argon2 == (Argon2Params{}) {
		set.Argon2 = DefaultArgon2
	}
	// Unknown emails are checked against this hash so that answering "no such
	// account" takes as long as a wrong password (SPEC §7).
	dummy, err := HashPassword(randomToken(), set.Argon2)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	s := &Service{db: store.NewDB(db, announcer), hot: store.NewPrepared(db), mailer: mailer, log: log, set: set, policy: passwordPolicy{common: commonPasswords()},
		dummyHash: dummy, now: time.Now, exports: make(chan struct{}, maxExports)}
	s.sessions = batch.New(s.loadSessions, sessionBatchMax, sessionBatchTimeout)
	return s, nil
}

const (
	// sessionBatchMax bounds the tokens one statement looks up.
	sessionBatchMax = 256
	// sessionBatchTimeout bounds one batched look-up; it serves many
	// requests, so it has its own deadline rather than the first one's.
	sessionBatchTimeout = 10 * time.Second
)

// loadSessions looks up a batch of token hashes (strings of the bytes).
func (s *Service) loadSessions(ctx context.Context, keys []string) (map[string]store.SessionUser, error) {
	hashes := make([][]byte, len(keys))
	for i, k := range keys {
		hashes[i] = []byte(k)
	}
	return store.GetSessionUsers(ctx, s.hot, hashes, s.set.SessionIdle)
}

// sessionUser reads a live session: alone when the unread count is wanted,
// otherwise in a batch with whatever other look-ups are waiting.
func (s *Service) sessionUser(ctx context.Context, h []byte, withUnread bool) (store.SessionUser, error) {
	if withUnread {
		return store.GetSessionUser(ctx, s.hot, h, s.set.SessionIdle, true)
	}
	su, ok, err := s.sessions.Load(ctx, string(h))
	switch {
	case err != nil:
		return su, fmt.Errorf("load session: %w", err)
	case !ok:
		return su, fmt.Errorf("load session: %w", store.ErrNotFound)
	}
	// Requests with the same cookie in one batch share the value: each gets
	// its own memberships, which the principal hands on.
	su.Memberships = slices.Clone(su.Memberships)
	return su, nil
}

// randomToken is 32 bytes from crypto/rand, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; if it ever does, a
		// predictable token is worse than a crash.
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// Principal is an authenticated request's view of its user.
type Principal struct {
	Actor       *access.Actor
	User        model.User
	Memberships []model.Membership
	CSRFToken   string
	// NewToken is set when the session was given a new token on this request
	// (after a role change); the caller must send it as the new cookie.
	NewToken string
	// SessionCreated is when the session began, to tell live connections apart.
	SessionCreated time.Time
	// UnreadNotifications is the header badge's count; only AuthenticatePage
	// (and a login) count it, elsewhere it is 0.
	UnreadNotifications int
	// TwoFactorEnabled: the user logs in with a second factor.
	TwoFactorEnabled bool
	// TwoFactorDeadline is when the user's roles start to require a second
	// factor (nil: they do not).
	TwoFactorDeadline *time.Time
	// TwoFactorSetupRequired: the deadline has passed without a second factor;
	// the user may do nothing but set it up (or log out).
	TwoFactorSetupRequired bool

	tokenHash []byte
}

// Login checks credentials under throttling and starts a new session. oldToken,
// if any, is ended so that a login always yields a new session id. An account
// with two-factor login enabled gets apperr.ErrTwoFactorRequired and no session:
// see LoginWithSecondFactor and BeginLogin.
func (s *Service) Login(ctx context.Context, email, password, ip, userAgent, oldToken string) (string, *Principal, error) {
	return s.LoginWithSecondFactor(ctx, LoginInput{Email: email, Password: password, IP: ip, UserAgent: userAgent, OldToken: oldToken})
}

// checkPassword is the first step of every login: throttling, then the
// password (against a dummy hash for unknown emails), then the disabled flag.
// A wrong password is recorded as a failure; success clears nothing, because
// for an account with a second factor the login is not over yet.
func (s *Service) checkPassword(ctx context.Context, account, password, ip string) (model.User, error) {
	if err := s.throttle(ctx, account, ip); err != nil {
		return model.User{}, err
	}
	u, err := store.GetUserByEmail(ctx, s.db, account)
	hash := u.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = s.dummyHash
	} else if err != nil {
		return model.User{}, err
	}
	ok, verr := VerifyPassword(password, hash)
	if verr != nil {
		s.log.ErrorContext(ctx, "stored password hash is malformed", "user_id", u.ID, "err", verr)
	}
	if err != nil || !ok {
		if err := store.RecordLoginFailure(ctx, s.db, account, ip); err != nil {
			return model.User{}, err
		}
		return model.User{}, apperr.ErrInvalidCredentials
	}
	if u.Disabled {
		return model.User{}, apperr.ErrAccountDisabled
	}
	return u, nil
}

// throttle refuses an attempt while the account (strictly) or the address
// (generously) has too many recent failures; password and second-factor
// failures count together.
func (s *Service) throttle(ctx context.Context, account, ip string) error {
	byAccount, byIP, err := store.LoginFailures(ctx, s.db, account, ip, s.set.LoginWindow)
	if err != nil {
		return err
	}
	now := s.now()
	if wait := throttleDelay(byAccount, s.set.LoginAccountFailures, s.set.LoginWindow, now); wait > 0 {
		s.log.WarnContext(ctx, "login throttled", "reason", "account", "retry_after_s", int(wait.Seconds()))
		return &apperr.RateLimited{RetryAfter: wait}
	}
	if wait := throttleDelay(byIP, s.set.LoginIPFailures, s.set.LoginWindow, now); wait > 0 {
		s.log.WarnContext(ctx, "login throttled", "reason", "address", "retry_after_s", int(wait.Seconds()))
		return &apperr.RateLimited{RetryAfter: wait}
	}
	return nil
}

// startSession ends a login that passed every factor: the failures are
// forgotten, the old session (if any) ends and a new one begins.
func (s *Service) startSession(ctx context.Context, u model.User, account, ip, userAgent, oldToken string) (string, *Principal, error) {
	if err := store.ClearLoginFailures(ctx, s.db, account); err != nil {
		return "", nil, err
	}
	if oldToken != "" {
		if err := store.DeleteSession(ctx, s.db, hashToken(oldToken)); err != nil {
			return "", nil, err
		}
	}
	token := randomToken()
	sess := model.Session{TokenHash: hashToken(token), UserID: u.ID, CSRFToken: randomToken(), ExpiresAt: s.now().Add(s.set.SessionMax)}
	if err := store.CreateSession(ctx, s.db, sess, ip, truncate(userAgent, 300)); err != nil {
		return "", nil, err
	}
	s.log.InfoContext(ctx, "login", "user_id", u.ID)
	// The login form may answer with a page: the principal carries the badge.
	p, err := s.AuthenticatePage(ctx, token)
	if err != nil {
		return "", nil, fmt.Errorf("load new session: %w", err)
	}
	return token, p, nil
}

// throttleDelay is how long to wait before the next attempt: nothing below the
// limit, then one minute, doubling with each further failure, at most the window.
func throttleDelay(st store.FailureStats, limit int, window time.Duration, now time.Time) time.Duration {
	if st.Count < limit || st.Last == nil {
		return 0
	}
	shift := min(st.Count-limit, 10)
	wait := min(time.Minute<<shift, window)
	if remaining := st.Last.Add(wait).Sub(now); remaining > 0 {
		return remaining.Round(time.Second) + time.Second
	}
	return 0
}

// Authenticate resolves a session token to its user. An unknown, expired, idle or
// disabled user's session is apperr.ErrUnauthenticated. The principal's
// UnreadNotifications stays 0: a request that answers in JSON or upgrades to a
// websocket never shows it, and counting it is the dearest part of the
// look-up; AuthenticatePage counts it.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	return s.authenticate(ctx, token, false)
}

// AuthenticatePage is Authenticate for a request that may render a page: the
// principal carries the header badge's count of unread notifications, read in
// the same statement as the session.
func (s *Service) AuthenticatePage(ctx context.Context, token string) (*Principal, error) {
	return s.authenticate(ctx, token, true)
}

func (s *Service) authenticate(ctx context.Context, token string, withUnread bool) (*Principal, error) {
	h, su, p, err := s.lookup(ctx, token, withUnread)
	if err != nil {
		return nil, err
	}
	switch {
	case su.Rotate:
		newToken := randomToken()
		err := store.ReplaceSessionToken(ctx, s.db, h, hashToken(newToken))
		switch {
		case errors.Is(err, store.ErrNotFound):
			// A concurrent request with the same cookie rotated it first and
			// carries the new cookie; this one is served as it was read.
		case err != nil:
			return nil, err
		default:
			p.NewToken = newToken
			p.tokenHash = hashToken(newToken)
		}
	case s.now().Sub(su.LastSeenAt) > time.Minute:
		// Idle expiry needs last_seen_at, but writing it on every request would
		// turn every page view into a write; once a minute is plenty.
		if err := store.TouchSession(ctx, s.db, h); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Check resolves a session token like Authenticate but never rotates it: a
// websocket re-validates its session with it and has no way to hand the browser
// a new cookie (the next page request rotates it).
// Following a live meeting counts as activity, so it keeps the session from
// idling out.
func (s *Service) Check(ctx context.Context, token string) (*Principal, error) {
	h, su, p, err := s.lookup(ctx, token, false)
	if err != nil {
		return nil, err
	}
	if p.TwoFactorSetupRequired {
		// A live connection is "doing something else" than the set-up: one
		// held open from before the deadline ends at its next check (the live
		// layer closes on ErrUnauthenticated).
		return nil, fmt.Errorf("%w: %w", apperr.ErrUnauthenticated, apperr.ErrTwoFactorSetupRequired)
	}
	if s.now().Sub(su.LastSeenAt) > time.Minute {
		if err := store.TouchSession(ctx, s.db, h); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (s *Service) lookup(ctx context.Context, token string, withUnread bool) ([]byte, store.SessionUser, *Principal, error) {
	if token == "" || len(token) > 200 {
		return nil, store.SessionUser{}, nil, apperr.ErrUnauthenticated
	}
	h := hashToken(token)
	su, err := s.sessionUser(ctx, h, withUnread)
	if errors.Is(err, store.ErrNotFound) {
		return nil, su, nil, apperr.ErrUnauthenticated
	}
	if err != nil {
		return nil, su, nil, err
	}
	p := &Principal{
		Actor:          access.NewActor(su.User, su.Memberships),
		User:           su.User,
		Memberships:    su.Memberships,
		CSRFToken:      su.CSRFToken,
		SessionCreated: su.Session.CreatedAt,

		UnreadNotifications: su.UnreadNotifications,

		TwoFactorEnabled:  su.TwoFactor.Enabled,
		TwoFactorDeadline: su.TwoFactor.Deadline,
		tokenHash:         h,
	}
	p.TwoFactorSetupRequired = twoFactorSetupRequired(su.TwoFactor, s.now())
	return h, su, p, nil
}

// Logout ends the session behind token, and the live connections opened with it.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		userID, err := store.DeleteSessionOf(ctx, tx, hashToken(token))
		if err != nil {
			return err
		}
		if userID == 0 {
			tx.Quiet() // no such session: nothing changed
			return nil
		}
		// The user's other sessions live on: their sockets re-check and only
		// those of this session find it gone.
		tx.Revoke(userID, false)
		return nil
	})
}

// Housekeeping deletes expired sessions and old login failures.
func (s *Service) Housekeeping(ctx context.Context) error {
	n, err := store.DeleteExpiredSessions(ctx, s.db, s.set.SessionIdle)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.InfoContext(ctx, "expired sessions deleted", "count", n)
	}
	if err := store.DeleteExpiredTwoFactorState(ctx, s.db); err != nil {
		return err
	}
	if err := store.DeleteOldPasswordResets(ctx, s.db); err != nil {
		return err
	}
	return store.DeleteOldLoginFailures(ctx, s.db, s.set.LoginWindow)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
