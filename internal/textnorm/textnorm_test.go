package textnorm

import "testing"

func TestOneLineAndBlock(t *testing.T) {
	decomposed := "Zo\u0301\u0142w" // ó typed as o + combining acute
	if got := OneLine("  " + decomposed + " \t  w\n ogrodzie "); got != "Zółw w ogrodzie" {
		t.Errorf("OneLine = %q", got)
	}
	if got := Block("\r\n  - pierwszy\r\n  - drugi  \r\n"); got != "- pierwszy\n  - drugi" {
		t.Errorf("Block = %q", got)
	}
}
