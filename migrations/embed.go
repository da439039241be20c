// Package migrations holds the forward-only SQL migrations, embedded into the binary
// and applied by goose (see internal/database). A migration is never edited once it
// has landed: add a new numbered file instead.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
