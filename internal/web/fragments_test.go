package web

import (
	"bytes"
	"fmt"
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
