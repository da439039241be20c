package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

const goodPassword = "dobre-haslo-na-forum-2026"

type userJSON struct {
	ID       int64   `json:"id"`
	Email    string  `json:"email"`
	Name     string  `json:"name"`
	JobTitle string  `json:"job_title"`
	JSTID    *int64  `json:"jst_id"`
	JSTName  *string `json:"jst_name"`
	Role     string  `json:"role"`
	Disabled bool    `json:"disabled"`
}

func newJST(t *testing.T, admin *testkit.Client) accounts.JSTView {
	t.Helper()
	r := admin.JSON("POST", "/api/v1/jst", map[string]any{"name": "Gmina " + testkit.Unique(), "kind": "gmina_miejsko_wiejska", "voivodeship": "świętokrzyskie"})
	wantStatus(t, "create JST", r, http.StatusCreated)
	var j accounts.JSTView
	r.Decode(&j)
	return j
}

func TestAdminUsersAPI(t *testing.T) {
	env := testkit.Start(t, dbURL)
	adminU := env.NewUser(model.RoleAdmin)
	admin := env.Login(adminU)
	jst := newJST(t, admin)
	tag := "Kowalska" + testkit.Unique()
	email := "Ala." + tag + "@Gmina.example" // stored as typed, matched case-insensitively

	var created userJSON
	t.Run("create", func(t *testing.T) {
		r := admin.JSON("POST", "/api/v1/users", map[string]any{"email": email, "name": "  Ala   " + tag + " ", "job_title": "Skarbnik",
			"jst_id": jst.ID, "role": "member", "password": goodPassword})
		wantStatus(t, "create user", r, http.StatusCreated)
		r.Decode(&created)
		if created.ID == 0 || created.Email != email || created.Name != "Ala "+tag || created.JobTitle != "Skarbnik" ||
			created.Role != "member" || created.JSTID == nil || *created.JSTID != jst.ID || created.JSTName == nil || *created.JSTName != jst.Name {
			t.Errorf("created user = %+v", created)
		}
		if strings.Contains(r.String(), "argon2") || strings.Contains(r.String(), goodPassword) {
			t.Error("the response carries the password or its hash")
		}
		// The new account works.
		wantStatus(t, "login as the new user", login(env.Anonymous(), email, goodPassword), http.StatusOK)
		wantStatus(t, "login in lower case", login(env.Anonymous(), strings.ToLower(email), goodPassword), http.StatusOK)
	})

	t.Run("validation", func(t *testing.T) {
		base := func(mod map[string]any) map[string]any {
			v := map[string]any{"email": "x" + testkit.Unique() + "@gmina.example", "name": "Jan Nowak", "role": "member", "password": goodPassword}
			for k, val := range mod {
				v[k] = val
			}
			return v
		}
		cases := []struct {
			name   string
			body   map[string]any
			fields []string
		}{
			{"duplicate email in other case", base(map[string]any{"email": strings.ToUpper(email)}), []string{"email"}},
			{"invalid email", base(map[string]any{"email": "not an email"}), []string{"email"}},
			{"email with a display name", base(map[string]any{"email": "Jan <jan@gmina.example>"}), []string{"email"}},
			{"short password", base(map[string]any{"password": "krotkie"}), []string{"password"}},
			{"common password", base(map[string]any{"password": "qwerty123"}), []string{"password"}},
			{"common password in capitals", base(map[string]any{"password": "QWERTY123"}), []string{"password"}},
			{"too long password", base(map[string]any{"password": strings.Repeat("ż", 1025)}), []string{"password"}},
			{"unknown role", base(map[string]any{"role": "owner"}), []string{"role"}},
			{"unknown JST", base(map[string]any{"jst_id": 999999999}), []string{"jst_id"}},
			{"name too short", base(map[string]any{"name": " J "}), []string{"name"}},
			{"everything missing", map[string]any{}, []string{"email", "name", "password"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				wantDetails(t, tc.name, admin.JSON("POST", "/api/v1/users", tc.body), tc.fields...)
			})
		}
		// A password of exactly 8 characters, and one of 1024, is fine (no composition rules).
		wantStatus(t, "8-character password", admin.JSON("POST", "/api/v1/users", base(map[string]any{"password": "zielonka"})), http.StatusCreated)
		wantStatus(t, "1024-character password", admin.JSON("POST", "/api/v1/users", base(map[string]any{"password": strings.Repeat("ą", 1024)})), http.StatusCreated)
	})

	t.Run("list and paginate", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			wantStatus(t, "create", admin.JSON("POST", "/api/v1/users", map[string]any{"email": fmt.Sprintf("p%d.%s@gmina.example", i, strings.ToLower(tag)),
				"name": fmt.Sprintf("Piotr %d %s", i, tag), "password": goodPassword}), http.StatusCreated)
		}
		type page struct {
			Items   []userJSON `json:"items"`
			Page    int        `json:"page"`
			Limit   int        `json:"limit"`
			HasMore bool       `json:"has_more"`
		}
		var p1, p2, all page
		r := admin.JSON("GET", "/api/v1/users?q="+url.QueryEscape(strings.ToLower(tag))+"&limit=2", nil)
		wantStatus(t, "page 1", r, http.StatusOK)
		r.Decode(&p1)
		r = admin.JSON("GET", "/api/v1/users?q="+url.QueryEscape(tag)+"&limit=2&page=2", nil)
		wantStatus(t, "page 2", r, http.StatusOK)
		r.Decode(&p2)
		if len(p1.Items) != 2 || p1.Page != 1 || p1.Limit != 2 || !p1.HasMore {
			t.Errorf("page 1 = %d items, page %d, limit %d, has_more %v; want 2, 1, 2, true", len(p1.Items), p1.Page, p1.Limit, p1.HasMore)
		}
		if len(p2.Items) != 1 || p2.Page != 2 || p2.HasMore {
			t.Errorf("page 2 = %d items, page %d, has_more %v; want 1, 2, false", len(p2.Items), p2.Page, p2.HasMore)
		}
		seen := map[int64]bool{}
		for _, u := range append(p1.Items, p2.Items...) {
			if seen[u.ID] {
				t.Errorf("user %d on two pages", u.ID)
			}
			seen[u.ID] = true
			if !strings.Contains(u.Name, tag) {
				t.Errorf("search for %q returned %q", tag, u.Name)
			}
		}
		r = admin.JSON("GET", "/api/v1/users", nil)
		wantStatus(t, "default page", r, http.StatusOK)
		r.Decode(&all)
		if all.Limit != 50 || all.Page != 1 {
			t.Errorf("default limit/page = %d/%d, want 50/1", all.Limit, all.Page)
		}
		r = admin.JSON("GET", "/api/v1/users?limit=200", nil)
		wantStatus(t, "limit=200", r, http.StatusOK)
	})

	t.Run("patch", func(t *testing.T) {
		other := newJST(t, admin)
		newEmail := "zmieniony." + strings.ToLower(tag) + "@gmina.example"
		r := admin.JSON("PATCH", "/api/v1/users/"+itoa(created.ID), map[string]any{"name": "Alicja " + tag, "job_title": "Naczelniczka",
			"jst_id": other.ID, "email": newEmail, "role": "staff"})
		wantStatus(t, "patch", r, http.StatusOK)
		var got userJSON
		r.Decode(&got)
		if got.Name != "Alicja "+tag || got.JobTitle != "Naczelniczka" || got.JSTID == nil || *got.JSTID != other.ID || got.Email != newEmail || got.Role != "staff" {
			t.Errorf("patched user = %+v", got)
		}
		// Fields left out stay; jst_id 0 clears the JST.
		r = admin.JSON("PATCH", "/api/v1/users/"+itoa(created.ID), map[string]any{"jst_id": 0})
		wantStatus(t, "clear JST", r, http.StatusOK)
		r.Decode(&got)
		if got.JSTID != nil || got.Name != "Alicja "+tag || got.Role != "staff" {
			t.Errorf("after clearing the JST: %+v", got)
		}
		// A new password replaces the old one.
		wantStatus(t, "new password", admin.JSON("PATCH", "/api/v1/users/"+itoa(created.ID), map[string]any{"password": "nowe-haslo-do-forum"}), http.StatusOK)
		wantError(t, "old password", login(env.Anonymous(), newEmail, goodPassword), http.StatusUnauthorized, "invalid_credentials")
		wantStatus(t, "new password login", login(env.Anonymous(), newEmail, "nowe-haslo-do-forum"), http.StatusOK)

		wantDetails(t, "taken email", admin.JSON("PATCH", "/api/v1/users/"+itoa(created.ID), map[string]any{"email": strings.ToUpper(adminU.Email)}), "email")
		wantDetails(t, "weak password", admin.JSON("PATCH", "/api/v1/users/"+itoa(created.ID), map[string]any{"password": "12345678"}), "password")
		wantError(t, "unknown user", admin.JSON("PATCH", "/api/v1/users/999999999", map[string]any{"name": "Nikt Taki"}), http.StatusNotFound, "not_found")
	})

	t.Run("admin cannot lock themselves out", func(t *testing.T) {
		self := "/api/v1/users/" + itoa(adminU.ID)
		wantDetails(t, "disable self", admin.JSON("PATCH", self, map[string]any{"disabled": true}), "disabled")
		wantDetails(t, "demote self", admin.JSON("PATCH", self, map[string]any{"role": "staff"}), "role")
		var u model.User
		if err := env.DB.Get(&u, `SELECT id, role, disabled FROM users WHERE id = $1`, adminU.ID); err != nil {
			t.Fatal(err)
		}
		if u.Role != model.RoleAdmin || u.Disabled {
			t.Errorf("admin after refused self-changes: role %s, disabled %v", u.Role, u.Disabled)
		}
		// Other fields of one's own account may change.
		wantStatus(t, "rename self", admin.JSON("PATCH", self, map[string]any{"name": "Admin " + tag, "role": "admin"}), http.StatusOK)
	})
}

func TestAdminJSTAPI(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	name := "Gmina Łąckie Pola " + testkit.Unique()

	r := admin.JSON("POST", "/api/v1/jst", map[string]any{"name": name, "kind": "gmina_wiejska", "voivodeship": "małopolskie", "teryt": "1210012"})
	wantStatus(t, "create", r, http.StatusCreated)
	var j accounts.JSTView
	r.Decode(&j)
	if j.ID == 0 || j.Name != name || j.Kind != "gmina_wiejska" || j.Voivodeship != "małopolskie" || j.TERYT == nil || *j.TERYT != "1210012" {
		t.Errorf("created JST = %+v", j)
	}
	// The same name as another kind is a different JST; an empty TERYT is none.
	r = admin.JSON("POST", "/api/v1/jst", map[string]any{"name": name, "kind": "powiat", "voivodeship": "małopolskie", "teryt": " "})
	wantStatus(t, "same name, other kind", r, http.StatusCreated)
	var p accounts.JSTView
	r.Decode(&p)
	if p.TERYT != nil {
		t.Errorf("blank TERYT stored as %q", *p.TERYT)
	}

	ok := map[string]any{"name": "Gmina " + testkit.Unique(), "kind": "gmina_wiejska", "voivodeship": "mazowieckie"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"invalid kind", with("kind", "wojewodztwo"), "kind"},
		{"invalid voivodeship", with("voivodeship", "bawaria"), "voivodeship"},
		{"voivodeship without Polish letters", with("voivodeship", "slaskie"), "voivodeship"},
		{"TERYT of 6 digits", with("teryt", "123456"), "teryt"},
		{"TERYT with letters", with("teryt", "12345a7"), "teryt"},
		{"missing name", with("name", ""), "name"},
		{"duplicate", map[string]any{"name": name, "kind": "gmina_wiejska", "voivodeship": "małopolskie"}, "name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantDetails(t, tc.name, admin.JSON("POST", "/api/v1/jst", tc.body), tc.field)
		})
	}

	r = admin.JSON("GET", "/api/v1/jst?limit=200", nil)
	wantStatus(t, "list", r, http.StatusOK)
	if !strings.Contains(r.String(), name) {
		t.Error("the JST list lacks the new JST")
	}
	// Every logged-in user may list JSTs (names appear next to authors).
	member := env.Login(env.NewUser(model.RoleMember))
	wantStatus(t, "member lists JSTs", member.JSON("GET", "/api/v1/jst", nil), http.StatusOK)
}

func TestAdminGroupsAPI(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	u := testkit.Unique()
	name := "Gminy miejskie – kohorta 2 – Łódź " + u

	r := admin.JSON("POST", "/api/v1/groups", map[string]any{"name": name, "kind": "urban", "description": "Druga kohorta."})
	wantStatus(t, "create", r, http.StatusCreated)
	var g accounts.GroupView
	r.Decode(&g)
	if want := "gminy-miejskie-kohorta-2-lodz-" + u; g.Slug != want {
		t.Errorf("slug = %q, want %q", g.Slug, want)
	}
	if g.ID == 0 || g.Name != name || g.Kind != "urban" || g.Description != "Druga kohorta." {
		t.Errorf("created group = %+v", g)
	}

	wantDetails(t, "duplicate slug", admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Inna nazwa", "slug": g.Slug, "kind": "rural"}), "slug")
	wantDetails(t, "same name again", admin.JSON("POST", "/api/v1/groups", map[string]any{"name": name, "kind": "rural"}), "slug")
	wantDetails(t, "bad slug", admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Grupa X", "slug": "Zła Nazwa", "kind": "rural"}), "slug")
	wantDetails(t, "bad kind", admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Grupa Y " + u, "kind": "city"}), "kind")
	wantDetails(t, "missing everything", admin.JSON("POST", "/api/v1/groups", map[string]any{}), "name", "slug", "kind")

	r = admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Powiaty " + u, "slug": "powiaty-" + u, "kind": "county"})
	wantStatus(t, "explicit slug", r, http.StatusCreated)

	r = admin.JSON("GET", "/api/v1/groups", nil)
	wantStatus(t, "list", r, http.StatusOK)
	var list struct {
		Items []accounts.GroupView `json:"items"`
	}
	r.Decode(&list)
	found := 0
	for _, it := range list.Items {
		if it.ID == g.ID || it.Slug == "powiaty-"+u {
			found++
		}
	}
	if found != 2 {
		t.Errorf("group list has %d of the 2 new groups", found)
	}
}

func TestAdminMembershipsAPI(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	g := env.NewGroup(model.KindCounty)
	u := env.NewUser(model.RoleMember)
	path := fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, u.ID)
	role := func() string {
		var r string
		if err := env.DB.Get(&r, `SELECT COALESCE((SELECT role FROM memberships WHERE user_id = $1 AND group_id = $2), '')`, u.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		return r
	}

	r := admin.JSON("PUT", path, map[string]string{"role": "member"})
	wantStatus(t, "first PUT", r, http.StatusCreated)
	var out struct {
		GroupID int64  `json:"group_id"`
		UserID  int64  `json:"user_id"`
		Role    string `json:"role"`
	}
	r.Decode(&out)
	if out.GroupID != g.ID || out.UserID != u.ID || out.Role != "member" || role() != "member" {
		t.Errorf("after the first PUT: %+v, stored %q", out, role())
	}
	wantStatus(t, "PUT with another role", admin.JSON("PUT", path, map[string]string{"role": "moderator"}), http.StatusOK)
	if role() != "moderator" {
		t.Errorf("stored role %q, want moderator", role())
	}
	wantDetails(t, "role owner", admin.JSON("PUT", path, map[string]string{"role": "owner"}), "role")
	wantDetails(t, "role missing", admin.JSON("PUT", path, map[string]string{}), "role")
	if role() != "moderator" {
		t.Errorf("a refused PUT changed the role to %q", role())
	}

	r = admin.JSON("GET", fmt.Sprintf("/api/v1/groups/%d/members", g.ID), nil)
	wantStatus(t, "members", r, http.StatusOK)
	if !strings.Contains(r.String(), `"role":"moderator"`) || !strings.Contains(r.String(), u.Name) {
		t.Errorf("member list lacks the moderator: %s", r)
	}

	wantStatus(t, "DELETE", admin.JSON("DELETE", path, nil), http.StatusNoContent)
	if role() != "" {
		t.Errorf("membership still stored as %q", role())
	}
	wantError(t, "DELETE again", admin.JSON("DELETE", path, nil), http.StatusNotFound, "not_found")
	wantError(t, "unknown group", admin.JSON("PUT", fmt.Sprintf("/api/v1/groups/999999999/members/%d", u.ID), map[string]string{"role": "member"}), http.StatusNotFound, "not_found")
	wantError(t, "unknown user", admin.JSON("PUT", fmt.Sprintf("/api/v1/groups/%d/members/999999999", g.ID), map[string]string{"role": "member"}), http.StatusNotFound, "not_found")
}

var inviteURL = regexp.MustCompile(`/invite/([A-Za-z0-9_-]{43})$`)

func TestInvitations(t *testing.T) {
	env := testkit.Start(t, dbURL)
	adminU := env.NewUser(model.RoleAdmin)
	admin := env.Login(adminU)
	jst := newJST(t, admin)
	g := env.NewGroup(model.KindRural)
	email := "zaproszona" + testkit.Unique() + "@gmina.example"

	invite := func(t *testing.T, body map[string]any) (accounts.InvitationView, string) {
		t.Helper()
		r := admin.JSON("POST", "/api/v1/invitations", body)
		wantStatus(t, "invite", r, http.StatusCreated)
		var out struct {
			accounts.InvitationView
			URL string `json:"url"`
		}
		r.Decode(&out)
		m := inviteURL.FindStringSubmatch(out.URL)
		if m == nil || !strings.HasPrefix(out.URL, env.URL+"/invite/") {
			t.Fatalf("invitation url %q is not %s/invite/<token>", out.URL, env.URL)
		}
		if strings.Contains(r.String(), "token_hash") {
			t.Error("the invitation response carries the token hash")
		}
		return out.InvitationView, m[1]
	}

	inv, token := invite(t, map[string]any{"email": email, "role": "member", "jst_id": jst.ID, "job_title": "Inspektorka",
		"group_id": g.ID, "group_role": "observer"})
	if inv.ID == 0 || inv.Email != email || inv.Role != "member" || inv.GroupID == nil || *inv.GroupID != g.ID {
		t.Errorf("invitation = %+v", inv)
	}
	var stored int
	if err := env.DB.Get(&stored, `SELECT count(*) FROM invitations WHERE token_hash = $1`, []byte(token)); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Error("the invitation token is stored in clear")
	}

	page := env.Anonymous().Get("/invite/" + token)
	wantStatus(t, "invitation page", page, http.StatusOK)
	if !strings.Contains(page.String(), email) || !strings.Contains(page.String(), `action="/invite/`+token+`"`) {
		t.Errorf("invitation page lacks the email or the form: %s", trim(page.String()))
	}

	anon := env.Anonymous()
	wantDetails(t, "accept with a weak password", anon.JSON("POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"name": "Zofia Nowak", "password": "haslo"}), "password")
	r := anon.JSON("POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"name": "Zofia  Nowak", "password": goodPassword})
	wantStatus(t, "accept", r, http.StatusCreated)
	var u userJSON
	r.Decode(&u)
	if u.ID == 0 || u.Email != email || u.Name != "Zofia Nowak" || u.Role != "member" || u.JobTitle != "Inspektorka" || u.JSTID == nil || *u.JSTID != jst.ID {
		t.Errorf("accepted user = %+v", u)
	}
	var gr string
	if err := env.DB.Get(&gr, `SELECT role FROM memberships WHERE user_id = $1 AND group_id = $2`, u.ID, g.ID); err != nil {
		t.Fatalf("the invited user has no membership: %v", err)
	}
	if gr != "observer" {
		t.Errorf("membership role %q, want observer", gr)
	}
	c := env.Login(testkit.User{User: model.User{Email: email}, Password: goodPassword})
	me := c.JSON("GET", "/api/v1/me", nil)
	wantStatus(t, "me as the invited user", me, http.StatusOK)

	wantError(t, "accept again", env.Anonymous().JSON("POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"name": "Ktoś Inny", "password": goodPassword}), http.StatusNotFound, "not_found")
	wantStatus(t, "page of a used invitation", env.Anonymous().Get("/invite/"+token), http.StatusNotFound)
	wantError(t, "made-up token", env.Anonymous().JSON("POST", "/api/v1/invitations/"+strings.Repeat("A", 43)+"/accept", map[string]string{"name": "Ktoś Inny", "password": goodPassword}), http.StatusNotFound, "not_found")

	t.Run("expired", func(t *testing.T) {
		inv, token := invite(t, map[string]any{"email": "wygasle" + testkit.Unique() + "@gmina.example"})
		if _, err := env.DB.Exec(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, inv.ID); err != nil {
			t.Fatal(err)
		}
		wantError(t, "accept expired", env.Anonymous().JSON("POST", "/api/v1/invitations/"+token+"/accept", map[string]string{"name": "Spóźniony Gość", "password": goodPassword}), http.StatusNotFound, "not_found")
		wantStatus(t, "page of an expired invitation", env.Anonymous().Get("/invite/"+token), http.StatusNotFound)
	})

	t.Run("refused", func(t *testing.T) {
		wantDetails(t, "existing email", admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": strings.ToUpper(email)}), "email")
		wantDetails(t, "existing admin email", admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": adminU.Email}), "email")
		wantDetails(t, "bad group role", admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": "a" + testkit.Unique() + "@gmina.example", "group_id": g.ID, "group_role": "owner"}), "group_role")
		wantDetails(t, "unknown group", admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": "a" + testkit.Unique() + "@gmina.example", "group_id": 999999999}), "group_id")
		wantDetails(t, "unknown JST", admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": "a" + testkit.Unique() + "@gmina.example", "jst_id": 999999999}), "jst_id")
	})

	t.Run("accepted through the form", func(t *testing.T) {
		addr := "formularz-zapr" + testkit.Unique() + "@gmina.example"
		_, token := invite(t, map[string]any{"email": addr, "group_id": g.ID})
		c := env.Anonymous()
		r := c.Form("/invite/"+token, url.Values{"name": {"Wiesław Formularz"}, "password": {goodPassword}, "password_confirm": {goodPassword + "x"}})
		if r.Status != http.StatusBadRequest || !contains(r.String(), `id="e-password_confirm"`, `value="Wiesław Formularz"`) {
			t.Errorf("mismatched confirmation = %d, want 400 with the error and the name kept: %s", r.Status, trim(r.String()))
		}
		if strings.Contains(r.String(), goodPassword) {
			t.Error("the form echoes the password")
		}
		r = c.Form("/invite/"+token, url.Values{"name": {"Wiesław Formularz"}, "password": {goodPassword}, "password_confirm": {goodPassword}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("accepting through the form = %d to %q, want 303 to /", r.Status, r.Header.Get("Location"))
		}
		if ck := sessionCookie(r); ck == nil || ck.Value == "" {
			t.Fatal("the new member is not logged in")
		}
		me := c.JSON("GET", "/api/v1/me", nil)
		wantStatus(t, "me after accepting", me, http.StatusOK)
		var out struct {
			Email       string                    `json:"email"`
			Memberships []accounts.MembershipView `json:"memberships"`
		}
		me.Decode(&out)
		if out.Email != addr || len(out.Memberships) != 1 || out.Memberships[0].GroupID != g.ID || out.Memberships[0].Role != "member" {
			t.Errorf("new member = %+v, want %s, member of group %d", out, addr, g.ID)
		}
		if home := c.Get("/"); !strings.Contains(home.String(), `role="status"`) {
			t.Error("no welcome message after accepting")
		}
	})

	t.Run("listed", func(t *testing.T) {
		r := admin.JSON("GET", "/api/v1/invitations", nil)
		wantStatus(t, "list", r, http.StatusOK)
		if !strings.Contains(r.String(), email) || !strings.Contains(r.String(), `"accepted_at":"`) {
			t.Errorf("invitation list lacks the accepted invitation: %s", trim(r.String()))
		}
	})
}

// Every admin action leaves an audit entry, and the log cannot be rewritten.
func TestAuditLog(t *testing.T) {
	env := testkit.Start(t, dbURL)
	adminU := env.NewUser(model.RoleAdmin)
	admin := env.Login(adminU)
	u := env.NewUser(model.RoleMember)
	g := env.NewGroup(model.KindRural)
	x := testkit.Unique()

	steps := []struct {
		action string
		do     func() *testkit.Response
		status int
	}{
		{"user.create", func() *testkit.Response {
			return admin.JSON("POST", "/api/v1/users", map[string]any{"email": "audyt" + x + "@gmina.example", "name": "Audyt " + x, "password": goodPassword})
		}, http.StatusCreated},
		{"user.update", func() *testkit.Response {
			return admin.JSON("PATCH", "/api/v1/users/"+itoa(u.ID), map[string]any{"job_title": "Nowe stanowisko"})
		}, http.StatusOK},
		{"user.sessions_end", func() *testkit.Response { return admin.JSON("DELETE", "/api/v1/users/"+itoa(u.ID)+"/sessions", nil) }, http.StatusNoContent},
		{"jst.create", func() *testkit.Response {
			return admin.JSON("POST", "/api/v1/jst", map[string]any{"name": "Audyt " + x, "kind": "powiat", "voivodeship": "podlaskie"})
		}, http.StatusCreated},
		{"group.create", func() *testkit.Response {
			return admin.JSON("POST", "/api/v1/groups", map[string]any{"name": "Audyt " + x, "kind": "common"})
		}, http.StatusCreated},
		{"membership.put", func() *testkit.Response {
			return admin.JSON("PUT", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, u.ID), map[string]string{"role": "member"})
		}, http.StatusCreated},
		{"membership.delete", func() *testkit.Response {
			return admin.JSON("DELETE", fmt.Sprintf("/api/v1/groups/%d/members/%d", g.ID, u.ID), nil)
		}, http.StatusNoContent},
		{"invitation.create", func() *testkit.Response {
			return admin.JSON("POST", "/api/v1/invitations", map[string]any{"email": "audyt-zapr" + x + "@gmina.example"})
		}, http.StatusCreated},
	}
	var want []string
	for _, s := range steps {
		wantStatus(t, s.action, s.do(), s.status)
		want = append(want, s.action)
	}
	// A refused action leaves no entry.
	wantDetails(t, "refused", admin.JSON("POST", "/api/v1/jst", map[string]any{"name": "Audyt " + x, "kind": "powiat", "voivodeship": "podlaskie"}), "name")

	var got []string
	if err := env.DB.Select(&got, `SELECT action FROM audit_log WHERE actor_id = $1 ORDER BY id`, adminU.ID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("audit actions = %v, want %v", got, want)
	}
	var upd struct {
		TargetID int64  `db:"target_id"`
		Details  string `db:"details"`
	}
	if err := env.DB.Get(&upd, `SELECT target_id, details::text AS details FROM audit_log WHERE actor_id = $1 AND action = 'user.update'`, adminU.ID); err != nil {
		t.Fatal(err)
	}
	if upd.TargetID != u.ID || !strings.Contains(upd.Details, "Nowe stanowisko") {
		t.Errorf("user.update entry = %+v, want target %d with the changed job title", upd, u.ID)
	}
	var groupID *int64
	if err := env.DB.Get(&groupID, `SELECT group_id FROM audit_log WHERE actor_id = $1 AND action = 'membership.put'`, adminU.ID); err != nil {
		t.Fatal(err)
	}
	if groupID == nil || *groupID != g.ID {
		t.Errorf("membership.put entry has group %v, want %d", groupID, g.ID)
	}

	var id int64
	if err := env.DB.Get(&id, `SELECT max(id) FROM audit_log WHERE actor_id = $1`, adminU.ID); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET reason = 'rewritten' WHERE id = $1`,
		`DELETE FROM audit_log WHERE id = $1`,
	} {
		res, err := env.DB.Exec(stmt, id)
		if err == nil {
			n, _ := res.RowsAffected()
			t.Errorf("%s succeeded (%d rows)", stmt, n)
		} else if !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s failed for another reason: %v", stmt, err)
		}
	}
	var n int
	if err := env.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE actor_id = $1 AND reason = ''`, adminU.ID); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Errorf("%d untouched audit entries, want %d", n, len(want))
	}
}

func TestAdminHTMLForms(t *testing.T) {
	env := testkit.Start(t, dbURL)
	admin := env.Login(env.NewUser(model.RoleAdmin))
	x := testkit.Unique()

	t.Run("create user", func(t *testing.T) {
		email := "formularz" + x + "@gmina.example"
		r := admin.Form("/admin/users", url.Values{"email": {email}, "name": {"Feliks Formularz"}, "job_title": {"Sekretarz"},
			"role": {"member"}, "password": {goodPassword}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("POST /admin/users = %d, want 303: %s", r.Status, trim(r.String()))
		}
		var id int64
		if err := env.DB.Get(&id, `SELECT id FROM users WHERE email = $1`, email); err != nil {
			t.Fatalf("user not created: %v", err)
		}
		if loc := r.Header.Get("Location"); loc != "/admin/users/"+itoa(id) {
			t.Errorf("redirect to %q, want /admin/users/%d", loc, id)
		}
		page := admin.Get("/admin/users/" + itoa(id))
		wantStatus(t, "user page", page, http.StatusOK)
		if !strings.Contains(page.String(), "Feliks Formularz") || !strings.Contains(page.String(), `role="status"`) && !strings.Contains(page.String(), "flash") {
			t.Errorf("user page lacks the user or the flash message: %s", trim(page.String()))
		}
	})

	t.Run("validation error keeps the values", func(t *testing.T) {
		r := admin.Form("/admin/users", url.Values{"email": {"zly-adres"}, "name": {"Halina Błąd"}, "job_title": {"Kierowniczka"},
			"role": {"staff"}, "password": {"krotkie"}})
		if r.Status != http.StatusBadRequest {
			t.Fatalf("invalid form = %d, want 400", r.Status)
		}
		page := r.String()
		for _, want := range []string{`value="zly-adres"`, `value="Halina Błąd"`, `value="Kierowniczka"`, `value="staff" selected`, `aria-invalid="true"`, `id="e-email"`, `id="e-password"`} {
			if !strings.Contains(page, want) {
				t.Errorf("re-rendered form lacks %s", want)
			}
		}
		if strings.Contains(page, "krotkie") {
			t.Error("re-rendered form echoes the password")
		}
	})

	t.Run("end sessions with confirmation", func(t *testing.T) {
		u := env.NewUser(model.RoleMember)
		c := env.Login(u)
		path := "/admin/users/" + itoa(u.ID) + "/sessions/end"
		r := admin.Get(path)
		wantStatus(t, "confirmation page", r, http.StatusOK)
		if !contains(r.String(), `method="post"`, `action="`+path+`"`, `name="_csrf" value="`+admin.CSRF+`"`) {
			t.Errorf("confirmation page lacks its form: %s", trim(r.String()))
		}
		wantStatus(t, "session still alive after GET", c.JSON("GET", "/api/v1/me", nil), http.StatusOK)
		r = admin.Form(path, nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/users/"+itoa(u.ID) {
			t.Errorf("POST %s = %d to %q, want 303 to the user page", path, r.Status, r.Header.Get("Location"))
		}
		wantError(t, "session after ending", c.JSON("GET", "/api/v1/me", nil), http.StatusUnauthorized, "unauthenticated")
	})
}

// The audit log cannot be emptied with TRUNCATE either.
func TestAuditLogRefusesTruncate(t *testing.T) {
	env := testkit.Start(t, dbURL)
	if _, err := env.DB.Exec(`TRUNCATE audit_log`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("TRUNCATE audit_log = %v, want the append-only error", err)
	}
}
