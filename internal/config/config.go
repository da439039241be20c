// Package config reads the server's configuration from environment variables,
// validates every value once at start, and reports each bad value on its own line.
// Every variable is documented in config/forumjst.env.example.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is the validated configuration. It is built once in main and passed down.
type Config struct {
	DatabaseURL    string
	DBMaxConns     int
	Addr           string
	PublicURL      *url.URL
	UploadDir      string
	LogLevel       slog.Level
	LogFormat      string // "json" or "text"
	TrustedProxies []string
	MaxBodyBytes   int
	QueryTimeout   time.Duration
	SessionIdle    time.Duration
	SessionMax     time.Duration
	DefaultLang    string
	SMTP           SMTP
	Mail           Mail
	// Login throttling (SPEC §7): strict per account, generous per address.
	LoginAccountFailures int
	LoginIPFailures      int
	LoginWindow          time.Duration
	// PostsPerMinute is the per-account posting limit (threads and replies).
	PostsPerMinute int
	// FlagHideThreshold: this many distinct reports hide a post pending review.
	FlagHideThreshold int
	// MaxUploadBytes is the largest file accepted on a meeting or note; upload
	// routes alone accept bodies this large (MaxBodyBytes stays for the rest).
	MaxUploadBytes int
	// MaxFilesPerMeeting caps the files of one meeting, its notes' included.
	MaxFilesPerMeeting int
	// WSQueueFrames bounds each websocket's outgoing queue; a client that falls
	// this far behind is closed with 4008 and resumes with since_seq.
	WSQueueFrames int
	// MetricsToken, when set, lets a scraper that is not on loopback read
	// /metrics with "Authorization: Bearer <token>"; without it /metrics
	// answers only to loopback.
	MetricsToken string
	// ReadTimeout bounds reading one request (headers and body); a client that
	// sends slower is answered 408 and closed.
	ReadTimeout time.Duration
	// TransferTimeout replaces ReadTimeout for an upload by a user who may
	// upload there (and bounds writing a download): 25 MiB over a slow
	// municipal uplink takes minutes.
	TransferTimeout time.Duration
	// WSPingInterval is how often the server pings each websocket; a peer
	// silent for 2.5 intervals is dropped.
	WSPingInterval time.Duration
	// AccessibilityContact is who answers accessibility requests and
	// complaints, shown verbatim on /deklaracja-dostepnosci (the law wants
	// a person, an e-mail address and a phone number there). Empty: the
	// statement points to the programme office through the forum's
	// administrators.
	AccessibilityContact string
}

// SMTP is optional: with no host, mails are kept in the database (status
// kept) and shown to administrators at /admin/mail instead of being sent.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS is starttls (required, the default), tls (implicit, port 465) or
	// none (a local mail catcher such as mailpit).
	TLS string
	// Timeout bounds one delivery, connect to QUIT.
	Timeout time.Duration
}

// Mail tunes the outgoing mail queue.
type Mail struct {
	// Secret signs unsubscribe links; empty: one is generated and kept in
	// the database, shared by every instance.
	Secret string
	// MaxAttempts before a mail is marked failed; retries wait RetryBase,
	// doubling, at most RetryMax.
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
	// Poll is how often an idle worker looks for mail queued elsewhere.
	Poll time.Duration
	// Lease is how long a claimed mail is left to its worker before another
	// may take it (0: twice the SMTP timeout plus 30s).
	Lease time.Duration
	// DigestHour is the hour (Europe/Warsaw) the daily digest goes out; -1:
	// not from this instance.
	DigestHour int
}

// Secure reports whether cookies must carry Secure and the __Host- prefix.
func (c Config) Secure() bool { return c.PublicURL.Scheme == "https" }

// Origin is the scheme://host[:port] that browsers send in the Origin header.
func (c Config) Origin() string { return c.PublicURL.Scheme + "://" + c.PublicURL.Host }

// FromEnv builds a Config from getenv (os.Getenv in main, a map in tests).
func FromEnv(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		DatabaseURL:          r.str("DATABASE_URL", ""),
		DBMaxConns:           r.integer("FORUM_DB_MAX_CONNS", 20, 1, 1000),
		Addr:                 r.str("FORUM_ADDR", ":8080"),
		UploadDir:            r.str("FORUM_UPLOAD_DIR", "./data/uploads"),
		LogFormat:            r.oneOf("FORUM_LOG_FORMAT", "json", "json", "text"),
		MaxBodyBytes:         r.integer("FORUM_MAX_BODY_BYTES", 1<<20, 4<<10, 1<<30),
		QueryTimeout:         r.duration("FORUM_QUERY_TIMEOUT", 10*time.Second),
		SessionIdle:          r.duration("FORUM_SESSION_IDLE", 72*time.Hour),
		SessionMax:           r.duration("FORUM_SESSION_MAX", 30*24*time.Hour),
		DefaultLang:          r.oneOf("FORUM_DEFAULT_LANG", "pl", "pl", "en"),
		LoginAccountFailures: r.integer("FORUM_LOGIN_ACCOUNT_FAILURES", 5, 1, 1000),
		LoginIPFailures:      r.integer("FORUM_LOGIN_IP_FAILURES", 100, 1, 100000),
		LoginWindow:          r.duration("FORUM_LOGIN_WINDOW", 15*time.Minute),
		PostsPerMinute:       r.integer("FORUM_POSTS_PER_MINUTE", 10, 1, 100000),
		FlagHideThreshold:    r.integer("FORUM_FLAG_HIDE_THRESHOLD", 3, 1, 1000),
		MaxUploadBytes:       r.integer("FORUM_MAX_UPLOAD_BYTES", 25<<20, 1<<10, 1<<30),
		MaxFilesPerMeeting:   r.integer("FORUM_MAX_FILES_PER_MEETING", 50, 1, 10000),
		WSQueueFrames:        r.integer("FORUM_WS_QUEUE_FRAMES", 512, 16, 1<<16),
		WSPingInterval:       r.duration("FORUM_WS_PING_INTERVAL", 25*time.Second),
		MetricsToken:         r.str("FORUM_METRICS_TOKEN", ""),
		ReadTimeout:          r.duration("FORUM_READ_TIMEOUT", 15*time.Second),
		TransferTimeout:      r.duration("FORUM_TRANSFER_TIMEOUT", 10*time.Minute),
		AccessibilityContact: r.str("FORUM_ACCESSIBILITY_CONTACT", ""),
		SMTP: SMTP{
			Host:     r.str("FORUM_SMTP_HOST", ""),
			Port:     r.integer("FORUM_SMTP_PORT", 587, 1, 65535),
			Username: r.str("FORUM_SMTP_USERNAME", ""),
			Password: r.str("FORUM_SMTP_PASSWORD", ""),
			From:     r.str("FORUM_SMTP_FROM", ""),
			TLS:      r.oneOf("FORUM_SMTP_TLS", "starttls", "starttls", "tls", "none"),
			Timeout:  r.duration("FORUM_SMTP_TIMEOUT", 30*time.Second),
		},
		Mail: Mail{
			Secret:      r.str("FORUM_MAIL_SECRET", ""),
			MaxAttempts: r.integer("FORUM_MAIL_MAX_ATTEMPTS", 8, 1, 100),
			RetryBase:   r.duration("FORUM_MAIL_RETRY_BASE", time.Minute),
			RetryMax:    r.duration("FORUM_MAIL_RETRY_MAX", 2*time.Hour),
			Poll:        r.duration("FORUM_MAIL_POLL", 10*time.Second),
			DigestHour:  r.integer("FORUM_DIGEST_HOUR", 7, -1, 23),
		},
	}
	c.LogLevel = r.level("FORUM_LOG_LEVEL", slog.LevelInfo)
	c.PublicURL = r.publicURL("FORUM_PUBLIC_URL", "http://localhost:8080")
	c.TrustedProxies = r.proxies("FORUM_TRUSTED_PROXIES")

	if c.DatabaseURL == "" {
		r.fail("DATABASE_URL", "is required (e.g. postgres://postgres@127.0.0.1:5432/forumjst?sslmode=disable)")
	} else if err := checkDatabaseURL(c.DatabaseURL); err != nil {
		r.fail("DATABASE_URL", err.Error())
	}
	if c.SessionIdle > c.SessionMax {
		r.fail("FORUM_SESSION_IDLE", "must not be longer than FORUM_SESSION_MAX")
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 24 {
		r.fail("FORUM_METRICS_TOKEN", "must be at least 24 characters (e.g. openssl rand -hex 24)")
	}
	if c.Mail.Secret != "" && len(c.Mail.Secret) < 32 {
		r.fail("FORUM_MAIL_SECRET", "must be at least 32 characters (e.g. openssl rand -hex 32)")
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		r.fail("FORUM_SMTP_FROM", "is required when FORUM_SMTP_HOST is set")
	} else if c.SMTP.From != "" {
		if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
			r.fail("FORUM_SMTP_FROM", fmt.Sprintf("must be an address such as \"Forum JST <forum@example.pl>\", got %q", c.SMTP.From))
		}
	}
	if c.Mail.RetryBase > c.Mail.RetryMax {
		r.fail("FORUM_MAIL_RETRY_BASE", "must not be longer than FORUM_MAIL_RETRY_MAX")
	}
	return c, errors.Join(r.errs...)
}

// checkDatabaseURL insists on an explicit sslmode (SPEC §7): lib/pq's silent default
// of "require" surprises locally and "disable" must never happen by accident in production.
func checkDatabaseURL(raw string) error {
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("is not a valid URL: %v", err)
		}
		if u.Query().Get("sslmode") == "" {
			return errors.New("must set sslmode explicitly (add ?sslmode=disable locally, sslmode=verify-full in production)")
		}
		return nil
	}
	if !strings.Contains(raw, "sslmode=") {
		return errors.New("must set sslmode explicitly (sslmode=disable locally, sslmode=verify-full in production)")
	}
	return nil
}

type reader struct {
	getenv func(string) string
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) integer(name string, def, min, max int) int {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < min || n > max {
		r.fail(name, fmt.Sprintf("must be a whole number between %d and %d, got %q", min, max, v))
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		r.fail(name, fmt.Sprintf("must be a positive duration such as 30s or 12h, got %q", v))
		return def
	}
	return d
}

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(strings.TrimSpace(r.getenv(name)))
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	r.fail(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
	return def
}

func (r *reader) level(name string, def slog.Level) slog.Level {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return def
	}
	return l
}

func (r *reader) publicURL(name, def string) *url.URL {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("must be an absolute http(s) URL such as https://forum.example.pl, got %q", v))
		u, _ = url.Parse(def)
		return u
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u
}

func (r *reader) proxies(name string) []string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if net.ParseIP(p) == nil {
			if _, _, err := net.ParseCIDR(p); err != nil {
				r.fail(name, fmt.Sprintf("entry %q is neither an IP address nor a CIDR range", p))
				continue
			}
		}
		out = append(out, p)
	}
	return out
}
