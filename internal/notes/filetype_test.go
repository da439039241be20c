package notes

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Office containers with macros, or declaring more than 100:1 inflation, are
// refused; ordinary documents (which compress their XML well) are not.
func TestDetectRefusesMacrosAndZipBombs(t *testing.T) {
	ct := func(main string) string { return `<Types><Override PartName="/x" ContentType="` + main + `"/></Types>` }
	docx := ct("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
	xlsx := ct("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
	pptx := ct("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml")
	// An ordinary document: XML that compresses about 10:1.
	var prose strings.Builder
	for i := 0; prose.Len() < 200<<10; i++ {
		prose.WriteString("<w:p><w:r><w:t>Akapit " + strings.Repeat("ąę", i%7) + " sprawozdania z sesji numer ")
		prose.WriteString(strings.Repeat("x", i%13) + "</w:t></w:r></w:p>")
	}
	cases := []struct {
		name string
		data []byte
		kind string
		err  error
	}{
		{"docx with vbaProject.bin", zipOf(t, [2]string{"[Content_Types].xml", docx}, [2]string{"word/document.xml", "x"}, [2]string{"word/vbaProject.bin", "VBA"}), "", errMacros},
		{"xlsx with VBAPROJECT.BIN elsewhere", zipOf(t, [2]string{"[Content_Types].xml", xlsx}, [2]string{"xl/workbook.xml", "x"}, [2]string{"custom/VBAPROJECT.BIN", "VBA"}), "", errMacros},
		{"pptm content type", zipOf(t, [2]string{"[Content_Types].xml", ct("application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml")}, [2]string{"ppt/presentation.xml", "x"}), "", errMacros},
		{"vbaProject content type, part renamed", zipOf(t, [2]string{"[Content_Types].xml", docx + `<Override PartName="/word/a.bin" ContentType="application/vnd.ms-office.vbaProject"/>`}, [2]string{"word/document.xml", "x"}, [2]string{"word/a.bin", "VBA"}), "", errMacros},
		{"odt with Basic macros", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"Basic/Standard/Module1.xml", "x"}), "", errMacros},
		{"ods with scripts", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"Scripts/python/a.py", "x"}), "", errMacros},
		{"docx zip bomb", zipOf(t, [2]string{"[Content_Types].xml", docx}, [2]string{"word/document.xml", strings.Repeat("0", 10<<20)}), "", errZipBomb},
		{"ods zip bomb", zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.spreadsheet"}, [2]string{"content.xml", strings.Repeat("<c/>", 1<<20)}), "", errZipBomb},
		{"ordinary docx", zipOf(t, [2]string{"[Content_Types].xml", docx}, [2]string{"word/document.xml", prose.String()}), "docx", nil},
		{"ordinary pptx", zipOf(t, [2]string{"[Content_Types].xml", pptx}, [2]string{"ppt/presentation.xml", prose.String()}), "pptx", nil},
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

// The ratio comes from the central directory alone: declared sizes that
// would overflow a sum, or a bomb whose data was never written, cost nothing.
func TestDetectZipRatioFromCentralDirectoryOnly(t *testing.T) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	for _, name := range []string{"[Content_Types].xml", "word/document.xml"} {
		// Raw entries that claim 2^63 bytes each: the check must not inflate
		// them (that would take forever) nor overflow.
		f, err := w.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: 1, UncompressedSize64: 1 << 63})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte{0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := detect(bytes.NewReader(b.Bytes()), int64(b.Len())); !errors.Is(err, errZipBomb) {
		t.Fatalf("detect = %v, want errZipBomb", err)
	}
}
