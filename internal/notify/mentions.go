package notify

import (
	"context"
	"regexp"
	"strconv"

	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/store"
)

// People resolves the mentions a text may hold ("@" + a display name as
// shown, SPEC §4) among the people who may read the place: the readers of
// group groupID, only its moderators and staff when moderatorsOnly (a hidden
// thread). A name two readers share names neither: a link to the wrong
// person would tell them what was meant for another. Nil when the text
// mentions nobody, so the rendering costs nothing more.
func People(ctx context.Context, q store.Q, groupID int64, moderatorsOnly bool, body string) (markup.People, error) {
	names := markup.MentionCandidates(body)
	if len(names) == 0 {
		return nil, nil
	}
	found, err := store.ResolveMentions(ctx, q, groupID, moderatorsOnly, names)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	people, shared := markup.People{}, map[string]bool{}
	for _, p := range found {
		if _, ok := people[p.Name]; ok {
			shared[p.Name] = true
		}
		people[p.Name] = p.ID
	}
	for name := range shared {
		delete(people, name)
	}
	return people, nil
}

// quoteLink is how a quote names its source: the forum's quote button writes
// "> **Name** [(#12)](/p/345):" (web.quote), and so may anyone by hand.
var quoteLink = regexp.MustCompile(`\]\(/p/([0-9]{1,18})\)`)

// maxQuoted bounds how many quoted posts one text can notify the authors of.
const maxQuoted = 10

// QuotedPosts lists the posts a text quotes (links to /p/{id}), at most maxQuoted.
func QuotedPosts(body string) []int64 {
	var ids []int64
	for _, m := range quoteLink.FindAllStringSubmatch(body, -1) {
		if id, err := strconv.ParseInt(m[1], 10, 64); err == nil && len(ids) < maxQuoted {
			ids = append(ids, id)
		}
	}
	return ids
}
