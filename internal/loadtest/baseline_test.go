package loadtest

import (
	"bytes"
	"context"
	"html/template"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/database"
	"github.com/gwd-jst/forumjst/internal/forum"
)

// The SPEC §8 anchor "naive one-query Fiber page": a minimal Fiber app that
// answers a thread page with ONE SQL query (50 posts joined with their authors)
// rendered by a trivial html/template. No session, no permissions, no read
// position, no layout: the ceiling of "Fiber + PostgreSQL + a template" on this
// machine, measured with the same client loop and the same pages as ours.

const naiveQuery = `
	SELECT p.id, p.position, u.display_name, p.body_html, p.created_at
	FROM posts p JOIN users u ON u.id = p.author_id
	WHERE p.thread_id = $1 AND p.position BETWEEN $2 AND $3
	ORDER BY p.position`

var naivePage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><title>Wątek {{.Thread}}</title></head>
<body><h1>Wątek {{.Thread}}, strona {{.Page}}</h1>
{{range .Posts}}<article class="post" id="p{{.ID}}"><h2>{{.Author}}</h2> <a href="/p/{{.ID}}">#{{.Position}}</a>
<time>{{.CreatedAt.Format "02.01.2006 15:04"}}</time>
<div class="post-body">{{.HTML}}</div></article>
{{end}}</body></html>`))

type naivePost struct {
	ID        int64     `db:"id"`
	Position  int       `db:"position"`
	Author    string    `db:"display_name"`
	BodyHTML  string    `db:"body_html"`
	CreatedAt time.Time `db:"created_at"`
}

func (p naivePost) HTML() template.HTML { return template.HTML(p.BodyHTML) }

// startNaive runs the naive server on a loopback port until the benchmark ends.
func startNaive(b *testing.B) string {
	b.Helper()
	db, err := database.Open(context.Background(), dbURL, 20) // the app's pool size
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/t/:id", func(c *fiber.Ctx) error {
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil {
			return fiber.ErrNotFound
		}
		page := c.QueryInt("page", 1)
		from := (page-1)*forum.PageSize + 1
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var posts []naivePost
		if err := db.SelectContext(ctx, &posts, naiveQuery, id, from, from+forum.PageSize-1); err != nil {
			return err
		}
		if len(posts) == 0 {
			return fiber.ErrNotFound
		}
		var buf bytes.Buffer
		if err := naivePage.Execute(&buf, map[string]any{"Thread": id, "Page": page, "Posts": posts}); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(buf.Bytes())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln)
	}()
	b.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		<-done
	})
	return "http://" + ln.Addr().String()
}
