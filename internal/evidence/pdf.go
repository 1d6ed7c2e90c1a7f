package evidence

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// PDF layout, in millimetres: A4 with the margins of the HTML page's @page rule.
const (
	pdfLeft, pdfTop, pdfRight, pdfBottom = 25.0, 20.0, 15.0, 20.0
	pdfLine                              = 5.0 // the height of a line of 10.5 pt text
	pdfFont                              = "go"
)

// RenderPDF writes the same documents as RenderHTML as a PDF: A4, each document from a new page,
// in the Go fonts (embedded in the binary and, subset, in the file, so Cyrillic renders on any
// reader). The file depends only on the record: its dates are the act's.
func RenderPDF(r Record, locale string) ([]byte, error) {
	p, err := buildPage(r, locale)
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pdfLeft, pdfTop, pdfRight)
	pdf.SetAutoPageBreak(true, pdfBottom)
	pdf.AddUTF8FontFromBytes(pdfFont, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", gobold.TTF)
	pdf.SetTitle(p.Title, true)
	pdf.SetProducer("Lethe", true)
	pdf.SetCreationDate(r.CompletedAt.UTC())
	pdf.SetModificationDate(r.CompletedAt.UTC())
	pdf.SetCatalogSort(true)
	pdf.AliasNbPages("{nb}")
	note := p.Note
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfBottom + 4)
		pdf.SetFont(pdfFont, "", 8)
		pdf.MultiCell(0, 3.5, note+"  "+fmt.Sprintf("%d/{nb}", pdf.PageNo()), "", "L", false)
	})
	width, _ := pdf.GetPageSize()
	text := width - pdfLeft - pdfRight
	for _, d := range p.Docs {
		pdf.AddPage()
		pdf.SetFont(pdfFont, "B", 13)
		pdf.MultiCell(text, 6.5, d.Title, "", "C", false)
		pdf.SetFont(pdfFont, "", 10.5)
		pdf.MultiCell(text, pdfLine, d.Subtitle, "", "C", false)
		pdf.Ln(3)
		for _, b := range d.Blocks {
			pdf.SetFont(pdfFont, "B", 11)
			pdf.MultiCell(text, 6, b.Heading, "", "L", false)
			pdf.SetFont(pdfFont, "", 10.5)
			for _, s := range b.Before {
				pdf.MultiCell(text, pdfLine, s, "", "L", false)
			}
			if b.Table != nil {
				pdfTable(pdf, text, b.Table)
			}
			for _, s := range b.After {
				pdf.MultiCell(text, pdfLine, s, "", "L", false)
			}
			pdf.Ln(1.5)
		}
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("render evidence %s as PDF: %w", r.RequestID, err)
	}
	return out.Bytes(), nil
}

// pdfTable draws a table across width: each column as wide as its longest cell asks (within
// bounds), each row as tall as its longest wrapped cell, the head repeated on a new page.
func pdfTable(pdf *fpdf.Fpdf, width float64, t *table) {
	cols := len(t.Head)
	if cols == 0 {
		return
	}
	want := make([]float64, cols)
	for i, h := range t.Head {
		want[i] = float64(min(utf8.RuneCountInString(h), 30))
	}
	for _, row := range t.Rows {
		for i, c := range row {
			if i < cols {
				want[i] = max(want[i], float64(min(utf8.RuneCountInString(c), 60)))
			}
		}
	}
	var sum float64
	for i := range want {
		want[i] = max(want[i], 4)
		sum += want[i]
	}
	w := make([]float64, cols)
	for i := range want {
		w[i] = width * want[i] / sum
	}
	_, pageH := pdf.GetPageSize()
	var row func(cells []string, bold bool)
	row = func(cells []string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont(pdfFont, style, 9.5)
		lines := make([][]string, cols)
		n := 1
		for i := 0; i < cols; i++ {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			lines[i] = pdf.SplitText(strings.ReplaceAll(c, "\n", " "), w[i])
			n = max(n, len(lines[i]))
		}
		h := float64(n)*4.5 + 1.5
		if !bold && pdf.GetY()+h > pageH-pdfBottom {
			pdf.AddPage()
			row(t.Head, true)
			pdf.SetFont(pdfFont, "", 9.5)
		}
		x, y := pdf.GetX(), pdf.GetY()
		for i := 0; i < cols; i++ {
			pdf.Rect(x, y, w[i], h, "D")
			for j, l := range lines[i] {
				pdf.SetXY(x, y+0.75+float64(j)*4.5)
				pdf.CellFormat(w[i], 4.5, l, "", 0, "L", false, 0, "")
			}
			x += w[i]
		}
		pdf.SetXY(pdfLeft, y+h)
	}
	row(t.Head, true)
	for _, r := range t.Rows {
		row(r, false)
	}
	pdf.SetFont(pdfFont, "", 10.5)
}
