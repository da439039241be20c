package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gwd-jst/forumjst/frontend"
)

// staticFiles serves frontend/static under /static/<hash>/..., where hash covers
// every file: any change gives new URLs, so responses can be cached for a year.
type staticFiles struct {
	files map[string][]byte
	hash  string
}

func newStaticFiles() (*staticFiles, error) {
	sub, err := fs.Sub(frontend.FS, "static")
	if err != nil {
		return nil, err
	}
	st := &staticFiles{files: map[string][]byte{}}
	h := sha256.New()
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		st.files[p] = b
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	st.hash = hex.EncodeToString(h.Sum(nil))[:12]
	return st, nil
}

// URL is the cache-busting address of a static file.
func (st *staticFiles) URL(p string) string { return "/static/" + st.hash + "/" + p }

func (s *server) serveStatic(c *fiber.Ctx) error {
	p := path.Clean(c.Params("*"))
	b, ok := s.static.files[p]
	if !ok || strings.HasPrefix(p, "..") {
		return fiber.ErrNotFound
	}
	if c.Params("hash") == s.static.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		// An old page asking for an old hash still gets today's file, briefly cached.
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
	}
	ct := mime.TypeByExtension(path.Ext(p))
	if path.Ext(p) == ".js" {
		ct = "text/javascript; charset=utf-8"
	}
	c.Set(fiber.HeaderContentType, ct)
	return c.Send(b)
}
