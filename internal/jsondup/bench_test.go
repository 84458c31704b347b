package jsondup

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkFindIngestBatch is Find on the largest admin usage batch
// (10,000 records, about 1.3 MB).
func BenchmarkFindIngestBatch(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"records":[`)
	for i := range 10000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"recordId":"cdr-%06d","iccid":"8944000000000000001","bytes":52428800,"mccmnc":"20801","timestamp":"2026-11-28T10:15:00Z"}`, i)
	}
	sb.WriteString(`]}`)
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if d := Find(data, true); d != nil {
			b.Fatal(d)
		}
	}
}
