package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/testkit"
)

// A rare word skips the walk over the newest documents and reads its matches
// from the GIN index; a common one stops the walk early. Both must answer the
// same page — same documents, same order, same permission filter — whenever
// the walk finds enough: here a word in 24 readable posts (ranked apart by how
// often they say it), 3 hidden ones, 4 of a group the reader is not in, and a
// thread title, for every order and page.
func TestSearchRareAndCommonPathsAgree(t *testing.T) {
	ctx := context.Background()
	db := testkit.Open(t, dbURL)
	mine, theirs := testkit.NewGroup(t, db, model.KindRural), testkit.NewGroup(t, db, model.KindUrban)
	reader, author := testkit.NewUser(t, db, model.RoleMember), testkit.NewUser(t, db, model.RoleMember)
	if _, err := store.PutMembership(ctx, db, reader.ID, mine.ID, model.GroupMember); err != nil {
		t.Fatal(err)
	}
	word := "wspolny" + testkit.Unique()
	thread := func(g model.Group, title string) int64 {
		var id int64
		if err := db.Get(&id, `INSERT INTO threads (group_id, title, author_id) VALUES ($1, $2, $3) RETURNING id`, g.ID, title, author.ID); err != nil {
			t.Fatal(err)
		}
		return id
	}
	post := func(thread int64, pos int, body string, hidden bool) {
		if _, err := db.Exec(`INSERT INTO posts (thread_id, position, author_id, body, body_html, hidden) VALUES ($1, $2, $3, $4, '', $5)`,
			thread, pos, author.ID, body, hidden); err != nil {
			t.Fatal(err)
		}
	}
	own, other := thread(mine, "Wątek: "+word), thread(theirs, "Obcy wątek "+word)
	for i := 1; i <= 24; i++ {
		post(own, i, fmt.Sprintf("Post %d o %s%s.", i, word, strings.Repeat(" "+word, i%4)), false)
	}
	for i := 25; i <= 27; i++ {
		post(own, i, "Ukryty "+word, true)
	}
	for i := 1; i <= 4; i++ {
		post(other, i, "Obcy "+word, false)
	}

	for _, newest := range []bool{false, true} {
		for _, offset := range []int{0, 5, 10} {
			sq := store.SearchQuery{UserID: reader.ID, TSQuery: "'" + word + "'", Words: []string{"'" + word + "'"}, Newest: newest, Limit: 6, Offset: offset, Candidates: 12}
			need := sq.Candidates
			if newest {
				need = sq.Offset + sq.Limit
			}
			common, err := store.SearchAttempt(ctx, db, sq, need, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(common) == 0 || common[0].Found < need {
				t.Fatalf("newest %v offset %d: the walk found %d rows, not the %d the comparison needs", newest, offset, len(common), need)
			}
			rare, err := store.SearchAttempt(ctx, db, sq, need, false)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(rare, common) {
				t.Errorf("newest %v offset %d: the GIN read answers\n%+v\nthe walk\n%+v", newest, offset, rare, common)
			}
			for _, r := range rare {
				if r.GroupID != mine.ID {
					t.Errorf("hit %s %d of group %d leaks", r.Kind, r.RefID, r.GroupID)
				}
			}
		}
	}

	// SearchDocs, whichever attempt the statistics send it to, answers the same.
	sq := store.SearchQuery{UserID: reader.ID, TSQuery: "'" + word + "'", Words: []string{"'" + word + "'"}, Limit: 6, Candidates: 12}
	got, err := store.SearchDocs(ctx, db, sq)
	if err != nil {
		t.Fatal(err)
	}
	walk, err := store.SearchAttempt(ctx, db, sq, sq.Candidates, true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, walk) {
		t.Errorf("SearchDocs answers\n%+v\nthe walk\n%+v", got, walk)
	}
}
