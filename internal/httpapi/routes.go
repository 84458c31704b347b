package httpapi

import (
	"net/http"

	"github.com/esimd/esimd/internal/apidoc"
)

// route is one endpoint of the compatible API, served under every version
// prefix from minVersion on.
type route struct {
	method, path string
	h            handlerFunc
	minVersion   apiVersion // 0: all versions
	maxVersion   apiVersion // 0: no upper bound
}

// endpoint names the route in the rate-cost table: "GET /catalogue".
func (rt route) endpoint() string { return rt.method + " " + rt.path }

// apiRoutes is the whole eSIM Go–compatible surface.
func (s *Server) apiRoutes() []route {
	routes := []route{
		{method: "GET", path: "/catalogue", h: s.listCatalogue},
		{method: "GET", path: "/catalogue/bundle/{name}", h: s.getBundle},
		{method: "GET", path: "/catalogue/prices", h: s.cataloguePrices, minVersion: 25},
		{method: "GET", path: "/organisation", h: s.getOrganisation},
		{method: "GET", path: "/organisation/groups", h: s.listGroups},
		// Seen only in v2.1-era client code; kept for those clients.
		{method: "GET", path: "/organisation/groups/{group}/countries", h: s.listGroupCountries, maxVersion: 22},
		{method: "GET", path: "/networks", h: s.listNetworks},
		{method: "POST", path: "/organisation/balance", h: s.topUp},
		{method: "POST", path: "/orders", h: s.placeOrder},
		{method: "GET", path: "/orders", h: s.listOrders},
		{method: "GET", path: "/orders/{orderReference}", h: s.getOrder},
		{method: "GET", path: "/inventory", h: s.listInventory},
		{method: "POST", path: "/inventory/refund", h: s.refundInventory},
		{method: "POST", path: "/esims/apply", h: s.applyBundles},
		{method: "POST", path: "/esims/{iccid}/bundles", h: s.applyToESIM}, // deprecated
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}", h: s.revokeByName},
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}/assignments/{assignmentId}", h: s.revokeAssignment},
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}/applications/{assignmentId}", h: s.revokeAssignment}, // deprecated
		// "Get API details": listed in the v2.3 and older v2.4 documentation.
		{method: "GET", path: "/{$}", h: s.apiDetails, maxVersion: 24},
		// eSIMs (esims.go, install.go).
		{method: "GET", path: "/esims", h: s.listESIMs},
		{method: "PUT", path: "/esims", h: s.updateESIM},
		{method: "GET", path: "/esims/assignments", h: s.installDetails},
		// /esims/assignments/{reference}, /esims/qr/{reference} (deprecated),
		// /esims/csv/{reference} (deprecated): see esimsByReference.
		{method: "GET", path: "/esims/{collection}/{reference}", h: s.esimsByReference},
		{method: "GET", path: "/esims/{iccid}", h: s.getESIM},
		{method: "DELETE", path: "/esims/{iccid}", h: s.deleteESIM, minVersion: 25},
		{method: "GET", path: "/esims/{iccid}/history", h: s.esimHistory},
		{method: "GET", path: "/esims/{iccid}/refresh", h: s.refreshESIM},
		{method: "GET", path: "/esims/{iccid}/compatible/{bundle}", h: s.esimCompatible},
		{method: "POST", path: "/esims/{iccid}/sms", h: s.sendSMS},
		{method: "GET", path: "/esims/{iccid}/location", h: s.esimLocation},
		{method: "POST", path: "/esims/{iccid}/suspend", h: s.suspendESIM, minVersion: 25},
		{method: "GET", path: "/esims/{iccid}/suspend", h: s.esimSuspended, minVersion: 25},
		{method: "GET", path: "/esims/{iccid}/bundles", h: s.esimBundles},
		{method: "GET", path: "/esims/{iccid}/bundles/{name}", h: s.esimBundle},
		// Seen only in v2.2-era client code (notes §2.1 row 35); kept for
		// those clients.
		{method: "GET", path: "/esims/{iccid}/qr", h: s.esimQR, maxVersion: 22},
	}
	return routes
}

// routes registers every route under every version prefix, plus the
// endpoints outside the compatible API.
func (s *Server) routes(mux *http.ServeMux) {
	for _, v := range versions {
		for _, rt := range s.apiRoutes() {
			if (rt.minVersion != 0 && v.v < rt.minVersion) || (rt.maxVersion != 0 && v.v > rt.maxVersion) {
				continue
			}
			mux.Handle(rt.method+" "+v.prefix+rt.path, s.api(v.v, s.rateCost(rt.endpoint()), rt.h))
		}
	}
	// esimd's extensions, outside the compatible surface.
	mux.Handle("GET /esimd/v1/ledger", s.api(extension, 1, s.ledger))
	s.sandboxRoutes(mux)
	mux.HandleFunc("GET /healthz", s.healthz)
	doc := apidoc.Handler()
	mux.Handle("GET /openapi.yaml", doc)
	mux.Handle("GET /docs", doc)
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("/", s.unknownRoute)
}

// sandboxRoutes are the sandbox controls (sandbox.go), every one behind
// the sandbox check.
func (s *Server) sandboxRoutes(mux *http.ServeMux) {
	for _, rt := range []struct {
		pattern string
		h       handlerFunc
	}{
		{"GET /sandbox/v1/clock", s.sandboxClock},
		{"POST /sandbox/v1/clock/advance", s.sandboxAdvance},
		{"POST /sandbox/v1/esims/{iccid}/install", s.sandboxInstall},
		{"POST /sandbox/v1/esims/{iccid}/uninstall", s.sandboxUninstall},
		{"POST /sandbox/v1/esims/{iccid}/attach", s.sandboxAttach},
		{"POST /sandbox/v1/esims/{iccid}/usage", s.sandboxUsage},
		{"GET /sandbox/v1/esims/{iccid}/sms", s.sandboxSMS},
		{"GET /sandbox/v1/callbacks", s.sandboxCallbacks},
		{"GET /sandbox/v1/faults", s.sandboxFaults},
		{"POST /sandbox/v1/faults", s.sandboxAddFault},
		{"DELETE /sandbox/v1/faults", s.sandboxClearFaults},
		{"POST /sandbox/v1/reset", s.sandboxReset},
		{"GET /sandbox/v1/settings", s.sandboxSettings},
		{"PUT /sandbox/v1/settings", s.sandboxSetSettings},
		{"GET /sandbox/v1/autopilot", s.sandboxAutopilot},
		{"PUT /sandbox/v1/autopilot", s.sandboxSetAutopilot},
	} {
		mux.Handle(rt.pattern, s.api(extension, 1, s.sandboxOnly(rt.h)))
	}
}
