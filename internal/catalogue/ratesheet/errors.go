package ratesheet

import (
	"fmt"
	"strconv"
)

// Error is a rule of the rate-sheet format that the input breaks. Its text
// names the file, the line and, for a cell, the column:
//
//	standard-fixed.csv line 14: price "1,3" in column "1GB/7days (USD)" is not a decimal number
type Error struct {
	File   string // file name; empty for input without one (ParseBundleCSV)
	Line   int    // 1-based line of the cell or row; 0 for the whole file
	Col    int    // 1-based column number; 0 when the rule is about a row or a file
	Column string // column header, when the rule is about a cell
	Msg    string // the rule broken, naming the column when there is one
}

func (e *Error) Error() string { return position(e.File, e.Line) + e.Msg }

// Note is something in the input that did not stop the import but that an
// operator should know about: a price without a bundle name, a name without a
// price, a spreadsheet artefact that was repaired, a country name that
// differs between files…
type Note struct {
	File   string
	Line   int
	Column string
	Text   string
}

func (n Note) String() string { return position(n.File, n.Line) + n.Text }

func position(file string, line int) string {
	switch {
	case file != "" && line > 0:
		return file + " line " + strconv.Itoa(line) + ": "
	case file != "":
		return file + ": "
	case line > 0:
		return "line " + strconv.Itoa(line) + ": "
	}
	return ""
}

func errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
