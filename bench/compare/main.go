// Command compare measures mp against Python's multiprocessing on the same
// work, in the same run, and shows both: a Markdown table of medians and
// ratios on standard output, and an SVG bar chart of the ratios.
//
// From the root of the repository:
//
//	go run -C bench/compare .
//
// It needs python3 on PATH for Python's column, which it leaves empty, with
// a note, without one. Each figure is measured in rounds; a round takes one
// sample with mp and one with Python, in alternating order, so that a noisy
// neighbour slows both alike, and the table reports the medians. Flags:
//
//	-rounds N   rounds of each figure that does not set its own (default 9)
//	-only RE    measure only the figures whose names match RE
//	-svg PATH   where to write the chart (default ratios.svg; "" for none)
//	-quick      fewer rounds and smaller batches: a smoke test, not figures
//
// A figure is one function in figures.go; a feature of mp that lands later
// is measured by adding one.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"time"

	"github.com/go-mp/mp"
)

func main() {
	mp.Main(targets...)
	defer mp.Shutdown()

	rounds := flag.Int("rounds", 9, "rounds of each figure that does not set its own")
	only := flag.String("only", "", "measure only the figures whose names match this regular expression")
	svgPath := flag.String("svg", "ratios.svg", "where to write the SVG chart of the ratios (empty: nowhere)")
	quick := flag.Bool("quick", false, "fewer rounds and smaller batches: a smoke test")
	flag.Parse()
	if err := run(os.Stdout, *rounds, *only, *svgPath, *quick); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// run measures the figures and writes the table to w and the chart to
// svgPath.
func run(w io.Writer, rounds int, only, svgPath string, quick bool) error {
	re, err := regexp.Compile(only)
	if err != nil {
		return err
	}
	size := sizes{quick: quick}
	var figs []figure
	for _, f := range allFigures(size) {
		if re.MatchString(f.name) {
			figs = append(figs, f)
		}
	}
	if len(figs) == 0 {
		return fmt.Errorf("no figure matches %q", only)
	}
	py, note := startPython()
	if py != nil {
		defer py.close()
	}
	m := describeMachine(py)
	var results []result
	began := time.Now()
	for _, f := range figs {
		n := rounds
		if f.rounds > 0 {
			n = f.rounds
		}
		if quick {
			n = 1
		}
		fmt.Fprintf(os.Stderr, "compare: %s (%d rounds)\n", f.name, n)
		results = append(results, measure(f, n, py))
	}
	if err := writeTable(w, m, results, note, time.Since(began)); err != nil {
		return err
	}
	if svgPath != "" && py != nil {
		if err := os.WriteFile(svgPath, svgChart(m, results), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "compare: wrote %s\n", svgPath)
	}
	return nil
}
