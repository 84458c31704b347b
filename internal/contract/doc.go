// Package contract checks our HTTP responses against the eSIM Go vendor's
// OpenAPI documents, corrected where our notes say the live API differs.
//
// It is test support: import it only from _test.go files. It is an
// ordinary package so that every package's tests can share it.
//
//	v := contract.ForTest(t) // loaded once per test binary
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req)
//	if err := v.Validate(req, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
//		t.Error(err)
//	}
//
// # Documents
//
// The reference material lives in shared/spec beside the repository
// (ESIMD_SPEC_DIR overrides the search; see [Locate]). Only the lenient
// copies esimgo-v2.4.lenient.yaml and esimgo-v2.5.lenient.yaml are loaded;
// the vendor files as published do not load in kin-openapi. Where the notes
// (esimgo-api-notes.md) and the documents disagree, the notes win: the
// documents are corrected in memory by the overrides below, never on disk.
//
// Version prefixes map to documents as follows (no documents exist before
// v2.4):
//
//	/v2, /v2.1, /v2.2  the v2.4 document with the v2.0–v2.2 shapes (legacy)
//	/v2.3, /v2.4       the v2.4 document
//	/v2.5              the v2.5 document
//
// Routing strips our version prefix and matches the rest of the path
// against the document's path templates; the documents' absolute server
// URL (https://api.esim-go.com/v2.x) plays no part. Literal segments win
// over parameters. An operation the v2.4 document lacks (DELETE
// /esims/{iccid}, POST /esims/{iccid}/suspend, GET /catalogue/prices, the
// deprecated qr/csv routes …) is looked up in the v2.5 document, because
// the v2.5 surface is served under every prefix (notes §2.1).
//
// # What is checked
//
// Success (2xx) responses are checked by kin-openapi against the matched
// operation: the status must be declared (201 for POST
// /esims/{iccid}/suspend, 200 elsewhere), the Content-Type must be one the
// operation declares, and the body must match its schema. Every problem is
// reported with the JSON pointer of the offending value. The documents
// declare almost no required properties and no object forbids extra keys,
// so a missing field passes; wrong types, enum values and formats do not,
// and a JSON null fails wherever a value is declared (only the inventory
// speed list is nullable). In addition:
//
//   - a JSON body must be exactly one valid JSON value;
//   - the response media type must match the request's Accept header, and
//     GET /esims/assignments without Accept must answer text/csv (§1.3);
//   - a CSV body must parse and its header row start with
//     ICCID, Matching ID, RSP URL, Bundle, each row with an ICCID (§2.2);
//   - a ZIP body must open as an archive;
//   - X-Ratelimit-Limit, -Remaining, -Cost and Retry-After, where present,
//     must be non-negative integers and X-Ratelimit-Reset an RFC 3339
//     timestamp (§1.5). Their presence is not required.
//
// Error (4xx and 5xx) responses are not checked against the documents
// (which declare text/plain and 401 on POST /orders, and omit 429, 410 and
// 503 on many operations). Instead, per notes §1.4, §0.3.4 and §0.4.3, on
// every route:
//
//   - the status is one of 400, 403, 410, 429, 500, 503 (never 401 or 404),
//     or 409, which only esimd's opt-in Idempotency-Key extension sends;
//   - the body is application/json and exactly {"message": "<non-empty>"};
//   - 429 and 503 carry Retry-After (seconds), and a 429's message is
//     "Rate limit exceeded" (§6.1);
//   - an unknown route or version answers 403 (or 429); any other status
//     there, and any 2xx, is reported as "no operation for METHOD /path".
//
// Requests are not validated, and security requirements are ignored.
//
// # Formats
//
// For this validation only (kin-openapi's global formats are untouched):
//
//   - date-time: RFC 3339 in UTC ending in Z, 0–9 fractional digits
//     (notes §1.6: "2023-06-15T10:30:45.123456789Z"); offsets fail;
//   - date: YYYY-MM-DD;
//   - uuid: 8-4-4-4-12 hex digits, any version;
//   - uri: an absolute URI;
//   - other formats (int64, float, binary) are not checked.
//
// # Overrides
//
// Each is one entry, in this order, of the overrides table in overrides.go,
// with the notes section that justifies it:
//
//   - catalogue-envelope (§0.3.1, §2.2): GET /catalogue returns
//     {bundles: [CatalogueBundle], pageCount, rows, pageSize}, all required,
//     not a bare array; bundles items are the document's item schema.
//   - organisation-envelope (§0.3.2): GET /organisation returns
//     {organisations: [Organisation]} with at least one element.
//   - esims-envelope (§2.2 GET /esims): {esims: [...], pageCount, pageSize,
//     rows}, all required.
//   - orders-list (§2.2 GET /orders, §8.1; inferred): GET /orders returns
//     either {orders: [Order], pageCount, pageSize, rows} or a bare [Order]
//     (the document's OrderList), not one OrderResponseTransaction.
//   - orders-post-forms (§2.2 POST /orders, §0.4.4, §0.4.9): POST /orders
//     answers the validate form, which must carry valid, or the
//     transaction form, which must carry orderReference; without this any
//     object matched the validate form and transaction fields went
//     unchecked.
//   - history-list (spec README, §0.4.6): GET /esims/{iccid}/history
//     returns a list of {name, bundleName, date}; date is a date-time.
//   - organisation-groups-bare-array (§7 v2.2; legacy only): GET
//     /organisation/groups on /v2, /v2.1, /v2.2 returns [{name}].
//   - assignments-json-list (§2.2; inferred): the JSON body of GET
//     /esims/assignments is one install-details object or a list of them.
//   - assignments-csv-zip (§1.3, §2.2): GET /esims/assignments also answers
//     text/csv (the default without Accept) and application/zip.
//   - assignments-path-alias (§2.1 row 17b): GET
//     /esims/assignments/{reference} is the same operation.
//   - suspend-status (§2.1 row 31; v2.5, so every prefix through the
//     fallback): GET /esims/{iccid}/suspend returns {suspended: bool}.
//   - group-countries (§2.1 row 8; legacy only; inferred): GET
//     /organisation/groups/{group}/countries returns [{name, region, iso}],
//     the document's catalogue country object.
//   - esim-qr-png (§2.1 row 35; legacy only): GET /esims/{iccid}/qr
//     answers the eSIM's QR code as image/png.
//   - api-details (§2.1 row 37; v2.0–v2.4 only): GET / returns a list of
//     strings.
//   - money-numbers (§1.6): properties price, balance, testCredit, subTotal,
//     pricePerUnit, amount, runningBalance, and total beside a currency,
//     declared integer, are numbers (2.28). Counts named total (inventory
//     batches) stay integers; string prices (GET /catalogue/prices) stay
//     strings.
//   - float-format-integers (§1.6, §2.2): integer with format float or
//     double (allowance amount, initialAmount, remainingAmount) is a number.
//   - bundle-state-enum (§0.3.7, §3.1): every bundleState is one of
//     processing, queued, active, depleted, expired, revoked, lapsed.
//   - profile-status-enum (§3.2): every profileStatus is one of Released,
//     Downloaded, Installed, Unavailable, Deactivated.
//   - smdp-bare-host (§0.4.8): every smdpAddress is a bare host name, never
//     a URL.
//   - iccid-digits (§0.4.10): every iccid, and every iccids element, is a
//     string of 18–22 digits.
//   - running-balance-decimal (§0.4.9, §2.2; v2.5): runningBalance stays a
//     JSON string as the document and the notes both say, holding a decimal
//     ("1234.56"); a JSON number fails.
//   - open-objects (§0.4.2, §0.4.5, §0.4.7): no object forbids additional
//     properties, so the bundle detail may carry both group and groups and
//     v2.4 eSIM details may carry appleInstallUrl. Neither document forbids
//     any today; the entry guards regenerated copies.
//
// # Callbacks
//
// [Validator.ValidateCallback] checks a callback body against the schema
// the v2.5 document gives it: only the usage callback (Utilisation) has
// one, BundleAlert, the request body of POST /your-usage-callback-url/.
// It declares no required properties and does not close its objects, so
// esimd's extensions pass: percentage on Utilisation bodies (which
// threshold the alert is, notes §4.2 give none) and the bundle's unit on
// voice and SMS alerts (minutes, SMSmessages, as a newer copy of the
// vendor's notification page shows).
//
// Deliberately not overridden, because the documents already say what the
// notes decide: allowance units per endpoint (§0.4.1: MB|SMS|MINS on GET
// /esims/{iccid}/bundles and the catalogue, BYTES|SMS|MINS on GET
// /esims/{iccid}/bundles/{name}); firstInstalledDateTime (§0.3.6: integer
// epoch milliseconds on GET /esims/{iccid}, a date-time string in GET
// /esims/assignments JSON).
package contract
