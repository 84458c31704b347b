package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// printJSON writes v as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns, as text/tabwriter would with a padding of
// two spaces; on a terminal the header is bold and states are coloured.
// It aligns by itself because tabwriter would count the colours' escape
// sequences as text.
type table struct {
	w      io.Writer
	colour bool
	header bool
	rows   [][]string
}

func (a *app) table(header ...string) *table {
	t := &table{w: a.stdout, colour: a.colour, header: len(header) > 0}
	if len(header) > 0 {
		t.row(toAny(header)...)
	}
	return t
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = cell(c)
	}
	t.rows = append(t.rows, parts)
}

// ANSI SGR sequences; colours stay few and mean the same everywhere.
const (
	sgrBold   = "\x1b[1m"
	sgrGreen  = "\x1b[32m"
	sgrYellow = "\x1b[33m"
	sgrRed    = "\x1b[31m"
	sgrReset  = "\x1b[0m"
)

// stateColours colour the states of bundles, eSIMs, orders and deliveries
// as they appear in cells: green works, yellow is on its way, red is over
// or failed.
var stateColours = map[string]string{
	"ACTIVE": sgrGreen, "ENABLED": sgrGreen, "Enabled": sgrGreen, "Installed": sgrGreen, "active": sgrGreen,
	"completed": sgrGreen, "Completed": sgrGreen, "delivered": sgrGreen, "applied": sgrGreen, "sandbox": sgrGreen,
	"PROCESSING": sgrYellow, "processing": sgrYellow, "QUEUED": sgrYellow, "pending": sgrYellow, "retrying": sgrYellow,
	"Released": sgrYellow, "Downloaded": sgrYellow,
	"DEPLETED": sgrRed, "EXPIRED": sgrRed, "REVOKED": sgrRed, "LAPSED": sgrRed, "SUSPENDED": sgrRed, "Suspended": sgrRed,
	"Disabled": sgrRed, "Deleted": sgrRed, "failed": sgrRed, "skipped": sgrRed, "rejected": sgrRed,
}

func (t *table) flush() error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r[:max(len(r)-1, 0)] { // the last cell is not padded
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for ri, r := range t.rows {
		for i, c := range r {
			paint := ""
			if t.colour {
				if ri == 0 && t.header {
					paint = sgrBold
				} else {
					paint = stateColours[c]
				}
			}
			if paint != "" {
				b.WriteString(paint + c + sgrReset)
			} else {
				b.WriteString(c)
			}
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]+2-utf8.RuneCountInString(c)))
			}
		}
		b.WriteByte('\n')
	}
	t.rows = nil
	_, err := io.WriteString(t.w, b.String())
	return err
}

// cell renders one value: times in UTC, empty values as "-".
func cell(v any) string {
	switch v := v.(type) {
	case time.Time:
		if v.IsZero() {
			return "-"
		}
		return v.UTC().Format(time.RFC3339)
	case string:
		if v == "" {
			return "-"
		}
		return strings.NewReplacer("\t", " ", "\n", " ").Replace(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// fields writes "key: value" lines, aligned.
func (a *app) fields(kv ...any) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 1, ' ', 0)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[i], cell(kv[i+1]))
	}
	return tw.Flush()
}

// bytesText writes a base-10 data amount: 1 GB, 400 MB, 12.5 kB.
func bytesText(b int64) string {
	units := []struct {
		n    int64
		name string
	}{{1_000_000_000_000, "TB"}, {1_000_000_000, "GB"}, {1_000_000, "MB"}, {1_000, "kB"}}
	for _, u := range units {
		if b >= u.n || -b >= u.n {
			return trimFloat(float64(b)/float64(u.n)) + " " + u.name
		}
	}
	return strconv.FormatInt(b, 10) + " B"
}

// megabytesText writes a catalogue data amount in MB (-1: unlimited).
func megabytesText(mb int64, unlimited bool) string {
	if unlimited || mb < 0 {
		return "unlimited"
	}
	return bytesText(mb * 1_000_000)
}

func trimFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// progress draws a textual bar on a terminal; it is silent otherwise.
type progress struct {
	w     io.Writer // nil: not a terminal
	label string
	start time.Time
	spin  int
}

func (a *app) progress(label string) *progress {
	p := &progress{label: label, start: time.Now()}
	if isTerminal(a.stderr) {
		p.w = a.stderr
	}
	return p
}

const barWidth = 30

// set draws done of total.
func (p *progress) set(done, total int) {
	if p.w == nil || total <= 0 {
		return
	}
	filled := barWidth * done / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), done, total)
}

// tick draws a spinner with the time elapsed, for work of unknown size.
func (p *progress) tick(note string) {
	if p.w == nil {
		return
	}
	p.spin++
	fmt.Fprintf(p.w, "\r%s %c %s (%s)   ", p.label, `|/-\`[p.spin%4], note, time.Since(p.start).Round(time.Second))
}

// done ends the line.
func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}
