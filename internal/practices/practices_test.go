package practices_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/pgtest"
	"github.com/gwd-jst/forumjst/internal/practices"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }

// fixture is two groups, a JST in the first, and one person of each kind.
type fixture struct {
	env    *testkit.Env
	svc    *practices.Service
	jst    model.JST
	actors map[string]*access.Actor
}

func newFixture(t *testing.T) *fixture {
	env := testkit.Start(t, dbURL)
	ctx := context.Background()
	own, other := env.NewGroup(model.KindRural), env.NewGroup(model.KindUrban)
	j, err := store.CreateJST(ctx, env.DB, store.NewJST{Name: "Gmina " + testkit.Unique(), Kind: "gmina_wiejska", Voivodeship: "lubelskie"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{env: env, svc: env.App.Practices, jst: j, actors: map[string]*access.Actor{}}
	mk := func(name, role string, group int64, groupRole string) {
		u := env.NewUser(role)
		if _, err := env.DB.Exec(`UPDATE users SET jst_id = $2 WHERE id = $1`, u.ID, j.ID); err != nil {
			t.Fatal(err)
		}
		if group != 0 {
			env.AddMember(u.ID, group, groupRole)
		}
		got, err := store.GetUser(ctx, env.DB, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := store.ListUserMemberships(ctx, env.DB, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.actors[name] = access.NewActor(got, ms)
	}
	mk("member", model.RoleMember, own.ID, model.GroupMember)
	mk("observer", model.RoleMember, own.ID, model.GroupObserver)
	mk("other", model.RoleMember, other.ID, model.GroupMember)
	mk("staff", model.RoleStaff, 0, "")
	mk("admin", model.RoleAdmin, 0, "")
	return f
}

func ptr[T any](v T) *T { return &v }

// practiceIn writes a complete practice as the member and moves it to status.
func (f *fixture) practiceIn(t *testing.T, status string) int64 {
	t.Helper()
	ctx := context.Background()
	p, err := f.svc.Create(ctx, f.actors["member"], practices.Input{Title: ptr("Praktyka " + testkit.Unique()),
		Problem: ptr("Za mało miejsc w przedszkolach."), Solution: ptr("Nowy oddział w szkole."),
		Results: ptr("**45** nowych miejsc."), Costs: ptr("300 tys. zł"), Contact: ptr("Jan Kowalski, referat oświaty")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if status == access.PracticeDraft {
		return p.ID
	}
	if _, err := f.svc.Submit(ctx, f.actors["member"], p.ID); err != nil {
		t.Fatalf("submit: %v", err)
	}
	switch status {
	case access.PracticePublished:
		_, err = f.svc.Publish(ctx, f.actors["staff"], p.ID)
	case access.PracticeReturned:
		_, err = f.svc.Return(ctx, f.actors["staff"], p.ID, "Proszę dopisać liczby.")
	}
	if err != nil {
		t.Fatalf("move to %s: %v", status, err)
	}
	return p.ID
}

// outcome names what an error means to a client.
func outcome(err error) string {
	var conflict *apperr.Conflict
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, apperr.ErrNotFound):
		return "404"
	case errors.Is(err, apperr.ErrForbidden):
		return "403"
	case errors.As(err, &conflict):
		return "409"
	}
	return "error: " + err.Error()
}

// The permission table of issue 15: who may read, edit, submit, publish and
// return a practice in each status. Another group's draft (or submitted or
// returned one) does not exist for its readers; staff and admins may do
// everything the lifecycle allows; observers only read.
func TestPracticePermissionTable(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	actors := []string{"member", "observer", "other", "staff", "admin"}
	// want[status][action] lists the outcome for each actor, in actors' order.
	want := map[string]map[string][5]string{
		access.PracticeDraft: {
			"read":    {"ok", "ok", "404", "ok", "ok"},
			"edit":    {"ok", "403", "404", "ok", "ok"},
			"submit":  {"ok", "403", "404", "ok", "ok"},
			"publish": {"403", "403", "404", "409", "409"},
			"return":  {"403", "403", "404", "409", "409"},
		},
		access.PracticeSubmitted: {
			"read":    {"ok", "ok", "404", "ok", "ok"},
			"edit":    {"403", "403", "404", "ok", "ok"},
			"submit":  {"409", "403", "404", "409", "409"},
			"publish": {"403", "403", "404", "ok", "ok"},
			"return":  {"403", "403", "404", "ok", "ok"},
		},
		access.PracticePublished: {
			"read":    {"ok", "ok", "ok", "ok", "ok"},
			"edit":    {"403", "403", "403", "ok", "ok"},
			"submit":  {"409", "403", "403", "409", "409"},
			"publish": {"403", "403", "403", "409", "409"},
			"return":  {"403", "403", "403", "409", "409"},
		},
		access.PracticeReturned: {
			"read":    {"ok", "ok", "404", "ok", "ok"},
			"edit":    {"ok", "403", "404", "ok", "ok"},
			"submit":  {"ok", "403", "404", "ok", "ok"},
			"publish": {"403", "403", "404", "409", "409"},
			"return":  {"403", "403", "404", "409", "409"},
		},
	}
	do := map[string]func(a *access.Actor, id int64) error{
		"read": func(a *access.Actor, id int64) error { _, err := f.svc.Get(ctx, a, id); return err },
		"edit": func(a *access.Actor, id int64) error {
			p, err := f.svc.Get(ctx, f.actors["staff"], id)
			if err != nil {
				return err
			}
			_, err = f.svc.Edit(ctx, a, id, practices.Input{Costs: ptr("Koszt " + testkit.Unique()), Version: p.Version})
			return err
		},
		"submit":  func(a *access.Actor, id int64) error { _, err := f.svc.Submit(ctx, a, id); return err },
		"publish": func(a *access.Actor, id int64) error { _, err := f.svc.Publish(ctx, a, id); return err },
		"return": func(a *access.Actor, id int64) error {
			_, err := f.svc.Return(ctx, a, id, "Do poprawy.")
			return err
		},
	}
	for _, status := range access.PracticeStatuses {
		shared := f.practiceIn(t, status) // for reads, which change nothing
		for _, action := range []string{"read", "edit", "submit", "publish", "return"} {
			for i, who := range actors {
				t.Run(fmt.Sprintf("%s/%s/%s", status, action, who), func(t *testing.T) {
					id := shared
					if action != "read" {
						id = f.practiceIn(t, status)
					}
					if got := outcome(do[action](f.actors[who], id)); got != want[status][action][i] {
						t.Errorf("%s %s a %s practice: %s, want %s", who, action, status, got, want[status][action][i])
					}
				})
			}
		}
	}
	// Lists follow the same rule: the other group's member sees only the
	// published ones, the member their group's drafts too.
	for who, wantDrafts := range map[string]bool{"member": true, "other": false, "observer": true, "staff": true} {
		list, err := f.svc.List(ctx, f.actors[who], practices.Filter{Status: access.PracticeDraft, Page: store.Page{Limit: 200}})
		if err != nil {
			t.Fatal(err)
		}
		if (len(list) > 0) != wantDrafts {
			t.Errorf("%s lists %d drafts, want some: %v", who, len(list), wantDrafts)
		}
	}
}

// A practice cannot be submitted before its problem, solution, results and
// contact are written; the refusal names each missing part.
func TestPracticeSubmitNeedsTheDescription(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	p, err := f.svc.Create(ctx, f.actors["member"], practices.Input{Title: ptr("Szkic bez opisu"), Problem: ptr("Jest problem.")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Submit(ctx, f.actors["member"], p.ID)
	var v *apperr.Validation
	if !errors.As(err, &v) {
		t.Fatalf("submit an incomplete practice: %v, want a validation error", err)
	}
	for _, part := range []string{"solution", "results", "contact"} {
		if _, ok := v.Fields[part]; !ok {
			t.Errorf("the refusal does not name %q: %v", part, v.Fields)
		}
	}
	if _, ok := v.Fields["problem"]; ok {
		t.Errorf("the refusal names the written problem: %v", v.Fields)
	}
}
