package textnorm

import (
	"strings"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// A Collator keeps scratch buffers and is not safe for concurrent use: one
// per goroutine at a time, from a pool.
var polish = sync.Pool{New: func() any { return collate.New(language.Polish) }}

// Surname is the last word of a display name: what Polish lists sort people by.
func Surname(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// ComparePeople orders two display names as the store's personOrder does: by
// surname, then the whole name, with Polish collation (Ł after L, Ś after S).
func ComparePeople(a, b string) int {
	c := polish.Get().(*collate.Collator)
	defer polish.Put(c)
	if r := c.CompareString(Surname(a), Surname(b)); r != 0 {
		return r
	}
	return c.CompareString(a, b)
}
