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
	cost         int        // rate-limit tokens
	minVersion   apiVersion // 0: all versions
	maxVersion   apiVersion // 0: no upper bound
}

// apiRoutes is the whole eSIM Go–compatible surface.
func (s *Server) apiRoutes() []route {
	routes := []route{
		{method: "GET", path: "/catalogue", h: s.listCatalogue, cost: 1},
		{method: "GET", path: "/catalogue/bundle/{name}", h: s.getBundle, cost: 1},
		{method: "GET", path: "/catalogue/prices", h: s.cataloguePrices, cost: 1, minVersion: 25},
		{method: "GET", path: "/organisation", h: s.getOrganisation, cost: 1},
		{method: "GET", path: "/organisation/groups", h: s.listGroups, cost: 1},
		// Seen only in v2.1-era client code; kept for those clients.
		{method: "GET", path: "/organisation/groups/{group}/countries", h: s.listGroupCountries, cost: 1, maxVersion: 22},
		{method: "GET", path: "/networks", h: s.listNetworks, cost: 1},
		{method: "POST", path: "/organisation/balance", h: s.topUp, cost: 1},
		{method: "POST", path: "/orders", h: s.placeOrder, cost: 1},
		{method: "GET", path: "/orders", h: s.listOrders, cost: 1},
		{method: "GET", path: "/orders/{orderReference}", h: s.getOrder, cost: 1},
		{method: "GET", path: "/inventory", h: s.listInventory, cost: 1},
		{method: "POST", path: "/inventory/refund", h: s.refundInventory, cost: 1},
		{method: "POST", path: "/esims/apply", h: s.applyBundles, cost: 1},
		{method: "POST", path: "/esims/{iccid}/bundles", h: s.applyToESIM, cost: 1}, // deprecated
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}", h: s.revokeByName, cost: 1},
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}/assignments/{assignmentId}", h: s.revokeAssignment, cost: 1},
		{method: "DELETE", path: "/esims/{iccid}/bundles/{name}/applications/{assignmentId}", h: s.revokeAssignment, cost: 1}, // deprecated
		// "Get API details": listed in the v2.3 and older v2.4 documentation.
		{method: "GET", path: "/{$}", h: s.apiDetails, cost: 1, maxVersion: 24},
	}
	return append(routes, s.esimRoutes()...)
}

// routes registers every route under every version prefix, plus the
// endpoints outside the compatible API.
func (s *Server) routes(mux *http.ServeMux) {
	for _, v := range versions {
		for _, rt := range s.apiRoutes() {
			if (rt.minVersion != 0 && v.v < rt.minVersion) || (rt.maxVersion != 0 && v.v > rt.maxVersion) {
				continue
			}
			mux.Handle(rt.method+" "+v.prefix+rt.path, s.api(v.v, rt.cost, rt.h))
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
