package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/i18n"
)

// The thread page's 50 posts and the group page's 50 threads are the two
// lists rendered on every forum view. Through html/template each post cost
// about a hundred template actions (reflection per field and per escaper,
// a dict per partial, a go-i18n look-up per message with an argument):
// 90% of the page's CPU (issue 16). Here the lists are written from data
// prepared once per page — every message translated once, messages with an
// argument split around it once, URLs concatenated from ids — by plain Go
// code that escapes every value it writes with html/template's own escaper.
// The markup is the same as the templates wrote (thread.html, group.html
// and the "avatar", "when", "role-badge" partials of _people.html, which the
// other pages still use); only the list itself lives here.

// htmlWriter builds a fragment; text and attribute values go through esc.
type htmlWriter struct {
	strings.Builder
	cuts []int // where the chunks of a list end (endItem)
}

// chunkSize bounds the pieces a list is handed to its template in. Every
// value a template prints goes through fmt.Fprint, which copies it into a
// buffer that fmt keeps for reuse only up to 64 KB: a thread page's ~100 KB
// post list in one piece cost a freshly grown buffer on every view, 40% of
// the page template's time and 120 KB of its 160 KB allocated (issue 16).
const chunkSize = 32 << 10

// htmlChunks is a list written here, in pieces of about chunkSize; the
// template prints them one after the other.
type htmlChunks []template.HTML

// endItem ends an item of a list: the current chunk ends here once it has
// reached chunkSize.
func (w *htmlWriter) endItem() {
	last := 0
	if n := len(w.cuts); n > 0 {
		last = w.cuts[n-1]
	}
	if w.Len()-last >= chunkSize {
		w.cuts = append(w.cuts, w.Len())
	}
}

// chunks is what was written, cut where endItem said (no copy: each chunk is
// a part of the one string).
func (w *htmlWriter) chunks() htmlChunks {
	s := w.String()
	out := make(htmlChunks, 0, len(w.cuts)+1)
	from := 0
	for _, to := range w.cuts {
		out = append(out, template.HTML(s[from:to]))
		from = to
	}
	if from < len(s) {
		out = append(out, template.HTML(s[from:]))
	}
	return out
}

// raw writes markup as is (literals and sanitized post bodies only).
func (w *htmlWriter) raw(s string) { w.WriteString(s) }

// esc writes text escaped for HTML text and quoted attribute values.
func (w *htmlWriter) esc(s string) { w.WriteString(template.HTMLEscapeString(s)) }

func (w *htmlWriter) int(n int64) { w.WriteString(strconv.FormatInt(n, 10)) }

// msgFrame is a message with one argument: the text before and after the
// argument (i18n.Printer.Around). A message whose argument does not appear
// exactly once (none today) is translated per use instead.
type msgFrame struct {
	tr            *i18n.Printer
	id, key       string
	before, after string
	perUse        bool
}

func newFrame(tr *i18n.Printer, id, key string) msgFrame {
	f := msgFrame{tr: tr, id: id, key: key}
	var ok bool
	f.before, f.after, ok = tr.Around(id, key)
	f.perUse = !ok
	return f
}

func (f msgFrame) with(v string) string {
	if f.perUse {
		return f.tr.T(f.id, f.key, v)
	}
	return f.before + v + f.after
}

// when writes the "when" partial: <time> with the exact time in its title and
// "5 minut temu" as its text.
func (w *htmlWriter) when(tr *i18n.Printer, t, now time.Time) {
	w.raw(`<time datetime="`)
	w.esc(tr.ISO(t))
	w.raw(`" title="`)
	w.esc(tr.DateTime(t))
	w.raw(`">`)
	w.esc(tr.Ago(t, now))
	w.raw(`</time>`)
}

// avatar writes the "avatar" partial.
func (w *htmlWriter) avatar(id int64, name string) {
	w.raw(`<span class="avatar tone-`)
	w.int(((id % avatarTones) + avatarTones) % avatarTones)
	w.raw(`" aria-hidden="true">`)
	w.esc(initials(name))
	w.raw(`</span>`)
}

// postListLabels are a thread page's messages, translated once.
type postListLabels struct {
	unreadHere, edited, deleted, hidden, reply, to, quote, edit, revisions, del string
	unhide, hide, reported, report, roleModerator, roleStaff                    string
	permalink, splitPick, hiddenReason                                          msgFrame
}

func newPostListLabels(tr *i18n.Printer) *postListLabels {
	return &postListLabels{
		unreadHere: tr.T("thread.unread_from_here"), edited: tr.T("post.edited"), deleted: tr.T("post.deleted"),
		hidden: tr.T("post.hidden"), reply: tr.T("post.reply"), to: tr.T("post.to"), quote: tr.T("post.quote"),
		edit: tr.T("post.edit"), revisions: tr.T("post.revisions"), del: tr.T("post.delete"),
		unhide: tr.T("mod.post_unhide"), hide: tr.T("mod.post_hide.title"), reported: tr.T("mod.post_report.done"),
		report: tr.T("mod.post_report.link"), roleModerator: tr.T("role.badge.moderator"), roleStaff: tr.T("role.badge.staff"),
		permalink: newFrame(tr, "post.permalink", "Position"), splitPick: newFrame(tr, "mod.split.pick", "Position"),
		hiddenReason: newFrame(tr, "post.hidden_reason", "Reason"),
	}
}

func (l *postListLabels) role(r string) string {
	switch r {
	case "moderator":
		return l.roleModerator
	case "staff":
		return l.roleStaff
	}
	return ""
}

// postListPage is what the post list needs to know about the page and reader.
type postListPage struct {
	tr     *i18n.Printer
	lang   string
	now    time.Time
	reader *access.Actor
	csrf   string
}

// renderPostList writes a thread page's posts as thread.html showed them.
func renderPostList(pg postListPage, d *threadPageData) htmlChunks {
	l := newPostListLabels(pg.tr)
	var w htmlWriter
	// The bodies and ~1.5 KB of markup a post: one allocation for the list
	// (a fixed 2 KB a post fell short of long posts, and each doubling of the
	// builder copied the list again: ~300 KB per page, issue 16).
	size := 0
	for i := range d.Posts {
		size += len(d.Posts[i].BodyHTML) + 1536
	}
	w.Grow(size)
	threadURL := "/t/" + strconv.FormatInt(d.Thread.ID, 10) + "?"
	if d.Page > 1 {
		threadURL += "page=" + strconv.Itoa(d.Page) + "&"
	}
	var readerID int64
	if pg.reader != nil {
		readerID = pg.reader.UserID
	}
	notPolish := pg.lang != "pl"
	for i := range d.Posts {
		p := &d.Posts[i]
		id := strconv.FormatInt(p.ID, 10)
		pos := strconv.Itoa(p.Position)
		if p.Position == d.UnreadAnchor {
			w.raw("\n  <p id=\"unread\" class=\"unread-marker\" tabindex=\"-1\">")
			w.esc(l.unreadHere)
			w.raw(`</p>`)
		}
		w.raw("\n  <article class=\"post")
		if p.Redacted {
			w.raw(" tombstone")
		}
		w.raw(`" id="p` + id + `" aria-labelledby="p` + id + "-h\">\n    <header class=\"post-head\">\n      <h2 id=\"p" + id + `-h" class="post-author">`)
		w.avatar(p.Author.ID, p.Author.Name)
		w.raw(`<span>`)
		if p.Author.ID != 0 {
			w.raw(`<a href="/u/`)
			w.int(p.Author.ID)
			w.raw(`" class="author">`)
			w.esc(p.Author.Name)
			w.raw(`</a>`)
		} else {
			w.esc(p.Author.Name)
		}
		if p.Author.JST != nil {
			w.raw(` <span class="jst">(`)
			w.esc(*p.Author.JST)
			w.raw(`)</span>`)
		}
		w.raw(`</span>`)
		if r := l.role(p.AuthorRole); r != "" {
			w.raw(` <span class="badge role">`)
			w.esc(r)
			w.raw(`</span>`)
		}
		w.raw("</h2>\n      <p class=\"meta\">\n        <a href=\"/p/" + id + `" class="permalink" aria-label="`)
		w.esc(l.permalink.with(pos))
		w.raw(`">#` + pos + "</a>\n        ")
		w.when(pg.tr, p.CreatedAt, pg.now)
		if p.EditedAt != nil {
			w.raw("\n        <span class=\"edited\">")
			w.esc(l.edited)
			w.raw(" ")
			w.when(pg.tr, *p.EditedAt, pg.now)
			w.raw(`</span>`)
		}
		if p.ReplyTo != nil && p.ReplyPosition != nil {
			w.raw("\n        <a href=\"/p/")
			w.int(*p.ReplyTo)
			w.raw(`">`)
			w.esc(pg.tr.T("post.in_reply_to", "Name", deref(p.ReplyAuthor), "Position", *p.ReplyPosition))
			w.raw(`</a>`)
		}
		w.raw("\n      </p>\n    </header>")
		if d.CanModerate {
			w.raw("\n    <div class=\"field checkbox split-pick\"><input type=\"checkbox\" form=\"split-form\" name=\"post_ids\" value=\"" + id +
				`" id="pick-` + id + `"><label for="pick-` + id + `">`)
			w.esc(l.splitPick.with(pos))
			w.raw(`</label></div>`)
		}
		if p.Deleted {
			w.raw("\n    <p class=\"tombstone-note\">")
			w.esc(l.deleted)
			w.raw(`</p>`)
		}
		if p.Hidden {
			w.raw("\n    <p class=\"tombstone-note\">")
			w.esc(l.hidden)
			if p.HiddenReason != "" {
				w.raw(" ")
				w.esc(l.hiddenReason.with(p.HiddenReason))
			}
			w.raw(`</p>`)
		}
		if !p.Redacted {
			w.raw("\n    <div class=\"post-body\"")
			if notPolish {
				w.raw(` lang="pl"`)
			}
			w.raw(`>`)
			w.raw(p.BodyHTML) // sanitized by package markup when it was written
			w.raw("</div>\n    <ul class=\"post-actions\">")
			hiddenPos := `<span class="visually-hidden"> #` + pos + `</span>`
			if d.CanPost {
				w.raw("\n      <li><a href=\"")
				w.esc(threadURL + "reply_to=" + id + "#composer")
				w.raw(`">`)
				w.esc(l.reply)
				w.raw(`<span class="visually-hidden"> `)
				w.esc(l.to)
				w.raw(` #` + pos + "</span></a></li>\n      <li><a href=\"")
				w.esc(threadURL + "quote=" + id + "#composer")
				w.raw(`">`)
				w.esc(l.quote)
				w.raw(hiddenPos + `</a></li>`)
			}
			link := func(href, label string) {
				w.raw("\n      <li><a href=\"" + href + `">`)
				w.esc(label)
				w.raw(hiddenPos + `</a></li>`)
			}
			if p.CanEdit {
				link("/p/"+id+"/edit", l.edit)
				if p.EditedAt != nil {
					link("/p/"+id+"/revisions", l.revisions)
				}
			}
			if p.CanDelete {
				link("/p/"+id+"/delete", l.del)
			}
			if d.CanModerate {
				if p.Hidden {
					w.raw("\n      <li><form method=\"post\" action=\"/p/" + id + `/mod/unhide" class="inline"><input type="hidden" name="_csrf" value="`)
					w.esc(pg.csrf)
					w.raw(`"><button type="submit" class="button-link-plain">`)
					w.esc(l.unhide)
					w.raw(hiddenPos + `</button></form></li>`)
				} else if !p.Deleted {
					link("/p/"+id+"/mod/hide", l.hide)
				}
			}
			if d.CanReport && p.Author.ID != readerID && !p.Deleted {
				if p.Reported {
					w.raw("\n      <li class=\"reported\">")
					w.esc(l.reported)
					w.raw(hiddenPos + `</li>`)
				} else {
					link("/p/"+id+"/report", l.report)
				}
			}
			w.raw("\n    </ul>")
		}
		w.raw("\n  </article>")
		w.endItem()
	}
	w.raw("\n")
	return w.chunks()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// threadListLabels are a group page's messages, translated once.
type threadListLabels struct {
	pinned, locked, hidden, areas, lastActivity, newBadge string
	startedBy                                             msgFrame
}

// renderThreadList writes a group page's threads as group.html showed them.
func renderThreadList(pg postListPage, d *groupPageData) htmlChunks {
	tr := pg.tr
	l := threadListLabels{pinned: tr.T("thread.pinned"), locked: tr.T("thread.locked"), hidden: tr.T("thread.hidden"),
		areas: tr.T("thread.areas"), lastActivity: tr.T("index.last_activity"), newBadge: tr.T("thread.new_badge"),
		startedBy: newFrame(tr, "thread.started_by", "Name")}
	areaURL := "/g/" + strconv.FormatInt(d.Group.ID, 10) + "?area="
	var w htmlWriter
	w.Grow(len(d.Threads) * 1024)
	for i := range d.Threads {
		t := &d.Threads[i]
		id := strconv.FormatInt(t.ID, 10)
		w.raw("\n  <li class=\"thread-item")
		if t.Unread != 0 || t.NeverRead {
			w.raw(" unread")
		}
		w.raw("\">\n    <div class=\"thread-main\">\n      <h2 class=\"thread-title\">\n        ")
		badge := func(class, label string) {
			w.raw(`<span class="badge ` + class + `">`)
			w.esc(label)
			w.raw("</span> \n        ")
		}
		if t.Pinned {
			badge("pin", l.pinned)
		}
		if t.Locked {
			badge("warn", l.locked)
		}
		if t.Hidden {
			badge("warn", l.hidden)
		}
		w.raw(`<a href="/t/` + id + `"`)
		if pg.lang != "pl" {
			w.raw(` lang="pl"`)
		}
		w.raw(`>`)
		w.esc(t.Title)
		w.raw("</a>\n      </h2>\n      ")
		if len(t.Areas) > 0 {
			w.raw(`<ul class="tags" aria-label="`)
			w.esc(l.areas)
			w.raw(`">`)
			for _, a := range t.Areas {
				w.raw(`<li><a href="` + areaURL)
				w.int(a.ID)
				w.raw(`">`)
				w.esc(a.Name)
				w.raw(`</a></li>`)
			}
			w.raw(`</ul>`)
		}
		w.raw("\n      <p class=\"meta\"><span>")
		w.esc(l.startedBy.with(t.Author.Name))
		w.raw("</span>\n        <span>")
		w.esc(tr.N("count.posts", t.PostCount))
		w.raw("</span>\n        <span>")
		w.esc(l.lastActivity)
		w.raw(" ")
		w.when(tr, t.LastActivityAt, pg.now)
		w.raw("</span></p>\n    </div>\n    <div class=\"thread-side\">\n      ")
		if t.NeverRead {
			w.raw(`<span class="badge">`)
			w.esc(l.newBadge)
			w.raw(`</span>`)
		} else if t.Unread != 0 {
			w.raw(`<a class="badge" href="/t/` + id + `#unread">`)
			w.esc(tr.N("count.unread", t.Unread))
			w.raw(`</a>`)
		}
		w.raw("\n    </div>\n  </li>")
		w.endItem()
	}
	w.raw("\n")
	return w.chunks()
}

// threadLiveHead writes the opening of the "thread-live" partial (_live.html):
// the element and the attributes that depend on the thread; the rest is the
// cached chrome-thread-live block. Only numbers and fixed words are written.
func threadLiveHead(p Page) (template.HTML, error) {
	d, ok := p.Data.(threadPageData)
	if !ok {
		return "", fmt.Errorf("thread-live: page data is %T, not threadPageData", p.Data)
	}
	var w htmlWriter
	w.raw("\n\n<div class=\"live-notices\" id=\"thread-live\" role=\"status\"\n  data-thread-id=\"")
	w.int(d.Thread.ID)
	w.raw(`" data-group-id="`)
	w.int(d.Thread.GroupID)
	w.raw(`" data-post-count="`)
	w.int(int64(d.Thread.PostCount))
	w.raw("\"\n  ")
	if d.Thread.Locked {
		w.raw("data-locked ")
	}
	if d.Thread.Hidden {
		w.raw("data-hidden ")
	}
	if d.CanModerate {
		w.raw("data-moderator ")
	}
	w.raw("\n  ")
	return template.HTML(w.String()), nil
}

// escText escapes s exactly as html/template does in text, RCDATA and quoted
// attribute values ('+' included, which template.HTMLEscapeString leaves).
func escText(s string) string {
	s = template.HTMLEscapeString(s)
	if strings.Contains(s, "+") {
		s = strings.ReplaceAll(s, "+", "&#43;")
	}
	return s
}

// threadWatchForm writes the "watch-form" partial (_watch.html) for the
// thread page's thread: through html/template its dict and joined message
// ids cost a dozen reflective actions on every view (issue 16). The other
// pages still use the partial; TestThreadPageFragmentsMatchPartials keeps
// the two the same.
func threadWatchForm(p Page) (template.HTML, error) {
	d, ok := p.Data.(threadPageData)
	if !ok {
		return "", fmt.Errorf("watch-form: page data is %T, not threadPageData", p.Data)
	}
	var w htmlWriter
	w.raw("\n<form method=\"post\" action=\"/t/")
	w.int(d.Thread.ID)
	w.raw("/watch\" class=\"inline-form watch-form\">\n  <input type=\"hidden\" name=\"_csrf\" value=\"")
	w.raw(escText(p.CSRF))
	w.raw("\">\n  <p class=\"watch-state\">")
	if d.Watch == "none" && d.GroupWatch == "watch" {
		w.raw(escText(p.Tr.T("watch.thread.via_group")))
	} else {
		w.raw(escText(p.Tr.T("watch.thread." + d.Watch)))
	}
	w.raw("</p>\n  ")
	if d.Watch != "watch" {
		w.raw(`<button type="submit" name="state" value="watch" class="button secondary">`)
		w.raw(escText(p.Tr.T("watch.thread.do_watch")))
		w.raw(`</button>`)
	}
	w.raw("\n  ")
	if d.Watch != "mute" {
		w.raw(`<button type="submit" name="state" value="mute" class="button secondary">`)
		w.raw(escText(p.Tr.T("watch.thread.do_mute")))
		w.raw(`</button>`)
	}
	w.raw("\n  ")
	if d.Watch != "none" {
		w.raw(`<button type="submit" name="state" value="none" class="button secondary">`)
		w.raw(escText(p.Tr.T("watch.do_none")))
		w.raw(`</button>`)
	}
	w.raw("\n</form>\n")
	return template.HTML(w.String()), nil
}

// threadBodyField writes the "body-field" partial (_field.html) of the
// thread page's composer (label "post.body", @-completion of the group's
// readers), for the same reason as threadWatchForm.
func threadBodyField(p Page) (template.HTML, error) {
	d, ok := p.Data.(threadPageData)
	if !ok {
		return "", fmt.Errorf("body-field: page data is %T, not threadPageData", p.Data)
	}
	errMsg := p.Errors["body"]
	var w htmlWriter
	w.raw("\n\n<div class=\"field\">\n  <label for=\"f-body\">")
	w.raw(escText(p.Tr.T("post.body")))
	w.raw("</label>\n  <p class=\"hint\" id=\"h-body\">")
	w.raw(escText(p.Tr.T("post.markdown_hint")))
	w.raw(`</p>
  <textarea id="f-body" name="body" rows="10" required data-editor aria-describedby="h-body`)
	if errMsg != "" {
		w.raw(` e-body`)
	}
	w.raw(`"`)
	if errMsg != "" {
		w.raw(` aria-invalid="true"`)
	}
	if d.Group.ID != 0 {
		w.raw(` data-mention-group="`)
		w.int(d.Group.ID)
		w.raw(`"`)
	}
	w.raw(`>`)
	draft := d.Draft
	if draft == "" {
		draft = p.Form["body"]
	}
	w.raw(escText(draft))
	w.raw("</textarea>\n  ")
	if errMsg != "" {
		w.raw(`<p class="field-error" id="e-body">`)
		w.raw(escText(errMsg))
		w.raw(`</p>`)
	}
	w.raw("\n</div>\n")
	return template.HTML(w.String()), nil
}
