package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/topic"
)

// DB is the pool a service writes through: InTx runs a unit of work on it and
// announces what the unit recorded to the announcer, after the commit. It
// embeds *sqlx.DB, so it is a Q for every store function that reads outside a
// transaction.
type DB struct {
	*sqlx.DB
	announcer topic.Announcer
	notified  NotificationHook
}

// NotificationHook is told, inside the unit of work, of the notifications it
// just recorded, so that what follows from them (a mail to each recipient
// who wants it at once) commits or rolls back with them. The app's relay is
// one: an announcer that also implements it gets it called by every unit of
// work of the services built on it — no service has to remember.
type NotificationHook interface {
	Notified(ctx context.Context, tx *Tx, n NewNotifications, sent []SentNotification) error
}

// NewDB pairs a pool with the announcer that learns its committed changes
// (and, if it is also a NotificationHook, of notifications as recorded).
func NewDB(db *sqlx.DB, a topic.Announcer) *DB {
	d := &DB{DB: db, announcer: a}
	if h, ok := a.(NotificationHook); ok {
		d.notified = h
	}
	return d
}

// Tx is a unit of work: a transaction that also collects the events its
// changes must announce. It embeds *sqlx.Tx, so it is a Q for every store
// function.
type Tx struct {
	*sqlx.Tx
	// pool is the pool the transaction came from: a statement prepared on
	// another pool cannot run in it (Prepared.In falls back to plain ones).
	pool     *sqlx.DB
	events   topic.Events
	quiet    bool
	notified NotificationHook
}

// Notified hands notifications just recorded in this unit of work to the
// DB's NotificationHook, if any (notify.Record calls it).
func (tx *Tx) Notified(ctx context.Context, n NewNotifications, sent []SentNotification) error {
	if tx.notified == nil || len(sent) == 0 {
		return nil
	}
	return tx.notified.Notified(ctx, tx, n, sent)
}

// Touch records that topic changed (seq: its newest log position, a
// notification's id, or 0 for "re-read its state"); announced after the
// commit, each distinct change once and in the order first touched. A user
// topic's seq names one notification to push, so changes with different seqs
// are all kept.
func (tx *Tx) Touch(name string, seq int64) {
	c := topic.Change{Topic: name, Seq: seq}
	if !slices.Contains(tx.events.Changes, c) {
		tx.events.Changes = append(tx.events.Changes, c)
	}
}

// Revoke records that userID's live connections must re-check their session
// once the change has committed.
func (tx *Tx) Revoke(userID int64, sessionsEnded bool) {
	for i, r := range tx.events.Revocations {
		if r.UserID == userID {
			tx.events.Revocations[i].SessionsEnded = r.SessionsEnded || sessionsEnded
			return
		}
	}
	tx.events.Revocations = append(tx.events.Revocations, topic.Revocation{UserID: userID, SessionsEnded: sessionsEnded})
}

// Mailed records that a mail was queued in this unit of work (mail.Service's
// Enqueue calls it), so that the mail worker is woken once it has committed.
func (tx *Tx) Mailed() { tx.events.Mails++ }

// Quiet declares that this unit of work may commit without announcing
// anything: a write nobody follows live (a new account, a JST, a 2FA secret).
// Without it, a unit that recorded no event is rolled back (see InTx).
func (tx *Tx) Quiet() { tx.quiet = true }

// ErrUnannounced is the error of a unit of work that would have committed a
// change without announcing it and without saying Quiet. It is a programming
// error: every test that runs the path fails, instead of open pages lagging
// 30 s behind in production.
var ErrUnannounced = errors.New("unit of work commits without announcing anything (call Touch, Revoke, Mailed or Quiet)")

// InTx runs fn as one unit of work: in a transaction that commits when fn
// returns nil, after which the events fn recorded are handed to the
// announcer — never inside the transaction, and never when it rolled back.
func InTx(ctx context.Context, db *DB, fn func(tx *Tx) error) error {
	stx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	tx := &Tx{Tx: stx, pool: db.DB, notified: db.notified}
	if err := fn(tx); err != nil {
		_ = stx.Rollback()
		return err
	}
	if tx.events.Empty() && !tx.quiet {
		_ = stx.Rollback()
		return ErrUnannounced
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if !tx.events.Empty() {
		db.announcer.Announce(ctx, tx.events)
	}
	return nil
}
