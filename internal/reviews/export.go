package reviews

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/gwd-jst/forumjst/internal/i18n"
)

// The summary's exports: Markdown (to read and paste into the programme's
// report) and CSV (for a spreadsheet; UTF-8 with a byte order mark, which
// Excel needs to read Polish letters). Both are in the reader's language.

// ratingKey is a rating's catalog key.
func ratingKey(r string) string { return "review.rating." + r }

func responseKey(s string) string { return "review.response." + s }

// mdEscaper keeps names and titles from turning into Markdown syntax.
var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "#", `\#`, "<", "&lt;", ">", "&gt;", "`", "\\`", "|", `\|`)

// quote puts a Markdown text into a block quote, line by line.
func quote(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(prefix+"> "+l, " ")
	}
	return strings.Join(lines, "\n")
}

// Markdown writes the summary as a Markdown document.
func (sum Summary) Markdown(tr *i18n.Printer) []byte {
	var b bytes.Buffer
	r := sum.Review
	fmt.Fprintf(&b, "# %s\n\n", mdEscaper.Replace(r.Title))
	fmt.Fprintf(&b, "%s: %s  \n", tr.T("review.deadline"), tr.DateTime(r.Deadline))
	groups := make([]string, len(r.Groups))
	for i, g := range r.Groups {
		groups[i] = mdEscaper.Replace(g.Name)
	}
	fmt.Fprintf(&b, "%s: %s\n\n", tr.T("review.groups"), strings.Join(groups, ", "))
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n|---|---:|---:|---:|---:|\n", tr.T("review.section"),
		tr.T(ratingKey("clear")), tr.T(ratingKey("needs_changes")), tr.T(ratingKey("unclear")), tr.T("review.comments"))
	for _, s := range sum.Sections {
		fmt.Fprintf(&b, "| %s %s | %d | %d | %d | %d |\n", s.Section.Number, mdEscaper.Replace(s.Section.Title),
			s.Section.Ratings.Clear, s.Section.Ratings.NeedsChanges, s.Section.Ratings.Unclear, s.Section.CommentCount)
	}
	fmt.Fprintf(&b, "| **%s** | **%d** | **%d** | **%d** | |\n", tr.T("review.total"), sum.Totals.Clear, sum.Totals.NeedsChanges, sum.Totals.Unclear)
	for _, s := range sum.Sections {
		fmt.Fprintf(&b, "\n## %s %s\n\n", s.Section.Number, mdEscaper.Replace(s.Section.Title))
		if len(s.Comments) == 0 {
			fmt.Fprintf(&b, "%s\n", tr.T("review.no_comments"))
			continue
		}
		for _, c := range s.Comments {
			rating := ""
			if c.Rating != nil {
				rating = " — " + tr.T(ratingKey(*c.Rating))
			}
			fmt.Fprintf(&b, "### %s%s, %s\n\n%s\n\n", mdEscaper.Replace(author(c)), rating, tr.DateTime(c.CreatedAt), quote(c.Body, ""))
			for _, rep := range c.Replies {
				fmt.Fprintf(&b, "- **%s** (%s, %s):\n\n%s\n\n", tr.T("review.reply"), mdEscaper.Replace(author(rep)), tr.DateTime(rep.CreatedAt), quote(rep.Body, "  "))
			}
			if c.Response != nil {
				fmt.Fprintf(&b, "**%s: %s**", tr.T("review.response"), tr.T(responseKey(c.Response.Status)))
				if c.Response.Reason != "" {
					fmt.Fprintf(&b, " — %s", mdEscaper.Replace(oneLine(c.Response.Reason)))
				}
				b.WriteString("\n\n")
			} else {
				fmt.Fprintf(&b, "*%s*\n\n", tr.T("review.response.none"))
			}
		}
	}
	return b.Bytes()
}

func author(c Comment) string {
	if c.Author.JST != nil && *c.Author.JST != "" {
		return c.Author.Name + " (" + *c.Author.JST + ")"
	}
	return c.Author.Name
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// CSV writes one row per comment and reply (a section without comments gets
// a row of its counts), with a byte order mark for Excel.
func (sum Summary) CSV(tr *i18n.Printer) []byte {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write([]string{tr.T("review.csv.section"), tr.T("review.csv.section_title"),
		tr.T(ratingKey("clear")), tr.T(ratingKey("needs_changes")), tr.T(ratingKey("unclear")),
		tr.T("review.csv.comment_id"), tr.T("review.csv.reply_to"), tr.T("review.csv.author"), tr.T("review.csv.jst"),
		tr.T("review.csv.created"), tr.T("review.csv.rating"), tr.T("review.csv.comment"),
		tr.T("review.csv.response"), tr.T("review.csv.reason")})
	for _, s := range sum.Sections {
		head := []string{s.Section.Number, csvSafe(s.Section.Title), strconv.Itoa(s.Section.Ratings.Clear),
			strconv.Itoa(s.Section.Ratings.NeedsChanges), strconv.Itoa(s.Section.Ratings.Unclear)}
		if len(s.Comments) == 0 {
			_ = w.Write(append(head, "", "", "", "", "", "", "", "", ""))
			continue
		}
		row := func(c Comment) {
			jst, rating, replyTo, response, reason := "", "", "", "", ""
			if c.Author.JST != nil {
				jst = *c.Author.JST
			}
			if c.Rating != nil {
				rating = tr.T(ratingKey(*c.Rating))
			}
			if c.ReplyTo != nil {
				replyTo = strconv.FormatInt(*c.ReplyTo, 10)
			}
			if c.Response != nil {
				response, reason = tr.T(responseKey(c.Response.Status)), c.Response.Reason
			}
			_ = w.Write(append(append([]string{}, head...), strconv.FormatInt(c.ID, 10), replyTo, csvSafe(c.Author.Name), csvSafe(jst),
				tr.DateTime(c.CreatedAt), rating, csvSafe(c.Body), response, csvSafe(reason)))
		}
		for _, c := range s.Comments {
			row(c)
			for _, rep := range c.Replies {
				row(rep)
			}
		}
	}
	w.Flush()
	return b.Bytes()
}
