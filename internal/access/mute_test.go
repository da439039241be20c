package access_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

func TestWriteUnmuted(t *testing.T) {
	until := time.Date(2026, 12, 24, 12, 0, 0, 0, time.UTC)
	member := actorWith(1, model.RoleMember, in(own, model.GroupMember))
	observer := actorWith(2, model.RoleMember, in(own, model.GroupObserver))

	if err := member.WriteUnmuted(own, nil, ""); err != nil {
		t.Errorf("unmuted member: %v", err)
	}
	err := member.WriteUnmuted(own, &until, "spam")
	var d *apperr.Denied
	if !errors.As(err, &d) || d.Code != "muted" || !errors.Is(err, apperr.ErrForbidden) {
		t.Errorf("muted member: %v, want Denied{muted}", err)
	}
	// Who may not write at all hears that first, muted or not, and another
	// group's existence still does not leak.
	if err := observer.WriteUnmuted(own, &until, "spam"); !errors.Is(err, apperr.ErrForbidden) || errors.As(err, &d) {
		t.Errorf("muted observer: %v, want plain ErrForbidden", err)
	}
	if err := member.WriteUnmuted(other, &until, "spam"); !errors.Is(err, apperr.ErrNotFound) {
		t.Errorf("other group: %v, want ErrNotFound", err)
	}
}
