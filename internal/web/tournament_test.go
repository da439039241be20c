package web_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// Fixtures: the practice library is another area's; its core table is
// enough to enter practices into a round.

func tnJST(t *testing.T, env *testkit.Env, kind string) int64 {
	t.Helper()
	var id int64
	if err := env.DB.Get(&id, `INSERT INTO jst (name, kind, voivodeship) VALUES ($1, $2, 'mazowieckie') RETURNING id`,
		"Gmina "+testkit.Unique(), kind); err != nil {
		t.Fatal(err)
	}
	return id
}

func tnSetJST(t *testing.T, env *testkit.Env, userID, jstID int64) {
	t.Helper()
	if _, err := env.DB.Exec(`UPDATE users SET jst_id = $2 WHERE id = $1`, userID, jstID); err != nil {
		t.Fatal(err)
	}
}

func tnPractice(t *testing.T, env *testkit.Env, groupID, jstID, authorID int64, status string) int64 {
	t.Helper()
	var id int64
	if err := env.DB.Get(&id, `INSERT INTO practices (group_id, jst_id, author_id, title, status) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		groupID, jstID, authorID, "Praktyka "+testkit.Unique(), status); err != nil {
		t.Fatal(err)
	}
	return id
}

// tnVotingOpens moves a round's voting period to now (the test cannot wait
// for the clock).
func tnVotingOpens(t *testing.T, env *testkit.Env, id int64) {
	t.Helper()
	if _, err := env.DB.Exec(`UPDATE tournaments SET voting_starts_at = now() - interval '1 minute' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
}

type tnRound struct {
	ID       int64  `json:"id"`
	Status   string `json:"status"`
	Criteria []struct {
		ID     int64   `json:"id"`
		Name   string  `json:"name"`
		Weight float64 `json:"weight"`
	} `json:"criteria"`
	Entries []struct {
		ID         int64          `json:"id"`
		PracticeID int64          `json:"practice_id"`
		Ballots    *int           `json:"ballots"`
		OwnJST     bool           `json:"own_jst"`
		MyBallot   map[string]int `json:"my_ballot"`
	} `json:"entries"`
	CanVote bool `json:"can_vote"`
}

func tnOpen(t *testing.T, st *testkit.Client, max int, groups ...int64) tnRound {
	t.Helper()
	starts := time.Now().Add(time.Hour)
	r := st.JSON("POST", "/api/v1/tournaments", map[string]any{
		"title": "Turniej " + testkit.Unique(), "description": "Runda wiosenna", "max_entries": max,
		"voting_starts_at": starts, "voting_ends_at": starts.Add(24 * time.Hour), "group_ids": groups,
		"criteria": []map[string]any{{"name": "Skuteczność", "weight": 2}, {"name": "Koszt", "weight": 1}, {"name": "Możliwość przeniesienia", "weight": 1}}})
	wantStatus(t, "open a round", r, http.StatusCreated)
	var out tnRound
	r.Decode(&out)
	return out
}

// scores gives every criterion of the round the same score, or the ones listed.
func tnScores(r tnRound, s ...int) map[string]int {
	out := map[string]int{}
	for i, c := range r.Criteria {
		v := s[0]
		if i < len(s) {
			v = s[i]
		}
		out[fmt.Sprint(c.ID)] = v
	}
	return out
}

// The whole life of a round over the API: who sees it (the permission
// table), entering up to N under concurrency, the voting rules, secrecy,
// results hidden until the close, the CSV and the audit.
func TestTournamentRulesEndToEnd(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	staffU := env.NewUser(model.RoleStaff)
	st := env.Login(staffU)
	gA, gB, gOut := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban), env.NewGroup(model.KindCounty)
	jA, jB := tnJST(t, env, "gmina_wiejska"), tnJST(t, env, "gmina_miejska")
	a1, a2, b1, obs, out := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember),
		env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(a1.ID, gA.ID, model.GroupMember)
	env.AddMember(a2.ID, gA.ID, model.GroupModerator)
	env.AddMember(b1.ID, gB.ID, model.GroupMember)
	env.AddMember(obs.ID, gA.ID, model.GroupObserver)
	env.AddMember(out.ID, gOut.ID, model.GroupMember)
	tnSetJST(t, env, a1.ID, jA)
	tnSetJST(t, env, a2.ID, jA)
	tnSetJST(t, env, b1.ID, jB)
	pA1, pA2, pA3 := tnPractice(t, env, gA.ID, jA, a1.ID, "published"), tnPractice(t, env, gA.ID, jA, a1.ID, "published"), tnPractice(t, env, gA.ID, jA, a1.ID, "published")
	// Submitted, not yet published: the other groups could not read it.
	pSubmitted := tnPractice(t, env, gA.ID, jA, a1.ID, "submitted")
	pDraft, pB1 := tnPractice(t, env, gA.ID, jA, a1.ID, "draft"), tnPractice(t, env, gB.ID, jB, b1.ID, "published")
	ca, ca2, cb, co, cout := env.Login(a1), env.Login(a2), env.Login(b1), env.Login(obs), env.Login(out)

	// Opening is for staff; invalid input is named field by field.
	wantError(t, "member opens", ca.JSON("POST", "/api/v1/tournaments", map[string]any{"title": "Nie"}), http.StatusNotFound, "not_found")
	wantDetails(t, "invalid round", st.JSON("POST", "/api/v1/tournaments", map[string]any{"title": "x", "max_entries": 0,
		"voting_starts_at": time.Now(), "voting_ends_at": time.Now().Add(-time.Hour), "group_ids": []int64{},
		"criteria": []map[string]any{{"name": "Koszt", "weight": 0}}}),
		"title", "max_entries", "voting_ends_at", "group_ids", "criteria.0")
	round := tnOpen(t, st, 2, gA.ID, gB.ID)
	base := fmt.Sprintf("/api/v1/tournaments/%d", round.ID)

	// The permission table: staff and every role of a participating group
	// see the round; a member of another group gets 404, a visitor 401.
	for _, c := range []struct {
		who    string
		c      *testkit.Client
		status int
	}{{"staff", st, 200}, {"member", ca, 200}, {"observer", co, 200}, {"other group", cout, 404}, {"visitor", env.Anonymous(), 401}} {
		wantStatus(t, "GET round as "+c.who, c.c.JSON("GET", base, nil), c.status)
		page := c.c.Get(fmt.Sprintf("/turnieje/%d", round.ID))
		if c.status == 401 {
			wantStatus(t, "page as visitor", page, http.StatusFound)
		} else {
			wantStatus(t, "page as "+c.who, page, c.status)
		}
	}
	if r := cout.Get("/api/v1/tournaments"); strings.Contains(r.String(), fmt.Sprintf(`"id":%d,`, round.ID)) {
		t.Errorf("another group's member lists the round: %s", r)
	}

	// Entering: one's own group's published practice (every voter must be
	// able to read it), not an observer, not another group's practice, not
	// a draft or a practice still under review, once.
	entries := base + "/entries"
	wantError(t, "observer enters", co.JSON("POST", entries, map[string]any{"practice_id": pA1}), http.StatusForbidden, "forbidden")
	wantError(t, "outsider enters", cout.JSON("POST", entries, map[string]any{"practice_id": pA1}), http.StatusNotFound, "not_found")
	wantDetails(t, "draft", ca.JSON("POST", entries, map[string]any{"practice_id": pDraft}), "practice_id")
	wantDetails(t, "submitted, not published", ca.JSON("POST", entries, map[string]any{"practice_id": pSubmitted}), "practice_id")
	wantDetails(t, "another group's practice", ca.JSON("POST", entries, map[string]any{"practice_id": pB1}), "practice_id")
	wantStatus(t, "enter A1", ca.JSON("POST", entries, map[string]any{"practice_id": pA1}), http.StatusCreated)
	wantError(t, "enter A1 again", ca2.JSON("POST", entries, map[string]any{"practice_id": pA1}), http.StatusConflict, "already_entered")
	// N = 2: two entries at once for the last place, one gets it.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	codes := make([]string, 2)
	for i, p := range []struct {
		c  *testkit.Client
		id int64
	}{{ca, pA2}, {ca2, pA3}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := p.c.JSON("POST", entries, map[string]any{"practice_id": p.id})
			statuses[i], codes[i] = r.Status, r.ErrorCode()
		}()
	}
	wg.Wait()
	if !(statuses[0] == 201 && statuses[1] == 422 && codes[1] == "entry_limit" || statuses[1] == 201 && statuses[0] == 422 && codes[0] == "entry_limit") {
		t.Fatalf("two entries for one place: %v %v", statuses, codes)
	}
	var nA int
	if err := env.DB.Get(&nA, `SELECT count(*) FROM tournament_entries WHERE tournament_id = $1 AND group_id = $2`, round.ID, gA.ID); err != nil || nA != 2 {
		t.Fatalf("group A has %d entries (%v), want 2", nA, err)
	}
	// Withdrawing before voting: the group's member (not another group's,
	// not an observer); the place is free again.
	var won, lost int64
	if err := env.DB.Get(&won, `SELECT practice_id FROM tournament_entries WHERE tournament_id = $1 AND practice_id IN ($2, $3)`, round.ID, pA2, pA3); err != nil {
		t.Fatal(err)
	}
	lost = pA2 + pA3 - won
	var wonEntry int64
	if err := env.DB.Get(&wonEntry, `SELECT id FROM tournament_entries WHERE tournament_id = $1 AND practice_id = $2`, round.ID, won); err != nil {
		t.Fatal(err)
	}
	withdraw := fmt.Sprintf("%s/%d", entries, wonEntry)
	wantError(t, "another group withdraws", cb.JSON("DELETE", withdraw, nil), http.StatusForbidden, "forbidden")
	wantError(t, "observer withdraws", co.JSON("DELETE", withdraw, nil), http.StatusForbidden, "forbidden")
	wantStatus(t, "withdraw", ca.JSON("DELETE", withdraw, nil), http.StatusNoContent)
	wantStatus(t, "enter in the freed place", ca2.JSON("POST", entries, map[string]any{"practice_id": lost}), http.StatusCreated)
	wantStatus(t, "enter B1", cb.JSON("POST", entries, map[string]any{"practice_id": pB1}), http.StatusCreated)
	var r0 tnRound
	st.JSON("GET", base, nil).Decode(&r0)
	var eA, eB int64
	for _, e := range r0.Entries {
		switch e.PracticeID {
		case pA1:
			eA = e.ID
		case pB1:
			eB = e.ID
		}
	}
	ballot := func(e int64) string { return fmt.Sprintf("%s/entries/%d/ballot", base, e) }

	// Before the voting period: refused with a clear message.
	e := wantError(t, "vote before the period", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 4)}),
		http.StatusUnprocessableEntity, "voting_not_open")
	if !strings.Contains(e.Error.Message, "nie zaczęło") {
		t.Errorf("message: %q", e.Error.Message)
	}
	tnVotingOpens(t, env, round.ID)
	wantError(t, "enter during voting", ca.JSON("POST", entries, map[string]any{"practice_id": won}), http.StatusUnprocessableEntity, "entries_closed")
	wantError(t, "withdraw during voting", ca.JSON("DELETE", fmt.Sprintf("%s/%d", entries, eA), nil), http.StatusUnprocessableEntity, "entries_closed")

	// Never one's own JST's practice; observers, staff and outsiders do not vote.
	wantError(t, "own JST", ca.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 5)}), http.StatusForbidden, "own_jst")
	wantError(t, "observer votes", co.JSON("PUT", ballot(eB), map[string]any{"scores": tnScores(round, 5)}), http.StatusForbidden, "forbidden")
	wantError(t, "staff votes", st.JSON("PUT", ballot(eB), map[string]any{"scores": tnScores(round, 5)}), http.StatusForbidden, "forbidden")
	wantError(t, "outsider votes", cout.JSON("PUT", ballot(eB), map[string]any{"scores": tnScores(round, 5)}), http.StatusNotFound, "not_found")
	// Every criterion scored, 0 to 5.
	partial := tnScores(round, 4)
	delete(partial, fmt.Sprint(round.Criteria[1].ID))
	wantDetails(t, "a criterion unscored", cb.JSON("PUT", ballot(eA), map[string]any{"scores": partial}), fmt.Sprintf("scores.%d", round.Criteria[1].ID))
	wantDetails(t, "score 6", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 4, 6, 4)}), fmt.Sprintf("scores.%d", round.Criteria[1].ID))
	wantStatus(t, "unknown field", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 4), "voter": 1}), http.StatusBadRequest)

	// One ballot per member per entry: a second replaces the first.
	wantStatus(t, "vote", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 4, 3, 5)}), http.StatusOK)
	wantStatus(t, "change the vote", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 5, 2, 1)}), http.StatusOK)
	wantStatus(t, "A votes on B", ca.JSON("PUT", ballot(eB), map[string]any{"scores": tnScores(round, 3)}), http.StatusOK)
	var nBallots, sum int
	if err := env.DB.Get(&nBallots, `SELECT count(*) FROM tournament_ballots WHERE entry_id = $1`, eA); err != nil || nBallots != 1 {
		t.Fatalf("ballots on A1: %d (%v), want 1", nBallots, err)
	}
	if err := env.DB.Get(&sum, `SELECT sum(score) FROM tournament_scores WHERE entry_id = $1`, eA); err != nil || sum != 8 {
		t.Fatalf("scores on A1 sum to %d (%v), want the replacement's 5+2+1", sum, err)
	}

	// Secrecy: a member sees their own ballot only, and no counts; staff
	// see counts, never a ballot.
	var asB, asA, asStaff tnRound
	cb.JSON("GET", base, nil).Decode(&asB)
	ca.JSON("GET", base, nil).Decode(&asA)
	st.JSON("GET", base, nil).Decode(&asStaff)
	for _, e := range asB.Entries {
		if e.Ballots != nil {
			t.Errorf("a member sees ballot counts: %+v", e)
		}
		if e.ID == eA && e.MyBallot[fmt.Sprint(round.Criteria[0].ID)] != 5 {
			t.Errorf("voter's own ballot: %+v", e.MyBallot)
		}
	}
	for _, e := range asA.Entries {
		if e.ID == eA && (e.MyBallot != nil || !e.OwnJST) {
			t.Errorf("A sees on its own entry: %+v", e)
		}
	}
	for _, e := range asStaff.Entries {
		if e.MyBallot != nil || e.Ballots == nil || (e.ID == eA && *e.Ballots != 1) {
			t.Errorf("staff entry: %+v", e)
		}
	}

	// Results: 404 for members until the close; staff see them.
	results := base + "/results"
	wantError(t, "member results before close", cb.JSON("GET", results, nil), http.StatusNotFound, "not_found")
	wantStatus(t, "member CSV before close", cb.Do("GET", results, nil, map[string]string{"Accept": "text/csv"}), http.StatusNotFound)
	wantStatus(t, "member results page before close", cb.Get(fmt.Sprintf("/turnieje/%d/wyniki", round.ID)), http.StatusNotFound)
	if p := cb.Get(fmt.Sprintf("/turnieje/%d", round.ID)).String(); !strings.Contains(p, "Wyniki zostaną ogłoszone po zamknięciu rundy") {
		t.Error("the round's page does not say when results come")
	}
	wantStatus(t, "staff results before close", st.JSON("GET", results, nil), http.StatusOK)

	// After the period, before the close: refused too.
	if _, err := env.DB.Exec(`UPDATE tournaments SET voting_ends_at = now() - interval '1 second' WHERE id = $1`, round.ID); err != nil {
		t.Fatal(err)
	}
	wantError(t, "vote after the period", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 1)}), http.StatusUnprocessableEntity, "voting_ended")

	// Closing is staff's; then nobody votes and members see the results.
	wantError(t, "member closes", ca.JSON("POST", base+"/close", nil), http.StatusNotFound, "not_found")
	wantStatus(t, "close", st.JSON("POST", base+"/close", nil), http.StatusOK)
	wantError(t, "close again", st.JSON("POST", base+"/close", nil), http.StatusUnprocessableEntity, "tournament_closed")
	wantError(t, "vote after close", cb.JSON("PUT", ballot(eA), map[string]any{"scores": tnScores(round, 1)}), http.StatusUnprocessableEntity, "tournament_closed")
	var res struct {
		Overall []struct {
			Rank         int     `json:"rank"`
			EntryID      int64   `json:"entry_id"`
			Ballots      int     `json:"ballots"`
			WeightedMean float64 `json:"weighted_mean"`
		} `json:"overall"`
		ByKind []struct {
			Kind string `json:"kind"`
		} `json:"by_kind"`
	}
	r := cb.JSON("GET", results, nil)
	wantStatus(t, "member results after close", r, http.StatusOK)
	r.Decode(&res)
	// A1: (2·5 + 2 + 1) / 4 = 3.25; B1: 3 on everything.
	if len(res.Overall) != 3 || res.Overall[0].EntryID != eA || res.Overall[0].WeightedMean != 3.25 || res.Overall[1].EntryID != eB ||
		res.Overall[1].WeightedMean != 3 || res.Overall[2].Ballots != 0 || len(res.ByKind) != 2 {
		t.Errorf("results: %s", r)
	}
	wantError(t, "outsider results", cout.JSON("GET", results, nil), http.StatusNotFound, "not_found")
	if body := r.String(); strings.Contains(body, `"voter`) || strings.Contains(body, `"user`) || strings.Contains(body, b1.Name) {
		t.Errorf("results name a voter: %s", r)
	}

	// The CSV: UTF-8 with a BOM, semicolons and decimal commas in Polish; a
	// title a spreadsheet would read as a formula is kept as text.
	if _, err := env.DB.Exec(`UPDATE practices SET title = '=1+1 Rada rodziców' WHERE id = $1`, pB1); err != nil {
		t.Fatal(err)
	}
	r = cb.Do("GET", results, nil, map[string]string{"Accept": "text/csv"})
	wantStatus(t, "CSV", r, http.StatusOK)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(r.Body, []byte("\ufeff")) {
		t.Fatalf("CSV type %q, starts %q", r.Header.Get("Content-Type"), r.Body[:min(8, len(r.Body))])
	}
	lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(r.String(), "\ufeff")), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "Miejsce;Miejsce w rodzaju grup;Rodzaj grupy;Grupa;") ||
		!strings.Contains(lines[0], "Możliwość przeniesienia (waga 1,00)") ||
		!strings.HasPrefix(lines[1], "1;1;") || !strings.Contains(lines[1], ";1;3,25;5,00;2,00;1,00") ||
		!strings.Contains(lines[2], ";'=1+1 Rada rodziców;") {
		t.Errorf("CSV:\n%s", r)
	}

	// Every step audited; no ballot is.
	var acts []string
	if err := env.DB.Select(&acts, `SELECT action FROM audit_log WHERE target_type = 'tournament' AND target_id = $1 ORDER BY id`, round.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(acts, ",") != "tournament.open,tournament.enter,tournament.enter,tournament.withdraw,tournament.enter,tournament.enter,tournament.close" {
		t.Errorf("audit: %v", acts)
	}
	page := env.Login(env.NewUser(model.RoleAdmin)).Get("/admin/audit?action=tournament.close")
	wantStatus(t, "audit page", page, http.StatusOK)
	if p := page.String(); !strings.Contains(p, "Zamknięcie rundy turnieju") || !strings.Contains(p, fmt.Sprintf(`href="/turnieje/%d"`, round.ID)) {
		t.Errorf("the audit page does not word the close: %s", p)
	}
}

// Ballots are counted live for staff: a ballot sends staff each entry's
// count on tournament:ID, a participant only the total, and another group's
// member may not follow the round.
func TestTournamentBallotsLive(t *testing.T) {
	t.Parallel()
	env := testkit.Start(t, dbURL)
	st := env.Login(env.NewUser(model.RoleStaff))
	gA, gB, gOut := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban), env.NewGroup(model.KindCounty)
	a, b, out := env.NewUser(model.RoleMember), env.NewUser(model.RoleMember), env.NewUser(model.RoleMember)
	env.AddMember(a.ID, gA.ID, model.GroupMember)
	env.AddMember(b.ID, gB.ID, model.GroupMember)
	env.AddMember(out.ID, gOut.ID, model.GroupMember)
	jA := tnJST(t, env, "gmina_wiejska")
	p := tnPractice(t, env, gA.ID, jA, a.ID, "published")
	round := tnOpen(t, st, 1, gA.ID, gB.ID)
	base := fmt.Sprintf("/api/v1/tournaments/%d", round.ID)
	wantStatus(t, "enter", env.Login(a).JSON("POST", base+"/entries", map[string]any{"practice_id": p}), http.StatusCreated)
	tnVotingOpens(t, env, round.ID)
	var r tnRound
	st.JSON("GET", base, nil).Decode(&r)
	entry := r.Entries[0].ID
	name := fmt.Sprintf("tournament:%d", round.ID)

	sws, mws, ows := st.DialWS(), env.Login(a).DialWS(), env.Login(out).DialWS()
	for _, w := range []*testkit.WS{sws, mws} {
		w.Send(map[string]any{"type": "subscribe", "topic": name})
		w.Expect("subscribed", 10*time.Second)
	}
	ows.Send(map[string]any{"type": "subscribe", "topic": name})
	if f := ows.Expect("error", 10*time.Second); f.Str("code") != "not_found" {
		t.Errorf("outsider subscribes: %s", f.Raw)
	}

	wantStatus(t, "vote", env.Login(b).JSON("PUT", fmt.Sprintf("%s/entries/%d/ballot", base, entry), map[string]any{"scores": tnScores(round, 4)}), http.StatusOK)
	f := sws.Expect("tournament.ballots", 10*time.Second)
	if !strings.Contains(string(f.Raw), fmt.Sprintf(`"entries":[{"entry_id":%d,"ballots":1}]`, entry)) || f.Int("ballots") != 1 {
		t.Errorf("staff frame: %s", f.Raw)
	}
	f = mws.Expect("tournament.ballots", 10*time.Second)
	if strings.Contains(string(f.Raw), "entries") || f.Int("ballots") != 1 {
		t.Errorf("member frame: %s", f.Raw)
	}
}
