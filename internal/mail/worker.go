package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	gomail "github.com/wneessen/go-mail"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

// SMTP is where mail goes. TLS is "starttls" (required; port 587), "tls"
// (implicit; port 465) or "none" (a local catcher such as mailpit).
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string
}

// WorkerSettings tune delivery. Zero values take the defaults in brackets.
type WorkerSettings struct {
	SMTP SMTP
	// SendTimeout bounds one delivery, dial to QUIT (30s): a hanging server
	// costs one attempt, never a request and never more of a shutdown.
	SendTimeout time.Duration
	// Lease is how long a claimed mail stays invisible to other workers
	// (2×SendTimeout + 30s). It must outlast a send, or a slow delivery could
	// be claimed and sent again elsewhere.
	Lease time.Duration
	// RetryBase doubles with each failed attempt up to RetryMax (1m, 2h).
	RetryBase time.Duration
	RetryMax  time.Duration
	// MaxAttempts before a mail is marked failed (8: about four hours).
	MaxAttempts int
	// Poll is how often an idle worker looks for mail queued by other
	// instances or due for a retry (10s); this instance's mails wake it at once.
	Poll time.Duration
	// StopGrace is how long a stopping worker lets the delivery under way
	// finish (2s): cutting a healthy server off between its acceptance and
	// our reading of it would send that mail again. A server still silent
	// after it is cut off and the mail handed back.
	StopGrace time.Duration
}

func (w *WorkerSettings) defaults() {
	if w.SendTimeout == 0 {
		w.SendTimeout = 30 * time.Second
	}
	if w.Lease == 0 {
		w.Lease = 2*w.SendTimeout + 30*time.Second
	}
	if w.RetryBase == 0 {
		w.RetryBase = time.Minute
	}
	if w.RetryMax == 0 {
		w.RetryMax = 2 * time.Hour
	}
	if w.MaxAttempts == 0 {
		w.MaxAttempts = 8
	}
	if w.Poll == 0 {
		w.Poll = 10 * time.Second
	}
	if w.StopGrace == 0 {
		w.StopGrace = 2 * time.Second
	}
}

// Worker sends the queue. Every instance runs one; they share the work
// through the claim (store.ClaimMail), so each mail is sent by one of them.
type Worker struct {
	svc *Service
	log *slog.Logger
	set WorkerSettings
	// Counted per instance; Prometheus sums the instances.
	sent, failedAttempts, gaveUp prometheus.Counter
}

// NewWorker builds the worker of svc's queue; reg (may be nil) gets its counters.
func NewWorker(svc *Service, log *slog.Logger, set WorkerSettings, reg prometheus.Registerer) *Worker {
	set.defaults()
	w := &Worker{svc: svc, log: log, set: set,
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_mail_sent_total",
			Help: "Mails the SMTP server accepted."}),
		failedAttempts: prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_mail_failed_attempts_total",
			Help: "Delivery attempts refused or timed out (each is retried until the last)."}),
		gaveUp: prometheus.NewCounter(prometheus.CounterOpts{Name: "forumjst_mail_failed_total",
			Help: "Mails marked failed after their last attempt."}),
	}
	if reg != nil {
		reg.MustRegister(w.sent, w.failedAttempts, w.gaveUp)
	}
	return w
}

// Run sends due mail until ctx ends. A delivery under way when ctx ends has
// StopGrace to finish; then it is aborted (its connection closed) and handed
// back to the queue, due at once, so that shutting down waits for no SMTP
// server longer than that.
func (w *Worker) Run(ctx context.Context) {
	for ctx.Err() == nil {
		m, err := store.ClaimMail(ctx, w.svc.db, w.set.Lease)
		if errors.Is(err, store.ErrNotFound) {
			w.idle(ctx)
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				w.log.ErrorContext(ctx, "claim mail", "err", err)
				w.sleep(ctx, w.set.Poll)
			}
			continue
		}
		w.attempt(ctx, m)
	}
}

// idle waits for a wake-up, the next retry that falls due, or the poll.
func (w *Worker) idle(ctx context.Context) {
	wait := w.set.Poll
	if next, err := store.NextMailDue(ctx, w.svc.db); err == nil && next != nil {
		wait = min(wait, max(time.Until(*next), 10*time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-w.svc.wake:
	case <-t.C:
	}
}

func (w *Worker) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// attempt sends one claimed mail and records the outcome. The outcome is
// written under its own short deadline: a shutdown must not leave a mail the
// server accepted looking unsent.
func (w *Worker) attempt(ctx context.Context, m model.Mail) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.set.SendTimeout)
	var stopped atomic.Bool
	stopGrace := context.AfterFunc(ctx, func() {
		time.AfterFunc(w.set.StopGrace, func() { stopped.Store(true); cancel() })
	})
	m, err := w.svc.rendered(m)
	if err == nil {
		err = w.send(sctx, m)
	}
	stopGrace()
	cancel()
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	log := w.log.With("mail_id", m.ID, "kind", m.Kind, "attempt", m.Attempts)
	switch {
	case err == nil:
		if err := store.MarkMailSent(rctx, w.svc.db, m.ID, m.Attempts); err != nil {
			log.ErrorContext(ctx, "mark mail sent", "err", err)
			return
		}
		w.sent.Inc()
		log.InfoContext(ctx, "mail sent")
	case stopped.Load():
		// Shutting down: the send was cut short before the server took the
		// mail, so this attempt does not count.
		if err := store.ReleaseMail(rctx, w.svc.db, m.ID, m.Attempts); err != nil {
			log.ErrorContext(ctx, "release mail", "err", err)
		}
	default:
		w.failedAttempts.Inc()
		giveUp := m.Attempts >= w.set.MaxAttempts
		next := time.Now().Add(w.backoff(m.Attempts))
		msg := err.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
		if err := store.RetryMail(rctx, w.svc.db, m.ID, m.Attempts, msg, next, giveUp); err != nil {
			log.ErrorContext(ctx, "record mail failure", "err", err)
		}
		if giveUp {
			w.gaveUp.Inc()
			log.ErrorContext(ctx, "mail failed for good", "err", msg)
		} else {
			log.WarnContext(ctx, "mail not sent, will retry", "err", msg, "retry_at", next.UTC())
		}
	}
}

func (w *Worker) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: w.set.SMTP.Host, MinVersion: tls.VersionTLS12}
}

// backoff is RetryBase after the first failure, doubling, at most RetryMax.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.set.RetryBase
	for i := 1; i < attempts && d < w.set.RetryMax; i++ {
		d *= 2
	}
	return min(d, w.set.RetryMax)
}

// send delivers one mail over a new SMTP connection. go-mail applies its
// timeout per command; the connection is also closed when ctx ends, so a
// server that answers slowly but steadily cannot stretch a send past ctx.
func (w *Worker) send(ctx context.Context, m model.Mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(w.set.SMTP.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.CreatedAt)
	msg.SetGenHeader("Content-Language", m.Lang)
	msg.SetGenHeader("X-Forum-Mail-Kind", m.Kind)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.UnsubscribeURL != "" {
		// RFC 2369 and RFC 8058: mail clients offer "unsubscribe" and POST
		// to the link, which turns this kind off without a login.
		msg.SetGenHeader("List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		msg.SetGenHeader("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{
		gomail.WithPort(w.set.SMTP.Port),
		gomail.WithTimeout(w.set.SendTimeout),
		gomail.WithDialContextFunc(func(dctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			context.AfterFunc(ctx, func() { conn.Close() })
			if w.set.SMTP.TLS == "tls" {
				// go-mail's own implicit TLS applies only to its own dialer.
				tc := tls.Client(conn, w.tlsConfig())
				if err := tc.HandshakeContext(dctx); err != nil {
					conn.Close()
					return nil, err
				}
				return tc, nil
			}
			return conn, nil
		}),
	}
	switch w.set.SMTP.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "tls":
		// The dialer above speaks TLS from the first byte.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if w.set.SMTP.TLS == "starttls" || w.set.SMTP.TLS == "" {
		opts = append(opts, gomail.WithTLSConfig(w.tlsConfig()))
	}
	if w.set.SMTP.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(w.set.SMTP.Username), gomail.WithPassword(w.set.SMTP.Password))
	}
	c, err := gomail.NewClient(w.set.SMTP.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, msg)
}
