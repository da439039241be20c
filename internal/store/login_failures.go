package store

import (
	"context"
	"fmt"
	"time"
)

// FailureStats summarises recent login failures for one key.
type FailureStats struct {
	Count int        `db:"count"`
	Last  *time.Time `db:"last"`
}

func RecordLoginFailure(ctx context.Context, q Q, account, ip string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO login_failures (account, ip) VALUES ($1, $2)`, account, ip)
	if err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// LoginFailures counts failures in the window, per account and per address.
func LoginFailures(ctx context.Context, q Q, account, ip string, window time.Duration) (byAccount, byIP FailureStats, err error) {
	err = one(ctx, q, &byAccount, "count account login failures", `
		SELECT count(*) AS count, max(failed_at) AS last FROM login_failures
		WHERE account = $1 AND failed_at > now() - make_interval(secs => $2)`, account, window.Seconds())
	if err != nil {
		return
	}
	err = one(ctx, q, &byIP, "count address login failures", `
		SELECT count(*) AS count, max(failed_at) AS last FROM login_failures
		WHERE ip = $1 AND failed_at > now() - make_interval(secs => $2)`, ip, window.Seconds())
	return
}

// ClearLoginFailures forgets an account's failures after a successful login.
func ClearLoginFailures(ctx context.Context, q Q, account string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM login_failures WHERE account = $1`, account)
	if err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

func DeleteOldLoginFailures(ctx context.Context, q Q, window time.Duration) error {
	_, err := q.ExecContext(ctx, `DELETE FROM login_failures WHERE failed_at < now() - make_interval(secs => $1)`, window.Seconds())
	if err != nil {
		return fmt.Errorf("delete old login failures: %w", err)
	}
	return nil
}
