package seed_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/seed"
	"github.com/gwd-jst/forumjst/internal/testkit"
	"github.com/gwd-jst/forumjst/internal/topic"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

var tables = []string{"users", "jst", "groups", "memberships", "threads", "thread_areas", "posts", "meetings", "chat_messages", "notes", "support_areas", "tournaments", "tournament_entries", "tournament_ballots"}

func counts(t *testing.T, ctx context.Context, q interface {
	GetContext(context.Context, any, string, ...any) error
}) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range tables {
		var n int
		if err := q.GetContext(ctx, &n, `SELECT count(*) FROM `+tbl); err != nil {
			t.Fatalf("count %s: %v", tbl, err)
		}
		out[tbl] = n
	}
	return out
}

func TestSeedIsIdempotentAndLoginsWork(t *testing.T) {
	ctx := context.Background()
	db := testkit.Open(t, dbURL)
	md := markup.New()

	logins, err := seed.Run(ctx, db, md)
	if err != nil {
		t.Fatalf("first seed: %v", err)
	}
	first := counts(t, ctx, db)
	for _, tbl := range []string{"users", "jst", "groups", "memberships", "threads", "posts", "meetings", "chat_messages", "notes"} {
		if first[tbl] == 0 {
			t.Errorf("seed left %s empty", tbl)
		}
	}
	again, err := seed.Run(ctx, db, md)
	if err != nil {
		t.Fatalf("second seed: %v", err)
	}
	second := counts(t, ctx, db)
	for _, tbl := range tables {
		if first[tbl] != second[tbl] {
			t.Errorf("%s: %d rows after the first seed, %d after the second", tbl, first[tbl], second[tbl])
		}
	}
	if len(again) != len(logins) {
		t.Errorf("second seed printed %d logins, first %d", len(again), len(logins))
	}

	t.Run("groups of every kind", func(t *testing.T) {
		var kinds []string
		if err := db.SelectContext(ctx, &kinds, `SELECT DISTINCT kind FROM groups ORDER BY kind`); err != nil {
			t.Fatal(err)
		}
		if strings.Join(kinds, ",") != "common,county,rural,urban" {
			t.Errorf("group kinds %v", kinds)
		}
	})

	t.Run("ended meeting's chat is gap-free", func(t *testing.T) {
		var ended []model.Meeting
		if err := db.SelectContext(ctx, &ended, `SELECT id, last_seq FROM meetings WHERE status = 'ended'`); err != nil {
			t.Fatal(err)
		}
		if len(ended) != 1 {
			t.Fatalf("%d ended meetings, want 1", len(ended))
		}
		var seqs []int64
		if err := db.SelectContext(ctx, &seqs, `SELECT seq FROM chat_messages WHERE meeting_id = $1 ORDER BY seq`, ended[0].ID); err != nil {
			t.Fatal(err)
		}
		if len(seqs) == 0 {
			t.Fatal("the ended meeting has no chat")
		}
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("chat seqs %v are not 1..%d", seqs, len(seqs))
			}
		}
		if ended[0].LastSeq != int64(len(seqs)) {
			t.Errorf("meeting last_seq %d, want %d", ended[0].LastSeq, len(seqs))
		}
		var byTime []int64
		if err := db.SelectContext(ctx, &byTime, `SELECT seq FROM chat_messages WHERE meeting_id = $1 ORDER BY created_at, id`, ended[0].ID); err != nil {
			t.Fatal(err)
		}
		for i := range byTime {
			if byTime[i] != seqs[i] {
				t.Fatalf("seq order %v differs from time order", byTime)
			}
		}
		var scheduled int
		if err := db.GetContext(ctx, &scheduled, `SELECT count(*) FROM meetings WHERE status = 'scheduled' AND starts_at > now()`); err != nil {
			t.Fatal(err)
		}
		if scheduled != 1 {
			t.Errorf("%d upcoming meetings, want 1", scheduled)
		}
	})

	t.Run("every demo login works", func(t *testing.T) {
		if len(logins) < 6 {
			t.Fatalf("only %d demo logins", len(logins))
		}
		acc, err := accounts.New(db, topic.Discard{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), accounts.Settings{
			SessionIdle: time.Hour, SessionMax: 24 * time.Hour, LoginAccountFailures: 5, LoginIPFailures: 1000, LoginWindow: 15 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		roles := map[string]bool{}
		for _, l := range logins {
			token, p, err := acc.Login(ctx, l.Email, seed.DemoPassword, "127.0.0.1", "seed-test", "")
			if err != nil {
				t.Errorf("demo login %s: %v", l.Email, err)
				continue
			}
			if token == "" || p.User.Email != l.Email || p.User.Name != l.Name {
				t.Errorf("demo login %s gave %+v", l.Email, p.User)
			}
			// The printed role is the account's: a global role, or "<group role> (<slug>)".
			got := p.User.Role
			for _, m := range p.Memberships {
				var slug string
				if err := db.GetContext(ctx, &slug, `SELECT slug FROM groups WHERE id = $1`, m.GroupID); err != nil {
					t.Fatal(err)
				}
				got = m.Role + " (" + slug + ")"
			}
			if got != l.Role {
				t.Errorf("%s is printed as %q but is %q", l.Email, l.Role, got)
			}
			roles[strings.Fields(l.Role)[0]] = true
		}
		for _, r := range []string{"admin", "staff", "moderator", "member", "observer"} {
			if !roles[r] {
				t.Errorf("no demo login for %s (have %v)", r, roles)
			}
		}
	})
}
