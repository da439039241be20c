// Package browsertest drives the real server with Debian's Chromium (through
// chromedp) and checks the pages with axe-core against WCAG 2.1 A and AA, the
// level Polish public-sector sites must meet. It also checks what a person
// notices first: the page language, the skip link, labelled fields, a
// keyboard-only login, and the text-size and high-contrast controls.
//
// Every checked page is saved as a full-page PNG under
// <repo>/test-artifacts/screenshots/ for a human to look at.
//
// The tests skip when Chromium (/usr/bin/chromium) or axe-core
// (node_modules/axe-core, from `npm install` at the repo root) is missing,
// except when CI=true: then they fail, so that CI never skips silently.
// Nothing remote is ever loaded: the browser only talks to the test server on
// 127.0.0.1, and axe-core is read from disk.
package browsertest

import (
	"os"
	"testing"

	"github.com/gwd-jst/forumjst/internal/pgtest"
)

var dbURL string

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, &dbURL)) }
