package esims_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/esimd/esimd/internal/esims"
)

// BenchmarkApplyUsage measures usage records of 1 kB going through the
// lifecycle engine onto 100 installed eSIMs that each hold a large active
// bundle, one transaction per record (ApplyUsage) and 100 records per
// transaction (Ingest), against a baseline of plain SQLite inserts of
// equivalent rows (iccid, bytes, at) with the store's pragmas in
// transactions of the same sizes: the baseline is what the disk and the
// driver allow, the gap is the engine's cost.
func BenchmarkApplyUsage(b *testing.B) {
	const pool, recordBytes = 100, 1000
	e := newEnv(b)
	var iccids []string
	for _, s := range e.provision(pool) {
		if _, err := e.engine.SetProfileStatus(e.ctx, e.org.ID, s.ICCID, esims.ProfileInstalled, ""); err != nil {
			b.Fatal(err)
		}
		e.assign(s.ICCID, bBig)
		e.use(s.ICCID, recordBytes) // registers in GB and starts the bundle
		iccids = append(iccids, s.ICCID)
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}

	b.Run("engine/ApplyUsage/batch=1", func(b *testing.B) {
		b.ResetTimer()
		for i := range b.N {
			res, err := e.engine.ApplyUsage(e.ctx, esims.UsageRecord{Org: e.org.ID, ICCID: iccids[i%pool], Bytes: recordBytes,
				Network: esims.Registration{Country: "GB"}})
			if err != nil || res.Charged != recordBytes {
				b.Fatalf("record %d: %+v, %v", i, res, err)
			}
		}
		b.StopTimer()
		report(b)
	})

	seq := 0 // record IDs never repeat across the runs of the sub-benchmark
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("engine/Ingest/batch=%d", batch), func(b *testing.B) {
			at := e.clock.Now()
			recs := make([]esims.IngestRecord, 0, batch)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				recs = recs[:0]
				for j := i; j < min(i+batch, b.N); j++ {
					seq++
					recs = append(recs, esims.IngestRecord{RecordID: "r" + strconv.Itoa(seq), ICCID: iccids[j%pool], Bytes: recordBytes, Country: "GB", At: at})
				}
				out, err := e.engine.Ingest(e.ctx, recs)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range out {
					if r.Status != esims.IngestApplied || r.Charged != recordBytes {
						b.Fatalf("record %s: %+v", r.RecordID, r)
					}
				}
			}
			b.StopTimer()
			report(b)
		})
	}

	// The baseline: the same pragmas as store.Open's writer, one connection.
	path := filepath.Join(b.TempDir(), "baseline.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=foreign_keys(1)&_pragma=synchronous(full)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE usage_scratch (iccid TEXT NOT NULL, bytes INTEGER NOT NULL, at INTEGER NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	ins, err := db.PrepareContext(ctx, `INSERT INTO usage_scratch (iccid, bytes, at) VALUES (?1, ?2, ?3)`)
	if err != nil {
		b.Fatal(err)
	}
	defer ins.Close()
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("baseline/insert/batch=%d", batch), func(b *testing.B) {
			at := e.clock.Now().UnixNano()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				st := tx.StmtContext(ctx, ins)
				for j := i; j < min(i+batch, b.N); j++ {
					if _, err := st.ExecContext(ctx, iccids[j%pool], recordBytes, at); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			report(b)
		})
	}
}
