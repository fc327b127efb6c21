package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// number formats v with three significant digits, without an exponent.
func number(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// cell is a median in its unit, or why there is none.
func cell(v float64, err error, u unit, has bool) string {
	switch {
	case !has:
		return "—"
	case err != nil:
		return "error"
	}
	return number(v*u.scale) + " " + u.name
}

// writeTable writes the Markdown table of the results, and the notes and
// errors under it.
func writeTable(w io.Writer, m machine, rs []result, note string, took time.Duration) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Measured on %s; medians of the rounds of each figure (mp and Python alternating), %s in all.\n\n",
		m, took.Round(time.Second))
	b.WriteString("| figure | mp | Python | mp's advantage |\n|---|---:|---:|---:|\n")
	var notes []string
	for _, r := range rs {
		adv := "—"
		if a, ok := r.advantage(); ok {
			adv = number(a) + "×"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.name, cell(r.mp, r.mpErr, r.unit, true),
			cell(r.py, r.pyErr, r.unit, r.hasPy), adv)
		for _, e := range []struct {
			side string
			err  error
		}{{"mp", r.mpErr}, {"Python", r.pyErr}} {
			if e.err != nil {
				notes = append(notes, fmt.Sprintf("%s, %s: %v", r.name, e.side, e.err))
			}
		}
		if r.note != "" && !contains(notes, r.note) {
			notes = append(notes, r.note)
		}
	}
	b.WriteString("\nmp's advantage is how many times better mp's median is than Python's: Python's time or memory " +
		"over mp's, or mp's rate over Python's; above 1× mp is better.\n")
	if note != "" {
		notes = append([]string{note}, notes...)
	}
	for _, n := range notes {
		b.WriteString("\n- " + n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// svgChart draws the advantages as horizontal bars on a logarithmic
// scale, from a line at 1×, with the machine named under the title.
func svgChart(m machine, rs []result) []byte {
	type row struct {
		name string
		adv  float64
	}
	var rows []row
	lo, hi := 0.5, 2.0
	for _, r := range rs {
		if a, ok := r.advantage(); ok {
			rows = append(rows, row{r.name, a})
			lo, hi = math.Min(lo, a/1.5), math.Max(hi, a*1.5)
		}
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi)))
	const (
		width, labelW, barW, rowH, top, left = 900, 330, 500, 28, 86, 10
	)
	height := top + rowH*len(rows) + 56
	x := func(v float64) float64 {
		return labelW + (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*barW
	}
	esc := func(s string) string {
		var b strings.Builder
		_ = xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="26" font-size="17" font-weight="bold">mp vs Python multiprocessing: how many times better mp is</text>`+"\n", left)
	fmt.Fprintf(&b, `<text x="%d" y="48" fill="#444">%s</text>`+"\n", left, esc(m.String()))
	fmt.Fprintf(&b, `<text x="%d" y="68" fill="#444">medians of alternating rounds; log scale; right of 1×: mp better, left: Python better</text>`+"\n", left)
	bottom := top + rowH*len(rows)
	for v := lo; v <= hi*1.0001; v *= 10 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x(v), top-6, x(v), bottom, map[bool]string{true: "#000", false: "#ddd"}[v == 1])
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#444">%s×</text>`+"\n", x(v), bottom+18, number(v))
	}
	for i, r := range rows {
		y := top + rowH*i
		x0, x1 := x(1), x(r.adv)
		color := "#2e7d32"
		if r.adv < 1 {
			color, x0, x1 = "#c62828", x1, x0
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-8, y+rowH/2+4, esc(r.name))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, y+5, math.Max(x1-x0, 1), rowH-10, color)
		tx, anchor := x(r.adv)+5, "start"
		if r.adv < 1 {
			tx, anchor = x(r.adv)-5, "end"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="%s">%s×</text>`+"\n", tx, y+rowH/2+4, anchor, number(r.adv))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
