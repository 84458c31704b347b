// Command gen builds the demo catalogue (catalogue.json of package demodata)
// from a rate-sheet folder, adding the demo voice and SMS bundles
// (demodata.FromRateSheet):
//
//	go run ./internal/catalogue/demodata/gen -in ../shared/data/ratesheet-2025-11 -out internal/catalogue/demodata/catalogue.json
//
// It prints a summary, and with -v the notes of the import, to standard error.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/esimd/esimd/internal/catalogue/demodata"
)

func main() {
	in := flag.String("in", "", "rate-sheet folder (required)")
	out := flag.String("out", "", "output file; standard output when empty")
	verbose := flag.Bool("v", false, "print the notes of the import")
	flag.Parse()
	if *in == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*in, *out, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(in, out string, verbose bool) error {
	d, notes, err := demodata.FromRateSheet(os.DirFS(in))
	if err != nil {
		return err
	}
	b, err := demodata.Marshal(d)
	if err != nil {
		return err
	}
	if verbose {
		for _, n := range notes {
			fmt.Fprintln(os.Stderr, n)
		}
	}
	if out == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	// Write beside the target and rename, so a failed run leaves the old file.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".catalogue-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: wrote %s: %d bundles, %d countries, %d regions, %d networks (%d notes; -v lists them)\n",
		out, len(d.Bundles), len(d.Countries), len(d.Regions), len(d.Networks), len(notes))
	return nil
}
