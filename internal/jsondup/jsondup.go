// Package jsondup finds keys that a JSON document gives twice in one
// object. encoding/json keeps the last of them silently, so a body with
// "type" twice ("validate", then "transaction") would be read as the last;
// the API refuses such bodies instead of guessing which one was meant.
package jsondup

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
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

// Find returns the first key repeated inside one object of data, at any
// depth, or nil. With fold, keys that differ only in letter case count as
// the same (as encoding/json matches them to struct fields). Malformed
// JSON gives nil: reporting it is the caller's decoder's job, and a
// repeated key before the error is still found.
func Find(data []byte, fold bool) *Duplicate {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// One frame per open object or array: an object's keys seen so far, an
	// array's next index.
	type frame struct {
		keys    map[string]bool // nil for an array
		index   int
		nextKey bool   // in an object: the next string token is a key
		name    string // the key or index this container sits under in its parent
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for i, f := range stack {
			if i == 0 {
				continue // the top-level container has no name
			}
			if stack[i-1].keys == nil {
				b.WriteString("[" + f.name + "]")
			} else {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.name)
			}
		}
		return b.String()
	}
	// valueDone moves the parent on after one of its values ends.
	var curKey string
	valueDone := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.keys == nil {
			top.index++
		} else {
			top.nextKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.keys != nil && top.nextKey {
			if k, ok := tok.(string); ok {
				id := k
				if fold {
					id = strings.ToLower(k)
				}
				if top.keys[id] {
					return &Duplicate{Key: k, Path: path()}
				}
				top.keys[id] = true
				top.nextKey, curKey = false, k
				continue
			}
		}
		name := curKey
		if top != nil && top.keys == nil {
			name = strconv.Itoa(top.index)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, nextKey: true, name: name})
		case json.Delim('['):
			stack = append(stack, &frame{name: name})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			valueDone()
		default:
			valueDone()
		}
	}
}
