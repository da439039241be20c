package live

import (
	"context"
	"maps"
	"slices"

	"github.com/gwd-jst/forumjst/internal/access"
	"github.com/gwd-jst/forumjst/internal/store"
	"github.com/gwd-jst/forumjst/internal/tournament"
)

// --- tournaments: ballots counted live ---

// tournamentFeed serves tournament:ID to staff and the round's participants.
// A ballot changes the counts; staff get each entry's count, everyone else
// only the total, so nothing a member learns through it is more than "a
// ballot was cast" (who voted what is never in any frame).
type tournamentFeed struct {
	svc *tournament.Service
}

// tournamentBallotsFrame is the round's ballot counts after a change.
type tournamentBallotsFrame struct {
	Type         string              `json:"type"`
	Topic        string              `json:"topic"`
	TournamentID int64               `json:"tournament_id"`
	Ballots      int                 `json:"ballots"`
	Closed       bool                `json:"closed"`
	Entries      []entryBallotsCount `json:"entries,omitempty"`
}

type entryBallotsCount struct {
	EntryID int64 `json:"entry_id"`
	Ballots int   `json:"ballots"`
}

func (f tournamentFeed) authorize(ctx context.Context, a *access.Actor, id int64) error {
	return f.svc.CanFollow(ctx, a, id)
}

func (f tournamentFeed) head(ctx context.Context, id int64) (int64, any, error) {
	h, err := f.svc.BallotCounts(ctx, id)
	return 0, h, err
}

func total(h store.TournamentHead) int {
	n := 0
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// diff asks for a per-subscriber delivery (recheck): the frame is worded by
// redact for each one.
func (f tournamentFeed) diff(name string, id int64, oldState, newState any) ([]any, bool) {
	o, n := oldState.(store.TournamentHead), newState.(store.TournamentHead)
	if o.Closed == n.Closed && maps.Equal(o.Counts, n.Counts) {
		return nil, false
	}
	fr := tournamentBallotsFrame{Type: "tournament.ballots", Topic: name, TournamentID: id, Ballots: total(n), Closed: n.Closed,
		Entries: []entryBallotsCount{}}
	for _, e := range slices.Sorted(maps.Keys(n.Counts)) {
		fr.Entries = append(fr.Entries, entryBallotsCount{EntryID: e, Ballots: n.Counts[e]})
	}
	return []any{fr}, true
}

// redact keeps the per-entry counts for staff only.
func (f tournamentFeed) redact(_ context.Context, a *access.Actor, lost bool, _ any, frame any) (any, bool) {
	if lost {
		return nil, false
	}
	fr, ok := frame.(tournamentBallotsFrame)
	if ok && !a.IsStaff() {
		fr.Entries = nil
		return fr, true
	}
	return frame, true
}

// greeting carries what every follower may know: the total and whether the
// round is closed (staff read the counts from their page, then the frames).
func (f tournamentFeed) greeting(_ string, _ int64, state any, _ *store.PresentUser) (any, []any) {
	s := state.(store.TournamentHead)
	return map[string]any{"ballots": total(s), "closed": s.Closed}, nil
}
