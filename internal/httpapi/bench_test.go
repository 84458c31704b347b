package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// demoEnv serves the full demo catalogue (thousands of bundles).
func demoEnv(tb testing.TB) *env {
	tb.Helper()
	d, err := demodata.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return newEnv(tb, envOptions{data: &d})
}

func TestFullDemoCatalogueMatchesDocuments(t *testing.T) {
	e := demoEnv(t)
	var p cataloguePage
	res := e.get("/v2.5/catalogue") // validated against the v2.5 document in e.get
	res.json(t, &p)
	if p.Rows < 5000 || len(p.Bundles) != p.Rows || p.PageCount != 1 {
		t.Fatalf("demo catalogue: %d rows, %d bundles, %d pages", p.Rows, len(p.Bundles), p.PageCount)
	}
	if res := e.get("/v2.4/networks?returnAll=true"); res.status != 200 {
		t.Fatalf("networks: %d", res.status)
	}
}

// BenchmarkCatalogue measures GET /catalogue over real HTTP on loopback,
// next to a minimal handler served the same way in the same run, so the
// ratio survives a noisy machine. Compare with:
//
//	go test ./internal/httpapi -run '^$' -bench Catalogue -benchtime 2s
func BenchmarkCatalogue(b *testing.B) {
	e := demoEnv(b)
	baseline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer baseline.Close()
	run := func(b *testing.B, client *http.Client, url, key string) {
		b.Helper()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("X-API-Key", key)
			for pb.Next() {
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("status %d", res.StatusCode)
					return
				}
				b.SetBytes(n)
			}
		})
	}
	client := e.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.Run("baseline-minimal-handler", func(b *testing.B) { run(b, client, baseline.URL+"/", "") })
	b.Run("bundle-detail", func(b *testing.B) { run(b, client, e.srv.URL+"/v2.5/catalogue/bundle/esim_1GB_7D_GB_V2", e.key) })
	b.Run("page-of-50", func(b *testing.B) { run(b, client, e.srv.URL+"/v2.5/catalogue?perPage=50&page=3", e.key) })
	b.Run("country-filter", func(b *testing.B) { run(b, client, e.srv.URL+"/v2.5/catalogue?countries=GB,FR&perPage=100", e.key) })
	b.Run("full-catalogue", func(b *testing.B) { run(b, client, e.srv.URL+"/v2.5/catalogue", e.key) })
}

// BenchmarkPlaceOrder measures POST /orders (transaction, one bundle onto a
// new eSIM) over loopback HTTP, next to GET /catalogue/bundle/{name} on the
// same server in the same run:
//
//	go test ./internal/httpapi -run '^$' -bench PlaceOrder -benchtime 3s
func BenchmarkPlaceOrder(b *testing.B) {
	e := demoEnv(b)
	if _, err := e.orgs.Credit(context.Background(), e.org.ID, orgs.LedgerTopup, money.FromUnits(1_000_000_000), "", "benchmark"); err != nil {
		b.Fatal(err)
	}
	client := e.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	do := func(b *testing.B, method, url, body string) {
		b.Helper()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest(method, url, strings.NewReader(body))
				req.Header.Set("X-API-Key", e.key)
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("baseline-bundle-detail", func(b *testing.B) {
		do(b, "GET", e.srv.URL+"/v2.5/catalogue/bundle/esim_1GB_7D_GB_V2", "")
	})
	b.Run("order-assign-new-esim", func(b *testing.B) {
		do(b, "POST", e.srv.URL+"/v2.5/orders", `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
	})
	b.Run("order-into-inventory", func(b *testing.B) {
		do(b, "POST", e.srv.URL+"/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
	})
}

// BenchmarkESIMDetails measures GET /esims/{iccid} over loopback HTTP on an
// organisation with 1,000 eSIMs, next to a minimal handler in the same run:
//
//	go test ./internal/httpapi -run '^$' -bench ESIMDetails -benchtime 3s
func BenchmarkESIMDetails(b *testing.B) {
	e := newEnv(b, envOptions{})
	ctx := context.Background()
	if _, err := e.orgs.Credit(ctx, e.org.ID, orgs.LedgerTopup, money.FromUnits(1_000_000), "", "benchmark"); err != nil {
		b.Fatal(err)
	}
	var iccids []string
	for range 200 {
		placed, err := e.orders.Place(ctx, e.org.ID, orderReq("esim_1GB_7D_GB_V2", 5), "")
		if err != nil {
			b.Fatal(err)
		}
		for _, es := range placed.ESIMs[0] {
			iccids = append(iccids, es.ICCID)
		}
	}
	baseline := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer baseline.Close()
	client := e.srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	run := func(b *testing.B, url func(i int) string) {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", url(int(next.Add(1))), nil)
				req.Header.Set("X-API-Key", e.key)
				res, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					b.Errorf("status %d", res.StatusCode)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	}
	b.Run("baseline-minimal-handler", func(b *testing.B) { run(b, func(int) string { return baseline.URL + "/" }) })
	b.Run("esim-details", func(b *testing.B) {
		run(b, func(i int) string { return e.srv.URL + "/v2.5/esims/" + iccids[i%len(iccids)] })
	})
	b.Run("esim-bundles", func(b *testing.B) {
		run(b, func(i int) string { return e.srv.URL + "/v2.5/esims/" + iccids[i%len(iccids)] + "/bundles" })
	})
}
