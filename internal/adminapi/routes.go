package adminapi

import (
	"net/http"

	"github.com/esimd/esimd/internal/fault"
)

// routes registers the whole admin API.
func (s *Server) routes(mux *http.ServeMux) {
	for _, rt := range []struct {
		pattern string
		h       handlerFunc
	}{
		// Organisations (throwaway sandbox ones for test suites) and usage
		// from the network.
		{"POST /admin/v1/organisations", s.createOrganisation},
		{"GET /admin/v1/organisations", s.listOrganisations},
		{"GET /admin/v1/organisations/{org}", s.getOrganisation},
		{"POST /admin/v1/organisations/{org}/credit", s.creditOrganisation},
		{"PATCH /admin/v1/organisations/{org}", s.updateOrganisation},
		{"POST /admin/v1/usage", s.ingestUsage},
		// Callback settings: eSIM Go's URL and version, and esimd's additions.
		{"GET /admin/v1/organisations/{org}/callbacks", s.getCallbacks},
		{"PUT /admin/v1/organisations/{org}/callbacks", s.putCallbacks},
		{"POST /admin/v1/organisations/{org}/callbacks/signing-key", s.sealSigningKey},
		{"POST /admin/v1/organisations/{org}/callbacks/test", s.testCallback},
		// The delivery log and the events with their delivery state.
		{"GET /admin/v1/organisations/{org}/callbacks/deliveries", s.listDeliveries},
		{"GET /admin/v1/organisations/{org}/callbacks/events", s.listEvents},
		{"GET /admin/v1/organisations/{org}/callbacks/events/{event}", s.getEvent},
		// Replays: one event, or a time range.
		{"POST /admin/v1/organisations/{org}/callbacks/events/{event}/replay", s.replayEvent},
		{"POST /admin/v1/organisations/{org}/callbacks/replay", s.replayRange},
	} {
		mux.Handle(rt.pattern, s.admin(rt.h))
	}
	mux.Handle(Prefix, s.admin(func(w http.ResponseWriter, r *http.Request) error {
		return fault.NotFoundf("%s %s is not an endpoint of the admin API; see the README's admin API section for its routes", r.Method, r.URL.Path)
	}))
}
