package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// Two-factor login (OWASP ASVS 5.0 V6): TOTP (RFC 6238, SHA-1, 6 digits, 30 s,
// what every authenticator app reads from a QR code) plus ten one-time
// recovery codes.
const (
	totpPeriod = 30
	// totpIssuer names the account in the authenticator app.
	totpIssuer = "Forum Współpracy JST"
	// setupTTL bounds how long a shown, unconfirmed secret stays usable.
	setupTTL = 15 * time.Minute
	// ChallengeTTL is how long the second step of a login waits for its code.
	ChallengeTTL = 5 * time.Minute
	// challengeAttempts is how many codes one second step accepts before the
	// password must be given again (the per-account throttle counts too).
	challengeAttempts = 5
	// RecoveryCodeCount is how many recovery codes a user gets at a time.
	RecoveryCodeCount = 10
)

// TwoFactorRoles are the roles an admin can require two-factor login of.
var TwoFactorRoles = []string{model.RoleAdmin, model.RoleStaff, model.GroupModerator}

// twoFactorSetupRequired: the roles' deadline has passed and there is no factor.
func twoFactorSetupRequired(st store.TwoFactorState, now time.Time) bool {
	return !st.Enabled && st.Deadline != nil && !now.Before(*st.Deadline)
}

// --- TOTP -------------------------------------------------------------------------

// newTOTPSecret is 20 random bytes (RFC 4226's recommended 160 bits) in base32:
// 32 characters, no padding (ASVS 6.5.3: from a CSPRNG).
func newTOTPSecret() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// totpURL is the otpauth:// URL the QR code carries.
func totpURL(secret, account string) (string, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return "", fmt.Errorf("decode totp secret: %w", err)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: account, Secret: raw,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", fmt.Errorf("build otpauth url: %w", err)
	}
	return key.URL(), nil
}

// normalizeOTP drops the spaces people type ("123 456"); anything but six
// digits is refused without computing anything.
func normalizeOTP(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != 6 {
		return "", false
	}
	for _, r := range code {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return code, true
}

// matchTOTP finds the time step whose code is code, allowing one step of clock
// skew either way; it returns the latest matching step. All three codes are
// computed and compared in constant time whatever matches.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	code, ok := normalizeOTP(code)
	if !ok {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	var found int64 = -1
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found = step
		}
	}
	return found, found >= 0
}

// --- recovery codes ---------------------------------------------------------------

// recoveryAlphabet is Crockford's base32: no I, L, O or U to misread.
var recoveryEncoding = base32.NewEncoding("0123456789ABCDEFGHJKMNPQRSTVWXYZ").WithPadding(base32.NoPadding)

// newRecoveryCode is 15 random bytes (120 bits) as 24 characters in four
// groups of six. With 120 bits a plain SHA-256 is a safe way to store it (ASVS
// 6.5.2 asks for a salted password hash only below 112 bits): a guess costs
// the attacker a login attempt, not an offline hash, and checking a code is
// one indexed lookup instead of up to ten argon2id runs per attempt.
func newRecoveryCode() string {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	s := recoveryEncoding.EncodeToString(b)
	return s[0:6] + "-" + s[6:12] + "-" + s[12:18] + "-" + s[18:24]
}

// normalizeRecoveryCode accepts what people type: any case, spaces or dashes,
// I/L for 1 and O for 0.
func normalizeRecoveryCode(code string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(code) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'I' || r == 'L':
			r = '1'
		case r == 'O':
			r = '0'
		}
		if !strings.ContainsRune("0123456789ABCDEFGHJKMNPQRSTVWXYZ", r) {
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != 24 {
		return "", false
	}
	return b.String(), true
}

func hashRecoveryCode(normalized string) []byte {
	h := sha256.Sum256([]byte("forumjst-recovery:" + normalized))
	return h[:]
}

// newRecoveryCodes returns the codes to show once and their hashes to store.
func newRecoveryCodes() ([]string, [][]byte) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		codes[i] = newRecoveryCode()
		n, _ := normalizeRecoveryCode(codes[i])
		hashes[i] = hashRecoveryCode(n)
	}
	return codes, hashes
}

// --- login ------------------------------------------------------------------------

// LoginInput is one login attempt. OTP and RecoveryCode are the second factor,
// for accounts that have one (either may be given).
type LoginInput struct {
	Email        string
	Password     string
	OTP          string
	RecoveryCode string
	IP           string
	UserAgent    string
	OldToken     string
}

// LoginWithSecondFactor is a login in one request (the JSON API): the password
// and, for an account with two-factor login, a code. Without a code such an
// account gets apperr.ErrTwoFactorRequired and no session.
func (s *Service) LoginWithSecondFactor(ctx context.Context, in LoginInput) (string, *Principal, error) {
	account := strings.ToLower(strings.TrimSpace(in.Email))
	u, err := s.checkPassword(ctx, account, in.Password, in.IP)
	if err != nil {
		return "", nil, err
	}
	if err := s.secondFactor(ctx, u, account, in.OTP, in.RecoveryCode, in.IP); err != nil {
		return "", nil, err
	}
	return s.startSession(ctx, u, account, in.IP, in.UserAgent, in.OldToken)
}

// LoginStep is the outcome of the first step of a login through the pages:
// either a session (Token) or, for an account with two-factor login, the token
// of the pending second step (Challenge), which is no session.
type LoginStep struct {
	Token     string
	Principal *Principal
	Challenge string
}

// BeginLogin checks the password; an account with two-factor login gets a
// short-lived challenge instead of a session.
func (s *Service) BeginLogin(ctx context.Context, in LoginInput) (LoginStep, error) {
	account := strings.ToLower(strings.TrimSpace(in.Email))
	u, err := s.checkPassword(ctx, account, in.Password, in.IP)
	if err != nil {
		return LoginStep{}, err
	}
	st, err := store.GetTwoFactorState(ctx, s.db, u.ID)
	if err != nil {
		return LoginStep{}, err
	}
	if !st.Enabled {
		token, p, err := s.startSession(ctx, u, account, in.IP, in.UserAgent, in.OldToken)
		return LoginStep{Token: token, Principal: p}, err
	}
	challenge := randomToken()
	if err := store.CreateLoginChallenge(ctx, s.db, hashToken(challenge), u.ID, s.now().Add(ChallengeTTL)); err != nil {
		return LoginStep{}, err
	}
	return LoginStep{Challenge: challenge}, nil
}

// LoginChallengeOpen reports whether a challenge token still waits for its code.
func (s *Service) LoginChallengeOpen(ctx context.Context, challenge string) (bool, error) {
	if challenge == "" || len(challenge) > 200 {
		return false, nil
	}
	_, err := store.LoginChallengeUser(ctx, s.db, hashToken(challenge), challengeAttempts)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ErrChallengeGone: the second step expired or ran out of attempts; the login
// starts again with the password.
var ErrChallengeGone = errors.New("login challenge expired or used up")

// CompleteLogin is the second step: a code (or a recovery code) for the
// challenge. Each call counts as an attempt, before the code is checked.
func (s *Service) CompleteLogin(ctx context.Context, challenge, code, recoveryCode, ip, userAgent, oldToken string) (string, *Principal, error) {
	if challenge == "" || len(challenge) > 200 {
		return "", nil, ErrChallengeGone
	}
	h := hashToken(challenge)
	userID, err := store.CountLoginChallengeAttempt(ctx, s.db, h, challengeAttempts)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, ErrChallengeGone
	}
	if err != nil {
		return "", nil, err
	}
	u, err := store.GetUser(ctx, s.db, userID)
	if err != nil {
		return "", nil, err
	}
	if u.Disabled {
		return "", nil, apperr.ErrAccountDisabled
	}
	account := strings.ToLower(strings.TrimSpace(u.Email))
	if err := s.secondFactor(ctx, u, account, code, recoveryCode, ip); err != nil {
		return "", nil, err
	}
	// The challenge is spent: one second step makes one session.
	if err := store.DeleteLoginChallenge(ctx, s.db, h); err != nil {
		return "", nil, err
	}
	return s.startSession(ctx, u, account, ip, userAgent, oldToken)
}

// secondFactor checks the code of a user whose password was right. Without a
// factor enabled it passes; with one, a missing code is ErrTwoFactorRequired
// and a wrong, replayed or spent one is recorded as a login failure (so it is
// throttled like a password) and is ErrTwoFactorInvalid.
func (s *Service) secondFactor(ctx context.Context, u model.User, account, code, recoveryCode, ip string) error {
	tf, err := store.GetTwoFactor(ctx, s.db, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	code, recoveryCode = strings.TrimSpace(code), strings.TrimSpace(recoveryCode)
	if code == "" && recoveryCode == "" {
		return apperr.ErrTwoFactorRequired
	}
	if err := s.throttle(ctx, account, ip); err != nil {
		return err
	}
	ok, err := s.checkFactor(ctx, tf, code, recoveryCode, true)
	if err != nil {
		return err
	}
	if !ok {
		if err := store.RecordLoginFailure(ctx, s.db, account, ip); err != nil {
			return err
		}
		s.log.WarnContext(ctx, "second factor refused", "user_id", u.ID)
		return apperr.ErrTwoFactorInvalid
	}
	return nil
}

// checkFactor spends a TOTP code (its time step) or, when allowRecovery, a
// recovery code. Spending is atomic, so a code works once even under races.
func (s *Service) checkFactor(ctx context.Context, tf store.TwoFactor, code, recoveryCode string, allowRecovery bool) (bool, error) {
	if code != "" {
		step, ok := matchTOTP(tf.Secret, code, s.now())
		if !ok {
			return false, nil
		}
		return store.UseTOTPStep(ctx, s.db, tf.UserID, step)
	}
	if !allowRecovery {
		return false, nil
	}
	n, ok := normalizeRecoveryCode(recoveryCode)
	if !ok {
		return false, nil
	}
	used, err := store.UseRecoveryCode(ctx, s.db, tf.UserID, hashRecoveryCode(n))
	if err != nil || !used {
		return false, err
	}
	left, err := store.CountRecoveryCodes(ctx, s.db, tf.UserID)
	if err != nil {
		return false, err
	}
	err = store.AppendAudit(ctx, s.db, store.NewAuditEntry{ActorID: tf.UserID, Action: "two_factor.recovery_code_used",
		TargetType: "user", TargetID: tf.UserID, Details: map[string]any{"remaining": left}})
	return err == nil, err
}

// --- the account page -------------------------------------------------------------

// TwoFactorSetup is a secret being set up, as its user sees it.
type TwoFactorSetup struct {
	ID        string    `json:"id"`
	Secret    string    `json:"secret"`
	URL       string    `json:"otpauth_url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TwoFactorStatus is the account page's view of the user's second factor.
type TwoFactorStatus struct {
	Enabled           bool            `json:"enabled"`
	EnabledAt         *time.Time      `json:"enabled_at"`
	RecoveryCodesLeft int             `json:"recovery_codes_left"`
	Deadline          *time.Time      `json:"required_from"`
	SetupRequired     bool            `json:"setup_required"`
	Setup             *TwoFactorSetup `json:"setup,omitempty"`
}

func (s *Service) TwoFactorStatus(ctx context.Context, p *Principal) (TwoFactorStatus, error) {
	if p == nil {
		return TwoFactorStatus{}, apperr.ErrUnauthenticated
	}
	st := TwoFactorStatus{Deadline: p.TwoFactorDeadline, SetupRequired: p.TwoFactorSetupRequired}
	tf, err := store.GetTwoFactor(ctx, s.db, p.User.ID)
	switch {
	case err == nil:
		st.Enabled, st.EnabledAt = true, &tf.EnabledAt
		if st.RecoveryCodesLeft, err = store.CountRecoveryCodes(ctx, s.db, p.User.ID); err != nil {
			return st, err
		}
		return st, nil
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	su, err := store.GetTwoFactorSetup(ctx, s.db, p.User.ID)
	switch {
	case err == nil:
		url, err := totpURL(su.Secret, p.User.Email)
		if err != nil {
			return st, err
		}
		st.Setup = &TwoFactorSetup{ID: su.ID, Secret: su.Secret, URL: url, ExpiresAt: su.ExpiresAt}
	case !errors.Is(err, store.ErrNotFound):
		return st, err
	}
	return st, nil
}

// StartTwoFactorSetup makes a new secret for the user to scan; it replaces any
// earlier set-up. Someone who already has a factor disables it first.
func (s *Service) StartTwoFactorSetup(ctx context.Context, p *Principal) (TwoFactorSetup, error) {
	if p == nil {
		return TwoFactorSetup{}, apperr.ErrUnauthenticated
	}
	if _, err := store.GetTwoFactor(ctx, s.db, p.User.ID); err == nil {
		return TwoFactorSetup{}, &apperr.Conflict{Code: "two_factor_enabled", Message: "two-factor login is already enabled"}
	} else if !errors.Is(err, store.ErrNotFound) {
		return TwoFactorSetup{}, err
	}
	su := store.TwoFactorSetup{UserID: p.User.ID, ID: randomToken(), Secret: newTOTPSecret(), ExpiresAt: s.now().Add(setupTTL)}
	if err := store.PutTwoFactorSetup(ctx, s.db, su); err != nil {
		return TwoFactorSetup{}, err
	}
	url, err := totpURL(su.Secret, p.User.Email)
	if err != nil {
		return TwoFactorSetup{}, err
	}
	return TwoFactorSetup{ID: su.ID, Secret: su.Secret, URL: url, ExpiresAt: su.ExpiresAt}, nil
}

// TwoFactorQR is the PNG of the QR code of the user's own set-up named id;
// anything else (another user's set-up, an old one) is not found.
func (s *Service) TwoFactorQR(ctx context.Context, p *Principal, id string) ([]byte, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	su, err := store.GetTwoFactorSetup(ctx, s.db, p.User.ID)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(su.ID), []byte(id)) != 1 {
		return nil, apperr.ErrNotFound
	}
	url, err := totpURL(su.Secret, p.User.Email)
	if err != nil {
		return nil, err
	}
	return qrPNG(url)
}

// EnableTwoFactor confirms the set-up with the password and a current code and
// returns the recovery codes, which are shown this once. The password is asked
// again (ASVS 7.5.1) so that a stolen session cannot put the thief's phone on
// the account and lock its owner out; a wrong one counts as a login failure.
// The user's other sessions end (ASVS 7.4.3): they were opened with the
// password alone.
func (s *Service) EnableTwoFactor(ctx context.Context, p *Principal, password, code, ip string) ([]string, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	v := &apperr.Validation{}
	if password == "" {
		v.Add("password", "err.required")
	}
	if strings.TrimSpace(code) == "" {
		v.Add("code", "err.required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.checkOwnPassword(ctx, p, password, ip); err != nil {
		return nil, err
	}
	su, err := store.GetTwoFactorSetup(ctx, s.db, p.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &apperr.Conflict{Code: "two_factor_setup_expired", Message: "the set-up has expired; start it again"}
	}
	if err != nil {
		return nil, err
	}
	step, ok := matchTOTP(su.Secret, code, s.now())
	if !ok {
		return nil, apperr.Invalid("code", "err.two_factor_code")
	}
	codes, hashes := newRecoveryCodes()
	err = store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if _, err := store.GetTwoFactor(ctx, tx, p.User.ID); err == nil {
			return &apperr.Conflict{Code: "two_factor_enabled", Message: "two-factor login is already enabled"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := store.EnableTwoFactor(ctx, tx, p.User.ID, su.Secret, step); err != nil {
			return err
		}
		if err := store.ReplaceRecoveryCodes(ctx, tx, p.User.ID, hashes); err != nil {
			return err
		}
		if err := store.DeleteTwoFactorSetup(ctx, tx, p.User.ID); err != nil {
			return err
		}
		ended, err := store.DeleteOtherUserSessions(ctx, tx, p.User.ID, p.tokenHash)
		if err != nil {
			return err
		}
		tx.Revoke(p.User.ID, false) // the other sessions' open websockets end now, not at their next check
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "two_factor.enable",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"recovery_codes": len(codes), "other_sessions_ended": ended}})
	})
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "two-factor enabled", "user_id", p.User.ID)
	return codes, nil
}

// checkOwnPassword checks a logged-in user's password, throttled and counted
// like a login.
func (s *Service) checkOwnPassword(ctx context.Context, p *Principal, password, ip string) error {
	account := strings.ToLower(strings.TrimSpace(p.User.Email))
	if err := s.throttle(ctx, account, ip); err != nil {
		return err
	}
	ok, err := VerifyPassword(password, p.User.PasswordHash)
	if err != nil {
		return fmt.Errorf("verify password of user %d: %w", p.User.ID, err)
	}
	if !ok {
		if err := store.RecordLoginFailure(ctx, s.db, account, ip); err != nil {
			return err
		}
		return apperr.Invalid("password", "err.password_wrong")
	}
	return nil
}

// reauthenticate checks the password and a current second factor of a
// logged-in user before a change to their factors, throttled and counted like
// a login.
func (s *Service) reauthenticate(ctx context.Context, p *Principal, password, code, recoveryCode, ip string, allowRecovery bool) (store.TwoFactor, error) {
	v := &apperr.Validation{}
	if password == "" {
		v.Add("password", "err.required")
	}
	code, recoveryCode = strings.TrimSpace(code), strings.TrimSpace(recoveryCode)
	if code == "" && (recoveryCode == "" || !allowRecovery) {
		v.Add("code", "err.required")
	}
	if err := v.Err(); err != nil {
		return store.TwoFactor{}, err
	}
	tf, err := store.GetTwoFactor(ctx, s.db, p.User.ID)
	if errors.Is(err, store.ErrNotFound) {
		return tf, &apperr.Conflict{Code: "two_factor_disabled", Message: "two-factor login is not enabled"}
	}
	if err != nil {
		return tf, err
	}
	if err := s.checkOwnPassword(ctx, p, password, ip); err != nil {
		return tf, err
	}
	ok, err := s.checkFactor(ctx, tf, code, recoveryCode, allowRecovery)
	if err != nil {
		return tf, err
	}
	if !ok {
		account := strings.ToLower(strings.TrimSpace(p.User.Email))
		if err := store.RecordLoginFailure(ctx, s.db, account, ip); err != nil {
			return tf, err
		}
		return tf, apperr.Invalid("code", "err.two_factor_code")
	}
	return tf, nil
}

// DisableTwoFactor needs the password and a current code or a recovery code.
// The user's other sessions end.
func (s *Service) DisableTwoFactor(ctx context.Context, p *Principal, password, code, recoveryCode, ip string) error {
	if p == nil {
		return apperr.ErrUnauthenticated
	}
	if _, err := s.reauthenticate(ctx, p, password, code, recoveryCode, ip, true); err != nil {
		return err
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if _, err := store.DeleteTwoFactor(ctx, tx, p.User.ID); err != nil {
			return err
		}
		ended, err := store.DeleteOtherUserSessions(ctx, tx, p.User.ID, p.tokenHash)
		if err != nil {
			return err
		}
		tx.Revoke(p.User.ID, false)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "two_factor.disable",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"other_sessions_ended": ended}})
	})
	if err == nil {
		s.log.InfoContext(ctx, "two-factor disabled", "user_id", p.User.ID)
	}
	return err
}

// RegenerateRecoveryCodes replaces every recovery code (used or not) with ten
// new ones, shown once; it needs the password and a current code (a recovery
// code cannot mint new ones).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, p *Principal, password, code, ip string) ([]string, error) {
	if p == nil {
		return nil, apperr.ErrUnauthenticated
	}
	if _, err := s.reauthenticate(ctx, p, password, code, "", ip, false); err != nil {
		return nil, err
	}
	codes, hashes := newRecoveryCodes()
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // recovery codes are used at the next login only
		if err := store.ReplaceRecoveryCodes(ctx, tx, p.User.ID, hashes); err != nil {
			return err
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: p.User.ID, Action: "two_factor.recovery_codes_regenerate",
			TargetType: "user", TargetID: p.User.ID, Details: map[string]any{"recovery_codes": len(codes)}})
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// --- administration -----------------------------------------------------------

// TwoFactorPolicy lists the roles with a "must enable by" day (admins only).
func (s *Service) TwoFactorPolicy(ctx context.Context, a *access.Actor) ([]store.TwoFactorPolicy, error) {
	if err := a.Admin(); err != nil {
		return nil, err
	}
	return store.ListTwoFactorPolicy(ctx, s.db)
}

// SetTwoFactorPolicy sets a role's "must enable by" day (a date, Warsaw
// calendar) or, with nil, drops the requirement. Unknown roles are not found.
func (s *Service) SetTwoFactorPolicy(ctx context.Context, a *access.Actor, role string, enableBy *time.Time) error {
	if err := a.Admin(); err != nil {
		return err
	}
	known := false
	for _, r := range TwoFactorRoles {
		known = known || r == role
	}
	if !known {
		return apperr.ErrNotFound
	}
	return store.InTx(ctx, s.db, func(tx *store.Tx) error {
		tx.Quiet() // the policy is read at each request's session check
		before, err := store.SetTwoFactorPolicy(ctx, tx, role, enableBy, a.UserID)
		if err != nil {
			return err
		}
		day := func(t *time.Time) any {
			if t == nil {
				return nil
			}
			return t.Format(time.DateOnly)
		}
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "two_factor.policy_set",
			TargetType: "role", Details: map[string]any{"role": role, "before": day(before), "after": day(enableBy)}})
	})
}

// ResetTwoFactor removes a user's second factor (an admin helping someone who
// lost both their phone and their recovery codes). Their sessions end.
func (s *Service) ResetTwoFactor(ctx context.Context, a *access.Actor, userID int64) error {
	if err := a.Admin(); err != nil {
		return err
	}
	err := store.InTx(ctx, s.db, func(tx *store.Tx) error {
		if _, err := store.GetUser(ctx, tx, userID); err != nil {
			return err
		}
		had, err := store.DeleteTwoFactor(ctx, tx, userID)
		if err != nil {
			return err
		}
		if !had {
			return &apperr.Conflict{Code: "two_factor_disabled", Message: "two-factor login is not enabled"}
		}
		if _, err := store.DeleteUserSessions(ctx, tx, userID); err != nil {
			return err
		}
		tx.Revoke(userID, true)
		return store.AppendAudit(ctx, tx, store.NewAuditEntry{ActorID: a.UserID, Action: "two_factor.reset",
			TargetType: "user", TargetID: userID})
	})
	return err
}

// UserHasTwoFactor is for the admin's user page.
func (s *Service) UserHasTwoFactor(ctx context.Context, a *access.Actor, userID int64) (bool, error) {
	if err := a.Admin(); err != nil {
		return false, err
	}
	_, err := store.GetTwoFactor(ctx, s.db, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
