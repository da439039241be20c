package notify

import (
	"maps"
	"testing"
)

// One notification per person per post, of the most personal reason,
// whatever order the reasons are added in.
func TestPlanKeepsTheStrongestReason(t *testing.T) {
	var p Plan
	p.Add(WatchedThread, 1, 2, 3, 4, 5)
	p.Add(ThreadReply, 2, 3)
	p.Add(Mention, 3)
	p.Add(Quote, 2, 4)
	p.Add(Reply, 4)
	p.Add(WatchedThread, 3, 4) // weaker: changes nothing
	p.Add(NoteAdded, 6)
	p.Remove(5)
	want := map[int64]string{1: WatchedThread, 2: Quote, 3: Mention, 4: Reply, 6: NoteAdded}
	if !maps.Equal(p.kinds, want) {
		t.Errorf("plan = %v, want %v", p.kinds, want)
	}
	if recordedKind(ThreadReply) != Reply || recordedKind(Quote) != Quote {
		t.Error("a thread author's reply is recorded as a reply")
	}
}

func TestQuotedPosts(t *testing.T) {
	got := QuotedPosts("> **Anna** [(#2)](/p/15):\n> tekst\n\n[link](/p/16) i [obcy](https://x.example/p/17) [zły](/p/abc)")
	if len(got) != 2 || got[0] != 15 || got[1] != 16 {
		t.Errorf("quoted %v, want [15 16]", got)
	}
}
