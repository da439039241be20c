package web

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"testing"
)

// threadWatchForm and threadBodyField write, for the thread page, what the
// "watch-form" and "body-field" partials write for the other pages (issue 16):
// both must give the same bytes in every state a thread page can be in.
func TestThreadPageFragmentsMatchPartials(t *testing.T) {
	vw, _ := benchPage(t, "pl")
	for _, lang := range []string{"pl", "en"} {
		_, p := benchPage(t, lang)
		for _, watch := range []string{"watch", "mute", "none"} {
			for _, group := range []string{"", "watch", "mute"} {
				for _, form := range []struct {
					draft, posted, err string
				}{{"", "", ""}, {"> a + b <c> & \"d\" 'e'\n\n", "", ""}, {"", "2+2 <b>", "Za krótki & zły"}, {"x", "y", "błąd"}} {
					d := benchThreadData(1)
					d.Watch, d.GroupWatch, d.Draft = watch, group, form.draft
					p.Data = d
					p.CSRF = "tok+en/\"x"
					p.Form = map[string]string{"body": form.posted}
					p.Errors = nil
					if form.err != "" {
						p.Errors = map[string]string{"body": form.err}
					}
					name := fmt.Sprintf("%s watch=%s group=%s form=%q", lang, watch, group, form)
					var want bytes.Buffer
					if err := vw.chromeSet.ExecuteTemplate(&want, "watch-form", map[string]any{"P": p, "Action": fmt.Sprintf("/t/%d/watch", d.Thread.ID),
						"Kind": "thread", "State": d.Watch, "Group": d.GroupWatch}); err != nil {
						t.Fatal(err)
					}
					got, err := threadWatchForm(p)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != want.String() {
						t.Errorf("watch-form, %s:\n%q\nwant\n%q", name, got, want.String())
					}
					want.Reset()
					if err := vw.chromeSet.ExecuteTemplate(&want, "body-field", map[string]any{"P": p, "Label": "post.body", "Draft": d.Draft,
						"Mention": d.Group.ID}); err != nil {
						t.Fatal(err)
					}
					if got, err = threadBodyField(p); err != nil {
						t.Fatal(err)
					}
					if string(got) != want.String() {
						t.Errorf("body-field, %s:\n%q\nwant\n%q", name, got, want.String())
					}
				}
			}
		}
	}
}

// A list is handed to its template in pieces (htmlChunks) that together are
// exactly the list, each cut at the end of an item once it reached chunkSize;
// the page is the same as with the list in one piece.
func TestListChunks(t *testing.T) {
	vw, p := benchPage(t, "pl")
	d := benchThreadData(50)
	d.PostList = renderPostList(postListPage{tr: p.Tr, lang: p.Lang, now: p.Now, reader: p.Actor, csrf: p.CSRF}, &d)
	if len(d.PostList) < 2 {
		t.Fatalf("50 posts in %d piece(s), want several", len(d.PostList))
	}
	var whole strings.Builder
	for i, c := range d.PostList {
		if i < len(d.PostList)-1 && (len(c) < chunkSize || !strings.HasSuffix(string(c), "</article>")) {
			t.Errorf("piece %d: %d bytes ending %q, want ≥ %d ending after a post", i, len(c), c[max(0, len(c)-20):], chunkSize)
		}
		whole.WriteString(string(c))
	}
	if n := strings.Count(whole.String(), `<article class="post`); n != 50 {
		t.Errorf("the pieces hold %d posts, want 50", n)
	}
	p.Data = d
	var chunked, single bytes.Buffer
	if err := vw.pages["thread"].ExecuteTemplate(&chunked, "layout", p); err != nil {
		t.Fatal(err)
	}
	d.PostList = htmlChunks{template.HTML(whole.String())}
	p.Data = d
	if err := vw.pages["thread"].ExecuteTemplate(&single, "layout", p); err != nil {
		t.Fatal(err)
	}
	if chunked.String() != single.String() || !strings.Contains(single.String(), whole.String()) {
		t.Error("the page with the list in pieces differs from the page with it in one piece")
	}
	var empty htmlWriter
	if c := empty.chunks(); len(c) != 0 {
		t.Errorf("an empty list gave %d pieces", len(c))
	}
}
