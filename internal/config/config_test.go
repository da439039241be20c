package config_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/config"
)

const dbURL = "postgres://postgres@127.0.0.1:5432/forumjst?sslmode=disable"

func fromMap(m map[string]string) (config.Config, error) {
	return config.FromEnv(func(k string) string { return m[k] })
}

func TestDefaults(t *testing.T) {
	c, err := fromMap(map[string]string{"DATABASE_URL": dbURL})
	if err != nil {
		t.Fatalf("minimal configuration refused: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"DatabaseURL", c.DatabaseURL, dbURL},
		{"Addr", c.Addr, ":8080"},
		{"AccessibilityContact", c.AccessibilityContact, ""},
		{"PublicURL", c.PublicURL.String(), "http://localhost:8080"},
		{"Origin", c.Origin(), "http://localhost:8080"},
		{"Secure", c.Secure(), false},
		{"DBMaxConns", c.DBMaxConns, 20},
		{"UploadDir", c.UploadDir, "./data/uploads"},
		{"LogLevel", c.LogLevel, slog.LevelInfo},
		{"LogFormat", c.LogFormat, "json"},
		{"TrustedProxies", len(c.TrustedProxies), 0},
		{"MaxBodyBytes", c.MaxBodyBytes, 1 << 20},
		{"MaxUploadBytes", c.MaxUploadBytes, 25 << 20},
		{"MaxFilesPerMeeting", c.MaxFilesPerMeeting, 50},
		{"QueryTimeout", c.QueryTimeout, 10 * time.Second},
		{"ReadTimeout", c.ReadTimeout, 15 * time.Second},
		{"TransferTimeout", c.TransferTimeout, 10 * time.Minute},
		{"SessionIdle", c.SessionIdle, 72 * time.Hour},
		{"SessionMax", c.SessionMax, 30 * 24 * time.Hour},
		{"DefaultLang", c.DefaultLang, "pl"},
		{"LoginAccountFailures", c.LoginAccountFailures, 5},
		{"LoginIPFailures", c.LoginIPFailures, 100},
		{"LoginWindow", c.LoginWindow, 15 * time.Minute},
		{"SMTP.Host", c.SMTP.Host, ""},
		{"SMTP.Port", c.SMTP.Port, 587},
		{"SMTP.TLS", c.SMTP.TLS, "starttls"},
		{"SMTP.Timeout", c.SMTP.Timeout, 30 * time.Second},
		{"Mail.MaxAttempts", c.Mail.MaxAttempts, 8},
		{"Mail.RetryBase", c.Mail.RetryBase, time.Minute},
		{"Mail.RetryMax", c.Mail.RetryMax, 2 * time.Hour},
		{"Mail.Poll", c.Mail.Poll, 10 * time.Second},
		{"Mail.Secret", c.Mail.Secret, ""},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestValidValues(t *testing.T) {
	c, err := fromMap(map[string]string{
		"DATABASE_URL":                "host=127.0.0.1 dbname=forumjst sslmode=verify-full",
		"FORUM_ADDR":                  " 127.0.0.1:9000 ",
		"FORUM_PUBLIC_URL":            "https://forum.example.pl/",
		"FORUM_LOG_LEVEL":             "DEBUG",
		"FORUM_LOG_FORMAT":            "Text",
		"FORUM_SESSION_IDLE":          "2h",
		"FORUM_SESSION_MAX":           "48h",
		"FORUM_DB_MAX_CONNS":          "7",
		"FORUM_TRUSTED_PROXIES":       "10.0.0.1, 192.168.0.0/16,,::1",
		"FORUM_DEFAULT_LANG":          "en",
		"FORUM_SMTP_HOST":             "smtp.example.pl",
		"FORUM_SMTP_FROM":             "Forum JST <forum@example.pl>",
		"FORUM_SMTP_TLS":              "None",
		"FORUM_MAIL_SECRET":           strings.Repeat("k", 32),
		"FORUM_ACCESSIBILITY_CONTACT": " Jan Kowalski, dostepnosc@example.gov.pl ",
	})
	if err != nil {
		t.Fatalf("valid configuration refused: %v", err)
	}
	if c.Addr != "127.0.0.1:9000" || c.LogLevel != slog.LevelDebug || c.LogFormat != "text" || c.SessionIdle != 2*time.Hour ||
		c.SessionMax != 48*time.Hour || c.DBMaxConns != 7 || c.DefaultLang != "en" || c.SMTP.TLS != "none" ||
		c.Mail.Secret != strings.Repeat("k", 32) || c.AccessibilityContact != "Jan Kowalski, dostepnosc@example.gov.pl" {
		t.Errorf("parsed %+v", c)
	}
	if !c.Secure() || c.Origin() != "https://forum.example.pl" || c.PublicURL.String() != "https://forum.example.pl" {
		t.Errorf("public URL %q, origin %q, secure %v", c.PublicURL, c.Origin(), c.Secure())
	}
	if strings.Join(c.TrustedProxies, " ") != "10.0.0.1 192.168.0.0/16 ::1" {
		t.Errorf("trusted proxies %q", c.TrustedProxies)
	}
}

// Every bad value is reported on its own line that names its variable.
func TestBadValues(t *testing.T) {
	cases := []struct {
		variable string
		env      map[string]string
		shows    string // what the line must quote
	}{
		{"FORUM_PUBLIC_URL", map[string]string{"FORUM_PUBLIC_URL": "ftp://x"}, "\"ftp://x\""},
		{"FORUM_PUBLIC_URL", map[string]string{"FORUM_PUBLIC_URL": "forum.example.pl"}, ""},
		{"FORUM_LOG_LEVEL", map[string]string{"FORUM_LOG_LEVEL": "loud"}, "\"loud\""},
		{"FORUM_LOG_FORMAT", map[string]string{"FORUM_LOG_FORMAT": "xml"}, ""},
		{"FORUM_SESSION_IDLE", map[string]string{"FORUM_SESSION_IDLE": "-1s"}, "\"-1s\""},
		{"FORUM_SESSION_IDLE", map[string]string{"FORUM_SESSION_IDLE": "3 days"}, ""},
		{"FORUM_SESSION_IDLE", map[string]string{"FORUM_SESSION_IDLE": "48h", "FORUM_SESSION_MAX": "24h"}, "FORUM_SESSION_MAX"},
		{"FORUM_SESSION_MAX", map[string]string{"FORUM_SESSION_MAX": "0s"}, ""},
		{"FORUM_DB_MAX_CONNS", map[string]string{"FORUM_DB_MAX_CONNS": "0"}, "\"0\""},
		{"FORUM_DB_MAX_CONNS", map[string]string{"FORUM_DB_MAX_CONNS": "many"}, ""},
		{"FORUM_MAX_BODY_BYTES", map[string]string{"FORUM_MAX_BODY_BYTES": "10"}, ""},
		{"FORUM_MAX_UPLOAD_BYTES", map[string]string{"FORUM_MAX_UPLOAD_BYTES": "25MB"}, "\"25MB\""},
		{"FORUM_MAX_FILES_PER_MEETING", map[string]string{"FORUM_MAX_FILES_PER_MEETING": "0"}, ""},
		{"FORUM_TRUSTED_PROXIES", map[string]string{"FORUM_TRUSTED_PROXIES": "not-an-ip"}, "\"not-an-ip\""},
		{"FORUM_TRUSTED_PROXIES", map[string]string{"FORUM_TRUSTED_PROXIES": "10.0.0.1,10.0.0.0/33"}, "\"10.0.0.0/33\""},
		{"FORUM_DEFAULT_LANG", map[string]string{"FORUM_DEFAULT_LANG": "de"}, ""},
		{"FORUM_SMTP_FROM", map[string]string{"FORUM_SMTP_HOST": "smtp.example.pl"}, ""},
		{"FORUM_SMTP_PORT", map[string]string{"FORUM_SMTP_PORT": "70000"}, ""},
		{"FORUM_SMTP_FROM", map[string]string{"FORUM_SMTP_HOST": "smtp.example.pl", "FORUM_SMTP_FROM": "forum at example"}, "\"forum at example\""},
		{"FORUM_SMTP_TLS", map[string]string{"FORUM_SMTP_TLS": "ssl"}, "\"ssl\""},
		{"FORUM_SMTP_TIMEOUT", map[string]string{"FORUM_SMTP_TIMEOUT": "0s"}, ""},
		{"FORUM_MAIL_SECRET", map[string]string{"FORUM_MAIL_SECRET": "short"}, ""},
		{"FORUM_MAIL_MAX_ATTEMPTS", map[string]string{"FORUM_MAIL_MAX_ATTEMPTS": "0"}, ""},
		{"FORUM_MAIL_RETRY_BASE", map[string]string{"FORUM_MAIL_RETRY_BASE": "3h"}, "FORUM_MAIL_RETRY_MAX"},
		{"DATABASE_URL", map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/forumjst"}, ""},
		{"DATABASE_URL", map[string]string{"DATABASE_URL": "postgresql://postgres@127.0.0.1/forumjst?connect_timeout=5"}, ""},
		{"DATABASE_URL", map[string]string{"DATABASE_URL": "host=127.0.0.1 dbname=forumjst"}, ""},
		{"DATABASE_URL", map[string]string{"DATABASE_URL": ""}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.variable+"="+tc.env[tc.variable], func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": dbURL}
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := fromMap(env)
			if err == nil {
				t.Fatalf("%v accepted", tc.env)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != 1 {
				t.Errorf("one bad value gave %d lines: %q", len(lines), lines)
			}
			if !strings.HasPrefix(lines[0], tc.variable+" ") {
				t.Errorf("line %q does not start with %s", lines[0], tc.variable)
			}
			if tc.shows != "" && !strings.Contains(lines[0], tc.shows) {
				t.Errorf("line %q does not show %q", lines[0], tc.shows)
			}
		})
	}
}

func TestDatabaseURLPasswordNotEchoed(t *testing.T) {
	_, err := fromMap(map[string]string{"DATABASE_URL": "postgres://app:tajne-haslo@db.example/forumjst"})
	if err == nil {
		t.Fatal("URL without sslmode accepted")
	}
	if strings.Contains(err.Error(), "tajne-haslo") {
		t.Errorf("error echoes the database password: %v", err)
	}
}

func TestSeveralBadValuesAtOnce(t *testing.T) {
	_, err := fromMap(map[string]string{
		"FORUM_ADDR":            "anything goes here", // free-form: checked when listening
		"FORUM_PUBLIC_URL":      "ftp://x",
		"FORUM_LOG_LEVEL":       "loud",
		"FORUM_SESSION_IDLE":    "-1s",
		"FORUM_DB_MAX_CONNS":    "0",
		"FORUM_TRUSTED_PROXIES": "not-an-ip",
	})
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"DATABASE_URL", "FORUM_DB_MAX_CONNS", "FORUM_LOG_LEVEL", "FORUM_PUBLIC_URL", "FORUM_SESSION_IDLE", "FORUM_TRUSTED_PROXIES"}
	if len(lines) != len(want) {
		t.Errorf("got %d lines, want %d:\n%s", len(lines), len(want), err)
	}
	for _, v := range want {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, v+" ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d lines for %s, want 1:\n%s", n, v, err)
		}
	}
	if strings.Contains(err.Error(), "FORUM_ADDR") {
		t.Errorf("FORUM_ADDR is free-form but was reported:\n%s", err)
	}
}
