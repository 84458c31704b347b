package httpapi

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiterIsPerIPAndPerSecond(t *testing.T) {
	l := newLimiter(10)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 900_000_000, time.UTC)
	if _, _, ok := l.take("10.0.0.1", 6, t0); !ok {
		t.Fatal("first take refused")
	}
	if rem, _, ok := l.take("10.0.0.1", 5, t0); ok || rem != 4 {
		t.Fatalf("over-limit take: ok=%v remaining=%d; want refused with 4 left", ok, rem)
	}
	if rem, _, ok := l.take("10.0.0.1", 4, t0); !ok || rem != 0 {
		t.Fatalf("exact take: ok=%v remaining=%d; want allowed with 0 left", ok, rem)
	}
	if _, _, ok := l.take("10.0.0.2", 10, t0); !ok {
		t.Fatal("another IP shares the first IP's window")
	}
	if rem, reset, ok := l.take("10.0.0.1", 1, t0.Add(100*time.Millisecond)); !ok || rem != 9 || !reset.Equal(time.Date(2026, 1, 1, 0, 0, 2, 0, time.UTC)) {
		t.Fatalf("next second: ok=%v remaining=%d reset=%v", ok, rem, reset)
	}
}

func TestLimiterSweepsStaleWindows(t *testing.T) {
	l := newLimiter(10)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		l.take(fmt.Sprintf("10.0.%d.%d", i/256, i%256), 1, t0)
	}
	l.take("192.0.2.1", 1, t0.Add(2*time.Second))
	if n := len(l.windows); n != 1 {
		t.Fatalf("%d windows kept after a sweep, want 1", n)
	}
}

func BenchmarkLimiterTake(b *testing.B) {
	l := newLimiter(1 << 30)
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.take("127.0.0.1", 1, now)
		}
	})
}
