package mail_test

import (
	"testing"
	"time"

	"github.com/gwd-jst/forumjst/internal/mail"
)

// The digest runs at 07:00 Warsaw time whatever the offset of the day: the
// nights the clocks change included.
func TestDigestScheduleFollowsWarsawTime(t *testing.T) {
	t.Parallel()
	zone, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ now, want string }{
		{"2026-03-28T07:00:00Z", "2026-03-29T05:00:00Z"}, // the night clocks go forward
		{"2026-10-24T06:00:00Z", "2026-10-25T06:00:00Z"}, // … and back
		{"2026-12-02T05:59:59Z", "2026-12-02T06:00:00Z"}, // later today
		{"2026-12-02T06:00:00Z", "2026-12-03T06:00:00Z"}, // today's has run
	} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		at, day := mail.NextDigest(now, 7, zone)
		if got := at.UTC().Format(time.RFC3339); got != tc.want {
			t.Errorf("after %s: next digest %s, want %s", tc.now, got, tc.want)
		}
		if day.Format(time.DateOnly) != tc.want[:10] {
			t.Errorf("after %s: day %s", tc.now, day.Format(time.DateOnly))
		}
	}
}
