package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/forum"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/moderation"
	"github.com/gwd-jst/forumjst/internal/store"
)

func (s *server) moderationPageRoutes() []route {
	return []route{
		post("/t/:id/mod/:action<regex(^(pin|unpin|lock|unlock|unhide)$)>", s.pageThreadAction),
		get("/t/:id/mod/hide", s.pageModForm("hide")),
		post("/t/:id/mod/hide", s.pageHideThread),
		get("/t/:id/mod/edit", s.pageModForm("edit")),
		post("/t/:id/mod/edit", s.pageEditThread),
		get("/t/:id/mod/move", s.pageModForm("move")),
		post("/t/:id/mod/move", s.pageMoveThread),
		get("/t/:id/mod/merge", s.pageModForm("merge")),
		post("/t/:id/mod/merge", s.pageMergeThread),
		post("/t/:id/mod/split", s.pageSplitThread),
		get("/p/:id/mod/hide", s.pagePostForm("hide")),
		post("/p/:id/mod/hide", s.pageHidePost),
		post("/p/:id/mod/unhide", s.pageUnhidePost),
		get("/p/:id/report", s.pagePostForm("report")),
		post("/p/:id/report", s.pageReport),
		get("/g/:id/flags", s.pageFlags),
		post("/flags/:id/:action<regex(^(resolve|dismiss)$)>", s.pageCloseFlag),
		get("/g/:id/mutes", s.pageMutes),
		post("/g/:id/mutes", s.pageMute),
		post("/g/:id/mutes/:user_id/lift", s.pageUnmute),
		post("/g/:id/settings", s.pageGroupSettings),
		get("/g/:id/audit", s.pageGroupAudit),
		get("/admin/audit", s.pageAdminAudit),
	}
}

// threadActionFlash names the confirmation shown after each thread action.
var threadActionFlash = map[string]string{
	"pin": "flash.mod_pin", "unpin": "flash.mod_unpin", "lock": "flash.mod_lock",
	"unlock": "flash.mod_unlock", "unhide": "flash.mod_unhide",
}

func (s *server) pageThreadAction(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Mod.ThreadAction(c.UserContext(), actor(c), id, c.Params("action"), c.FormValue("reason")); err != nil {
		return err
	}
	s.flash(c, threadActionFlash[c.Params("action")])
	return c.Redirect(threadURL(id, 1, ""), fiber.StatusSeeOther)
}

// modFormData drives mod_form.html: one page per thread action that needs input.
type modFormData struct {
	Kind    string // hide, edit, move, merge
	Thread  forum.Thread
	Group   model.Group
	Groups  []model.Group      // move: where the actor may move it
	Threads []forum.ThreadItem // merge: candidates in the same group
	Areas   []model.Area
	Picked  map[int64]bool
}

func (s *server) pageModForm(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.renderModForm(c, kind, pageOpts{}) }
}

func (s *server) renderModForm(c *fiber.Ctx, kind string, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Forum.Thread(c.UserContext(), actor(c), id, 1, false)
	if err != nil {
		return err
	}
	if !v.CanModerate {
		return apperr.ErrForbidden
	}
	d := modFormData{Kind: kind, Thread: v.Thread, Group: v.Group, Picked: map[int64]bool{}}
	switch kind {
	case "move":
		groups, err := s.Accounts.Groups(c.UserContext(), actor(c))
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.ID != v.Group.ID && actor(c).CanModerate(g) {
				d.Groups = append(d.Groups, g)
			}
		}
	case "merge":
		gv, err := s.Forum.Group(c.UserContext(), actor(c), v.Group.ID, forum.ThreadQuery{Page: store.Page{Limit: 200}})
		if err != nil {
			return err
		}
		for _, t := range gv.Threads {
			if t.ID != id {
				d.Threads = append(d.Threads, t)
			}
		}
	case "edit":
		if d.Areas, err = s.Forum.Areas(c.UserContext(), actor(c)); err != nil {
			return err
		}
		for _, a := range v.Thread.Areas {
			d.Picked[a.ID] = true
		}
		if o.Form == nil {
			o.Form = map[string]string{"title": v.Thread.Title, "slow_mode_minutes": strconv.Itoa(v.Thread.SlowModeSeconds / 60)}
		}
	}
	o.Title, o.Nav = s.tr(c).T("mod."+kind+".title"), "index"
	return s.render(c, "mod_form", o, d)
}

// modResult finishes a moderation form: field errors re-render the form with
// what was typed; success flashes and redirects.
func (s *server) modResult(c *fiber.Ctx, err error, kind, flash, redirect string, fields ...string) error {
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderModForm(c, kind, pageOpts{Errors: fe, Form: formValues(c, fields...)})
	}
	if err != nil {
		return err
	}
	s.flash(c, flash)
	return c.Redirect(redirect, fiber.StatusSeeOther)
}

func (s *server) pageHideThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = s.Mod.ThreadAction(c.UserContext(), actor(c), id, moderation.Hide, c.FormValue("reason"))
	return s.modResult(c, err, "hide", "flash.mod_hide", threadURL(id, 1, ""), "reason")
}

func (s *server) pageEditThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	title, areas := c.FormValue("title"), formIDs(c, "areas")
	if areas == nil {
		areas = []int64{}
	}
	in := moderation.ThreadEdit{Title: &title, Areas: &areas, Reason: c.FormValue("reason")}
	if v := strings.TrimSpace(c.FormValue("slow_mode_minutes")); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil {
			m = -1 // reported as a field error
		}
		in.SlowModeMinutes = &m
	}
	err = s.Mod.EditThread(c.UserContext(), actor(c), id, in)
	return s.modResult(c, err, "edit", "flash.saved", threadURL(id, 1, ""), "title", "slow_mode_minutes", "reason")
}

func (s *server) pageMoveThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var gid int64
	if v := formInt64(c, "group_id"); v != nil {
		gid = *v
	}
	err = s.Mod.Move(c.UserContext(), actor(c), id, gid, c.FormValue("reason"))
	return s.modResult(c, err, "move", "flash.mod_move", threadURL(id, 1, ""), "group_id", "reason")
}

func (s *server) pageMergeThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var into int64
	if v := formInt64(c, "into_thread_id"); v != nil {
		into = *v
	}
	err = s.Mod.Merge(c.UserContext(), actor(c), id, into, c.FormValue("reason"))
	return s.modResult(c, err, "merge", "flash.mod_merge", threadURL(into, 1, ""), "into_thread_id", "reason")
}

func (s *server) pageSplitThread(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := moderation.SplitInput{PostIDs: formIDs(c, "post_ids"), Title: c.FormValue("title"), Reason: c.FormValue("reason")}
	newID, err := s.Mod.Split(c.UserContext(), actor(c), id, in)
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderThread(c, pageOpts{Errors: fe, Form: formValues(c, "title", "reason")}, "")
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.mod_split")
	return c.Redirect(threadURL(newID, 1, ""), fiber.StatusSeeOther)
}

// postFormData drives post_form.html (hide a post, report a post).
type postFormData struct {
	Kind   string
	Post   forum.Post
	Thread forum.Thread
	Group  model.Group
}

func (s *server) pagePostForm(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error { return s.renderPostForm(c, kind, pageOpts{}) }
}

func (s *server) renderPostForm(c *fiber.Ctx, kind string, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, t, g, err := s.Forum.Post(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if kind == "hide" && !actor(c).CanModerate(g) {
		return apperr.ErrForbidden
	}
	o.Title, o.Nav = s.tr(c).T("mod.post_"+kind+".title"), "index"
	return s.render(c, "post_form", o, postFormData{Kind: kind, Post: p, Thread: t, Group: g})
}

func (s *server) pageHidePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	err = s.Mod.HidePost(c.UserContext(), actor(c), id, true, c.FormValue("reason"))
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderPostForm(c, "hide", pageOpts{Errors: fe, Form: formValues(c, "reason")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.mod_post_hide")
	return c.Redirect(fmt.Sprintf("/p/%d", id), fiber.StatusSeeOther)
}

func (s *server) pageUnhidePost(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Mod.HidePost(c.UserContext(), actor(c), id, false, c.FormValue("reason")); err != nil {
		return err
	}
	s.flash(c, "flash.mod_post_unhide")
	return c.Redirect(fmt.Sprintf("/p/%d", id), fiber.StatusSeeOther)
}

func (s *server) pageReport(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	_, err = s.Mod.Report(c.UserContext(), actor(c), id, c.FormValue("reason"))
	var conflict *apperr.Conflict
	if errors.As(err, &conflict) {
		s.flash(c, "flash.already_reported")
		return c.Redirect(fmt.Sprintf("/p/%d", id), fiber.StatusSeeOther)
	}
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		return s.renderPostForm(c, "report", pageOpts{Errors: fe, Form: formValues(c, "reason")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.reported")
	return c.Redirect(fmt.Sprintf("/p/%d", id), fiber.StatusSeeOther)
}

type flagsPageData struct {
	Group   model.Group
	Flags   []store.Flag
	State   string
	Page    int
	HasMore bool
}

func (s *server) pageFlags(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, page, err := pageParams(c)
	if err != nil {
		return err
	}
	state := c.Query("state", "open")
	if state == "all" {
		state = ""
	}
	g, flags, err := s.Mod.Flags(c.UserContext(), actor(c), id, state, p)
	if err != nil {
		return err
	}
	list := paginate(flags, p, page)
	return s.render(c, "mod_flags", pageOpts{Title: s.tr(c).T("mod.flags.title"), Nav: "index"},
		flagsPageData{Group: g, Flags: list.Items, State: c.Query("state", "open"), Page: page, HasMore: list.HasMore})
}

func (s *server) pageCloseFlag(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.Mod.CloseFlag(c.UserContext(), actor(c), id, c.Params("action") == "resolve", c.FormValue("note"))
	var conflict *apperr.Conflict
	if errors.As(err, &conflict) {
		s.flash(c, "flash.flag_already_closed")
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	if c.Params("action") == "resolve" {
		s.flash(c, "flash.flag_resolve")
	} else {
		s.flash(c, "flash.flag_dismiss")
	}
	return c.Redirect(fmt.Sprintf("/g/%d/flags", f.GroupID), fiber.StatusSeeOther)
}

type mutesPageData struct {
	Group   model.Group
	Mutes   []store.Mute
	Members []model.Member
	MinDate string
}

func (s *server) pageMutes(c *fiber.Ctx) error { return s.renderMutes(c, pageOpts{}) }

func (s *server) renderMutes(c *fiber.Ctx, o pageOpts) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	g, mutes, members, err := s.Mod.Mutes(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	var eligible []model.Member
	for _, m := range members {
		if m.Role != model.GroupModerator {
			eligible = append(eligible, m)
		}
	}
	o.Title, o.Nav = s.tr(c).T("mod.mutes.title"), "index"
	now := time.Now().In(s.tr(c).Zone())
	return s.render(c, "mod_mutes", o, mutesPageData{Group: g, Mutes: mutes, Members: eligible, MinDate: now.Format("2006-01-02")})
}

func (s *server) pageMute(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	in := moderation.MuteInput{Reason: c.FormValue("reason")}
	if v := formInt64(c, "user_id"); v != nil {
		in.UserID = *v
	}
	// The form gives a local date and time in Warsaw.
	until, perr := time.ParseInLocation("2006-01-02 15:04", c.FormValue("until_date")+" "+c.FormValue("until_time"),
		s.tr(c).Zone())
	if perr == nil {
		in.Until = until
	}
	_, err = s.Mod.Mute(c.UserContext(), actor(c), id, in)
	if perr != nil && err == nil {
		err = apperr.Invalid("until", "err.until_past")
	}
	if fe := s.formError(c, err, rateOnForm); fe != nil {
		if perr != nil {
			fe["until"] = s.tr(c).T("err.until_format")
		}
		return s.renderMutes(c, pageOpts{Errors: fe, Form: formValues(c, "user_id", "until_date", "until_time", "reason")})
	}
	if err != nil {
		return err
	}
	s.flash(c, "flash.muted")
	return c.Redirect(fmt.Sprintf("/g/%d/mutes", id), fiber.StatusSeeOther)
}

func (s *server) pageUnmute(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	uid, err := idParam(c, "user_id")
	if err != nil {
		return err
	}
	if err := s.Mod.Unmute(c.UserContext(), actor(c), id, uid); err != nil {
		return err
	}
	s.flash(c, "flash.unmuted")
	return c.Redirect(fmt.Sprintf("/g/%d/mutes", id), fiber.StatusSeeOther)
}

func (s *server) pageGroupSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	on := c.FormValue("moderators_only_threads") == "on"
	if _, err := s.Mod.UpdateGroup(c.UserContext(), actor(c), id, moderation.GroupSettings{ModeratorsOnlyThreads: &on}); err != nil {
		return err
	}
	s.flash(c, "flash.saved")
	return c.Redirect(fmt.Sprintf("/g/%d", id), fiber.StatusSeeOther)
}

type auditPageData struct {
	Group   *model.Group
	Entries []auditRow
	Actions []string // the kinds of action the filter offers
	Action  string
	// Actors are the people the person filter offers; ActorID the chosen one.
	Actors  []model.AuditActor
	ActorID int64
	Page    int
	HasMore bool
	Extra   string
}

// auditActions are the actions the audit log records, in the order the
// filter offers them (each has "audit.act.<action>" in the catalog).
var auditActions = []string{"thread.pin", "thread.unpin", "thread.lock", "thread.unlock", "thread.hide", "thread.unhide", "thread.edit", "thread.move", "thread.merge", "thread.split", "post.hide", "post.unhide", "post.auto_hide", "post.delete", "post.edit", "flag.resolve", "flag.dismiss", "member.mute", "member.unmute", "group.settings", "group.create", "user.create", "user.create_admin", "user.update", "user.sessions_end", "membership.put", "membership.delete", "invitation.create", "invitation.accept", "jst.create", "area.create", "area.update", "meeting.create", "meeting.update", "meeting.start", "meeting.end", "attachment.delete", "attendance.confirm", "two_factor.enable", "two_factor.disable", "two_factor.reset", "two_factor.policy_set", "two_factor.recovery_code_used", "two_factor.recovery_codes_regenerate", "user.password_reset", "account.update", "account.password_change", "account.session_end", "account.export", "account.delete", "tournament.open", "tournament.enter", "tournament.withdraw", "tournament.close",
	"review.create", "review.document", "review.section_add", "review.respond"}

// auditRow is an audit entry as the page shows it: the action in words, the
// target named by its title and linked where a reader can open it, and the
// remaining details as "field: value" lines instead of JSON.
type auditRow struct {
	model.AuditEntry
	Title     string
	TargetURL string
	Details   [][2]string
}

func newAuditRow(e model.AuditEntry) auditRow {
	r := auditRow{AuditEntry: e}
	var det map[string]any
	if json.Unmarshal(e.Details, &det) == nil {
		if t, ok := det["title"].(string); ok {
			r.Title = t
			delete(det, "title")
		}
		keys := make([]string, 0, len(det))
		for k := range det {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v := det[k]
			var text string
			switch v := v.(type) {
			case string:
				text = v
			case nil:
				text = "–"
			default:
				b, _ := json.Marshal(v)
				text = string(b)
			}
			r.Details = append(r.Details, [2]string{k, text})
		}
	}
	if e.TargetID != nil {
		switch e.TargetType {
		case "thread":
			r.TargetURL = fmt.Sprintf("/t/%d", *e.TargetID)
		case "post":
			r.TargetURL = fmt.Sprintf("/p/%d", *e.TargetID)
		case "meeting":
			r.TargetURL = fmt.Sprintf("/m/%d", *e.TargetID)
		case "user":
			r.TargetURL = fmt.Sprintf("/admin/users/%d", *e.TargetID)
		case "group":
			r.TargetURL = fmt.Sprintf("/g/%d", *e.TargetID)
		case "tournament":
			r.TargetURL = fmt.Sprintf("/turnieje/%d", *e.TargetID)
		case "review":
			r.TargetURL = fmt.Sprintf("/opiniowanie/%d", *e.TargetID)
		case "practice":
			r.TargetURL = fmt.Sprintf("/praktyki/%d", *e.TargetID)
		}
	}
	return r
}

// pageGroupAudit is one group's audit log, for its moderators.
func (s *server) pageGroupAudit(c *fiber.Ctx) error { return s.pageAudit(c, true) }

// pageAdminAudit is the whole audit log, for administrators.
func (s *server) pageAdminAudit(c *fiber.Ctx) error { return s.pageAudit(c, false) }

func (s *server) pageAudit(c *fiber.Ctx, ofGroup bool) error {
	q, page, err := auditQuery(c)
	if err != nil {
		return err
	}
	d := auditPageData{Action: q.Action, ActorID: q.ActorID, Page: page}
	if ofGroup {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		q.GroupID = id
		g, _, err := s.Accounts.GroupMembers(c.UserContext(), actor(c), id)
		if err != nil {
			return err
		}
		d.Group = &g
	} else if err := actor(c).Admin(); err != nil {
		return err
	}
	entries, err := s.Mod.Audit(c.UserContext(), actor(c), q)
	if err != nil {
		return err
	}
	if d.Actors, err = s.Mod.AuditActors(c.UserContext(), actor(c), q.GroupID); err != nil {
		return err
	}
	list := paginate(entries, q.Page, page)
	d.HasMore, d.Actions = list.HasMore, auditActions
	for _, e := range list.Items {
		d.Entries = append(d.Entries, newAuditRow(e))
	}
	extra := url.Values{}
	if q.Action != "" {
		extra.Set("action", q.Action)
	}
	if q.ActorID != 0 {
		extra.Set("actor_id", strconv.FormatInt(q.ActorID, 10))
	}
	if len(extra) > 0 {
		d.Extra = "&" + extra.Encode()
	}
	nav := "index"
	if d.Group == nil {
		nav = "admin"
	}
	return s.render(c, "audit", pageOpts{Title: s.tr(c).T("audit.title"), Nav: nav}, d)
}
