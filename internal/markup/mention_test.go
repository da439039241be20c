package markup

import (
	"slices"
	"strings"
	"testing"
)

func TestMentionCandidates(t *testing.T) {
	got := MentionCandidates("Dzień dobry @Katarzyna Wójcik, pisze jan@gmina.pl\n@Ann-Marie x")
	for _, want := range []string{"Katarzyna", "Katarzyna Wójcik", "Ann", "Ann-Marie", "Ann-Marie x"} {
		if !slices.Contains(got, want) {
			t.Errorf("candidates %q lack %q", got, want)
		}
	}
	for _, c := range got {
		if strings.Contains(c, ",") || strings.Contains(c, "\n") {
			t.Errorf("candidate %q runs past the end of a name", c)
		}
	}
}

func TestRenderMentions(t *testing.T) {
	r := New()
	people := People{"Katarzyna Wójcik": 7, "Anna Nowak": 8, "Anna Nowak-Kowalska": 9, "<b>Zły</b>": 10}
	html, ids, err := r.RenderMentions("Pytanie do @Katarzyna Wójcik i @Anna Nowak-Kowalska; `@Anna Nowak` w kodzie; "+
		"mail@Anna Nowak; @Katarzyna Wójcik znowu; @<b>Zły</b>", people)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{7, 9}) {
		t.Errorf("mentioned %v, want [7 9] (code and addresses are not mentions; each person once)", ids)
	}
	for _, want := range []string{`<a href="/u/7" rel="nofollow ugc noopener">@Katarzyna Wójcik</a>`,
		`<a href="/u/9" rel="nofollow ugc noopener">@Anna Nowak-Kowalska</a>`, `<code>@Anna Nowak</code>`} {
		if !strings.Contains(html, want) {
			t.Errorf("html lacks %s:\n%s", want, html)
		}
	}
	if strings.Contains(html, "<b>") {
		t.Errorf("a name is text, never markup: %s", html)
	}
	// Without people nothing is linked and the text is as Render makes it.
	plain, ids, err := r.RenderMentions("@Katarzyna Wójcik", nil)
	if err != nil || len(ids) != 0 || strings.Contains(plain, "<a") {
		t.Errorf("no people: %q %v %v", plain, ids, err)
	}
}
