// Package esimapi is a Go client for the eSIM Go reseller API (v2 to
// v2.5), as served by api.esim-go.com and, wire-compatibly, by esimd, plus
// esimd's own extensions: the balance ledger ([Client.Ledger]), the sandbox
// controls ([Client.Sandbox]) and the operator API for organisations and
// callbacks ([Client.Admin]).
//
// Create a [Client] with the server's address and your API key; every
// method takes a context first and returns typed values:
//
//	c, err := esimapi.NewClient("http://localhost:8080", esimapi.WithAPIKey(key))
//	page, err := c.ListCatalogue(ctx, esimapi.CatalogueQuery{Countries: []string{"GB"}})
//	order, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true,
//		Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}}},
//		esimapi.WithIdempotencyKey("order-0001"))
//
// # Errors
//
// Answers outside 2xx are returned as [*Error], carrying the status, the
// server's message, Retry-After and the request ID. eSIM Go uses few
// statuses (400 for bad input and unknown bundles, 403 for bad keys,
// foreign ICCIDs and empty inventory, 429, 503 while processing); the
// helpers [IsInvalid], [IsForbidden], [IsRateLimited], [IsProcessing],
// [IsGone] and [IsConflict] test for them.
//
// # Retries
//
// A 429 or 503 answer that carries Retry-After is retried (up to
// [DefaultMaxRetries] times, waiting at most [DefaultMaxWait]), honouring
// the context; POSTs are retried on 503 only with [WithIdempotencyKey].
// [WithRetry] tunes this and [WithoutRetry] turns it off.
//
// # Pagination
//
// List methods return one page; the All… methods ([Client.AllBundles],
// [Client.AllOrders], [Client.AllESIMs], [Client.AllLedgerEntries]) are
// iterators over every item:
//
//	for b, err := range c.AllBundles(ctx, esimapi.CatalogueQuery{Region: "Europe"}) {
//		if err != nil { … }
//		fmt.Println(b.Name, b.Price)
//	}
//
// # Money
//
// Prices and balances are [Money]: exact decimals read from the JSON number
// text, never through float64.
//
// # Callbacks
//
// [VerifySignature] checks a callback's X-Signature-SHA256 (base64 or hex)
// or Standard Webhooks headers; [ParseNotification] turns its body into a
// typed [Notification]; [CallbackHandler] does both for an http.Handler.
//
// # Identifiers
//
// ICCIDs are plain strings in this package: the API accepts any 18 to 22
// digits, and the sandbox uses numbers that are not Luhn-valid to force
// errors. Use [github.com/esimd/esimd/esimid] to validate them, and the
// ActivationCode methods to get the LPA string, install links and QR codes.
package esimapi
