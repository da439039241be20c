package access

import (
	"fmt"
	"time"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/model"
)

// Muted is the one refusal a member muted in a group gets for any writing
// there: posts, edits, notes, files, reports and chat. It says until when and
// why, so the member knows what happened.
func Muted(until time.Time, reason string) error {
	return &apperr.Denied{Code: "muted", Message: fmt.Sprintf("you are muted in this group until %s: %s",
		until.UTC().Format(time.RFC3339), reason)}
}

// WriteUnmuted is Write for someone who may be muted in g: mutedUntil is the end
// of their mute in force there (nil when there is none, see store.MuteInForce).
// Mute means no writing in the group, everywhere, so every write path asks this
// rather than Write.
func (a *Actor) WriteUnmuted(g model.Group, mutedUntil *time.Time, reason string) error {
	if err := a.Write(g); err != nil {
		return err
	}
	if mutedUntil != nil {
		return Muted(*mutedUntil, reason)
	}
	return nil
}
