package contract

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// profile names one of the three in-memory documents the Validator routes
// to. Two are built from the vendor's v2.4 document, because no documents
// exist for v2.0 to v2.3, and one from the v2.5 document.
type profile uint8

const (
	// legacy serves /v2, /v2.1 and /v2.2: the v2.4 document plus the
	// shapes notes §7 records for those versions.
	legacy profile = 1 << iota
	// v24 serves /v2.3 and /v2.4: the v2.4 document.
	v24
	// v25 serves /v2.5: the v2.5 document.
	v25

	allProfiles = legacy | v24 | v25
	fromV24Doc  = legacy | v24
)

func (p profile) String() string {
	switch p {
	case legacy:
		return "v2.4 document with v2.0–v2.2 shapes"
	case v24:
		return "v2.4 document"
	case v25:
		return "v2.5 document"
	}
	return fmt.Sprintf("profile(%d)", uint8(p))
}

// override is one place where the notes win over the vendor documents. It
// is applied to the loaded document in memory; the files are never edited.
type override struct {
	name  string  // short identifier, used in errors and in the package doc
	notes string  // where the notes (or the spec README) say so
	in    profile // which documents it applies to
	apply func(doc *openapi3.T) error
}

// overrides is the complete list, applied in this order (later entries may
// rely on earlier ones). Every entry is listed in the package documentation;
// keep the two in step.
var overrides = []override{
	// --- Envelope shapes the live API uses instead of the documents' ---
	{
		name: "catalogue-envelope", notes: "notes §0.3.1, §2.2 GET /catalogue, §10.3", in: allProfiles,
		// The document declares a bare array of bundles; the live API wraps it
		// in a paged object. The document's array item schema is kept.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/catalogue", http.StatusOK)
			if err != nil {
				return err
			}
			arr := mt.Schema.Value
			if !arr.Type.Is(openapi3.TypeArray) || arr.Items == nil {
				return fmt.Errorf("GET /catalogue 200 is no longer an array in the document; revisit this override")
			}
			mt.Schema = objectRef(map[string]*openapi3.SchemaRef{
				"bundles":   arrayRef(arr.Items),
				"pageCount": intRef(),
				"rows":      intRef(),
				"pageSize":  intRef(),
			}, "bundles", "pageCount", "rows", "pageSize")
			return nil
		},
	},
	{
		name: "organisation-envelope", notes: "notes §0.3.2, §2.2 GET /organisation", in: allProfiles,
		// The document declares one Organisation object; the live API answers
		// {"organisations": [Organisation]} (one element).
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/organisation", http.StatusOK)
			if err != nil {
				return err
			}
			list := arrayRef(mt.Schema)
			list.Value.MinItems = 1
			mt.Schema = objectRef(map[string]*openapi3.SchemaRef{"organisations": list}, "organisations")
			return nil
		},
	},
	{
		name: "esims-envelope", notes: "notes §2.2 GET /esims, §10.3", in: allProfiles,
		// The document declares only {"esims": [...]}; the live API adds the
		// paging fields pageCount, pageSize and rows.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/esims", http.StatusOK)
			if err != nil {
				return err
			}
			esims := mt.Schema.Value.Properties["esims"]
			if esims == nil {
				return fmt.Errorf("GET /esims 200 has no esims property in the document; revisit this override")
			}
			mt.Schema = objectRef(map[string]*openapi3.SchemaRef{
				"esims":     esims,
				"pageCount": intRef(),
				"pageSize":  intRef(),
				"rows":      intRef(),
			}, "esims", "pageCount", "pageSize", "rows")
			return nil
		},
	},
	{
		name: "orders-list", notes: "notes §2.2 GET /orders, §8.1 (inferred, not decided)", in: allProfiles,
		// The document points the order list at a single OrderResponseTransaction.
		// The notes leave the live envelope open and name two candidates: the
		// paged object {"orders": [...], pageCount, pageSize, rows} (most
		// plausible) and the legacy bare array (schema OrderList). Both are
		// accepted, with each order checked against the document's Order
		// schema; the single object is not.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/orders", http.StatusOK)
			if err != nil {
				return err
			}
			order, err := component(doc, "Order")
			if err != nil {
				return err
			}
			paged := objectRef(map[string]*openapi3.SchemaRef{
				"orders":    arrayRef(order),
				"pageCount": intRef(),
				"pageSize":  intRef(),
				"rows":      intRef(),
			}, "orders", "pageCount", "pageSize", "rows")
			mt.Schema = &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{paged, arrayRef(order)}}}
			return nil
		},
	},
	{
		name: "orders-post-forms", notes: "notes §2.2 POST /orders, §0.4.4, §0.4.9", in: allProfiles,
		// POST /orders answers either OrderResponseValidate or
		// OrderResponseTransaction (anyOf in the lenient copies). Neither
		// requires anything, so any object matched the validate form and the
		// transaction fields went unchecked. A validate answer carries `valid`
		// and a transaction answer its `orderReference`, so those are required
		// in their own form: each body is then checked against the form it is.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodPost, "/orders", http.StatusOK)
			if err != nil {
				return err
			}
			forms := map[string]string{"OrderResponseValidate": "valid", "OrderResponseTransaction": "orderReference"}
			alts := mt.Schema.Value.AnyOf
			if len(alts) != len(forms) {
				return fmt.Errorf("POST /orders 200 is no longer an anyOf of %d forms; revisit this override", len(forms))
			}
			for i, alt := range alts {
				name := alt.Ref[strings.LastIndex(alt.Ref, "/")+1:]
				field, ok := forms[name]
				if !ok || alt.Value.Properties[field] == nil {
					return fmt.Errorf("POST /orders 200 form %s is not one this override knows; revisit it", alt.Ref)
				}
				cp := *alt.Value
				cp.Required = append(append([]string(nil), cp.Required...), field)
				alts[i] = &openapi3.SchemaRef{Ref: alt.Ref, Value: &cp}
			}
			return nil
		},
	},
	{
		name: "history-list", notes: "spec README (GET /esims/{iccid}/history); notes §0.4.6, §2.2", in: allProfiles,
		// The document declares one ESIMHistory object, but its own example and
		// the live API return a list of them. Entries carry `date` as a
		// timestamp (notes §2.2 "date: datetime"; the document says string).
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/esims/{iccid}/history", http.StatusOK)
			if err != nil {
				return err
			}
			item := mt.Schema
			if !item.Value.Type.Is(openapi3.TypeObject) {
				return fmt.Errorf("GET /esims/{iccid}/history 200 is no longer one object in the document; revisit this override")
			}
			if date := item.Value.Properties["date"]; date != nil {
				editSchema(date, func(s *openapi3.Schema) { s.Format = "date-time" })
			}
			mt.Schema = arrayRef(item)
			return nil
		},
	},
	{
		name: "organisation-groups-bare-array", notes: "notes §7 v2.2, §2.1 row 7", in: legacy,
		// Up to v2.2 the groups endpoint returned a bare array [{name}] instead
		// of {"groups": [...]}. The document's BundleGroup item is kept.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/organisation/groups", http.StatusOK)
			if err != nil {
				return err
			}
			groups := mt.Schema.Value.Properties["groups"]
			if groups == nil || groups.Value.Items == nil {
				return fmt.Errorf("GET /organisation/groups 200 has no groups array in the document; revisit this override")
			}
			mt.Schema = arrayRef(groups.Value.Items)
			return nil
		},
	},

	// --- /esims/assignments: content negotiation and list form ---
	{
		name: "assignments-json-list", notes: "notes §2.2 GET /esims/assignments (inferred)", in: allProfiles,
		// The document's JSON body is one install-details object; with several
		// eSIMs the notes expect a list of them. Both forms are accepted.
		apply: func(doc *openapi3.T) error {
			mt, err := jsonContent(doc, http.MethodGet, "/esims/assignments", http.StatusOK)
			if err != nil {
				return err
			}
			item := mt.Schema
			mt.Schema = &openapi3.SchemaRef{Value: &openapi3.Schema{AnyOf: openapi3.SchemaRefs{item, arrayRef(item)}}}
			return nil
		},
	},
	{
		name: "assignments-csv-zip", notes: "notes §1.3, §2.2 GET /esims/assignments; review #17", in: allProfiles,
		// The document declares only application/json for the 200, but the
		// Accept header selects text/csv (the default when there is no Accept
		// header), application/json or application/zip (QR codes). The CSV and
		// ZIP bodies are strings; their content is checked by checkCSV and
		// checkZIP.
		apply: func(doc *openapi3.T) error {
			resp, err := response(doc, http.MethodGet, "/esims/assignments", http.StatusOK)
			if err != nil {
				return err
			}
			resp.Content["text/csv"] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: openapi3.NewStringSchema()}}
			resp.Content["application/zip"] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: openapi3.NewStringSchema().WithFormat("binary")}}
			op, _ := operation(doc, http.MethodGet, "/esims/assignments")
			setExt(op, extDefaultMediaType, "text/csv")
			return nil
		},
	},
	{
		name: "assignments-path-alias", notes: "notes §2.1 row 17b", in: allProfiles,
		// GET /esims/assignments/{reference} is accepted as an alias of
		// GET /esims/assignments?reference=…, with the same responses.
		apply: func(doc *openapi3.T) error {
			op, err := operation(doc, http.MethodGet, "/esims/assignments")
			if err != nil {
				return err
			}
			alias := *op
			alias.OperationID = ""
			alias.Parameters = nil
			for _, p := range op.Parameters {
				if p.Value != nil && p.Value.In == openapi3.ParameterInQuery && p.Value.Name == "reference" {
					continue
				}
				alias.Parameters = append(alias.Parameters, p)
			}
			alias.Parameters = append(alias.Parameters, pathParam("reference"))
			alias.Extensions = copyExt(op.Extensions)
			doc.Paths.Set("/esims/assignments/{reference}", &openapi3.PathItem{Get: &alias})
			return nil
		},
	},

	// --- Operations the notes add ---
	{
		name: "suspend-status", notes: "notes §2.1 row 31, §2.2 GET /esims/{iccid}/suspend (inferred)", in: v25,
		// The suspend guide documents GET /esims/{iccid}/suspend, which is
		// missing from the document's paths; its body is the document's
		// unreferenced SuspendESIM schema {"suspended": bool}, required here.
		apply: func(doc *openapi3.T) error {
			item := doc.Paths.Value("/esims/{iccid}/suspend")
			if item == nil {
				return fmt.Errorf("path /esims/{iccid}/suspend not in the document")
			}
			s, err := component(doc, "SuspendESIM")
			if err != nil {
				return err
			}
			body := objectRef(map[string]*openapi3.SchemaRef{"suspended": s.Value.Properties["suspended"]}, "suspended")
			if body.Value.Properties["suspended"] == nil {
				return fmt.Errorf("SuspendESIM has no suspended property")
			}
			item.Get = newOperation(body, pathParam("iccid"))
			return nil
		},
	},
	{
		name: "group-countries", notes: "notes §2.1 row 8, §2.2 Legacy (inferred shape)", in: legacy,
		// GET /organisation/groups/{group}/countries, seen in v2.1-era client
		// code, lists the countries of a bundle group as [{name, region, iso}]:
		// the document's catalogue country object.
		apply: func(doc *openapi3.T) error {
			b, err := component(doc, "BundleCatalogueResponse")
			if err != nil {
				return err
			}
			countries := b.Value.Properties["countries"]
			if countries == nil || countries.Value.Items == nil {
				return fmt.Errorf("BundleCatalogueResponse has no countries list")
			}
			doc.Paths.Set("/organisation/groups/{group}/countries", &openapi3.PathItem{
				Get: newOperation(arrayRef(countries.Value.Items), pathParam("group")),
			})
			return nil
		},
	},
	{
		name: "esim-qr-png", notes: "notes §2.1 row 35, §2.2 Legacy GET /esims/{iccid}/qr", in: legacy,
		// GET /esims/{iccid}/qr, seen in v2.2-era client code, answers the
		// eSIM's QR code as a PNG image; no document declares it.
		apply: func(doc *openapi3.T) error {
			if doc.Paths.Value("/esims/{iccid}/qr") != nil {
				return fmt.Errorf("the document now declares GET /esims/{iccid}/qr; drop this override")
			}
			op := openapi3.NewOperation()
			op.Parameters = openapi3.Parameters{pathParam("iccid")}
			png := openapi3.NewContent()
			png["image/png"] = &openapi3.MediaType{Schema: &openapi3.SchemaRef{Value: openapi3.NewStringSchema().WithFormat("binary")}}
			op.Responses = openapi3.NewResponses(openapi3.WithStatus(http.StatusOK, &openapi3.ResponseRef{
				Value: openapi3.NewResponse().WithDescription("OK").WithContent(png),
			}))
			doc.Paths.Set("/esims/{iccid}/qr", &openapi3.PathItem{Get: op})
			return nil
		},
	},
	{
		name: "api-details", notes: "notes §2.1 row 37, §2.2 Legacy GET /; review #32", in: fromV24Doc,
		// GET / ("Get API details") existed up to v2.4 and returns a JSON array
		// of strings (the vendor's Details schema); the v2.4 document dropped it.
		apply: func(doc *openapi3.T) error {
			if doc.Paths.Value("/") != nil {
				return fmt.Errorf("the document now declares GET /; drop this override")
			}
			doc.Paths.Set("/", &openapi3.PathItem{Get: newOperation(arrayRef(&openapi3.SchemaRef{Value: openapi3.NewStringSchema()}))})
			return nil
		},
	},

	// --- Field types and values, applied to every schema in the document ---
	{
		name: "money-numbers", notes: "notes §1.6 (prices are floats), review #13 and §E", in: allProfiles,
		// Money is a decimal number (2.28, 6.9) where the document says integer:
		// properties named price, balance, testCredit, subTotal, pricePerUnit,
		// amount, runningBalance, and total when a sibling currency property
		// shows it is money (inventory batches also have an integer count called
		// total, which stays integer). Only `type: integer` is changed, so the
		// string prices of GET /catalogue/prices and the v2.5 string
		// runningBalance keep their document type.
		apply: func(doc *openapi3.T) error {
			money := map[string]bool{"price": true, "balance": true, "testCredit": true, "subTotal": true,
				"pricePerUnit": true, "amount": true, "runningBalance": true}
			n, err := eachProperty(doc, func(parent *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool {
				isMoney := money[name] || (name == "total" && parent.Properties["currency"] != nil)
				if !isMoney || !prop.Value.Type.Is(openapi3.TypeInteger) {
					return false
				}
				editSchema(prop, func(s *openapi3.Schema) { s.Type = &openapi3.Types{openapi3.TypeNumber} })
				return true
			})
			return atLeastOne(n, err)
		},
	},
	{
		name: "float-format-integers", notes: "notes §1.6, §2.2 allowances (amount: number)", in: allProfiles,
		// `type: integer` with `format: float` (or double) contradicts itself;
		// the allowance amounts (amount, initialAmount, remainingAmount) it is
		// used for are numbers. The v2.4 document has none.
		apply: func(doc *openapi3.T) error {
			_, err := eachProperty(doc, func(_ *openapi3.Schema, _ string, prop *openapi3.SchemaRef) bool {
				s := prop.Value
				if !s.Type.Is(openapi3.TypeInteger) || (s.Format != "float" && s.Format != "double") {
					return false
				}
				editSchema(prop, func(s *openapi3.Schema) { s.Type = &openapi3.Types{openapi3.TypeNumber} })
				return true
			})
			return err
		},
	},
	{
		name: "bundle-state-enum", notes: "notes §0.3.7, §3.1; review B8", in: allProfiles,
		// bundleState is a free string on the schemas operations use (the enum
		// exists only on an unreferenced schema, without lapsed). Every
		// bundleState gets the full lowercase state list, lapsed included.
		apply: func(doc *openapi3.T) error {
			n, err := eachProperty(doc, setEnum("bundleState", bundleStates...))
			return atLeastOne(n, err)
		},
	},
	{
		name: "profile-status-enum", notes: "notes §3.2; review B7", in: allProfiles,
		// profileStatus is a free string on the schemas operations use; the
		// vendor's values (capitalised) are enforced everywhere.
		apply: func(doc *openapi3.T) error {
			n, err := eachProperty(doc, setEnum("profileStatus", profileStatuses...))
			return atLeastOne(n, err)
		},
	},
	{
		name: "smdp-bare-host", notes: "notes §0.4.8; review #28", in: allProfiles,
		// smdpAddress is the bare host name (rsp.example.net), never a URL,
		// although the document's examples carry http://.
		apply: func(doc *openapi3.T) error {
			n, err := eachProperty(doc, setPattern("smdpAddress", hostPattern))
			return atLeastOne(n, err)
		},
	},
	{
		name: "iccid-digits", notes: "notes §0.4.10, §1.6; review #27", in: allProfiles,
		// ICCIDs are JSON strings of 18–22 digits (ours are 19), in every iccid
		// property and every iccids list.
		apply: func(doc *openapi3.T) error {
			n, err := eachProperty(doc, func(_ *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool {
				switch {
				case name == "iccid" && prop.Value.Type.Is(openapi3.TypeString):
					editSchema(prop, func(s *openapi3.Schema) { s.Pattern = iccidPattern })
				case name == "iccids" && prop.Value.Items != nil && prop.Value.Items.Value.Type.Is(openapi3.TypeString):
					editSchema(prop, func(s *openapi3.Schema) {
						items := *s.Items.Value
						items.Pattern = iccidPattern
						s.Items = &openapi3.SchemaRef{Value: &items}
					})
				default:
					return false
				}
				return true
			})
			return atLeastOne(n, err)
		},
	},
	{
		name: "running-balance-decimal", notes: "notes §0.4.9, §2.2 POST /orders; review #10", in: v25,
		// runningBalance (v2.5) is the balance after the order. The document
		// and the notes agree that it is a JSON string, so it stays a string
		// (not a number): a decimal such as "1234.56".
		apply: func(doc *openapi3.T) error {
			n, err := eachProperty(doc, func(_ *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool {
				if name != "runningBalance" || !prop.Value.Type.Is(openapi3.TypeString) {
					return false
				}
				editSchema(prop, func(s *openapi3.Schema) { s.Pattern = decimalPattern })
				return true
			})
			return atLeastOne(n, err)
		},
	},
	{
		name: "open-objects", notes: "notes §0.4.2, §0.4.5, §0.4.7 (extra keys such as group+groups, appleInstallUrl on v2.4)", in: allProfiles,
		// The responses carry keys the documents do not declare, so no object
		// may forbid additional properties. Neither document does today; this
		// entry keeps it so if a regenerated copy starts to.
		apply: func(doc *openapi3.T) error {
			walkSchemas(doc, func(s *openapi3.Schema) {
				if ap := s.AdditionalProperties; ap.Has != nil && !*ap.Has {
					s.AdditionalProperties = openapi3.AdditionalProperties{}
				}
			})
			return nil
		},
	},
}

// Values and patterns the overrides enforce.
var (
	bundleStates    = []string{"processing", "queued", "active", "depleted", "expired", "revoked", "lapsed"}
	profileStatuses = []string{"Released", "Downloaded", "Installed", "Unavailable", "Deactivated"}
)

const (
	iccidPattern   = `^[0-9]{18,22}$`
	hostPattern    = `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`
	decimalPattern = `^-?[0-9]+(\.[0-9]+)?$`

	// extDefaultMediaType on an operation names the media type its success
	// response must have when the request carries no Accept header.
	extDefaultMediaType = "x-esimd-default-media-type"
)

// applyOverrides applies every override meant for p to doc.
func applyOverrides(doc *openapi3.T, p profile) error {
	for _, o := range overrides {
		if o.in&p == 0 {
			continue
		}
		if err := o.apply(doc); err != nil {
			return fmt.Errorf("override %s (%s) on the %s: %w", o.name, o.notes, p, err)
		}
	}
	return nil
}

func operation(doc *openapi3.T, method, path string) (*openapi3.Operation, error) {
	item := doc.Paths.Value(path)
	if item == nil {
		return nil, fmt.Errorf("path %s not in the document", path)
	}
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("%s %s not in the document", method, path)
	}
	return op, nil
}

func response(doc *openapi3.T, method, path string, status int) (*openapi3.Response, error) {
	op, err := operation(doc, method, path)
	if err != nil {
		return nil, err
	}
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("%s %s declares no %d response", method, path, status)
	}
	return ref.Value, nil
}

func jsonContent(doc *openapi3.T, method, path string, status int) (*openapi3.MediaType, error) {
	resp, err := response(doc, method, path, status)
	if err != nil {
		return nil, err
	}
	mt := resp.Content["application/json"]
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil {
		return nil, fmt.Errorf("%s %s %d declares no application/json schema", method, path, status)
	}
	return mt, nil
}

func component(doc *openapi3.T, name string) (*openapi3.SchemaRef, error) {
	s := doc.Components.Schemas[name]
	if s == nil || s.Value == nil {
		return nil, fmt.Errorf("component schema %s not in the document", name)
	}
	return s, nil
}

// eachProperty calls fn for every property of every schema in doc, with the
// object that declares it, and counts the calls for which fn reports a change.
func eachProperty(doc *openapi3.T, fn func(parent *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool) (int, error) {
	n := 0
	walkSchemas(doc, func(s *openapi3.Schema) {
		for name, prop := range s.Properties {
			if prop != nil && prop.Value != nil && fn(s, name, prop) {
				n++
			}
		}
	})
	return n, nil
}

// walkSchemas calls fn once for every schema reachable from the document's
// component schemas and its operations' parameters, request bodies and
// responses, parents before children. (openapi3.T.WalkSchemas does the same
// but builds a JSON pointer for every schema, which makes Load several times
// slower.)
func walkSchemas(doc *openapi3.T, fn func(*openapi3.Schema)) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(sr *openapi3.SchemaRef)
	visitAll := func(refs openapi3.SchemaRefs) {
		for _, r := range refs {
			visit(r)
		}
	}
	visit = func(sr *openapi3.SchemaRef) {
		if sr == nil || sr.Value == nil || seen[sr.Value] {
			return
		}
		seen[sr.Value] = true
		fn(sr.Value)
		s := sr.Value // fn may have replaced children; walk what is there now
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			visit(s.Properties[name])
		}
		visit(s.Items)
		visit(s.AdditionalProperties.Schema)
		visit(s.Not)
		visitAll(s.AllOf)
		visitAll(s.AnyOf)
		visitAll(s.OneOf)
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			if mt != nil {
				visit(mt.Schema)
			}
		}
	}
	params := func(ps openapi3.Parameters) {
		for _, p := range ps {
			if p != nil && p.Value != nil {
				visit(p.Value.Schema)
				content(p.Value.Content)
			}
		}
	}
	if doc.Components != nil {
		for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
			visit(doc.Components.Schemas[name])
		}
	}
	for _, path := range doc.Paths.Keys() {
		item := doc.Paths.Value(path)
		params(item.Parameters)
		for _, op := range item.Operations() {
			params(op.Parameters)
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			if op.Responses == nil {
				continue
			}
			for _, r := range op.Responses.Map() {
				if r != nil && r.Value != nil {
					content(r.Value.Content)
				}
			}
		}
	}
}

func atLeastOne(n int, err error) error {
	if err == nil && n == 0 {
		return fmt.Errorf("matched nothing in the document; revisit this override")
	}
	return err
}

// editSchema changes a copy of the schema ref points to, so that other
// places sharing the same component are left alone.
func editSchema(ref *openapi3.SchemaRef, edit func(*openapi3.Schema)) {
	cp := *ref.Value
	edit(&cp)
	ref.Value = &cp
}

func setEnum(property string, values ...string) func(*openapi3.Schema, string, *openapi3.SchemaRef) bool {
	return func(_ *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool {
		if name != property || !prop.Value.Type.Is(openapi3.TypeString) {
			return false
		}
		editSchema(prop, func(s *openapi3.Schema) {
			s.Enum = make([]any, len(values))
			for i, v := range values {
				s.Enum[i] = v
			}
		})
		return true
	}
}

func setPattern(property, pattern string) func(*openapi3.Schema, string, *openapi3.SchemaRef) bool {
	return func(_ *openapi3.Schema, name string, prop *openapi3.SchemaRef) bool {
		if name != property || !prop.Value.Type.Is(openapi3.TypeString) {
			return false
		}
		editSchema(prop, func(s *openapi3.Schema) { s.Pattern = pattern })
		return true
	}
}

func objectRef(props map[string]*openapi3.SchemaRef, required ...string) *openapi3.SchemaRef {
	s := openapi3.NewObjectSchema()
	for k, v := range props {
		s.Properties[k] = v
	}
	s.Required = required
	return &openapi3.SchemaRef{Value: s}
}

func arrayRef(items *openapi3.SchemaRef) *openapi3.SchemaRef {
	s := openapi3.NewArraySchema()
	s.Items = items
	return &openapi3.SchemaRef{Value: s}
}

func intRef() *openapi3.SchemaRef { return &openapi3.SchemaRef{Value: openapi3.NewIntegerSchema()} }

func pathParam(name string) *openapi3.ParameterRef {
	p := openapi3.NewPathParameter(name)
	p.Schema = &openapi3.SchemaRef{Value: openapi3.NewStringSchema()}
	return &openapi3.ParameterRef{Value: p}
}

// newOperation builds an operation whose only declared response is a 200
// application/json body of the given schema.
func newOperation(body *openapi3.SchemaRef, params ...*openapi3.ParameterRef) *openapi3.Operation {
	op := openapi3.NewOperation()
	op.Parameters = params
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(http.StatusOK, &openapi3.ResponseRef{
		Value: openapi3.NewResponse().WithDescription("OK").WithContent(openapi3.NewContentWithJSONSchemaRef(body)),
	}))
	return op
}

func setExt(op *openapi3.Operation, key string, value any) {
	if op.Extensions == nil {
		op.Extensions = map[string]any{}
	}
	op.Extensions[key] = value
}

func copyExt(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func extString(op *openapi3.Operation, key string) string {
	s, _ := op.Extensions[key].(string)
	return strings.TrimSpace(s)
}
