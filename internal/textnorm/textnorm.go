// Package textnorm normalises what people type before it is validated or
// stored: NFC, so that Polish letters typed on different keyboards compare equal,
// and predictable whitespace.
package textnorm

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// OneLine is for names and titles: NFC, inner whitespace collapsed, trimmed.
func OneLine(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// Block is for Markdown bodies and reasons: NFC, CRLF as LF, trimmed; inner
// line breaks and spacing are kept because Markdown gives them meaning.
func Block(s string) string {
	return strings.TrimSpace(norm.NFC.String(strings.ReplaceAll(s, "\r\n", "\n")))
}
