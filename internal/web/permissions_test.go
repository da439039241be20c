package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/accounts"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// The permission matrix of SPEC §3 over HTTP: every role against its own rural
// group, another (urban) group and a common group, through pages, the JSON API and
// the admin-only endpoints. Each role logs in once and reuses its client.
func TestPermissionMatrixOverHTTP(t *testing.T) {
	env := testkit.Start(t, dbURL)
	own, other, common := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban), env.NewGroup(model.KindCommon)
	placements := []struct {
		name string
		g    model.Group
	}{{"own", own}, {"other", other}, {"common", common}}

	type role struct {
		name       string
		global     string // "" = anonymous
		membership string // role in own, "" = none
		// readable groups, in placement order: own, other, common
		reads [3]bool
		admin bool
	}
	roles := []role{
		{name: "anonymous"},
		{name: "observer", global: model.RoleMember, membership: model.GroupObserver, reads: [3]bool{true, false, true}},
		{name: "member", global: model.RoleMember, membership: model.GroupMember, reads: [3]bool{true, false, true}},
		{name: "moderator", global: model.RoleMember, membership: model.GroupModerator, reads: [3]bool{true, false, true}},
		{name: "staff", global: model.RoleStaff, reads: [3]bool{true, true, true}},
		{name: "admin", global: model.RoleAdmin, reads: [3]bool{true, true, true}, admin: true},
		{name: "member without membership", global: model.RoleMember, reads: [3]bool{false, false, true}},
	}

	for _, rl := range roles {
		t.Run(rl.name, func(t *testing.T) {
			var c *testkit.Client
			var u testkit.User
			if rl.global == "" {
				c = env.Anonymous()
			} else {
				u = env.NewUser(rl.global)
				if rl.membership != "" {
					env.AddMember(u.ID, own.ID, rl.membership)
				}
				c = env.Login(u)
			}
			anonymous := rl.global == ""

			for i, pl := range placements {
				gid := itoa(pl.g.ID)
				t.Run(pl.name, func(t *testing.T) {
					// The group page.
					r := c.Get("/g/" + gid)
					switch {
					case anonymous:
						if r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
							t.Fatalf("GET /g/%s = %d, want a redirect to /login", gid, r.Status)
						}
						if loc := r.Header.Get("Location"); loc != "/login?next="+url.QueryEscape("/g/"+gid) {
							t.Errorf("redirect to %q, want /login?next=<the page>", loc)
						}
					case rl.reads[i]:
						wantStatus(t, "GET /g/"+gid, r, http.StatusOK)
						if !strings.Contains(r.String(), pl.g.Name) {
							t.Errorf("group page lacks the group's name")
						}
					default:
						wantStatus(t, "GET /g/"+gid, r, http.StatusNotFound)
						if strings.Contains(r.String(), pl.g.Name) {
							t.Errorf("404 page leaks the group's name")
						}
					}

					// The members list.
					r = c.JSON("GET", "/api/v1/groups/"+gid+"/members", nil)
					switch {
					case anonymous:
						wantError(t, "members", r, http.StatusUnauthorized, "unauthenticated")
					case rl.reads[i]:
						wantStatus(t, "members", r, http.StatusOK)
						var out struct {
							Items []accounts.MemberView `json:"items"`
						}
						r.Decode(&out)
						if pl.g.ID == own.ID && rl.membership != "" {
							found := false
							for _, m := range out.Items {
								found = found || (m.UserID == u.ID && m.Role == rl.membership)
							}
							if !found {
								t.Errorf("members of own group lack the user as %s: %+v", rl.membership, out.Items)
							}
						}
					default:
						wantError(t, "members", r, http.StatusNotFound, "not_found")
						if strings.Contains(r.String(), pl.g.Name) {
							t.Errorf("404 leaks the group's name")
						}
					}
				})
			}

			t.Run("forum index", func(t *testing.T) {
				r := c.JSON("GET", "/api/v1/forum", nil)
				if anonymous {
					wantError(t, "forum", r, http.StatusUnauthorized, "unauthenticated")
					return
				}
				wantStatus(t, "forum", r, http.StatusOK)
				var out struct {
					Sections []struct {
						Kind   string               `json:"kind"`
						Groups []accounts.GroupView `json:"groups"`
					} `json:"sections"`
				}
				r.Decode(&out)
				got := map[int64]bool{}
				for _, s := range out.Sections {
					for _, g := range s.Groups {
						if g.Kind != s.Kind {
							t.Errorf("group %d of kind %s listed under %s", g.ID, g.Kind, s.Kind)
						}
						got[g.ID] = true
						// Nothing outside the user's groups and the common ones.
						if !rl.reads[1] && g.Kind != model.KindCommon && g.ID != own.ID {
							t.Errorf("forum lists group %d (%s) the user may not read", g.ID, g.Kind)
						}
						if !rl.reads[0] && g.ID == own.ID {
							t.Errorf("forum lists group %d the user may not read", g.ID)
						}
					}
				}
				for i, pl := range placements {
					if got[pl.g.ID] != rl.reads[i] {
						t.Errorf("forum lists %s group: %v, want %v", pl.name, got[pl.g.ID], rl.reads[i])
					}
				}
				if rl.reads[1] { // staff and admins see every group
					var all []int64
					if err := env.DB.SelectContext(context.Background(), &all, `SELECT id FROM groups`); err != nil {
						t.Fatal(err)
					}
					for _, id := range all {
						if !got[id] {
							t.Errorf("forum lacks group %d for %s", id, rl.name)
						}
					}
				}
			})

			t.Run("admin endpoints", func(t *testing.T) {
				target := env.NewUser(model.RoleMember)
				jstName := "JST " + testkit.Unique()
				reqs := []struct {
					name         string
					method, path string
					body         any
					adminStatus  int
				}{
					{"list users", "GET", "/api/v1/users", nil, http.StatusOK},
					{"create jst", "POST", "/api/v1/jst", map[string]any{"name": jstName, "kind": "gmina_wiejska", "voivodeship": "mazowieckie"}, http.StatusCreated},
					{"put member", "PUT", fmt.Sprintf("/api/v1/groups/%d/members/%d", own.ID, target.ID), map[string]string{"role": model.GroupMember}, http.StatusCreated},
				}
				for _, q := range reqs {
					r := c.JSON(q.method, q.path, q.body)
					switch {
					case anonymous:
						wantError(t, q.name, r, http.StatusUnauthorized, "unauthenticated")
					case rl.admin:
						wantStatus(t, q.name, r, q.adminStatus)
					default:
						wantError(t, q.name, r, http.StatusNotFound, "not_found")
					}
				}
				// Refused requests changed nothing.
				var jsts, memberships int
				if err := env.DB.GetContext(context.Background(), &jsts, `SELECT count(*) FROM jst WHERE name = $1`, jstName); err != nil {
					t.Fatal(err)
				}
				if err := env.DB.GetContext(context.Background(), &memberships, `SELECT count(*) FROM memberships WHERE user_id = $1`, target.ID); err != nil {
					t.Fatal(err)
				}
				want := 0
				if rl.admin {
					want = 1
				}
				if jsts != want || memberships != want {
					t.Errorf("after the admin requests: %d JST and %d memberships, want %d each", jsts, memberships, want)
				}

				// The admin pages.
				r := c.Get("/admin/users")
				switch {
				case anonymous:
					if r.Status != http.StatusFound && r.Status != http.StatusSeeOther {
						t.Errorf("GET /admin/users = %d, want a redirect to /login", r.Status)
					} else if loc := r.Header.Get("Location"); !strings.HasPrefix(loc, "/login?next=") {
						t.Errorf("redirect to %q, want /login?next=…", loc)
					}
					wantError(t, "GET /admin/users as JSON", c.JSON("GET", "/admin/users", nil), http.StatusUnauthorized, "unauthenticated")
				case rl.admin:
					wantStatus(t, "GET /admin/users", r, http.StatusOK)
				default:
					wantStatus(t, "GET /admin/users", r, http.StatusNotFound)
					if strings.Contains(r.String(), target.Email) {
						t.Errorf("404 admin page lists users")
					}
				}
			})
		})
	}
}
