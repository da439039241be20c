package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/model"
)

// The thread and group pages' rendering alone, without a database: what
// html/template costs per page of 50 posts (or threads), to iterate on the
// templates with `go test -run '^$' -bench Render ./internal/web/`. The load
// benchmarks in internal/loadtest measure the whole request.

func benchPage(b testing.TB, lang string) (*views, Page) {
	b.Helper()
	st, err := newStaticFiles()
	if err != nil {
		b.Fatal(err)
	}
	vw, err := newViews(st)
	if err != nil {
		b.Fatal(err)
	}
	cat, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	u := model.User{ID: 7, Name: "Katarzyna Wójcik", Role: model.RoleMember}
	a := access.NewActor(u, []model.Membership{{GroupID: 3, Role: model.GroupMember}})
	return vw, Page{Title: "Wspólny zakup energii", Tr: cat.Printer(lang), Lang: lang, Nav: "index", Path: "/t/42",
		User: &u, Actor: a, CSRF: "csrf-token-0123456789", Now: time.Now()}
}

func benchThreadData(n int) threadPageData {
	now := time.Now()
	jst := "Gmina Wiązowna"
	body := strings.Repeat("<p>Szanowni Państwo, w załączeniu <strong>wzór</strong> umowy i <a href=\"https://gwd.example.pl/x\" rel=\"nofollow ugc noopener\">link</a>.</p>\n", 8)
	v := forum.ThreadView{Thread: forum.Thread{ID: 42, GroupID: 3, Title: "Wspólny zakup energii", PostCount: 260, Areas: []forum.AreaRef{{ID: 1, Name: "Energia"}}},
		Group: model.Group{ID: 3, Name: "GWD gmin wiejskich – Mazowsze", Kind: model.KindRural}, Page: 2, PageCount: 6, CanPost: true, CanReport: true,
		Watch: "watch", GroupWatch: ""}
	for i := range n {
		p := forum.Post{ID: int64(1000 + i), ThreadID: 42, Position: 51 + i, Author: forum.Author{ID: int64(i%9 + 1), Name: fmt.Sprintf("Autor Nazwisko%d", i%9)},
			BodyHTML: body, Body: "x", Version: 1, CreatedAt: now.Add(-time.Duration(n-i) * 37 * time.Minute)}
		if i%3 == 0 {
			p.Author.JST = &jst
		}
		if i%7 == 0 {
			p.AuthorRole = "moderator"
		}
		if i%9 == 6 {
			p.CanEdit, p.CanDelete = true, true
		}
		if i%5 == 0 {
			t := p.CreatedAt.Add(time.Minute)
			p.EditedAt = &t
		}
		v.Posts = append(v.Posts, p)
	}
	return threadPageData{ThreadView: v, UnreadAnchor: 60, UnreadPage: 2}
}

func BenchmarkRenderThreadPage(b *testing.B) {
	for _, lang := range []string{"pl", "en"} {
		b.Run(lang, func(b *testing.B) {
			vw, p := benchPage(b, lang)
			d := benchThreadData(forum.PageSize)
			t := vw.pages["thread"]
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				d.PostList = renderPostList(postListPage{tr: p.Tr, lang: p.Lang, now: p.Now, reader: p.Actor, csrf: p.CSRF}, &d)
				p.Data = d
				if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes/page")
		})
	}
}

// The naive one-query page's template (internal/loadtest/baseline_test.go) on
// the same 50 posts: the floor the thread page's rendering is compared with.
var naiveThreadTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="pl"><head><meta charset="utf-8"><title>Wątek {{.Thread}}</title></head>
<body><h1>Wątek {{.Thread}}, strona {{.Page}}</h1>
{{range .Posts}}<article class="post" id="p{{.ID}}"><h2>{{.Author.Name}}</h2> <a href="/p/{{.ID}}">#{{.Position}}</a>
<time>{{.CreatedAt.Format "02.01.2006 15:04"}}</time>
<div class="post-body">{{.HTML}}</div></article>
{{end}}</body></html>`))

type naiveBenchPost struct{ forum.Post }

func (p naiveBenchPost) HTML() template.HTML { return template.HTML(p.BodyHTML) }

func BenchmarkRenderNaivePage(b *testing.B) {
	d := benchThreadData(forum.PageSize)
	posts := make([]naiveBenchPost, len(d.Posts))
	for i, p := range d.Posts {
		posts[i] = naiveBenchPost{p}
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := naiveThreadTemplate.Execute(&buf, map[string]any{"Thread": 42, "Page": 2, "Posts": posts}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}

func benchGroupData(n int) groupPageData {
	now := time.Now()
	v := forum.GroupView{Group: model.Group{ID: 3, Name: "GWD gmin wiejskich – Mazowsze", Kind: model.KindRural, Description: "Grupa"},
		CanWrite: true, CanOpenThreads: true, Watch: "none", Areas: []model.Area{{ID: 1, Name: "Energia"}, {ID: 2, Name: "Oświata"}}}
	for i := range n {
		t := forum.ThreadItem{Thread: forum.Thread{ID: int64(500 + i), GroupID: 3, Title: fmt.Sprintf("Wątek numer %d o zakupach & umowach", i),
			PostCount: 3 + i*7, Author: forum.Author{ID: int64(i%9 + 1), Name: fmt.Sprintf("Autor Nazwisko%d", i%9)},
			LastActivityAt: now.Add(-time.Duration(i*i) * 13 * time.Minute), Areas: []forum.AreaRef{}}}
		if i%4 == 0 {
			t.Areas = []forum.AreaRef{{ID: 1, Name: "Energia"}, {ID: 2, Name: "Oświata <i>"}}
		}
		t.Pinned, t.Locked, t.Hidden = i == 0, i%6 == 1, i%8 == 2
		t.Unread, t.NeverRead = (i%3)*4, i%5 == 0
		v.Threads = append(v.Threads, t)
	}
	return groupPageData{GroupView: v, Sort: "activity", Page: 1, HasMore: true}
}

func BenchmarkRenderGroupPage(b *testing.B) {
	vw, p := benchPage(b, "pl")
	d := benchGroupData(forum.PageSize)
	t := vw.pages["group"]
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		d.ThreadList = renderThreadList(postListPage{tr: p.Tr, lang: p.Lang, now: p.Now}, &d)
		p.Data = d
		if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/page")
}
