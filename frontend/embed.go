// Package frontend embeds the HTML templates and the static files (CSS, plain ES
// modules, images) into the binary. There is no build step: what is here is served.
package frontend

import "embed"

//go:embed templates/*.html static
var FS embed.FS
