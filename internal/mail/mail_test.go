package mail_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/mail"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// The tests of this package run one after another and share the queue: each
// starts from an empty one.
func setup(t *testing.T, set mail.Settings) (*sqlx.DB, *mail.Service) {
	t.Helper()
	db := testkit.Open(t, dbURL)
	if _, err := db.Exec(`DELETE FROM mails`); err != nil {
		t.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if set.PublicURL == nil {
		set.PublicURL, _ = url.Parse("https://forum.example.pl")
	}
	svc, err := mail.New(context.Background(), db, cat, set)
	if err != nil {
		t.Fatal(err)
	}
	return db, svc
}

// runWorker runs a worker until the returned stop is called (or the test ends).
func runWorker(t *testing.T, svc *mail.Service, srv *testkit.SMTPServer, set mail.WorkerSettings) (stop func()) {
	t.Helper()
	set.SMTP = mail.SMTP{Host: srv.Host, Port: srv.Port, From: "Forum JST <forum@example.pl>", TLS: "none"}
	if set.Poll == 0 {
		set.Poll = 50 * time.Millisecond
	}
	if set.RetryBase == 0 {
		set.RetryBase = 20 * time.Millisecond
	}
	w := mail.NewWorker(svc, slog.New(slog.NewTextHandler(io.Discard, nil)), set, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, db *sqlx.DB, svc *mail.Service, msgs ...mail.Message) []int64 {
	t.Helper()
	var ids []int64
	err := store.InTx(context.Background(), store.NewDB(db, svc), func(tx *store.Tx) error {
		for _, m := range msgs {
			id, err := svc.Enqueue(context.Background(), tx, m)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids // the commit woke the worker: svc is the unit's announcer
}

func newUser(t *testing.T, db *sqlx.DB) testkit.User { return testkit.NewUser(t, db, model.RoleMember) }

func reset(u testkit.User, lang string) mail.Message {
	return mail.PasswordReset(u.Email, u.ID, lang, u.Name, "https://forum.example.pl/haslo/abc", time.Hour)
}

func notice(u testkit.User) mail.Message {
	return mail.Notice(u.Email, u.ID, "pl", u.Name, "Wzmianka w wątku „Budżet 2027”", "Anna Nowak wspomina o Tobie.",
		"Przejdź do wpisu", "https://forum.example.pl/t/1#p2")
}

func mailRow(t *testing.T, db *sqlx.DB, id int64) model.Mail {
	t.Helper()
	m, err := store.GetMail(context.Background(), db, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countByMessageID fails the test unless every id arrived exactly once.
func exactlyOnce(t *testing.T, db *sqlx.DB, got []testkit.Received, ids []int64) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Header.Get("Message-Id")]++
	}
	for _, id := range ids {
		// The server has the mail a moment before the worker records it.
		m := mailRow(t, db, id)
		for deadline := time.Now().Add(5 * time.Second); m.Status == model.MailQueued && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			m = mailRow(t, db, id)
		}
		if n := seen["<"+m.MessageID+">"]; n != 1 {
			t.Errorf("mail %d arrived %d times, want exactly once", id, n)
		}
		if m.Status != model.MailSent {
			t.Errorf("mail %d status = %s, want sent", id, m.Status)
		}
	}
	if len(got) != len(ids) {
		t.Errorf("server got %d messages, want %d", len(got), len(ids))
	}
}

func TestSendsMailInTheRecipientsLanguageWithBothParts(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	u, v := newUser(t, db), newUser(t, db)
	ids := enqueue(t, db, svc, reset(u, "pl"), reset(v, "en"), notice(u))
	runWorker(t, svc, srv, mail.WorkerSettings{})
	got := srv.WaitFor(t, 3, 10*time.Second)
	exactlyOnce(t, db, got, ids)

	by := map[string]testkit.Received{}
	for _, r := range got {
		by[r.Subject] = r
	}
	pl, ok := by["Ustaw nowe hasło do Forum Współpracy JST"]
	if !ok {
		t.Fatalf("no Polish reset mail among %v", got)
	}
	if pl.To[0] != u.Email || !strings.Contains(pl.Text, "https://forum.example.pl/haslo/abc") ||
		!strings.Contains(pl.HTML, `href="https://forum.example.pl/haslo/abc"`) || !strings.Contains(pl.Text, "60 minut") {
		t.Errorf("Polish reset mail lacks its link or validity:\n%s\n%s", pl.Text, pl.HTML)
	}
	if pl.Header.Get("List-Unsubscribe") != "" {
		t.Error("a password reset carries List-Unsubscribe; one cannot unsubscribe from it")
	}
	if pl.Header.Get("Content-Language") != "pl" {
		t.Errorf("Content-Language = %q", pl.Header.Get("Content-Language"))
	}
	if _, ok := by["Set a new password for the JST Cooperation Forum"]; !ok {
		t.Error("no English reset mail for the English-speaking user")
	}
	n := by["Wzmianka w wątku „Budżet 2027”"]
	lu := n.Header.Get("List-Unsubscribe")
	if !strings.HasPrefix(lu, "<https://forum.example.pl/unsubscribe/") || n.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("notification headers: List-Unsubscribe %q, -Post %q", lu, n.Header.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(n.Text, strings.Trim(lu, "<>")) || !strings.Contains(n.HTML, strings.Trim(lu, "<>")) {
		t.Error("the unsubscribe link is not in the mail's text and HTML")
	}
}

func TestHTMLPartEscapesWhatPeopleWrote(t *testing.T) {
	db, svc := setup(t, mail.Settings{})
	u := newUser(t, db)
	m := notice(u)
	m.Build = func(*i18n.Printer) mail.Content {
		return mail.Content{Subject: "a\r\nBcc: x@evil.example", Paragraphs: []string{`<script>alert(1)</script><img src=x>`}}
	}
	ids := enqueue(t, db, svc, m)
	row := mailRow(t, db, ids[0])
	if strings.Contains(row.HTML, "<script>") || strings.Contains(row.HTML, "<img") || !strings.Contains(row.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part not escaped: %s", row.HTML)
	}
	if strings.ContainsAny(row.Subject, "\r\n") {
		t.Errorf("subject keeps a line break: %q", row.Subject)
	}
	if row.Status != model.MailKept {
		t.Errorf("status without an SMTP server = %s, want kept", row.Status)
	}
}

func TestMailIsWrittenWithItsTransaction(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	u := newUser(t, db)
	boom := errors.New("the change failed")
	err := store.InTx(context.Background(), store.NewDB(db, svc), func(tx *store.Tx) error {
		if _, err := svc.Enqueue(context.Background(), tx, reset(u, "pl")); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM mails`); err != nil || n != 0 {
		t.Fatalf("%d mails after a rolled back change (err %v), want 0", n, err)
	}
}

func TestRefusingServerIsRetriedThenAccepts(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	srv.Refuse(2)
	ids := enqueue(t, db, svc, reset(newUser(t, db), "pl"))
	runWorker(t, svc, srv, mail.WorkerSettings{})
	got := srv.WaitFor(t, 1, 10*time.Second)
	exactlyOnce(t, db, got, ids)
	m := mailRow(t, db, ids[0])
	if m.Attempts != 3 || m.LastError != "" || m.SentAt == nil {
		t.Errorf("after two refusals: attempts %d, last error %q, sent %v; want 3, '', set", m.Attempts, m.LastError, m.SentAt)
	}
}

func TestGivesUpAfterMaxAttemptsWithBackoff(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	srv.Refuse(1000)
	ids := enqueue(t, db, svc, reset(newUser(t, db), "pl"))
	start := time.Now()
	runWorker(t, svc, srv, mail.WorkerSettings{MaxAttempts: 4, RetryBase: 100 * time.Millisecond, RetryMax: 150 * time.Millisecond})
	var m model.Mail
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m = mailRow(t, db, ids[0]); m.Status == model.MailFailed {
			break
		}
	}
	if m.Status != model.MailFailed || m.Attempts != 4 || !strings.Contains(m.LastError, "550") {
		t.Fatalf("status %s, attempts %d, last error %q; want failed after 4 with the 550", m.Status, m.Attempts, m.LastError)
	}
	// Waits between attempts: 100ms, then 150ms (capped), 150ms.
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("four attempts took %s: no backoff between them", took)
	}
	if len(srv.Received()) != 0 {
		t.Error("a refused mail arrived")
	}
}

func TestHangingServerTimesOutAndBlocksNothing(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	srv.Hang(true)
	u := newUser(t, db)
	ids := enqueue(t, db, svc, reset(u, "pl"))
	// MaxAttempts out of reach: on a busy machine the hanging sends could
	// otherwise use up a mail's attempts before the server recovers, and a
	// mail given up on is never sent (that is another test's subject).
	stop := runWorker(t, svc, srv, mail.WorkerSettings{SendTimeout: 300 * time.Millisecond, RetryBase: 50 * time.Millisecond,
		StopGrace: 100 * time.Millisecond, MaxAttempts: 1000, RetryMax: 500 * time.Millisecond})

	// While the worker waits on the server, queueing more mail (what a
	// request does) is not held up.
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	ids = append(ids, enqueue(t, db, svc, notice(u))...)
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("enqueueing took %s while the SMTP server hangs", took)
	}
	// The first attempt times out and counts as a failure.
	var m model.Mail
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m = mailRow(t, db, ids[0]); m.LastError != "" {
			break
		}
	}
	if m.LastError == "" || m.Status != model.MailQueued {
		t.Fatalf("after a hang: status %s, last error %q; want queued with the timeout recorded", m.Status, m.LastError)
	}
	// Stopping the worker while a send hangs returns after the stop grace,
	// and hands the mail back without counting the cut-short attempt.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m = mailRow(t, db, ids[0]); m.Attempts == 2 || mailRow(t, db, ids[1]).Attempts == 1 {
			break // a second attempt is under way
		}
	}
	before := m.Attempts
	start = time.Now()
	stop()
	if took := time.Since(start); took > 400*time.Millisecond {
		t.Errorf("stopping the worker during a hanging send took %s", took)
	}
	if m := mailRow(t, db, ids[0]); m.Attempts > before || m.Status != model.MailQueued {
		t.Errorf("after a stop mid-send: attempts %d (before %d), status %s", m.Attempts, before, m.Status)
	}
	// The server recovers; a new worker delivers both, once each.
	srv.Hang(false)
	runWorker(t, svc, srv, mail.WorkerSettings{SendTimeout: 2 * time.Second})
	exactlyOnce(t, db, srv.WaitFor(t, 2, 30*time.Second), ids)
}

func TestRestartMidQueueSendsEveryMailOnce(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	srv.Delay(40 * time.Millisecond)
	u := newUser(t, db)
	var msgs []mail.Message
	for range 20 {
		msgs = append(msgs, notice(u))
	}
	ids := enqueue(t, db, svc, msgs...)
	stop := runWorker(t, svc, srv, mail.WorkerSettings{})
	srv.WaitFor(t, 5, 10*time.Second)
	stop() // mid-queue, with a mail claimed and its send under way: it finishes
	after := len(srv.Received())
	if after >= 20 {
		t.Fatal("the queue was done before the stop; the test proves nothing")
	}
	var queued int
	if err := db.Get(&queued, `SELECT count(*) FROM mails WHERE status = 'queued' AND next_attempt_at <= now()`); err != nil {
		t.Fatal(err)
	}
	if queued != 20-after {
		t.Errorf("after the stop %d mails are due, want %d (every unsent one, none sent and still queued)", queued, 20-after)
	}
	runWorker(t, svc, srv, mail.WorkerSettings{})
	exactlyOnce(t, db, srv.WaitFor(t, 20, 20*time.Second), ids)
}

func TestMailOfACrashedWorkerIsSentAfterItsLease(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	srv := testkit.StartSMTP(t)
	ids := enqueue(t, db, svc, reset(newUser(t, db), "pl"))
	// A worker claims the mail and dies without a word.
	if _, err := store.ClaimMail(context.Background(), db, 700*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	runWorker(t, svc, srv, mail.WorkerSettings{})
	got := srv.WaitFor(t, 1, 10*time.Second)
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Errorf("sent %s after the claim: the lease was not respected", took)
	}
	exactlyOnce(t, db, got, ids)
	if m := mailRow(t, db, ids[0]); m.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the crashed one and the delivery)", m.Attempts)
	}
}

func TestTwoInstancesSendEachMailOnce(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	// The second instance has its own service (as another process would),
	// sharing only the database.
	cat, _ := i18n.New()
	pub, _ := url.Parse("https://forum.example.pl")
	other, err := mail.New(context.Background(), db, cat, mail.Settings{PublicURL: pub, Deliver: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := testkit.StartSMTP(t)
	srv.Delay(5 * time.Millisecond)
	runWorker(t, svc, srv, mail.WorkerSettings{})
	runWorker(t, other, srv, mail.WorkerSettings{})
	u := newUser(t, db)
	var ids []int64
	for i := range 40 {
		s := svc
		if i%2 == 1 {
			s = other
		}
		ids = append(ids, enqueue(t, db, s, notice(u))...)
	}
	exactlyOnce(t, db, srv.WaitFor(t, 40, 20*time.Second), ids)
}

func TestUnsubscribeLinkIsSignedPerUserAndKind(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	u, v := newUser(t, db), newUser(t, db)
	tok := svc.UnsubscribeToken(u.ID, mail.KindNotification)

	forged := []string{
		"", "x", strings.Replace(tok, mail.KindNotification, mail.KindNewsletter, 1),
		strings.Replace(tok, itoa(u.ID)+".", itoa(v.ID)+".", 1),
		tok[:len(tok)-2] + "AA", itoa(u.ID) + "." + mail.KindPasswordReset + "." + strings.Split(tok, ".")[2],
	}
	for _, f := range forged {
		if _, err := svc.Unsubscribe(context.Background(), f); !errors.Is(err, apperr.ErrNotFound) {
			t.Errorf("forged token %q: err %v, want not found", f, err)
		}
	}
	// A second service without a configured secret shares the stored one:
	// a link mailed by one instance works on every other.
	cat, _ := i18n.New()
	pub, _ := url.Parse("https://forum.example.pl")
	other, err := mail.New(context.Background(), db, cat, mail.Settings{PublicURL: pub})
	if err != nil {
		t.Fatal(err)
	}
	got, err := other.Unsubscribe(context.Background(), tok)
	if err != nil || got.UserID != u.ID || got.Kind != mail.KindNotification {
		t.Fatalf("unsubscribe on another instance: %+v, %v", got, err)
	}
	if _, err := svc.Unsubscribe(context.Background(), tok); err != nil {
		t.Fatalf("unsubscribing twice: %v", err)
	}
	// Notifications to u stop; u's password resets and v's notifications do not.
	ids := enqueue(t, db, svc, notice(u), reset(u, "pl"), notice(v))
	if ids[0] != 0 || ids[1] == 0 || ids[2] == 0 {
		t.Errorf("after unsubscribing from notifications, enqueued ids %v; want [0 n n]", ids)
	}
}

func TestDedupeKeyMailsOnce(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	u := newUser(t, db)
	m := notice(u)
	m.DedupeKey = "digest:" + itoa(u.ID) + ":2026-12-02"
	ids := enqueue(t, db, svc, m, m)
	if ids[0] == 0 || ids[1] != 0 {
		t.Errorf("ids %v, want the second mail with the same key skipped", ids)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestQueueViewIsForAdminsAndHidesDeliveredResetLinks(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	u := newUser(t, db)
	admin := testkit.NewUser(t, db, model.RoleAdmin)
	asAdmin := access.NewActor(admin.User, nil)
	ids := enqueue(t, db, svc, reset(u, "pl"))
	m, err := store.ClaimMail(context.Background(), db, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MarkMailSent(context.Background(), db, m.ID, m.Attempts); err != nil {
		t.Fatal(err)
	}
	d, err := svc.Get(context.Background(), asAdmin, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(d.Text, "/haslo/abc") || strings.Contains(d.HTML, "/haslo/abc") || !strings.Contains(d.Text, "/haslo/…") {
		t.Errorf("a delivered reset link is readable in the queue:\n%s", d.Text)
	}
	if _, err := svc.Get(context.Background(), access.NewActor(u.User, nil), ids[0]); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("a member reads the queue: %v", err)
	}
	if _, err := svc.List(context.Background(), access.NewActor(model.User{}, nil), store.Page{Limit: 10}); !errors.Is(err, apperr.ErrUnauthenticated) {
		t.Errorf("a visitor lists the queue: %v", err)
	}

	// Housekeeping forgets old finished mail, never queued mail.
	old := enqueue(t, db, svc, notice(u))
	if _, err := db.Exec(`UPDATE mails SET created_at = now() - interval '91 days'`); err != nil {
		t.Fatal(err)
	}
	if err := svc.Housekeeping(context.Background()); err != nil {
		t.Fatal(err)
	}
	var left []int64
	if err := db.Select(&left, `SELECT id FROM mails ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != old[0] {
		t.Errorf("after housekeeping mails %v remain, want only the queued %d", left, old[0])
	}
}

// A mail rendered on send (a notification queued by a reply) keeps only its
// content in the queue, well under PostgreSQL's TOAST threshold, and arrives
// — and shows in the queue view — exactly as the same mail rendered when
// queued, escaping included.
func TestMailRenderedOnSendReadsAsRenderedWhenQueued(t *testing.T) {
	db, svc := setup(t, mail.Settings{Deliver: true})
	u := newUser(t, db)
	admin := testkit.NewUser(t, db, model.RoleAdmin)
	now, later := notice(u), notice(u)
	for _, m := range []*mail.Message{&now, &later} {
		m.Build = func(tr *i18n.Printer) mail.Content {
			return mail.Content{Subject: "Odpowiedź w wątku „Budżet <2027>”", Greeting: tr.T("mail.greeting", "Name", u.Name),
				Paragraphs: []string{`Anna <script>alert(1)</script> odpowiada & pyta.`},
				Action:     &mail.Action{Label: "Przejdź do wpisu", URL: "https://forum.example.pl/p/7?a=1&b=2"},
				Small:      []string{"Dostajesz tę wiadomość, bo…"}}
		}
	}
	later.RenderOnSend = true
	ids := enqueue(t, db, svc, now, later)

	var stored struct {
		Text, HTML string
		Content    *string
		Size       int
	}
	if err := db.Get(&stored, `SELECT body_text AS text, body_html AS html, content, pg_column_size(m.*) AS size
		FROM mails m WHERE id = $1`, ids[1]); err != nil {
		t.Fatal(err)
	}
	if stored.Text != "" || stored.HTML != "" || stored.Content == nil || !strings.Contains(*stored.Content, "odpowiada") {
		t.Errorf("stored row: text %q, html %q, content %v; want only the content", stored.Text, stored.HTML, stored.Content)
	}
	if stored.Size > 1000 {
		t.Errorf("stored row is %d bytes; want it far under the TOAST threshold (about 2 KB)", stored.Size)
	}

	asAdmin := access.NewActor(admin.User, nil)
	want, err := svc.Get(context.Background(), asAdmin, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	shown, err := svc.Get(context.Background(), asAdmin, ids[1])
	if err != nil {
		t.Fatal(err)
	}
	if shown.Text != want.Text || shown.HTML != want.HTML || shown.Subject != want.Subject || shown.UnsubscribeURL != want.UnsubscribeURL {
		t.Errorf("queue view of the mail rendered on send differs:\n%s\n%s\nwant\n%s\n%s", shown.Text, shown.HTML, want.Text, want.HTML)
	}
	if strings.Contains(shown.HTML, "<script>") || !strings.Contains(shown.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part not escaped: %s", shown.HTML)
	}

	srv := testkit.StartSMTP(t)
	runWorker(t, svc, srv, mail.WorkerSettings{})
	got := srv.WaitFor(t, 2, 10*time.Second)
	exactlyOnce(t, db, got, ids)
	if got[0].Text != got[1].Text || got[0].HTML != got[1].HTML || got[0].Subject != got[1].Subject ||
		got[0].Header.Get("List-Unsubscribe") != got[1].Header.Get("List-Unsubscribe") {
		t.Errorf("the mail rendered on send arrived different:\n%s\n%s\nvs\n%s\n%s", got[0].Text, got[0].HTML, got[1].Text, got[1].HTML)
	}
	if !strings.Contains(got[1].Text, "odpowiada & pyta") || !strings.Contains(got[1].HTML, `href="https://forum.example.pl/p/7?a=1&amp;b=2"`) {
		t.Errorf("the mail rendered on send lacks its content:\n%s\n%s", got[1].Text, got[1].HTML)
	}
}
