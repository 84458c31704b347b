package httpapi_test

import (
	"testing"

	"github.com/esimd/esimd/internal/contract"
)

// TestVendorDocuments is the one test that says, by skipping, that a run
// without the vendor's OpenAPI documents compared no response with them
// (every other test runs and checks behaviour alone); under CI=true it
// fails instead.
func TestVendorDocuments(t *testing.T) {
	contract.ForTest(t)
}
