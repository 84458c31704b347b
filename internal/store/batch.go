package store

import "strings"

// Helpers for statements that carry many values: IN lists and multi-row
// VALUES. Their sizes are powers of two, so that a handful of statement
// texts are prepared and cached however many values come.

// inChunk bounds the values of one IN list or multi-row insert, under every
// engine's limit on bound parameters.
const inChunk = 512

// inList returns "$from, $from+1, …" for n values, n rounded up to a power
// of two: padded lists (the last value repeated) keep the number of
// distinct statement texts, each prepared and cached, to a handful.
func inList(from, n int) (string, int) {
	size := 1
	for size < n {
		size *= 2
	}
	var b strings.Builder
	for i := range size {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(itoa(int64(from + i)))
	}
	return b.String(), size
}

// padded returns vals extended to size by repeating the last one.
func padded[T any](vals []T, size int) []any {
	out := make([]any, 0, size)
	for _, v := range vals {
		out = append(out, v)
	}
	for len(out) < size {
		out = append(out, vals[len(vals)-1])
	}
	return out
}

// inChunks calls fn with the placeholders and arguments of each chunk of
// vals, numbered from $from (1 unless the statement binds others first).
func inChunks[T any](vals []T, fn func(placeholders string, args []any) error, from ...int) error {
	first := 1
	if len(from) > 0 {
		first = from[0]
	}
	for len(vals) > 0 {
		n := min(len(vals), inChunk)
		ph, size := inList(first, n)
		if err := fn(ph, padded(vals[:n], size)); err != nil {
			return err
		}
		vals = vals[n:]
	}
	return nil
}

// rowsPerStatement returns how many of n rows the next multi-row statement
// takes: a power of two up to most, so that a handful of statement texts
// are prepared and cached.
func rowsPerStatement(n, most int) int {
	k := 1
	for k*2 <= min(n, most) {
		k *= 2
	}
	return k
}

// valuesRows returns "(CAST($1 AS T1), …), (…)" for rows rows of the given
// column types, numbered from $1; an empty type leaves its value bare
// ("$1"), for an INSERT whose target columns type it (casts cost a step
// per value).
func valuesRows(rows int, types []string) string {
	var b strings.Builder
	p := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c, t := range types {
			if c > 0 {
				b.WriteString(", ")
			}
			p++
			if t == "" {
				b.WriteString("$" + itoa(int64(p)))
				continue
			}
			b.WriteString("CAST($" + itoa(int64(p)) + " AS " + t + ")")
		}
		b.WriteByte(')')
	}
	return b.String()
}
