// Package jsondup finds keys that a JSON document gives twice in one
// object. encoding/json keeps the last of them silently, so a body with
// "type" twice ("validate", then "transaction") would be read as the last;
// the API refuses such bodies instead of guessing which one was meant.
package jsondup

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Duplicate is a key given twice in one object.
type Duplicate struct {
	Key  string // the key as the document spells it the second time
	Path string // where the object is: "" for the top level, else like order[0]
}

// Where names the key with its place, for a message: `"type"` or
// `"type" in order[0]`.
func (d *Duplicate) Where() string {
	q := strconv.Quote(d.Key)
	if d.Path == "" {
		return q
	}
	return q + " in " + d.Path
}

// frame is an open object or array.
type frame struct {
	array bool
	index int      // an array's element being read
	key   string   // an object's key being read
	keys  []string // an object's keys so far, while they are few
	set   map[string]bool
}

// seen records an object's key and reports whether it was there already.
// Most objects have a handful of keys: a slice is cheaper than a map.
func (f *frame) seen(k string) bool {
	if f.set != nil {
		if f.set[k] {
			return true
		}
		f.set[k] = true
		return false
	}
	if slices.Contains(f.keys, k) {
		return true
	}
	f.keys = append(f.keys, k)
	if len(f.keys) > 16 {
		f.set = make(map[string]bool, 2*len(f.keys))
		for _, x := range f.keys {
			f.set[x] = true
		}
		f.keys = nil
	}
	return false
}

// Find returns the first key repeated inside one object of data, at any
// depth, or nil. With fold, keys that differ only in letter case count as
// the same (as encoding/json matches them to struct fields). Malformed
// JSON gives nil: reporting it is the caller's decoder's job, and a
// repeated key before the error is still found.
//
// It scans the bytes itself rather than use encoding/json's tokens, which
// cost ten times as much, since the largest bodies it sees (admin usage
// batches of 10,000 records) are on a path measured for throughput.
func Find(data []byte, fold bool) *Duplicate {
	var stack []*frame
	// path names the innermost container by where each one sits in the one
	// around it; built only for the answer.
	path := func() string {
		var b strings.Builder
		for _, f := range stack[:len(stack)-1] {
			if f.array {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		}
		return b.String()
	}
	i := 0
	ws := func() {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
			i++
		}
	}
	// str reads the string at i (data[i] == '"') and returns its text.
	str := func() (string, bool) {
		start, plain := i, true
		for i++; i < len(data); i++ {
			switch c := data[i]; {
			case c == '\\':
				plain = false
				i++
			case c == '"':
				i++
				raw := data[start:i]
				if plain && utf8.Valid(raw) {
					return string(raw[1 : len(raw)-1]), true
				}
				var s string // escapes, or bytes encoding/json replaces
				if json.Unmarshal(raw, &s) != nil {
					return "", false
				}
				return s, true
			case c >= 0x80:
				plain = false
			}
		}
		return "", false
	}
	for {
		// A value starts at i.
		ws()
		if i >= len(data) {
			return nil
		}
		switch data[i] {
		case '{', '[':
			f := &frame{array: data[i] == '['}
			stack = append(stack, f)
			i++
			ws()
			if i < len(data) && (data[i] == '}' || data[i] == ']') {
				i++
				stack = stack[:len(stack)-1]
				break // an empty container is a value done
			}
			if f.array {
				continue
			}
			goto key
		case '"':
			if _, ok := str(); !ok {
				return nil
			}
		default: // a number or literal: up to the next delimiter
			for i < len(data) && !strings.ContainsRune(",]} \t\n\r", rune(data[i])) {
				i++
			}
		}
		// A value ended: go on in the container it is in.
	next:
		ws()
		if len(stack) == 0 {
			return nil
		}
		if i >= len(data) {
			return nil
		}
		{
			top := stack[len(stack)-1]
			switch c := data[i]; {
			case c == ',':
				i++
				if top.array {
					top.index++
					continue
				}
				goto key
			case (c == ']' && top.array) || (c == '}' && !top.array):
				i++
				stack = stack[:len(stack)-1]
				goto next
			default:
				return nil
			}
		}
	key:
		ws()
		if i >= len(data) || data[i] != '"' {
			return nil
		}
		{
			k, ok := str()
			if !ok {
				return nil
			}
			ws()
			if i >= len(data) || data[i] != ':' {
				return nil
			}
			i++
			top := stack[len(stack)-1]
			id := k
			if fold {
				id = strings.ToLower(k)
			}
			if top.seen(id) {
				return &Duplicate{Key: k, Path: path()}
			}
			top.key = k
		}
	}
}
