package access

import (
	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// The tournament of good practices (issue 15): a round is visible to staff
// and to every member, moderator and observer of a group that takes part;
// to everyone else it does not exist (404). Members and moderators of a
// participating group enter their group's practices and vote; observers
// only read; staff open and close rounds and see aggregates, never a ballot.

// participates reports the actor's strongest role among a round's groups.
func (a *Actor) participates(groupIDs []int64) (reads, writes bool) {
	for _, g := range groupIDs {
		switch a.GroupRole(g) {
		case model.GroupModerator, model.GroupMember:
			return true, true
		case model.GroupObserver:
			reads = true
		}
	}
	return reads, false
}

// ReadTournament: ErrNotFound unless the actor is staff or in one of the
// round's groups.
func (a *Actor) ReadTournament(groupIDs []int64) error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	if a.IsStaff() {
		return nil
	}
	if reads, _ := a.participates(groupIDs); !reads {
		return apperr.ErrNotFound
	}
	return nil
}

// VoteTournament: members and moderators of a participating group vote;
// observers and staff who are not such members read only (ErrForbidden).
// Whether an entry is the voter's own JST's is the service's check.
func (a *Actor) VoteTournament(groupIDs []int64) error {
	if err := a.ReadTournament(groupIDs); err != nil {
		return err
	}
	if _, writes := a.participates(groupIDs); !writes {
		return apperr.ErrForbidden
	}
	return nil
}

// EnterTournament: a member or moderator of the practice's own group (which
// must take part) enters it; staff may enter for any participating group.
func (a *Actor) EnterTournament(groupIDs []int64, practiceGroup int64) error {
	if err := a.ReadTournament(groupIDs); err != nil {
		return err
	}
	if a.IsStaff() {
		return nil
	}
	switch a.GroupRole(practiceGroup) {
	case model.GroupModerator, model.GroupMember:
		return nil
	}
	return apperr.ErrForbidden
}

// EntersFor lists the round's groups for which the actor may enter practices.
func (a *Actor) EntersFor(groupIDs []int64) []int64 {
	var out []int64
	for _, g := range groupIDs {
		if r := a.GroupRole(g); a.IsStaff() || r == model.GroupModerator || r == model.GroupMember {
			out = append(out, g)
		}
	}
	return out
}

// AdministerTournament: staff open and close rounds and see their
// aggregates at any time; for anyone else a round's administration does not
// exist (ErrNotFound).
func (a *Actor) AdministerTournament() error {
	if err := a.LoggedIn(); err != nil {
		return err
	}
	if !a.IsStaff() {
		return apperr.ErrNotFound
	}
	return nil
}
