package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/storetest"
)

// TestTracingRecordsRequestsAndJobs: with tracing on, a request is a server
// span named by its route that continues the caller's trace, and the
// callback delivery it causes is recorded as job spans.
func TestTracingRecordsRequestsAndJobs(t *testing.T) {
	ctx := context.Background()
	spans := tracetest.NewInMemoryExporter()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer receiver.Close()
	a, err := app.New(ctx, app.Config{DB: storetest.DSN(t), Catalogue: ptr(apptest.Fixture()),
		SecretKey: []byte(apptest.SecretKey), DeliveryInterval: 10 * time.Millisecond,
		Tracing: app.TracingConfig{Exporter: spans}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, issued, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{Name: "Traced", Currency: "USD", Sandbox: true,
		StartingBalance: money.MustParse("100"), CallbackURL: receiver.URL})
	if err != nil {
		t.Fatal(err)
	}
	a.StartWorkers(ctx, app.Deliveries)
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req, _ := http.NewRequest("POST", srv.URL+"/v2.5/orders", strings.NewReader(
		`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`))
	req.Header.Set("X-API-Key", issued.Secret)
	req.Header.Set("traceparent", parent)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("order: %d", res.StatusCode)
	}
	var placed struct {
		Order []struct {
			ESIMs []struct {
				ICCID string `json:"iccid"`
			} `json:"esims"`
		} `json:"order"`
	}
	if err := json.NewDecoder(res.Body).Decode(&placed); err != nil || len(placed.Order) == 0 || len(placed.Order[0].ESIMs) == 0 {
		t.Fatalf("order answer: %v", err)
	}
	// The device installs the profile and attaches: callbacks to deliver.
	for _, step := range []struct{ path, body string }{{"/install", `{}`}, {"/attach", `{"country":"GB"}`}} {
		r, _ := http.NewRequest("POST", srv.URL+"/sandbox/v1/esims/"+placed.Order[0].ESIMs[0].ICCID+step.path, strings.NewReader(step.body))
		r.Header.Set("X-API-Key", issued.Secret)
		got, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		got.Body.Close()
		if got.StatusCode != http.StatusOK {
			t.Fatalf("sandbox %s: %d", step.path, got.StatusCode)
		}
	}
	// The order's events are delivered; wait for a job span of a cycle
	// that finished a delivery.
	deadline := time.Now().Add(10 * time.Second)
	for {
		names := map[string]bool{}
		for _, s := range spans.GetSpans() {
			names[s.Name] = true
		}
		if names["jobs.work callback"] || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var request, work, cycle bool
	for _, s := range spans.GetSpans() {
		switch s.Name {
		case "POST /v2.5/orders":
			request = true
			if got := s.SpanContext.TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
				t.Errorf("the request span is in trace %s, not the caller's", got)
			}
			if s.Parent.SpanID().String() != "00f067aa0ba902b7" {
				t.Errorf("the request span's parent is %s, not the caller's span", s.Parent.SpanID())
			}
			status := false
			for _, kv := range s.Attributes {
				if string(kv.Key) == "http.response.status_code" && kv.Value.AsInt64() == 200 {
					status = true
				}
			}
			if !status {
				t.Errorf("the request span lacks its status: %v", s.Attributes)
			}
		case "jobs.work callback":
			work = true
		case "jobs.cycle callback":
			cycle = true
		}
	}
	if !request || !work || !cycle {
		var names []string
		for _, s := range spans.GetSpans() {
			names = append(names, s.Name)
		}
		t.Fatalf("spans %v: want the request (POST /v2.5/orders), a delivery cycle and a delivery job", names)
	}
}
