package notes

import (
	"archive/zip"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gwd-jst/forumjst/internal/apperr"
	"github.com/gwd-jst/forumjst/internal/textnorm"
)

// Kind is one allowed file type.
type Kind struct {
	Name  string
	MIME  string
	Exts  []string // the first is the canonical one
	Image bool     // shown inline (PNG, JPEG); every other kind downloads
	Label string   // what people call it
}

// kinds is the allow-list (issue 6): nothing else is stored, whatever its name says.
var kinds = map[string]Kind{
	"pdf":  {Name: "pdf", MIME: "application/pdf", Exts: []string{"pdf"}, Label: "PDF"},
	"docx": {Name: "docx", MIME: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Exts: []string{"docx"}, Label: "DOCX"},
	"xlsx": {Name: "xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Exts: []string{"xlsx"}, Label: "XLSX"},
	"pptx": {Name: "pptx", MIME: "application/vnd.openxmlformats-officedocument.presentationml.presentation", Exts: []string{"pptx"}, Label: "PPTX"},
	"odt":  {Name: "odt", MIME: "application/vnd.oasis.opendocument.text", Exts: []string{"odt"}, Label: "ODT"},
	"ods":  {Name: "ods", MIME: "application/vnd.oasis.opendocument.spreadsheet", Exts: []string{"ods"}, Label: "ODS"},
	"png":  {Name: "png", MIME: "image/png", Exts: []string{"png"}, Image: true, Label: "PNG"},
	"jpeg": {Name: "jpeg", MIME: "image/jpeg", Exts: []string{"jpg", "jpeg"}, Image: true, Label: "JPEG"},
	"txt":  {Name: "txt", MIME: "text/plain; charset=utf-8", Exts: []string{"txt"}, Label: "TXT"},
}

// KindOf returns an allowed kind by name (false for anything else).
func KindOf(name string) (Kind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// Detection failures; the service turns them into field errors.
var (
	errExecutable  = errors.New("executable file")
	errUnsupported = errors.New("file type not allowed")
	// errMacros: an office document carrying macros (VBA in OOXML, Basic or
	// scripts in OpenDocument), code that runs on the reader's machine.
	errMacros = errors.New("document contains macros")
	// errZipBomb: a container that claims to inflate more than maxZipRatio
	// times its packed size, aimed at whoever opens it.
	errZipBomb = errors.New("document compressed beyond the allowed ratio")
)

// maxZipRatio bounds a container's total uncompressed size over its total
// compressed size. Office documents compress their XML 5 to 20 times; a
// hundredfold is a zip bomb.
const maxZipRatio = 100

// The OOXML main parts and the content types [Content_Types].xml must declare
// for them. Macro-enabled variants (docm, xlsm, pptm) declare other types and
// are refused.
var ooxml = []struct {
	kind, part, contentType string
}{
	{"docx", "word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"},
	{"xlsx", "xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"},
	{"pptx", "ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"},
}

// detect decides a file's kind from its content alone: magic bytes, and for
// ZIP containers the entries that make an office document. The client's file
// name and Content-Type are never consulted.
func detect(r io.ReaderAt, size int64) (string, error) {
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read file head: %w", err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return "pdf", nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png", nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg", nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return detectZip(r, size)
	}
	text, err := isText(io.NewSectionReader(r, 0, size))
	if err != nil {
		return "", err
	}
	if text {
		return "txt", nil
	}
	// Checked after text so a note that happens to start with "MZ" (say,
	// "MZK Łódź …") is still text; real executables are binary.
	if isExecutable(head) {
		return "", errExecutable
	}
	return "", errUnsupported
}

func isExecutable(head []byte) bool {
	for _, magic := range [][]byte{
		[]byte("MZ"),                                       // Windows PE (.exe, .dll)
		[]byte("\x7fELF"),                                  // Linux
		{0xFE, 0xED, 0xFA, 0xCE}, {0xFE, 0xED, 0xFA, 0xCF}, // Mach-O
		{0xCE, 0xFA, 0xED, 0xFE}, {0xCF, 0xFA, 0xED, 0xFE},
		{0xCA, 0xFE, 0xBA, 0xBE}, // Mach-O universal
	} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return false
}

// detectZip tells OpenDocument and Office Open XML files from other ZIPs,
// refusing those with macros or an inflation ratio over maxZipRatio. Only two
// small entries are ever decompressed, each with a bound, so a zip bomb costs
// nothing; the ratio comes from the central directory.
func detectZip(r io.ReaderAt, size int64) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", errUnsupported
	}
	if err := checkContainer(zr); err != nil {
		return "", err
	}
	entries := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		entries[f.Name] = f
	}
	// OpenDocument: an entry "mimetype" holding the document's media type.
	if f, ok := entries["mimetype"]; ok {
		b, err := readEntry(f, 256)
		if err != nil {
			return "", errUnsupported
		}
		switch strings.TrimSpace(string(b)) {
		case kinds["odt"].MIME:
			return "odt", nil
		case kinds["ods"].MIME:
			return "ods", nil
		}
		return "", errUnsupported
	}
	// Office Open XML: [Content_Types].xml declaring the main part, which exists.
	f, ok := entries["[Content_Types].xml"]
	if !ok {
		return "", errUnsupported
	}
	ct, err := readEntry(f, 1<<20)
	if err != nil {
		return "", errUnsupported
	}
	// Macro-enabled documents (.docm, .xlsm, .pptm and their templates)
	// declare it in their content types, even when the VBA part is renamed.
	if lc := bytes.ToLower(ct); bytes.Contains(lc, []byte("macroenabled")) || bytes.Contains(lc, []byte("vbaproject")) {
		return "", errMacros
	}
	for _, o := range ooxml {
		if _, ok := entries[o.part]; ok && bytes.Contains(ct, []byte(o.contentType)) {
			return o.kind, nil
		}
	}
	return "", errUnsupported
}

// checkContainer refuses macros by their entries' names and zip bombs by the
// sizes the central directory declares. The declared sizes may lie, but
// nothing here inflates more than readEntry's bounds, and a lying file fails
// in the reader's office program rather than costing us anything.
func checkContainer(zr *zip.Reader) error {
	// Sums in float64: declared sizes are attacker-chosen and could overflow.
	var packed, unpacked float64
	for _, f := range zr.File {
		name := strings.ToLower(strings.ReplaceAll(f.Name, "\\", "/"))
		switch base := path.Base(name); {
		case base == "vbaproject.bin", base == "vbaprojectsignature.bin", base == "vbadata.xml",
			strings.HasPrefix(name, "basic/"), strings.HasPrefix(name, "scripts/"):
			return errMacros
		}
		packed += float64(f.CompressedSize64)
		unpacked += float64(f.UncompressedSize64)
	}
	if unpacked > maxZipRatio*max(packed, 1) {
		return errZipBomb
	}
	return nil
}

func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

// isText: valid UTF-8 (a BOM allowed) without NUL bytes.
func isText(r io.Reader) (bool, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		c, size, err := br.ReadRune()
		if errors.Is(err, io.EOF) {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("read file: %w", err)
		}
		if c == 0 || (c == utf8.RuneError && size == 1) {
			return false, nil
		}
	}
}

// MaxFilenameRunes bounds a display file name.
const MaxFilenameRunes = 200

// CleanFilename checks the name a client gave its file and returns the name to
// show. It is only ever a label: stored files are named by their checksum.
// Names that try to be paths are refused rather than quietly shortened, so
// the uploader learns what happened.
func CleanFilename(raw string) (string, error) {
	if strings.TrimSpace(raw) == "" {
		return "", apperr.Invalid("file", "err.filename_missing")
	}
	if strings.ContainsAny(raw, "/\\\x00") {
		return "", apperr.Invalid("file", "err.filename_path")
	}
	if !utf8.ValidString(raw) {
		return "", apperr.Invalid("file", "err.filename_chars")
	}
	for _, c := range raw {
		// Control characters, and the bidirectional overrides that make
		// "raport\u202Efdp.exe" look like "raportexe.pdf".
		if unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) {
			return "", apperr.Invalid("file", "err.filename_chars")
		}
	}
	name := textnorm.OneLine(raw)
	if name == "." || name == ".." {
		return "", apperr.Invalid("file", "err.filename_path")
	}
	if utf8.RuneCountInString(name) > MaxFilenameRunes {
		return "", apperr.Invalid("file", "err.filename_long")
	}
	return name, nil
}

// withExtension makes a display name end in an extension of its kind, so the
// downloaded file opens in the right program: a PNG sent as "skan.pdf"
// becomes "skan.png".
func withExtension(name string, k Kind) string {
	ext := strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
	for _, e := range k.Exts {
		if ext == e {
			return name
		}
	}
	base := name
	if ext != "" && len(ext) <= 5 && isAlnum(ext) {
		base = strings.TrimSuffix(name, path.Ext(name))
	}
	if base == "" {
		base = "plik"
	}
	return base + "." + k.Exts[0]
}

func isAlnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// AllowedLabels lists the allowed types for hints ("PDF, DOCX, …").
func AllowedLabels() string {
	order := []string{"pdf", "docx", "xlsx", "pptx", "odt", "ods", "png", "jpeg", "txt"}
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = kinds[k].Label
	}
	return strings.Join(out, ", ")
}
