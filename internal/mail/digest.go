package mail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/store"
)

// The daily digest (issue 12 item 5): once a day, at DigestHour in Warsaw,
// one mail per person listing what is new since their previous digest — the
// unread notifications of the kinds they want in the digest and the threads
// opened in their groups — and nothing when nothing is new. Every instance
// runs the schedule; the claim row per person and day (store.ClaimDigest)
// lets exactly one of them queue each person's mail.

const (
	digestBatch    = 200 // people per read of candidates
	digestMaxItems = 50  // lines per section of one digest
)

// DigestDay is the Warsaw calendar day of t, at midnight UTC (the date a
// claim row stores).
func DigestDay(t time.Time, zone *time.Location) time.Time {
	y, m, d := t.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DigestTime is when the digest of day runs: hour:00 Warsaw time that day.
// time.Date resolves the hour in the zone's offset of that day, so it is
// 07:00 local in winter (06:00 UTC) and in summer (05:00 UTC) alike.
func DigestTime(day time.Time, hour int, zone *time.Location) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), hour, 0, 0, 0, zone)
}

// NextDigest is the first digest time after now, and the day it is for.
func NextDigest(now time.Time, hour int, zone *time.Location) (time.Time, time.Time) {
	day := DigestDay(now, zone)
	at := DigestTime(day, hour, zone)
	if !at.After(now) {
		day = day.AddDate(0, 0, 1)
		at = DigestTime(day, hour, zone)
	}
	return at, day
}

// RunDigest queues the digests of day (a Warsaw date) for everybody who has
// none for it yet and returns how many mails it queued. The period ends at
// the day's digest time; it starts where each person's previous digest
// ended, or a day before. Safe to run on several instances at once and to
// run again: a person's claim is taken once.
func (s *Service) RunDigest(ctx context.Context, day time.Time, hour int) (int, error) {
	zone := s.cat.Printer(s.set.DefaultLang).Zone()
	until := DigestTime(day, hour, zone)
	sent := 0
	var after int64
	for {
		people, err := store.DigestCandidates(ctx, s.db, day, after, digestBatch)
		if err != nil {
			return sent, err
		}
		for _, p := range people {
			ok, err := s.digestOne(ctx, p, day, until)
			if err != nil {
				return sent, fmt.Errorf("digest of user %d: %w", p.UserID, err)
			}
			if ok {
				sent++
			}
			after = p.UserID
		}
		if len(people) < digestBatch {
			return sent, nil
		}
	}
}

// digestOne claims and, when something is new, queues one person's digest,
// all in one unit of work: the claim commits with the mail or not at all.
func (s *Service) digestOne(ctx context.Context, p store.MailRecipient, day, until time.Time) (bool, error) {
	queued := false
	err := store.InTx(ctx, s.udb, func(tx *store.Tx) error {
		since, claimed, err := store.ClaimDigest(ctx, tx, p.UserID, day, until, until.AddDate(0, 0, -1))
		if err != nil {
			return err
		}
		tx.Quiet() // a claim without a mail is news to nobody
		if !claimed {
			return nil
		}
		notes, err := store.DigestNotifications(ctx, tx, p.UserID, since, until, immediateDefaults, digestMaxItems)
		if err != nil {
			return err
		}
		var threads []store.DigestThread
		if mode, err := s.modeOf(ctx, tx, p.UserID, PrefNewThread); err != nil {
			return err
		} else if mode == Digest {
			if threads, err = store.DigestThreads(ctx, tx, p.UserID, since, until, digestMaxItems); err != nil {
				return err
			}
		}
		if len(notes)+len(threads) == 0 {
			return store.RecordDigest(ctx, tx, p.UserID, day, 0, 0)
		}
		id, err := s.Enqueue(ctx, tx, s.digestMessage(p, day, notes, threads))
		if err != nil {
			return err
		}
		queued = id != 0
		return store.RecordDigest(ctx, tx, p.UserID, day, len(notes)+len(threads), id)
	})
	return queued, err
}

func (s *Service) modeOf(ctx context.Context, q store.Q, userID int64, kind string) (string, error) {
	rows, err := store.MailPrefs(ctx, q, userID)
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		if r.Kind == kind {
			return r.Mode, nil
		}
	}
	return DefaultMode(kind), nil
}

func (s *Service) digestMessage(p store.MailRecipient, day time.Time, notes []store.DigestNotification, threads []store.DigestThread) Message {
	return Message{To: p.Email, UserID: p.UserID, Lang: p.Lang, Kind: KindDigest, Pref: KindDigest,
		DedupeKey: fmt.Sprintf("digest:%d:%s", p.UserID, day.Format(time.DateOnly)),
		Build: func(tr *i18n.Printer) Content {
			c := Content{
				Subject:    tr.T("mail.digest.subject", "Date", tr.Date(DigestTime(day, 12, tr.Zone()))),
				Greeting:   tr.T("mail.greeting", "Name", p.Name),
				Paragraphs: []string{tr.T("mail.digest.intro")},
				Action:     &Action{Label: tr.T("mail.digest.action"), URL: s.URL("/notifications")},
				Small:      []string{tr.T("mail.digest.why", "URL", s.URL("/konto/poczta"))},
			}
			if len(notes) > 0 {
				sec := Section{Heading: tr.N("mail.digest.notifications", len(notes))}
				for _, n := range notes {
					actor := tr.T("mail.notice.someone")
					if n.ActorName != nil {
						actor = *n.ActorName
					}
					sec.Items = append(sec.Items, Item{
						Text: noticeText(tr, n.Kind, "subject", actor, n.Title) + " (" + n.GroupName + ")",
						URL:  s.URL(TargetPath(n.TargetType, n.TargetID))})
				}
				c.Sections = append(c.Sections, sec)
			}
			if len(threads) > 0 {
				sec := Section{Heading: tr.N("mail.digest.threads", len(threads))}
				for _, t := range threads {
					sec.Items = append(sec.Items, Item{
						Text: tr.T("mail.digest.thread", "Title", t.Title, "Group", t.GroupName, "Author", t.AuthorName),
						URL:  s.URL(fmt.Sprintf("/t/%d", t.ID))})
				}
				c.Sections = append(c.Sections, sec)
			}
			return c
		}}
}

// DigestScheduler runs the digest every day at Hour Warsaw time.
type DigestScheduler struct {
	Mail *Service
	Hour int
	Log  *slog.Logger
	// Now is the clock (time.Now; tests move it).
	Now func() time.Time
}

// Run runs until ctx ends. On start it catches up on today's digest when
// its time has passed (an instance that was down at 07:00, or the only one
// started later); the claims keep that from mailing anybody twice.
func (d DigestScheduler) Run(ctx context.Context) {
	if d.Hour < 0 || d.Hour > 23 {
		return // off on this instance
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	zone := d.Mail.cat.Printer(d.Mail.set.DefaultLang).Zone()
	today := DigestDay(now(), zone)
	if !DigestTime(today, d.Hour, zone).After(now()) {
		d.run(ctx, today)
	}
	for {
		at, day := NextDigest(now(), d.Hour, zone)
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		d.run(ctx, day)
	}
}

func (d DigestScheduler) run(ctx context.Context, day time.Time) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	n, err := d.Mail.RunDigest(rctx, day, d.Hour)
	if err != nil && ctx.Err() == nil {
		d.Log.Error("daily digest", "day", day.Format(time.DateOnly), "err", err)
		return
	}
	d.Log.Info("daily digest", "day", day.Format(time.DateOnly), "mails", n)
}
