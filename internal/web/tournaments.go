package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/i18n"
	"github.com/gwd-jst/forumjst/internal/tournament"
)

// The tournament of good practices (issue 15 item 2): /turnieje and
// /api/v1/tournaments. The rules are the tournament service's; these
// handlers parse, call it once and render.

func (s *server) tournamentAPIRoutes() []route {
	return []route{
		get("/tournaments", s.apiTournaments),
		post("/tournaments", s.apiCreateTournament),
		get("/tournaments/:id", s.apiTournament),
		post("/tournaments/:id/entries", s.apiEnterTournament),
		del("/tournaments/:id/entries/:entry_id", s.apiWithdrawTournamentEntry),
		put("/tournaments/:id/entries/:entry_id/ballot", s.apiVoteTournament),
		post("/tournaments/:id/close", s.apiCloseTournament),
		get("/tournaments/:id/results", s.apiTournamentResults),
	}
}

func (s *server) tournamentPageRoutes() []route {
	return []route{
		get("/turnieje", s.pageTournaments),
		post("/turnieje", s.pageCreateTournament),
		get("/turnieje/nowy", s.pageNewTournament),
		get("/turnieje/:id", s.pageTournament),
		post("/turnieje/:id/zgloszenia", s.pageEnterTournament),
		post("/turnieje/:id/zgloszenia/:entry_id/wycofaj", s.pageWithdrawTournamentEntry),
		post("/turnieje/:id/glosy/:entry_id", s.pageVoteTournament),
		post("/turnieje/:id/zamknij", s.pageCloseTournament),
		get("/turnieje/:id/wyniki", s.pageTournamentResults),
		get("/turnieje/:id/wyniki/csv", s.tournamentResultsCSV),
	}
}

// --- API ---

func (s *server) apiTournaments(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Tournaments.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	return c.JSON(paginate(list, p, page))
}

func (s *server) apiCreateTournament(c *fiber.Ctx) error {
	var in tournament.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.Tournaments.Create(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *server) apiTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Tournaments.Get(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

type enterRequest struct {
	PracticeID int64 `json:"practice_id"`
}

func (s *server) apiEnterTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in enterRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := s.Tournaments.Enter(c.UserContext(), actor(c), id, in.PracticeID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(e)
}

// apiWithdrawTournamentEntry takes an entry back before voting starts (204).
func (s *server) apiWithdrawTournamentEntry(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	entryID, err := idParam(c, "entry_id")
	if err != nil {
		return err
	}
	if err := s.Tournaments.Withdraw(c.UserContext(), actor(c), id, entryID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type ballotRequest struct {
	Scores map[string]int `json:"scores"`
}

func (s *server) apiVoteTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	entryID, err := idParam(c, "entry_id")
	if err != nil {
		return err
	}
	var in ballotRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	scores, err := tournament.ParseScores(in.Scores)
	if err != nil {
		return err
	}
	b, err := s.Tournaments.Vote(c.UserContext(), actor(c), id, entryID, scores)
	if err != nil {
		return err
	}
	return c.JSON(b)
}

func (s *server) apiCloseTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Tournaments.Close(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// apiTournamentResults answers JSON, or the CSV when the client asks for
// text/csv.
func (s *server) apiTournamentResults(c *fiber.Ctx) error {
	if strings.Contains(c.Get(fiber.HeaderAccept), "text/csv") {
		return s.tournamentResultsCSV(c)
	}
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	res, err := s.Tournaments.Results(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// tournamentResultsCSV is the ranking for the programme's report: UTF-8
// with a byte-order mark (Excel then reads Polish letters right),
// semicolon-separated with decimal commas in Polish (as Excel set to Polish
// expects), comma-separated with decimal points in English.
func (s *server) tournamentResultsCSV(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	res, err := s.Tournaments.Results(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	tr := s.tr(c)
	b, err := resultsCSV(res, tr)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="turniej-%d-wyniki.csv"`, id))
	return c.Send(b)
}

func resultsCSV(res tournament.Results, tr *i18n.Printer) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	comma := tr.Lang == "pl"
	if comma {
		w.Comma = ';'
	}
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return tr.Decimal(*f, 2)
	}
	head := []string{tr.T("tournament.csv.rank"), tr.T("tournament.csv.rank_in_kind"), tr.T("tournament.csv.kind"),
		tr.T("tournament.csv.group"), tr.T("tournament.csv.practice_id"), tr.T("tournament.csv.practice"), tr.T("tournament.csv.jst"),
		tr.T("tournament.csv.ballots"), tr.T("tournament.csv.weighted_mean")}
	for _, cr := range res.Criteria {
		head = append(head, csvText(fmt.Sprintf("%s (%s %s)", cr.Name, tr.T("tournament.weight"), num(&cr.Weight))))
	}
	if err := w.Write(head); err != nil {
		return nil, err
	}
	for _, r := range res.Overall {
		row := []string{strconv.Itoa(r.Rank), strconv.Itoa(r.RankInKind), tr.T("kind." + r.GroupKind), csvText(r.GroupName),
			strconv.FormatInt(r.PracticeID, 10), csvText(r.Title), csvText(r.JST.Name), strconv.Itoa(r.Ballots), num(r.WeightedMean)}
		for _, m := range r.CriterionMeans {
			row = append(row, num(m.Mean))
		}
		if err := w.Write(row); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// csvText keeps text people wrote from being read as a formula by a
// spreadsheet (a title beginning with "=", "+", "-", "@" or a control
// character): such a cell is prefixed with an apostrophe.
func csvText(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// --- pages ---

type tournamentsPage struct {
	Items   []tournament.Summary
	Page    int
	HasMore bool
	Staff   bool
}

func (s *server) pageTournaments(c *fiber.Ctx) error {
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	list, err := s.Tournaments.List(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	pg := paginate(list, p, page)
	return s.render(c, "tournaments", pageOpts{Title: s.tr(c).T("tournament.title"), Nav: "tournaments", NewsletterOffer: true},
		tournamentsPage{Items: pg.Items, Page: page, HasMore: pg.HasMore, Staff: actor(c).IsStaff()})
}

// tournamentFormRows is how many criterion rows the form offers (empty ones
// are ignored), so that it works without scripts.
const tournamentFormRows = 5

type tournamentFormData struct {
	Groups   []tournament.Group
	Checked  map[int64]bool
	Criteria []criterionRow
}

type criterionRow struct {
	N            int // 0-based
	Name, Weight string
	Err          string
}

func (s *server) pageNewTournament(c *fiber.Ctx) error {
	rows := make([]criterionRow, tournamentFormRows)
	defaults := []string{"tournament.default.effectiveness", "tournament.default.cost", "tournament.default.transfer"}
	tr := s.tr(c)
	for i := range rows {
		rows[i].N = i
		if i < len(defaults) {
			rows[i].Name, rows[i].Weight = tr.T(defaults[i]), "1"
		}
	}
	return s.renderTournamentForm(c, pageOpts{Form: map[string]string{"max_entries": "3"}}, nil, rows)
}

func (s *server) renderTournamentForm(c *fiber.Ctx, o pageOpts, checked []int64, rows []criterionRow) error {
	groups, err := s.Tournaments.Groups(c.UserContext(), actor(c))
	if err != nil {
		return err // staff only
	}
	d := tournamentFormData{Groups: groups, Checked: map[int64]bool{}, Criteria: rows}
	for _, g := range checked {
		d.Checked[g] = true
	}
	for i := range d.Criteria {
		d.Criteria[i].Err = o.Errors["crit_name_"+strconv.Itoa(i)]
	}
	o.Title, o.Nav = s.tr(c).T("tournament.new"), "tournaments"
	return s.render(c, "tournament_form", o, d)
}

const formDateTime = "2006-01-02T15:04"

func (s *server) pageCreateTournament(c *fiber.Ctx) error {
	tr := s.tr(c)
	zone := tr.Zone()
	in := tournament.Input{Title: c.FormValue("title"), Description: c.FormValue("description"), GroupIDs: formIDs(c, "group_ids")}
	bad := map[string]string{}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"voting_starts_at", &in.VotingStartsAt}, {"voting_ends_at", &in.VotingEndsAt}} {
		if v := strings.TrimSpace(c.FormValue(f.name)); v != "" {
			t, err := time.ParseInLocation(formDateTime, v, zone)
			if err != nil {
				bad[f.name] = tr.T("err.until_format")
				continue
			}
			*f.dst = &t
		}
	}
	if v := strings.TrimSpace(c.FormValue("max_entries")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			bad["max_entries"] = tr.T("err.tournament_max_entries")
		}
		in.MaxEntries = n
	}
	rows := make([]criterionRow, tournamentFormRows)
	var rowOf []int // criterion index → form row
	for i := range rows {
		rows[i] = criterionRow{N: i, Name: c.FormValue("crit_name_" + strconv.Itoa(i)), Weight: c.FormValue("crit_weight_" + strconv.Itoa(i))}
		if strings.TrimSpace(rows[i].Name) == "" && strings.TrimSpace(rows[i].Weight) == "" {
			continue // an empty row is ignored
		}
		w, err := strconv.ParseFloat(strings.Replace(strings.TrimSpace(rows[i].Weight), ",", ".", 1), 64)
		if err != nil {
			w = -1 // reported by the service as a bad weight
		}
		in.Criteria = append(in.Criteria, tournament.CriterionInput{Name: rows[i].Name, Weight: w})
		rowOf = append(rowOf, i)
	}
	var r tournament.Round
	var err error
	if len(bad) == 0 {
		r, err = s.Tournaments.Create(c.UserContext(), actor(c), in)
	} else {
		if err = s.Tournaments.Validate(c.UserContext(), &in); err == nil {
			c.Status(fiber.StatusBadRequest)
		}
	}
	fe := s.formError(c, err, rateToErrorPage)
	if fe == nil && err != nil {
		return err
	}
	if fe != nil || len(bad) > 0 {
		if fe == nil {
			fe = map[string]string{}
		}
		for k, v := range bad {
			fe[k] = v
		}
		// A criterion's problem is shown at its row, naming it.
		for k, v := range fe {
			if n, ok := strings.CutPrefix(k, "criteria."); ok {
				i, _ := strconv.Atoi(n)
				row := 0
				if i < len(rowOf) {
					row = rowOf[i]
				}
				delete(fe, k)
				fe["crit_name_"+strconv.Itoa(row)] = tr.T("tournament.criterion_n", "N", row+1) + ": " + v
			}
		}
		if v, ok := fe["criteria"]; ok {
			delete(fe, "criteria")
			fe["crit_name_0"] = tr.T("tournament.criterion_n", "N", 1) + ": " + v
		}
		return s.renderTournamentForm(c, pageOpts{Errors: fe, Form: formValues(c, "title", "description", "voting_starts_at",
			"voting_ends_at", "max_entries")}, in.GroupIDs, rows)
	}
	s.flash(c, "flash.tournament_opened")
	return c.Redirect(fmt.Sprintf("/turnieje/%d", r.ID), fiber.StatusSeeOther)
}

type tournamentPageData struct {
	R       tournament.Round
	Choices []tournament.Choice
	// Scores: 0..5, the options of every score.
	Scores []int
}

func (s *server) renderTournament(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx, a := c.UserContext(), actor(c)
	r, err := s.Tournaments.Get(ctx, a, id)
	if err != nil {
		return err
	}
	d := tournamentPageData{R: r, Scores: []int{0, 1, 2, 3, 4, 5}}
	if r.CanEnter {
		if d.Choices, err = s.Tournaments.Choices(ctx, a, id); err != nil {
			return err
		}
	}
	o.Title, o.Nav = r.Title, "tournaments"
	return s.render(c, "tournament", o, d)
}

func (s *server) pageTournament(c *fiber.Ctx) error { return s.renderTournament(c, pageOpts{}) }

func (s *server) pageEnterTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	pid, _ := strconv.ParseInt(c.FormValue("practice_id"), 10, 64)
	_, err = s.Tournaments.Enter(c.UserContext(), actor(c), id, pid)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		return s.renderTournament(c, pageOpts{Errors: fe})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.tournament_entered")
	return c.Redirect(fmt.Sprintf("/turnieje/%d#zgloszenia", id), fiber.StatusSeeOther)
}

// pageWithdrawTournamentEntry withdraws only with the confirmation ticked.
func (s *server) pageWithdrawTournamentEntry(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	entryID, err := idParam(c, "entry_id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		c.Status(fiber.StatusBadRequest)
		return s.renderTournament(c, pageOpts{Errors: map[string]string{
			fmt.Sprintf("withdraw_%d", entryID): s.tr(c).T("err.tournament_withdraw_confirm")}})
	}
	if err := s.Tournaments.Withdraw(c.UserContext(), actor(c), id, entryID); err != nil {
		return err
	}
	s.flash(c, "flash.tournament_withdrawn")
	return c.Redirect(fmt.Sprintf("/turnieje/%d#zgloszenia", id), fiber.StatusSeeOther)
}

func (s *server) pageVoteTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	entryID, err := idParam(c, "entry_id")
	if err != nil {
		return err
	}
	ctx, a := c.UserContext(), actor(c)
	r, err := s.Tournaments.Get(ctx, a, id)
	if err != nil {
		return err
	}
	// Each criterion's select is named c<criterion id>; "" is not scored.
	scores := map[int64]int{}
	for _, cr := range r.Criteria {
		v := strings.TrimSpace(c.FormValue("c" + strconv.FormatInt(cr.ID, 10)))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1
		}
		scores[cr.ID] = n
	}
	_, err = s.Tournaments.Vote(ctx, a, id, entryID, scores)
	if fe := s.formError(c, err, rateToErrorPage); fe != nil {
		// Each problem at its select (e<entry>_c<criterion>), naming the
		// practice and the criterion.
		title := ""
		for _, e := range r.Entries {
			if e.ID == entryID {
				title = e.Title
			}
		}
		shown := map[string]string{}
		for k, msg := range fe {
			cid, ok := strings.CutPrefix(k, "scores.")
			if !ok {
				shown["form"] = msg
				continue
			}
			name := ""
			for _, cr := range r.Criteria {
				if strconv.FormatInt(cr.ID, 10) == cid {
					name = cr.Name
				}
			}
			shown[fmt.Sprintf("e%d_c%s", entryID, cid)] = fmt.Sprintf("%s – %s: %s", title, name, msg)
		}
		form := map[string]string{}
		for _, cr := range r.Criteria {
			n := "c" + strconv.FormatInt(cr.ID, 10)
			form[fmt.Sprintf("e%d_%s", entryID, n)] = c.FormValue(n)
		}
		return s.renderTournament(c, pageOpts{Errors: shown, Form: form})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.tournament_voted")
	return c.Redirect(fmt.Sprintf("/turnieje/%d#e%d", id, entryID), fiber.StatusSeeOther)
}

// pageCloseTournament closes only with the confirmation ticked: a closed
// round publishes its results and takes no more ballots.
func (s *server) pageCloseTournament(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if c.FormValue("confirm") != "1" {
		if _, err := s.Tournaments.Groups(c.UserContext(), actor(c)); err != nil {
			return err // not staff: the action does not exist
		}
		c.Status(fiber.StatusBadRequest)
		return s.renderTournament(c, pageOpts{Errors: map[string]string{"confirm": s.tr(c).T("err.tournament_close_confirm")}})
	}
	if _, err := s.Tournaments.Close(c.UserContext(), actor(c), id); err != nil {
		return err
	}
	s.flash(c, "flash.tournament_closed")
	return c.Redirect(fmt.Sprintf("/turnieje/%d/wyniki", id), fiber.StatusSeeOther)
}

func (s *server) pageTournamentResults(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	res, err := s.Tournaments.Results(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, "tournament_results", pageOpts{Title: s.tr(c).T("tournament.results_of", "Title", res.Title), Nav: "tournaments"}, res)
}
