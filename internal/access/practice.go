package access

import (
	"slices"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// Statuses of a good practice (issue 15): written as a draft by members of a
// group, submitted, then published by programme staff or returned to the
// authors with a comment.
const (
	PracticeDraft     = "draft"
	PracticeSubmitted = "submitted"
	PracticePublished = "published"
	PracticeReturned  = "returned"
)

// PracticeStatuses in lifecycle order.
var PracticeStatuses = []string{PracticeDraft, PracticeSubmitted, PracticePublished, PracticeReturned}

// practiceOpen: the authors may still change it (a draft, or returned to them).
func practiceOpen(status string) bool { return status == PracticeDraft || status == PracticeReturned }

// CanReadPractice: a published practice is read by every logged-in person
// (members and observers of every group); any other is read only by readers
// of the authors' group (members, observers, moderators) and staff. The same
// rule is repeated in SQL by store.ListPracticeRows, store/search.go (every
// practice is indexed; search_docs.public marks the published ones) and the
// notifications' access joins.
func (a *Actor) CanReadPractice(g model.Group, status string) bool {
	if a.Anonymous() {
		return false
	}
	return status == PracticePublished || a.CanRead(g)
}

// ReadPractice returns ErrNotFound unless the actor may read the practice:
// another group's draft does not exist for them.
func (a *Actor) ReadPractice(g model.Group, status string) error {
	if !a.CanReadPractice(g, status) {
		return apperr.ErrNotFound
	}
	return nil
}

// CanEditPractice: staff always; members and moderators of the authors' group
// while it is a draft or returned; observers never.
func (a *Actor) CanEditPractice(g model.Group, status string) bool {
	if !a.CanReadPractice(g, status) {
		return false
	}
	return a.IsStaff() || a.CanWrite(g) && practiceOpen(status)
}

// EditPractice is CanEditPractice as an error: 404 for what the actor may not
// read, 403 for what they may read but not change.
func (a *Actor) EditPractice(g model.Group, status string) error {
	if err := a.ReadPractice(g, status); err != nil {
		return err
	}
	if !a.CanEditPractice(g, status) {
		return apperr.ErrForbidden
	}
	return nil
}

// CanSubmitPractice: whoever writes in the authors' group (staff included)
// submits a draft or a returned practice for review.
func (a *Actor) CanSubmitPractice(g model.Group, status string) bool {
	return a.CanReadPractice(g, status) && a.CanWrite(g) && practiceOpen(status)
}

// SubmitPractice is CanSubmitPractice as an error (404 / 403 as EditPractice).
func (a *Actor) SubmitPractice(g model.Group, status string) error {
	if err := a.ReadPractice(g, status); err != nil {
		return err
	}
	if !a.CanSubmitPractice(g, status) {
		return apperr.ErrForbidden
	}
	return nil
}

// CanReviewPractice: programme staff (and admins) publish or return a
// submitted practice.
func (a *Actor) CanReviewPractice(g model.Group, status string) bool {
	return a.IsStaff() && status == PracticeSubmitted
}

// ReviewPractice is CanReviewPractice as an error (404 / 403 as EditPractice).
func (a *Actor) ReviewPractice(g model.Group, status string) error {
	if err := a.ReadPractice(g, status); err != nil {
		return err
	}
	if !a.CanReviewPractice(g, status) {
		return apperr.ErrForbidden
	}
	return nil
}

// CanProposePractice: who may write a new practice in g (members and
// moderators of g, staff): the same as writing in the group.
func (a *Actor) CanProposePractice(g model.Group) bool { return a.CanWrite(g) }

// GroupIDs are the groups the actor has a membership in (any role), sorted.
func (a *Actor) GroupIDs() []int64 {
	out := []int64{}
	if a.Anonymous() {
		return out
	}
	for id := range a.memberships {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// WritingGroupIDs are the groups the actor is a member or moderator of
// (observers left out), sorted: where they may propose a practice.
func (a *Actor) WritingGroupIDs() []int64 {
	out := []int64{}
	for _, id := range a.GroupIDs() {
		if r := a.memberships[id]; r == model.GroupMember || r == model.GroupModerator {
			out = append(out, id)
		}
	}
	return out
}
