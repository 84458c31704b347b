package notify_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// BenchmarkDeliver writes a burst of 2,000 events in one transaction (as
// an ingest batch would), spread over eSIMs and organisations, and lets the
// worker deliver them to a local receiver with the default concurrency (32
// in flight, 8 per organisation). It reports deliveries per second and the
// delay from the burst's commit to each delivery (p50, p99).
func BenchmarkDeliver(b *testing.B) {
	for _, c := range []struct{ nOrgs, perESIM int }{{1, 10}, {8, 10}, {1, 1}} {
		b.Run(fmt.Sprintf("orgs=%d/events-per-esim=%d", c.nOrgs, c.perESIM), func(b *testing.B) {
			const burst = 2000
			nOrgs, perESIM := c.nOrgs, c.perESIM
			e := newEnv(b, envOptions{realClock: true})
			rc := newReceiver(b, nil)
			var ids []orgs.ID
			for i := range nOrgs {
				o, _ := e.org(fmt.Sprintf("Org %d", i), true, rc.URL, orgs.CallbackV3)
				ids = append(ids, o.ID)
			}
			w := notify.NewWorker(e.svc, time.Second, nil)
			w.Start(e.ctx)
			defer w.Stop()
			var delays []time.Duration
			var busy time.Duration
			sent := 0
			for b.Loop() {
				err := e.db.InTx(e.ctx, func(ctx context.Context) error {
					for i := range burst {
						esim := i / perESIM
						ev := esims.Event{OrgID: ids[esim%nOrgs], ICCID: iccidN(esim), Kind: notify.KindFirstAttachment,
							Payload: events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: iccidN(esim)}, At: time.Now()}
						if err := e.db.AddEvent(ctx, &ev); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				committed := time.Now()
				w.Kick()
				rc.waitFor(b, sent+burst, time.Minute)
				busy += time.Since(committed)
				for _, r := range rc.all()[sent:] {
					delays = append(delays, r.At.Sub(committed))
				}
				sent += burst
			}
			slices.Sort(delays)
			b.ReportMetric(float64(sent)/busy.Seconds(), "deliveries/s")
			b.ReportMetric(float64(delays[len(delays)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(delays[len(delays)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}
