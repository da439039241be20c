package browsertest

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var tournamentPathRE = regexp.MustCompile(`^/turnieje/([0-9]+)$`)

// The tournament with the browser alone (issue 15): staff open a round with
// the form (after an error), a member enters their group's practice
// (withdraws it, confirmed, and enters it again), votes
// on another JST's practice while staff watch the count rise live, staff
// close the round (refused without the confirmation), and the member reads
// the results — every page axe-clean at 1280 and 360 px, no sideways
// scrolling on the phone.
func TestTournamentVoteWithTheBrowser(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	env := s.env
	gA, gB := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	staffU, member, other := env.NewUser(model.RoleStaff), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(member.ID, gA.ID, model.GroupMember)
	env.AddMember(other.ID, gB.ID, model.GroupMember)
	jst := func(name string) int64 {
		var id int64
		if err := env.DB.Get(&id, `INSERT INTO jst (name, kind, voivodeship) VALUES ($1, 'gmina_wiejska', 'mazowieckie') RETURNING id`, name+" "+testkit.Unique()); err != nil {
			t.Fatal(err)
		}
		return id
	}
	jA, jB := jst("Gmina Zielona"), jst("Gmina Leśna")
	for u, j := range map[int64]int64{member.ID: jA, other.ID: jB} {
		if _, err := env.DB.Exec(`UPDATE users SET jst_id = $2 WHERE id = $1`, u, j); err != nil {
			t.Fatal(err)
		}
	}
	practice := func(g, j, author int64, title string) int64 {
		var id int64
		if err := env.DB.Get(&id, `INSERT INTO practices (group_id, jst_id, author_id, title, status) VALUES ($1, $2, $3, $4, 'published') RETURNING id`,
			g, j, author, title); err != nil {
			t.Fatal(err)
		}
		return id
	}
	pA := practice(gA.ID, jA, member.ID, "Wspólne zakupy energii dla szkół")
	pB := practice(gB.ID, jB, other.ID, "Rada rodziców przy budżecie oświaty")

	// Staff open a round with the form: first an error, then valid.
	st := s.newTab(t)
	st.loginAs(staffU)
	if code := st.open("/turnieje/nowy"); code != 200 {
		t.Fatalf("GET /turnieje/nowy = %d", code)
	}
	st.checkPage("tournament-new")
	if code := st.submit("open without a title and groups", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); code != 400 {
		t.Fatalf("invalid round = %d, want 400", code)
	}
	summary := eval[string](st, `document.querySelector(".error-summary").textContent`)
	for _, want := range []string{"Tytuł", "Grupy:", "Początek głosowania"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary does not name %q: %s", want, summary)
		}
	}
	st.checkPage("tournament-new-error")
	warsaw, _ := time.LoadLocation("Europe/Warsaw")
	start := time.Now().In(warsaw).Add(2 * time.Hour)
	st.do("fill in the round",
		chromedp.SetValue(chromedp.CSS("#f-title"), "Turniej testowy "+testkit.Unique()),
		chromedp.SetValue(chromedp.CSS("#f-voting_starts_at"), start.Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS("#f-voting_ends_at"), start.Add(48*time.Hour).Format("2006-01-02T15:04")),
		chromedp.SetValue(chromedp.CSS("#f-max_entries"), "1"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="group_ids"][value="%d"]`, gA.ID))),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="group_ids"][value="%d"]`, gB.ID))),
		chromedp.SetValue(chromedp.CSS("#f-crit_weight_0"), "2"))
	if code := st.submit("open the round", chromedp.Click(chromedp.CSS(`main form button[type="submit"]`))); code != 200 || !tournamentPathRE.MatchString(st.path()) {
		t.Fatalf("opening the round led to %s (%d)", st.path(), code)
	}
	roundPath := st.path()
	id, _ := strconv.ParseInt(tournamentPathRE.FindStringSubmatch(roundPath)[1], 10, 64)

	// The member finds the round and enters their group's practice.
	m := s.newTab(t)
	m.loginAs(member)
	m.open("/turnieje")
	if !eval[bool](m, fmt.Sprintf(`!!document.querySelector('a[href="%s"]')`, roundPath)) {
		t.Fatal("the round is not in the member's list")
	}
	m.checkPage("tournaments")
	m.open(roundPath)
	m.do("choose the practice", chromedp.SetValue(chromedp.CSS("#f-practice_id"), strconv.FormatInt(pA, 10)))
	if code := m.submit("enter the practice", chromedp.Click(chromedp.CSS(`form[action$="/zgloszenia"] button[type="submit"]`))); code != 200 {
		t.Fatalf("entering = %d", code)
	}
	if !eval[bool](m, fmt.Sprintf(`!!document.querySelector('.entry a[href="/praktyki/%d"]')`, pA)) {
		t.Error("the entered practice is not listed")
	}
	m.checkPage("tournament-entered")
	// Withdrawing asks for a confirmation; then the practice may enter again.
	withdraw := `form.withdraw button[type="submit"]`
	if code := m.submit("withdraw unconfirmed", chromedp.Click(chromedp.CSS(withdraw))); code != 400 {
		t.Errorf("withdrawing without the confirmation = %d, want 400", code)
	}
	m.checkPage("tournament-withdraw-error")
	m.do("confirm the withdrawal", chromedp.Click(chromedp.CSS(`form.withdraw input[name="confirm"]`)))
	if code := m.submit("withdraw", chromedp.Click(chromedp.CSS(withdraw))); code != 200 ||
		eval[bool](m, fmt.Sprintf(`!!document.querySelector('.entry a[href="/praktyki/%d"]')`, pA)) {
		t.Fatalf("withdrawing = %d, or the practice is still listed", code)
	}
	m.do("choose the practice again", chromedp.SetValue(chromedp.CSS("#f-practice_id"), strconv.FormatInt(pA, 10)))
	if code := m.submit("enter the practice again", chromedp.Click(chromedp.CSS(`form[action$="/zgloszenia"] button[type="submit"]`))); code != 200 {
		t.Fatalf("entering again = %d", code)
	}
	if r := env.Login(other).JSON("POST", fmt.Sprintf("/api/v1/tournaments/%d/entries", id), map[string]any{"practice_id": pB}); r.Status != http.StatusCreated {
		t.Fatalf("group B enters: %d %s", r.Status, r)
	}

	// Voting opens (the clock is moved, not waited for).
	if _, err := env.DB.Exec(`UPDATE tournaments SET voting_starts_at = now() - interval '1 minute' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	var eB int64
	if err := env.DB.Get(&eB, `SELECT id FROM tournament_entries WHERE tournament_id = $1 AND practice_id = $2`, id, pB); err != nil {
		t.Fatal(err)
	}
	st.open(roundPath)
	st.waitFor("the staff page to follow the round", `document.querySelector("#tournament-live[data-subscribed]")`, "")
	countB := fmt.Sprintf(`document.querySelector('[data-entry-ballots="%d"]').textContent`, eB)
	if got := eval[string](st, countB); got != "0" {
		t.Errorf("ballots on B before any vote: %q", got)
	}

	// The member votes on B's practice; their own is not offered.
	m.open(roundPath)
	if eval[bool](m, `!!document.querySelector('form.ballot[action$="/glosy/`+fmt.Sprint(eB)+`"]')`) == false {
		t.Fatal("no ballot form for B's practice")
	}
	if n := eval[int](m, `document.querySelectorAll("form.ballot").length`); n != 1 {
		t.Errorf("%d ballot forms, want 1 (not one's own JST's practice)", n)
	}
	m.checkPage("tournament-voting")
	form := fmt.Sprintf(`form.ballot[action$="/glosy/%d"]`, eB)
	if code := m.submit("vote with a criterion unscored", chromedp.Click(chromedp.CSS(form+` button[type="submit"]`))); code != 400 {
		t.Errorf("an incomplete ballot = %d, want 400", code)
	}
	m.checkPage("tournament-ballot-error")
	for i, sc := range []string{"5", "3", "4"} {
		m.do("score criterion "+strconv.Itoa(i+1), chromedp.SetValue(chromedp.CSS(fmt.Sprintf(`%s .field:nth-child(%d) select`, form, i+1)), sc))
	}
	if code := m.submit("vote", chromedp.Click(chromedp.CSS(form+` button[type="submit"]`))); code != 200 {
		t.Fatalf("voting = %d", code)
	}
	if got := eval[string](m, `Array.from(document.querySelectorAll('`+form+` select')).map(s => s.value).join(",")`); got != "5,3,4" {
		t.Errorf("the saved ballot shows %q", got)
	}
	// Staff see the count rise without reloading.
	st.waitFor("the live ballot count", countB+` === "1"`, countB)
	st.checkPage("tournament-staff")

	// Before the close the member has no results.
	if code := m.open(roundPath + "/wyniki"); code != 404 {
		t.Errorf("results before the close = %d, want 404", code)
	}

	// Staff close the round: refused without the confirmation.
	st.open(roundPath)
	if code := st.submit("close unconfirmed", chromedp.Click(chromedp.CSS(`form[action$="/zamknij"] button[type="submit"]`))); code != 400 {
		t.Errorf("closing without the confirmation = %d, want 400", code)
	}
	st.do("confirm", chromedp.Click(chromedp.CSS("#f-confirm")))
	if code := st.submit("close", chromedp.Click(chromedp.CSS(`form[action$="/zamknij"] button[type="submit"]`))); code != 200 || st.path() != roundPath+"/wyniki" {
		t.Fatalf("closing led to %s (%d)", st.path(), code)
	}

	// The member reads the results: B's practice first with 3 criteria.
	if code := m.open(roundPath + "/wyniki"); code != 200 {
		t.Fatalf("results after the close = %d", code)
	}
	first := eval[string](m, `document.querySelector("table.results tbody tr").textContent`)
	// (2·5 + 3 + 4) / 4 = 4,25
	if !strings.Contains(first, "Rada rodziców przy budżecie oświaty") || !strings.Contains(first, "4,25") {
		t.Errorf("first row: %s", first)
	}
	m.checkPage("tournament-results")

	m.viewport(narrowWidth, narrowHeight, true)
	for name, path := range map[string]string{"tournament-results": roundPath + "/wyniki", "tournament-round": roundPath, "tournaments": "/turnieje"} {
		m.open(path)
		if w := eval[int](m, `document.documentElement.scrollWidth`); w > narrowWidth {
			t.Errorf("%s at %dpx scrolls sideways: the page is %dpx wide", path, narrowWidth, w)
		}
		m.checkPage(name + "-mobile")
	}
	st.viewport(narrowWidth, narrowHeight, true)
	st.open("/turnieje/nowy")
	if w := eval[int](st, `document.documentElement.scrollWidth`); w > narrowWidth {
		t.Errorf("the round form at %dpx is %dpx wide", narrowWidth, w)
	}
	st.checkPage("tournament-new-mobile")
}
