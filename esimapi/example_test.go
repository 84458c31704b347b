package esimapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/esimd/esimd/esimapi"
)

// fakeESIMGo stands in for a server in the examples: it answers a few
// routes with fixed bodies, as esimd or eSIM Go would.
func fakeESIMGo() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Header.Get("X-API-Key") != "my-key" {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"message":"Forbidden"}`)
			return
		}
		switch r.Method + " " + r.URL.Path {
		case "GET /v2.5/catalogue":
			if r.URL.Query().Get("page") == "2" {
				io.WriteString(w, `{"bundles":[{"name":"esim_3GB_30D_GB_V2","price":4.5,"duration":30,"dataAmount":3000}],"pageCount":2,"rows":3,"pageSize":2}`)
				return
			}
			io.WriteString(w, `{"bundles":[{"name":"esim_1GB_7D_GB_V2","price":1.73,"duration":7,"dataAmount":1000},`+
				`{"name":"esim_1GB_7D_REUL_V2","price":3.1,"duration":7,"dataAmount":1000}],"pageCount":2,"rows":3,"pageSize":2}`)
		case "POST /v2.5/orders":
			io.WriteString(w, `{"order":[{"esims":[{"iccid":"8999901000000000017","matchingId":"Q7K2-9XWD-4L3M","smdpAddress":"smdp.sandbox.esimd.invalid"}],`+
				`"type":"bundle","item":"esim_1GB_7D_GB_V2","iccids":["8999901000000000017"],"quantity":1,"subTotal":1.73,"pricePerUnit":1.73,"AllowReassign":false}],`+
				`"total":1.73,"currency":"USD","status":"completed","statusMessage":"Order completed: 1 eSIMs assigned",`+
				`"orderReference":"6f1c1d0e-3b7a-4c55-9a3e-2d1f0b9c8a71","createdDate":"2026-11-28T10:00:00Z","assigned":true,"runningBalance":"998.27"}`)
		case "GET /v2.5/esims/8999900000000000503":
			w.Header().Set("Retry-After", "5")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"message":"order is still processing; retry after the number of seconds in Retry-After"}`)
		default:
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, `{"message":"%s %s is not an endpoint of this API"}`, r.Method, r.URL.Path)
		}
	}))
}

func ExampleClient_ListCatalogue() {
	srv := fakeESIMGo() // in real code: "http://localhost:8080" or "https://api.esim-go.com"
	defer srv.Close()

	c, err := esimapi.NewClient(srv.URL, esimapi.WithAPIKey("my-key"))
	if err != nil {
		log.Fatal(err)
	}
	page, err := c.ListCatalogue(context.Background(), esimapi.CatalogueQuery{Countries: []string{"GB"}, PerPage: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, b := range page.Bundles {
		fmt.Printf("%s %d days %s USD\n", b.Name, b.Duration, b.Price)
	}
	fmt.Println(page.Rows, "bundles on", page.PageCount, "pages")
	// Output:
	// esim_1GB_7D_GB_V2 7 days 1.73 USD
	// esim_1GB_7D_REUL_V2 7 days 3.1 USD
	// 3 bundles on 2 pages
}

func ExampleClient_AllBundles() {
	srv := fakeESIMGo()
	defer srv.Close()
	c, _ := esimapi.NewClient(srv.URL, esimapi.WithAPIKey("my-key"))

	total := esimapi.Money{}
	for b, err := range c.AllBundles(context.Background(), esimapi.CatalogueQuery{PerPage: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		total = total.Add(b.Price) // exact: no float rounding
		fmt.Println(b.Name)
	}
	fmt.Println("one of each:", total)
	// Output:
	// esim_1GB_7D_GB_V2
	// esim_1GB_7D_REUL_V2
	// esim_3GB_30D_GB_V2
	// one of each: 9.33
}

func ExampleClient_PlaceOrder() {
	srv := fakeESIMGo()
	defer srv.Close()
	c, _ := esimapi.NewClient(srv.URL, esimapi.WithAPIKey("my-key"))

	order, err := c.PlaceOrder(context.Background(), esimapi.OrderRequest{
		Assign: true,
		Lines:  []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}},
	}, esimapi.WithIdempotencyKey("order-2026-11-28-0001")) // a retry cannot buy twice
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(order.StatusMessage, "- balance now", order.RunningBalance)
	for _, e := range order.ESIMs() {
		code, _ := e.ActivationCode()
		fmt.Println(e.ICCID, code)
		fmt.Println(code.AppleInstallURL())
	}
	// Output:
	// Order completed: 1 eSIMs assigned - balance now 998.27
	// 8999901000000000017 LPA:1$smdp.sandbox.esimd.invalid$Q7K2-9XWD-4L3M
	// https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$smdp.sandbox.esimd.invalid$Q7K2-9XWD-4L3M
}

func ExampleError() {
	srv := fakeESIMGo()
	defer srv.Close()
	c, _ := esimapi.NewClient(srv.URL, esimapi.WithAPIKey("my-key"), esimapi.WithoutRetry())

	_, err := c.ESIM(context.Background(), "8999900000000000503")
	var apiErr *esimapi.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, esimapi.IsProcessing(err), "retry after", apiErr.RetryAfter)
	}

	_, err = c.Inventory(context.Background())
	fmt.Println(esimapi.IsForbidden(err))
	// Output:
	// 503 true retry after 5s
	// true
}

func ExampleVerifySignature() {
	const apiKey = "esimd_3v5k_example_key" // the organisation's API key signs its callbacks
	body := []byte(`{"alertType":"Utilisation","iccid":"8999901000000000017","bundle":{"name":"esim_1GB_7D_GB_V2","initialQuantity":1000000000,"remainingQuantity":500000000}}`)

	// What arrives at the callback URL: the raw body and its headers.
	header := http.Header{}
	header.Set("X-Signature-SHA256", "REb50yEmEIxiYmh5mwnY4/MqJg22E6ITZVmkMKs9oqM=")

	if err := esimapi.VerifySignature(body, header, apiKey); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	n, err := esimapi.ParseNotification(body)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	if u, ok := n.(*esimapi.UtilisationNotification); ok {
		fmt.Printf("%s: %s is %d%% used\n", u.ICCID, u.Bundle.Name, u.Bundle.UsedPercent())
	}

	// A tampered body fails.
	err = esimapi.VerifySignature([]byte(strings.Replace(string(body), "500000000", "900000000", 1)), header, apiKey)
	fmt.Println(errors.Is(err, esimapi.ErrBadSignature))
	// Output:
	// 8999901000000000017: esim_1GB_7D_GB_V2 is 50% used
	// true
}

func ExampleVerifier() {
	const apiKey = "esimd_3v5k_example_key"
	body := []byte(`{"event":"esim.deleted","iccid":"8999901000000000017","date":"2026-11-28T10:00:00Z"}`)
	sent := time.Date(2026, 11, 28, 10, 0, 5, 0, time.UTC)
	header := esimapi.SignStandardWebhook("msg_2Kp7", sent, body, apiKey) // as esimd sends them

	v := esimapi.Verifier{Key: apiKey, Tolerance: time.Minute, Now: func() time.Time { return sent.Add(2 * time.Second) }}
	fmt.Println(v.Verify(body, header))

	late := esimapi.Verifier{Key: apiKey, Tolerance: time.Minute, Now: func() time.Time { return sent.Add(time.Hour) }}
	fmt.Println(errors.Is(late.Verify(body, header), esimapi.ErrStaleTimestamp))
	// Output:
	// <nil>
	// true
}

func ExampleCallbackHandler() {
	const apiKey = "esimd_3v5k_example_key"
	h := esimapi.CallbackHandler(apiKey, func(ctx context.Context, n esimapi.Notification) error {
		switch n := n.(type) {
		case *esimapi.FirstAttachmentNotification:
			fmt.Println("send a welcome SMS to", n.ICCID)
		case *esimapi.UtilisationNotification:
			fmt.Println("offer a top-up to", n.ICCID)
		}
		return nil
	})
	body := `{"alertType":"FirstAttachment","iccid":"8999901000000000017"}`
	req := httptest.NewRequest(http.MethodPost, "/esim-callbacks", strings.NewReader(body))
	req.Header.Set("X-Signature-SHA256", esimapi.SignBody([]byte(body), apiKey))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req) // in real code: http.Handle("/esim-callbacks", h)
	fmt.Println(rec.Code)
	// Output:
	// send a welcome SMS to 8999901000000000017
	// 200
}

func ExampleMoney() {
	price := esimapi.MustParseMoney("90.275") // as the API sends it: a JSON number
	total := price.Mul(3)
	balance := esimapi.MustParseMoney("1000")
	fmt.Println(total, balance.Sub(total), total.Cmp(balance) < 0)
	cents, err := esimapi.MustParseMoney("2.28").MinorUnits(2)
	fmt.Println(cents, err)
	// Output:
	// 270.825 729.175 true
	// 228 <nil>
}

func ExampleSandbox_Advance() {
	key := os.Getenv("ESIMD_API_KEY")
	if key == "" {
		return // needs a running esimd: go run ./cmd/esimd serve
	}
	c, _ := esimapi.NewClient("http://localhost:8080", esimapi.WithAPIKey(key))
	clock, err := c.Sandbox().Advance(context.Background(), 30*24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("sandbox time is now", clock.Now, "after", clock.DueItemsRun, "due items")
}

// A test suite creates a throwaway sandbox organisation per run with the
// operator's admin token, then works with the key it gets back.
func ExampleAdmin_CreateOrganisation() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Header.Get("Authorization") != "Bearer operator-token":
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"give the admin token as Authorization: Bearer TOKEN"}`)
		case r.Method+" "+r.URL.Path == "POST /admin/v1/organisations":
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"id":7,"name":"ci-run-1234","currency":"USD","sandbox":true,"balance":500,"refundsEnabled":false,`+
				`"refundWindowDays":60,"createdAt":"2026-12-01T10:00:00Z","apiKey":"esimd_ci_key"}`)
		case r.Method+" "+r.URL.Path == "POST /admin/v1/organisations/7/credit":
			io.WriteString(w, `{"id":2,"organisationId":7,"kind":"topup","amount":250,"balance":750,"note":"more tests","createdAt":"2026-12-01T10:01:00Z"}`)
		}
	}))
	defer srv.Close()

	c, _ := esimapi.NewClient(srv.URL)
	admin := c.Admin("operator-token")
	ctx := context.Background()
	org, err := admin.CreateOrganisation(ctx, esimapi.NewOrganisation{Name: "ci-run-1234", Balance: esimapi.MustParseMoney("500")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("organisation", org.ID, org.Name, "sandbox:", org.Sandbox, "balance:", org.Balance, "key:", org.APIKey)
	credit, err := admin.Credit(ctx, org.ID, esimapi.CreditRequest{Amount: esimapi.MustParseMoney("250"), Note: "more tests"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(credit.Kind, credit.Amount, "→ balance", credit.Balance)
	// Output:
	// organisation 7 ci-run-1234 sandbox: true balance: 500 key: esimd_ci_key
	// topup 250 → balance 750
}
