package ratesheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// table reads a CSV file record by record: it drops a UTF-8 byte-order mark,
// trims the spaces around every cell, skips blank records and keeps the line
// of every cell for error messages.
type table struct {
	file    string
	cr      *csv.Reader
	header  []string // trimmed header cells
	keys    []string // header cells normalised by key
	rec     []string // current record, trimmed
	line    int      // line where the current record starts
	hdrLine int      // line of the header
	notes   []Note
	bomErr  error
}

func newTable(file string, r io.Reader) *table {
	br := bufio.NewReader(r)
	t := &table{file: file}
	if b, _ := br.Peek(3); bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")) {
		_, _ = br.Discard(3)
	} else if bytes.HasPrefix(b, []byte("\xFF\xFE")) || bytes.HasPrefix(b, []byte("\xFE\xFF")) {
		t.bomErr = errorf(file, 0, "the file is UTF-16 text; save the sheet as CSV (UTF-8)")
	}
	t.cr = csv.NewReader(br)
	t.cr.FieldsPerRecord = -1
	return t
}

// key normalises a header cell for lookup: lower case without spaces,
// underscores or hyphens ("ISO Code" and "ISOCode" are the same key).
func key(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case ' ', '_', '-', '\t':
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// next reads the next non-blank record. It returns false at the end of the
// input.
func (t *table) next() (bool, error) {
	if t.bomErr != nil {
		return false, t.bomErr
	}
	for {
		rec, err := t.cr.Read()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				msg := "malformed CSV: " + pe.Err.Error()
				if pe.Column > 0 {
					msg = fmt.Sprintf("malformed CSV at character %d: %v", pe.Column, pe.Err)
				}
				return false, &Error{File: t.file, Line: pe.Line, Msg: msg}
			}
			return false, errorf(t.file, 0, "reading the file: %v", err)
		}
		t.line, _ = t.cr.FieldPos(0)
		blank := true
		for i, c := range rec {
			if !utf8.ValidString(c) {
				t.rec = rec
				return false, t.cellErr(i, "cell in column %s is not UTF-8 text; save the sheet as CSV (UTF-8)", t.colName(i))
			}
			rec[i] = strings.TrimSpace(c)
			if rec[i] != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		t.rec = rec
		return true, nil
	}
}

// readHeader reads the first non-blank record as the header.
func (t *table) readHeader(what string) error {
	ok, err := t.next()
	if err != nil {
		return err
	}
	if !ok {
		return errorf(t.file, 0, "the file is empty; expected a header row (%s)", what)
	}
	if len(t.rec) == 1 {
		for _, sep := range []string{";", "\t"} {
			if strings.Count(t.rec[0], sep) >= 2 {
				return &Error{File: t.file, Line: t.line, Msg: fmt.Sprintf("the header is a single cell with %q in it; the file must be comma-separated (CSV)", sep)}
			}
		}
	}
	t.header = t.rec
	t.hdrLine = t.line
	t.keys = make([]string, len(t.rec))
	for i, h := range t.rec {
		t.keys[i] = key(h)
	}
	return nil
}

// find returns the index of the header column with the given key, -1 when
// there is none, or an error when there are several.
func (t *table) find(k string) (int, error) {
	idx := -1
	for i, hk := range t.keys {
		if hk == k {
			if idx >= 0 {
				return -1, t.headerErr(i, "column %s appears twice in the header (columns %d and %d)", t.colName(i), idx+1, i+1)
			}
			idx = i
		}
	}
	return idx, nil
}

// require is find for a column that must exist.
func (t *table) require(k, name string) (int, error) {
	i, err := t.find(k)
	if err != nil {
		return -1, err
	}
	if i < 0 {
		return -1, &Error{File: t.file, Line: t.hdrLine, Msg: fmt.Sprintf("the header has no %q column", name)}
	}
	return i, nil
}

// cell returns the trimmed cell i of the current record, "" if the record is
// shorter (spreadsheet exports drop trailing empty cells).
func (t *table) cell(i int) string {
	if i < 0 || i >= len(t.rec) {
		return ""
	}
	return t.rec[i]
}

// cellLine is the line of cell i of the current record (a quoted cell may
// span lines).
func (t *table) cellLine(i int) int {
	if i >= 0 && i < len(t.rec) {
		if l, _ := t.cr.FieldPos(i); l > 0 {
			return l
		}
	}
	return t.line
}

// colName names column i for messages: its quoted header, or its number.
func (t *table) colName(i int) string {
	if i >= 0 && i < len(t.header) && t.header[i] != "" {
		return strconv.Quote(t.header[i])
	}
	return strconv.Itoa(i + 1)
}

func (t *table) cellErr(i int, format string, args ...any) *Error {
	e := &Error{File: t.file, Line: t.cellLine(i), Col: i + 1, Msg: fmt.Sprintf(format, args...)}
	if i >= 0 && i < len(t.header) {
		e.Column = t.header[i]
	}
	return e
}

func (t *table) headerErr(i int, format string, args ...any) *Error {
	e := t.cellErr(i, format, args...)
	e.Line = t.hdrLine
	return e
}

func (t *table) rowErr(format string, args ...any) *Error {
	return &Error{File: t.file, Line: t.line, Msg: fmt.Sprintf(format, args...)}
}

func (t *table) note(i int, format string, args ...any) {
	n := Note{File: t.file, Line: t.line, Text: fmt.Sprintf(format, args...)}
	if i >= 0 {
		n.Line = t.cellLine(i)
		if i < len(t.header) {
			n.Column = t.header[i]
		}
	}
	t.notes = append(t.notes, n)
}

// checkExtra rejects non-empty cells beyond the header.
func (t *table) checkExtra() error {
	for i := len(t.header); i < len(t.rec); i++ {
		if t.rec[i] != "" {
			return t.cellErr(i, "cell %q in column %d is beyond the last header column (%d)", t.rec[i], i+1, len(t.header))
		}
	}
	return nil
}
