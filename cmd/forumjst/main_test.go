package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// waitUntil polls cond; it only waits for the server, it asserts nothing about time.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A request in flight when SIGTERM arrives is still answered, and serve returns
// nil once it has been.
func TestGracefulShutdown(t *testing.T) {
	addr := freeAddr(t)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("FORUM_ADDR", addr)
	t.Setenv("FORUM_PUBLIC_URL", "http://"+addr)
	t.Setenv("FORUM_LOG_LEVEL", "error")

	ctx, cancel := context.WithCancel(context.Background()) // what signal.NotifyContext gives main
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, nil) }()

	client := &http.Client{Timeout: 5 * time.Second}
	waitUntil(t, "the server answers /healthz", func() bool {
		select {
		case err := <-done:
			t.Fatalf("serve returned early: %v", err)
		default:
		}
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	client.CloseIdleConnections()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Headers without the final blank line: the request is in flight.
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: "+addr+"\r\nUser-Agent: shutdown-test\r\n"); err != nil {
		t.Fatal(err)
	}

	cancel() // SIGTERM
	// Shutdown has begun once the listener refuses new connections.
	waitUntil(t, "the listener is closed", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) while a request was still in flight", err)
	default:
	}

	if _, err := io.WriteString(conn, "\r\n"); err != nil {
		t.Fatalf("finish the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the in-flight request was not answered: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("in-flight request answered %d %s", resp.StatusCode, body)
	}
	if err := <-done; err != nil {
		t.Errorf("serve returned %v after a graceful shutdown, want nil", err)
	}
}

// withStdin replaces os.Stdin with a pipe holding input.
func withStdin(t *testing.T, input string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, input); err != nil {
		t.Fatal(err)
	}
	w.Close()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
}

func TestReadPassword(t *testing.T) {
	for _, tc := range []struct {
		name, env, stdin, want, err string
	}{
		{"first line of stdin", "", "pierwsza-linia-hasla\ndruga linia\n", "pierwsza-linia-hasla", ""},
		{"CRLF line ending", "", "haslo z odstepami\r\n", "haslo z odstepami", ""},
		{"no final newline", "", "bez-konca-linii", "bez-konca-linii", ""},
		{"environment wins", "haslo-ze-srodowiska", "haslo-ze-stdin\n", "haslo-ze-srodowiska", ""},
		{"empty stdin", "", "", "", "no password"},
		{"empty first line", "", "\nhaslo\n", "", "no password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("FORUM_ADMIN_PASSWORD", tc.env)
			withStdin(t, tc.stdin)
			got, err := readPassword()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("readPassword() = %q, %v; want an error about %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("readPassword() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCreateAdminNeedsEmailAndName(t *testing.T) {
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("FORUM_ADMIN_PASSWORD", "haslo-administratora-1")
	for _, args := range [][]string{
		{},
		{"--email", "a@gmina.example"},
		{"--name", "Anna Admin"},
		{"--email", "", "--name", "Anna Admin"},
	} {
		err := createAdmin(context.Background(), args)
		if err == nil || !strings.Contains(err.Error(), "--email and --name are required") {
			t.Errorf("createAdmin(%q) = %v, want a refusal", args, err)
		}
	}
	if err := createAdmin(context.Background(), []string{"--password", "x"}); err == nil {
		t.Error("createAdmin accepted a --password flag")
	}
}

func TestCreateAdminTwicePromotesAndResets(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DATABASE_URL", dbURL)
	db := testkit.Open(t, dbURL)
	email := "admin" + testkit.Unique() + "@gmina.example"

	type row struct {
		ID       int64  `db:"id"`
		Role     string `db:"role"`
		Disabled bool   `db:"disabled"`
		Name     string `db:"display_name"`
		Hash     string `db:"password_hash"`
	}
	load := func() row {
		var r row
		if err := db.GetContext(ctx, &r, `SELECT id, role, disabled, display_name, password_hash FROM users WHERE lower(email) = lower($1)`, email); err != nil {
			t.Fatalf("load %s: %v", email, err)
		}
		return r
	}

	t.Setenv("FORUM_ADMIN_PASSWORD", "pierwsze-haslo-admina")
	if err := createAdmin(ctx, []string{"--email", email, "--name", "Anna Administratorka"}); err != nil {
		t.Fatalf("first create-admin: %v", err)
	}
	first := load()
	if first.Role != "admin" || first.Disabled || first.Name != "Anna Administratorka" {
		t.Errorf("after the first run: %+v", first)
	}

	// Someone demotes and disables the account, and it has a session.
	if _, err := db.ExecContext(ctx, `UPDATE users SET role = 'member', disabled = true WHERE id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES ('\x01', $1, 'x', now() + interval '1 day')`, first.ID); err != nil {
		t.Fatal(err)
	}

	t.Setenv("FORUM_ADMIN_PASSWORD", "drugie-haslo-admina")
	if err := createAdmin(ctx, []string{"--email", strings.ToUpper(email), "--name", "Inna Nazwa"}); err != nil {
		t.Fatalf("second create-admin: %v", err)
	}
	second := load()
	if second.ID != first.ID {
		t.Errorf("second run created user %d instead of resetting %d", second.ID, first.ID)
	}
	if second.Role != "admin" || second.Disabled {
		t.Errorf("after the second run: role %s, disabled %v; want an enabled admin", second.Role, second.Disabled)
	}
	if ok, _ := accounts.VerifyPassword("drugie-haslo-admina", second.Hash); !ok {
		t.Error("the password was not reset")
	}
	if ok, _ := accounts.VerifyPassword("pierwsze-haslo-admina", second.Hash); ok {
		t.Error("the old password still works")
	}
	var sessions, users int
	if err := db.GetContext(ctx, &sessions, `SELECT count(*) FROM sessions WHERE user_id = $1`, first.ID); err != nil {
		t.Fatal(err)
	}
	if sessions != 0 {
		t.Errorf("%d old sessions survive the reset", sessions)
	}
	if err := db.GetContext(ctx, &users, `SELECT count(*) FROM users WHERE lower(email) = lower($1)`, email); err != nil {
		t.Fatal(err)
	}
	if users != 1 {
		t.Errorf("%d accounts with the email", users)
	}
	var audit []string
	if err := db.SelectContext(ctx, &audit, `SELECT details->>'created' FROM audit_log WHERE action = 'user.create_admin' AND target_id = $1 ORDER BY id`, first.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(audit, ",") != "true,false" {
		t.Errorf("audit entries for create-admin: %v, want created true then false", audit)
	}

	// A weak password is refused with a readable message.
	t.Setenv("FORUM_ADMIN_PASSWORD", "krotkie")
	err := createAdmin(ctx, []string{"--email", "inny" + testkit.Unique() + "@gmina.example", "--name", "Ktoś"})
	if err == nil || !strings.Contains(err.Error(), "password") || strings.Contains(err.Error(), "err.") {
		t.Errorf("weak password: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "krotkie") {
		t.Error("the error echoes the password")
	}
}
