package web

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/notes"
	"github.com/gwd-jst/forumjst/internal/topic"
)

// FuzzParseUpload feeds arbitrary multipart bodies (and boundaries) through
// the streaming upload parser and the real receiving code. It must never
// panic, never leave a file behind once the upload is dropped, and never
// write anywhere but the upload directory, whatever the part headers and
// file names say. Run longer with
// go test -run '^$' -fuzz FuzzParseUpload -fuzztime 60s ./internal/web/
func FuzzParseUpload(f *testing.F) {
	part := func(disposition, content string) string {
		return "--B\r\nContent-Disposition: " + disposition + "\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n"
	}
	pdf := "%PDF-1.4\n% fuzz\n%%EOF\n"
	seeds := []string{
		part(`form-data; name="_csrf"`, "token") + part(`form-data; name="file"; filename="Program sesji.pdf"`, pdf) + "--B--\r\n",
		part(`form-data; name="file"; filename="a.pdf"`, pdf) + part(`form-data; name="note_id"`, "12") + "--B--\r\n",
		part(`form-data; name="file"; filename="a.pdf"`, pdf) + part(`form-data; name="file"; filename="b.pdf"`, pdf) + "--B--\r\n",
		part(`form-data; name="file"; filename=""`, "") + "--B--\r\n",
		part(`form-data; name="file"; filename="../../etc/passwd"`, "root:x:0:0\n") + "--B--\r\n",
		part(`form-data; name="file"; filename="..\\..\\win.ini"`, "x") + "--B--\r\n",
		part("form-data; name=\"file\"; filename=\"a\x00.pdf\"", pdf) + "--B--\r\n",
		part(`form-data; name="file"; filename*=UTF-8''%C5%82%C3%B3d%C5%BA.txt`, "Łódź\n") + "--B--\r\n",
		part(`form-data; name="file"; filename="/tmp/x.txt"`, "x") + "--B--\r\n",
		part(`form-data; name="other"; filename="x.txt"`, "x") + part(`form-data; name="file"; filename="y.txt"`, "tekst\n") + "--B--\r\nepilogue",
		part(`form-data; name="file"; filename="cut.pdf"`, pdf), // no closing delimiter
		part(`form-data; name="_csrf"`, strings.Repeat("t", 2000)) + "--B--\r\n",
		strings.Repeat(part(`form-data; name="f"`, "v"), 20) + "--B--\r\n",
		"preamble\r\n" + part(`form-data; name="file"; filename="."`, "x") + "--B--\r\n",
		"",
		"--B--\r\n",
	}
	for _, s := range seeds {
		f.Add("B", []byte(s))
	}
	f.Add("", []byte("--\r\n\r\n"))
	root := f.TempDir()
	dir := filepath.Join(root, "uploads")
	svc := notes.New(nil, topic.Discard{}, nil, notes.Settings{UploadDir: dir, MaxUploadBytes: 4 << 10}, nil)

	f.Fuzz(func(t *testing.T, boundary string, body []byte) {
		if boundary == "" || len(boundary) > 70 {
			t.Skip() // the handler refuses these from the Content-Type already
		}
		var rec *notes.Received
		u, err := readUpload(&uploadBody{r: bytes.NewReader(body), left: 64 << 10}, boundary, func(u *uploadForm) error {
			_, err := notes.CleanFilename(u.filename)
			return err
		}, func(r io.Reader) error {
			var err error
			rec, err = svc.Receive(r)
			return err
		})
		if err == nil && (u == nil || u.filename == "" || rec == nil) {
			t.Fatalf("accepted a form without a received file: %+v", u)
		}
		if err == nil {
			if _, cerr := notes.CleanFilename(u.filename); cerr != nil {
				t.Fatalf("accepted a bad file name %q: %v", u.filename, cerr)
			}
		}
		// Everything written is in the upload directory...
		var files []string
		werr := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, p)
				if filepath.Dir(p) != dir {
					t.Errorf("wrote %s outside the upload directory", p)
				}
			}
			return nil
		})
		if werr != nil && !errors.Is(werr, fs.ErrNotExist) {
			t.Fatal(werr)
		}
		if len(files) > 1 {
			t.Errorf("more than one file written: %v", files)
		}
		// ...and nothing stays once the upload is dropped.
		rec.Discard()
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
			t.Fatalf("left behind: %v", left)
		}
		if hidden, _ := filepath.Glob(filepath.Join(dir, ".*")); len(hidden) > 0 {
			t.Fatalf("left behind: %v", hidden)
		}
	})
}
