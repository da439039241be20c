// Package forum owns discussions: the index of groups, threads and posts, and the
// rules of who reads and writes them (delegated to package access).
package forum

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/model"
	"github.com/gwd-jst/forumjst/internal/store"
)

type Service struct {
	db *sqlx.DB
}

func New(db *sqlx.DB) *Service { return &Service{db: db} }

// Section is one kind of GWD on the index.
type Section struct {
	Kind   string               `json:"kind"`
	Groups []store.GroupSummary `json:"groups"`
}

// Index lists the groups the actor may read, grouped by kind in the fixed order
// rural, urban, county, common; kinds with no visible group are left out.
func (s *Service) Index(ctx context.Context, a *access.Actor) ([]Section, error) {
	if err := a.LoggedIn(); err != nil {
		return nil, err
	}
	all, err := store.ListGroups(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, g := range all {
		if a.CanRead(g) {
			ids = append(ids, g.ID)
		}
	}
	sums, err := store.GroupSummaries(ctx, s.db, a.UserID, ids)
	if err != nil {
		return nil, err
	}
	sections := []Section{}
	for _, kind := range model.GroupKinds {
		sec := Section{Kind: kind}
		for _, g := range sums {
			if g.Kind == kind {
				sec.Groups = append(sec.Groups, g)
			}
		}
		if len(sec.Groups) > 0 {
			sections = append(sections, sec)
		}
	}
	return sections, nil
}
