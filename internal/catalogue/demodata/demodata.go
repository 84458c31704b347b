// Package demodata holds the demo catalogue: the November 2025 wholesale
// rate sheet (/work/shared/data/ratesheet-2025-11 in the project's shared
// data, ../shared/data/ratesheet-2025-11 from the module root) read by
// package ratesheet, plus a handful of demo voice and SMS bundles derived
// from it (voicesms.go), checked in as catalogue.json, which is embedded.
//
// Regenerate it with go generate (or the command in the go:generate line)
// after changing the rate-sheet parser or the sheet; a test fails while the
// file and the generator disagree.
package demodata

//go:generate go run ./gen -in ../../../../shared/data/ratesheet-2025-11 -out catalogue.json

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/esimd/esimd/internal/catalogue"
)

//go:embed catalogue.json
var raw []byte

var decoded = sync.OnceValues(func() (catalogue.Data, error) {
	var d catalogue.Data
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return catalogue.Data{}, fmt.Errorf("demodata: decoding the embedded catalogue.json: %w", err)
	}
	return d, nil
})

// Load returns the demo catalogue. The file is decoded once; each call
// returns a deep copy, so the caller may modify what it gets.
func Load() (catalogue.Data, error) {
	d, err := decoded()
	if err != nil {
		return catalogue.Data{}, err
	}
	return Clone(d), nil
}

// JSON returns a copy of the embedded catalogue.json.
func JSON() []byte { return slices.Clone(raw) }

// Clone returns a deep copy of d: no slice of the copy shares memory with d.
func Clone(d catalogue.Data) catalogue.Data {
	out := catalogue.Data{
		Currency:  d.Currency,
		Countries: slices.Clone(d.Countries),
		Regions:   slices.Clone(d.Regions),
		Bundles:   slices.Clone(d.Bundles),
		Networks:  slices.Clone(d.Networks),
	}
	for i := range out.Regions {
		out.Regions[i].Countries = slices.Clone(out.Regions[i].Countries)
	}
	for i := range out.Bundles {
		b := &out.Bundles[i]
		b.Groups = slices.Clone(b.Groups)
		b.Countries = slices.Clone(b.Countries)
		b.Roaming = slices.Clone(b.Roaming)
		b.Speeds = slices.Clone(b.Speeds)
		b.Allowances = slices.Clone(b.Allowances)
	}
	for i := range out.Networks {
		out.Networks[i].Speeds = slices.Clone(out.Networks[i].Speeds)
	}
	return out
}

// Marshal writes a catalogue the way catalogue.json is written: one JSON
// object whose arrays hold one element per line, so that a change to the
// rate sheet shows as a change to the lines of the bundles, countries,
// regions or networks it touches. Nil slices are written as [].
func Marshal(d catalogue.Data) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	encode := func(v any) error {
		if err := enc.Encode(v); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode ends with a newline
		return nil
	}
	buf.WriteString("{\n\"currency\": ")
	if err := encode(d.Currency); err != nil {
		return nil, err
	}
	if err := section(&buf, encode, "countries", d.Countries); err != nil {
		return nil, err
	}
	if err := section(&buf, encode, "regions", d.Regions); err != nil {
		return nil, err
	}
	if err := section(&buf, encode, "bundles", d.Bundles); err != nil {
		return nil, err
	}
	if err := section(&buf, encode, "networks", d.Networks); err != nil {
		return nil, err
	}
	buf.WriteString("\n}\n")
	return buf.Bytes(), nil
}

func section[T any](buf *bytes.Buffer, encode func(any) error, name string, items []T) error {
	fmt.Fprintf(buf, ",\n%q: [", name)
	for i, it := range items {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		if err := encode(it); err != nil {
			return fmt.Errorf("demodata: encoding %s[%d]: %w", name, i, err)
		}
	}
	if len(items) > 0 {
		buf.WriteByte('\n')
	}
	buf.WriteByte(']')
	return nil
}
