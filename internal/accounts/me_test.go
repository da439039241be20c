package accounts_test

// Service-level tests of the account rules (issue 12 items 6, 7): fast, no
// HTTP, against the real database. The end-to-end ones are in internal/web.

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

func TestDeviceSummary(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                        "Firefox, Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge, Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari, iOS",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36":                   "Chrome, Android",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15":                      "Safari, macOS",
		"curl/8.5.0": "curl",
		"":           "?",
	} {
		if got := accounts.DeviceSummary(ua); got != want {
			t.Errorf("DeviceSummary(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestPrefsDefaultsAndStored(t *testing.T) {
	p := accounts.PrefsOf(model.User{})
	for _, k := range accounts.NotifyKinds {
		if !p.Notify[k] {
			t.Errorf("kind %s is off by default", k)
		}
	}
	// A stored object with other parts (the mail queue's) and a kind turned off.
	p = accounts.PrefsOf(model.User{Prefs: []byte(`{"notify":{"reply":false},"mail":{"reply":"digest"}}`)})
	if p.Notify["reply"] || !p.Notify["mention"] || len(p.Notify) != len(accounts.NotifyKinds) {
		t.Errorf("stored prefs read as %v", p.Notify)
	}
	// A malformed column falls back to the defaults instead of failing pages.
	if p := accounts.PrefsOf(model.User{Prefs: []byte(`[`)}); !p.Notify["reply"] {
		t.Error("malformed prefs do not fall back to the defaults")
	}
}

func newService(t *testing.T) (*accounts.Service, *testkit.Env) {
	t.Helper()
	db := testkit.Open(t, dbURL)
	s, err := accounts.New(db, topic.Discard{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), accounts.Settings{
		SessionIdle: time.Hour, SessionMax: 24 * time.Hour, LoginAccountFailures: 5, LoginIPFailures: 100,
		LoginWindow: 15 * time.Minute, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return s, &testkit.Env{T: t, DB: db}
}

func login(t *testing.T, s *accounts.Service, u testkit.User) *accounts.Principal {
	t.Helper()
	_, p, err := s.Login(context.Background(), u.Email, u.Password, "127.0.0.1", "test", "")
	if err != nil {
		t.Fatalf("login %s: %v", u.Email, err)
	}
	return p
}

// Who sees whose profile (package doc of profile.go), as a table.
func TestProfileVisibilityRule(t *testing.T) {
	s, env := newService(t)
	ctx := context.Background()
	rural, urban, common := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban), env.NewGroup(model.KindCommon)
	ann, bob, cid, dan, eve := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember),
		env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	staff := env.NewUser(model.RoleStaff)
	env.AddMember(ann.ID, rural.ID, model.GroupMember)
	env.AddMember(bob.ID, rural.ID, model.GroupObserver)
	env.AddMember(cid.ID, urban.ID, model.GroupMember)
	env.AddMember(dan.ID, common.ID, model.GroupMember)
	// eve is in no group but wrote in the common one; hidden post by cid in urban.
	env.NewThread(common.ID, eve.ID, 1)

	sees := func(viewer testkit.User, target int64) bool {
		t.Helper()
		_, err := s.Profile(ctx, login(t, s, viewer).Actor, target)
		if err != nil && !errors.Is(err, apperr.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for _, tc := range []struct {
		name   string
		viewer testkit.User
		target int64
		want   bool
	}{
		{"self", cid, cid.ID, true},
		{"same group, observer sees member", bob, ann.ID, true},
		{"same group, member sees observer", ann, bob.ID, true},
		{"other group", ann, cid.ID, false},
		{"member of a common group", ann, dan.ID, true},
		{"author of a readable post", cid, eve.ID, true},
		{"staff seen by all", cid, staff.ID, true},
		{"staff see all", staff, cid.ID, true},
		{"nobody's fellow", eve, cid.ID, false},
		{"unknown", staff, 1 << 40, false},
	} {
		if got := sees(tc.viewer, tc.target); got != tc.want {
			t.Errorf("%s: sees = %v, want %v", tc.name, got, tc.want)
		}
	}
	if _, err := s.Profile(ctx, nil, ann.ID); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Errorf("anonymous profile: %v", err)
	}
}

// Unknown notification kinds and languages are refused; named kinds merge.
func TestUpdateMeRules(t *testing.T) {
	s, env := newService(t)
	ctx := context.Background()
	u := env.NewUser(model.RoleMember)
	p := login(t, s, u)
	_, err := s.UpdateMe(ctx, p, accounts.MeUpdate{Prefs: &accounts.PrefsInput{Notify: map[string]bool{"spam": true}}})
	var ve *apperr.Validation
	if !errors.As(err, &ve) || ve.Fields["prefs.notify.spam"] == "" {
		t.Errorf("unknown kind: %v", err)
	}
	de := "de"
	if _, err := s.UpdateMe(ctx, p, accounts.MeUpdate{Lang: &de}); !errors.As(err, &ve) || ve.Fields["lang"] == "" {
		t.Errorf("unknown language: %v", err)
	}
	after, err := s.UpdateMe(ctx, p, accounts.MeUpdate{Prefs: &accounts.PrefsInput{Notify: map[string]bool{"reply": false}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := accounts.PrefsOf(after); got.Notify["reply"] || !got.Notify["mention"] {
		t.Errorf("after turning replies off: %v", got.Notify)
	}
	if _, err := s.UpdateMe(ctx, nil, accounts.MeUpdate{}); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Errorf("no principal: %v", err)
	}
}

// At most four archives are written at once per instance; a fifth waits.
func TestExportSlots(t *testing.T) {
	s, env := newService(t)
	ctx := context.Background()
	p := login(t, s, env.NewUser(model.RoleMember))
	var releases []func()
	for i := 0; i < 4; i++ {
		release, err := s.BeginExport(ctx, p)
		if err != nil {
			t.Fatalf("export %d: %v", i+1, err)
		}
		releases = append(releases, release)
	}
	var rl *apperr.RateLimited
	if _, err := s.BeginExport(ctx, p); !errors.As(err, &rl) {
		t.Fatalf("fifth export at once: %v, want rate limited", err)
	}
	releases[0]()
	release, err := s.BeginExport(ctx, p)
	if err != nil {
		t.Fatalf("after one finished: %v", err)
	}
	release()
}
