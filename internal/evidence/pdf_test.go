package evidence

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// pdfText reads back the text a PDF shows: the file is parsed (cross-reference, pages, streams
// inflated) by a PDF reader, and the strings each page's content shows (Tj, TJ) are decoded by the
// font's ToUnicode map, which must be the identity map of two-byte codes that the text is written
// in. (The reader's own decoder applies a range map to the last byte only, as the specification
// asks of ranges within one last byte; an identity map over all codes needs the whole code.)
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the PDF does not parse: %v", err)
	}
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		fonts := p.Resources().Key("Font")
		for _, name := range fonts.Keys() {
			cmap := streamText(t, fonts.Key(name).Key("ToUnicode"))
			if !strings.Contains(cmap, "<0000> <FFFF> <0000>") {
				t.Fatalf("page %d: font %s maps codes to Unicode otherwise than by identity:\n%s", i, name, cmap)
			}
		}
		content := p.V.Key("Contents")
		var cs string
		if content.Kind() == pdf.Array {
			for j := 0; j < content.Len(); j++ {
				cs += streamText(t, content.Index(j))
			}
		} else {
			cs = streamText(t, content)
		}
		for _, s := range literalStrings(cs) {
			out.WriteString(utf16BE(s))
			out.WriteString(" ")
		}
		out.WriteString("\n")
	}
	return out.String()
}

func streamText(t *testing.T, v pdf.Value) string {
	t.Helper()
	rd := v.Reader()
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// literalStrings are the (…) strings of a content stream, unescaped.
func literalStrings(cs string) []string {
	var out []string
	for i := 0; i < len(cs); i++ {
		if cs[i] != '(' {
			continue
		}
		var b []byte
		depth := 1
		for i++; i < len(cs) && depth > 0; i++ {
			c := cs[i]
			switch {
			case c == '\\' && i+1 < len(cs):
				i++
				switch e := cs[i]; e {
				case 'n':
					b = append(b, '\n')
				case 'r':
					b = append(b, '\r')
				case 't':
					b = append(b, '\t')
				default:
					b = append(b, e)
				}
			case c == '(':
				depth++
				b = append(b, c)
			case c == ')':
				depth--
				if depth > 0 {
					b = append(b, c)
				}
			default:
				b = append(b, c)
			}
		}
		out = append(out, string(b))
	}
	return out
}

func utf16BE(s string) string {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return string(utf16.Decode(u))
}

// The PDF is a real PDF with the Go font embedded, and the act's Russian text reads back from it:
// the title, the operator, a subject's name, the categories. Its bytes depend only on the record.
func TestPDFRendersTheActWithCyrillic(t *testing.T) {
	rec := sample()
	b, err := RenderPDF(rec, LocaleRU)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("/FontFile2")) || !bytes.Contains(b, []byte("/ToUnicode")) {
		t.Fatalf("not a PDF with an embedded TrueType font (%d bytes)", len(b))
	}
	text := strings.Join(strings.Fields(pdfText(t, b)), " ")
	for _, want := range []string{"АКТ", "ООО «Бот Платформа»", "Иван Петрович Сидоров", "Алексей", "req-01JD5", "ВЫГРУЗКА"} {
		if !strings.Contains(strings.ToUpper(text), strings.ToUpper(want)) {
			t.Errorf("the PDF's text lacks %q:\n%.600s", want, text)
		}
	}
	again, err := RenderPDF(rec, LocaleRU)
	if err != nil || !bytes.Equal(again, b) {
		t.Errorf("two renderings of one record differ (%v)", err)
	}
	en, err := RenderPDF(rec, LocaleEN)
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(t, en); !strings.Contains(strings.ToUpper(text), "ACT") {
		t.Errorf("the English PDF's text lacks its title:\n%.400s", text)
	}
	if _, err := RenderPDF(Record{}, LocaleRU); err == nil {
		t.Error("an invalid record was rendered")
	}
}
