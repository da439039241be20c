package notes

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/markup"
	"github.com/gwd-jst/forumjst/internal/store"
)

// apply rebuilds both sides of a diff: what it claims the texts were.
func apply(d []DiffLine) (before, after []string) {
	for _, l := range d {
		switch l.Op {
		case OpSame:
			before, after = append(before, l.Text), append(after, l.Text)
		case OpDel:
			before = append(before, l.Text)
		case OpAdd:
			after = append(after, l.Text)
		}
	}
	return before, after
}

func TestLineDiff(t *testing.T) {
	big := func(prefix string, n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%s %d\n", prefix, i)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	cases := []struct {
		name, before, after string
		adds, dels          int
	}{
		{"equal", "a\nb", "a\nb", 0, 0},
		{"from empty", "", "a\nb", 2, 0},
		{"to empty", "a\nb", "", 0, 2},
		{"line changed", "a\nb\nc", "a\nB\nc", 1, 1},
		{"line added at end", "a\nb", "a\nb\nc", 1, 0},
		{"line added in middle", "a\nc", "a\nb\nc", 1, 0},
		{"moved line", "a\nb\nc\nd", "b\nc\na\nd", 1, 1},
		{"blank lines", "a\n\nb", "a\n\n\nb", 1, 0},
		{"all different", "a\nb", "c\nd", 2, 2},
		// Too big for the table: shown as removed and added wholesale, still correct.
		{"huge rewrite", big("stary", 3000), big("nowy", 3000), 3000, 3000},
		{"huge, small edit", big("wiersz", 5000), strings.Replace(big("wiersz", 5000), "wiersz 2500", "zmieniony", 1), 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := LineDiff(tc.before, tc.after)
			b, a := apply(d)
			if strings.Join(b, "\n") != tc.before || strings.Join(a, "\n") != tc.after {
				t.Fatalf("diff does not rebuild the texts: %+v", d)
			}
			adds, dels := 0, 0
			for _, l := range d {
				switch l.Op {
				case OpAdd:
					adds++
				case OpDel:
					dels++
				}
			}
			if adds != tc.adds || dels != tc.dels {
				t.Errorf("%d added, %d removed; want %d, %d", adds, dels, tc.adds, tc.dels)
			}
		})
	}
	// Within a changed block removals come first.
	d := LineDiff("a\nold\nz", "a\nnew\nz")
	if d[1].Op != OpDel || d[2].Op != OpAdd {
		t.Errorf("order %+v", d)
	}
}

func TestCompact(t *testing.T) {
	lines := strings.Split("1\n2\n3\n4\n5\n6\n7\n8\n9\n10", "\n")
	after := append(append([]string{}, lines[:5]...), "5a")
	after = append(after, lines[5:]...)
	got := Compact(LineDiff(strings.Join(lines, "\n"), strings.Join(after, "\n")), 2)
	var ops []string
	for _, l := range got {
		if l.Op == OpSkip {
			ops = append(ops, fmt.Sprintf("skip%d", l.Skipped))
		} else {
			ops = append(ops, l.Op+":"+l.Text)
		}
	}
	if want := "skip3 same:4 same:5 add:5a same:6 same:7 skip3"; strings.Join(ops, " ") != want {
		t.Errorf("compact = %s, want %s", strings.Join(ops, " "), want)
	}
	if Compact(LineDiff("a\nb", "a\nb"), 2) != nil {
		t.Error("no change should give nil")
	}
}

func zipOf(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, e := range entries {
		f, err := w.Create(e[0])
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(e[1]))
	}
	w.Close()
	return b.Bytes()
}

func TestDetect(t *testing.T) {
	ct := func(main string) string { return `<Types><Override PartName="/x" ContentType="` + main + `"/></Types>` }
	cases := []struct {
		name string
		data []byte
		kind string
		err  error
	}{
		{"pdf", []byte("%PDF-1.7\n..."), "pdf", nil},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "png", nil},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "jpeg", nil},
		{"text", []byte("Zażółć gęślą jaźń\r\n"), "txt", nil},
		{"text with BOM", []byte("\uFEFFnotatka"), "txt", nil},
		{"latin-2 text", []byte("za\xbf\xf3\xb3\xe6"), "", errUnsupported},
		{"NUL", []byte("abc\x00def"), "", errUnsupported},
		{"exe", []byte("MZ\x90\x00\x03\x00\x00\x00"), "", errExecutable},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), "", errExecutable},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "txt", nil},
		{"docx", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")}, [2]string{"word/document.xml", "x"}), "docx", nil},
		{"docm (macros)", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.ms-word.document.macroEnabled.main+xml")}, [2]string{"word/document.xml", "x"}), "", errMacros},
		{"docx without its part", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")}), "", errUnsupported},
		{"xlsx", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")}, [2]string{"xl/workbook.xml", "x"}), "xlsx", nil},
		{"pptx", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")}, [2]string{"ppt/presentation.xml", "x"}), "pptx", nil},
		{"odt", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}), "odt", nil},
		{"ods", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}), "ods", nil},
		{"odp (not allowed)", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.presentation"}), "", errUnsupported},
		{"plain zip", zipOf(t, [2]string{"a.txt", "x"}), "", errUnsupported},
		{"broken zip", []byte("PK\x03\x04garbage"), "", errUnsupported},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := detect(bytes.NewReader(tc.data), int64(len(tc.data)))
			if kind != tc.kind || !errors.Is(err, tc.err) && !(err == nil && tc.err == nil) {
				t.Errorf("detect = %q, %v; want %q, %v", kind, err, tc.kind, tc.err)
			}
		})
	}
}

func TestCleanFilename(t *testing.T) {
	cases := []struct {
		raw, want, err string
	}{
		{"Notatka_z_sesji_łódź.pdf", "Notatka_z_sesji_łódź.pdf", ""},
		{"  Program   sesji .docx ", "Program sesji .docx", ""},
		{"a..b.pdf", "a..b.pdf", ""},
		{"../../etc/passwd", "", "err.filename_path"},
		{`..\..\win.ini`, "", "err.filename_path"},
		{"/etc/passwd", "", "err.filename_path"},
		{"x\x00.pdf", "", "err.filename_path"},
		{"..", "", "err.filename_path"},
		{".", "", "err.filename_path"},
		{"", "", "err.filename_missing"},
		{"a\tb.pdf", "", "err.filename_chars"},
		{"raport\u202Efdp.exe", "", "err.filename_chars"},
		{"\xff.pdf", "", "err.filename_chars"},
		{strings.Repeat("ą", 201) + ".pdf", "", "err.filename_long"},
	}
	for _, tc := range cases {
		got, err := CleanFilename(tc.raw)
		var v *apperr.Validation
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("CleanFilename(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
		case tc.err != "" && (!errors.As(err, &v) || v.Fields["file"] != tc.err):
			t.Errorf("CleanFilename(%q) error %v, want %s", tc.raw, err, tc.err)
		}
	}
}

func TestWithExtension(t *testing.T) {
	for _, tc := range []struct{ name, kind, want string }{
		{"skan.pdf", "png", "skan.png"},
		{"zdjęcie.JPG", "jpeg", "zdjęcie.JPG"},
		{"zdjęcie.jpeg", "jpeg", "zdjęcie.jpeg"},
		{"budżet", "xlsx", "budżet.xlsx"},
		{"wersja 1.2 ostateczna", "docx", "wersja 1.2 ostateczna.docx"},
		{"arkusz.zip", "ods", "arkusz.ods"},
	} {
		if got := withExtension(tc.name, kinds[tc.kind]); got != tc.want {
			t.Errorf("withExtension(%q, %s) = %q, want %q", tc.name, tc.kind, got, tc.want)
		}
	}
}

// The Markdown snippet offered for an image passes the sanitizer, whatever the
// file is called; that is what lets uploaded images show inline.
func TestImageSnippetsPassTheSanitizer(t *testing.T) {
	md := markup.New()
	for i, name := range []string{"Zdjęcie szkoły.png", ".ukryty.png", "plan (wersja 2).jpg", "a]b[c.png", "100%.png", "x y#z?.jpeg"} {
		a := attachmentFrom(nil, storeRow(int64(i+1), name, "png"))
		html, err := md.Render("Obraz: " + a.Markdown)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(html, fmt.Sprintf(`<img src="/attachments/%d`, i+1)) {
			t.Errorf("%q: snippet %s renders as %s", name, a.Markdown, html)
		}
	}
}

func storeRow(id int64, name, kind string) store.AttachmentRow {
	return store.AttachmentRow{ID: id, Filename: name, Kind: kind, Size: 1, Checksum: strings.Repeat("a", 64)}
}
