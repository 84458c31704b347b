package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestLineNumbersCountFromOne: a message about an order line or an apply
// entry names it counting from 1, whether the HTTP layer or the order
// service finds the fault, so that "line 2" is the second line.
func TestLineNumbersCountFromOne(t *testing.T) {
	e := newEnv(t, envOptions{})
	good := `{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}`
	cases := []struct {
		path, body, want string
	}{
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"item":"esim_1GB_7D_GB_V2","quantity":1}]}`, "order line 2: type is required"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","quantity":1}]}`, "order line 2: item is required"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","item":"esim_1GB_7D_GB_V2"}]}`, "order line 2: quantity is required"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":"x"}]}`, "order line 2: quantity must be a whole number"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":0}]}`, "order line 2: quantity must be 1 to 1000"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","item":"nope","quantity":1}]}`, "order line 2: bundle \"nope\" is not in the catalogue"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1,"iccids":["123"]}]}`, "order line 2:"},
		{"/v2.5/orders", `{"type":"validate","order":[` + good + `,null]}`, "order: entry 2 must be an object"},
		{"/v2.5/esims/apply", `{"bundles":[{"name":"esim_1GB_7D_GB_V2"},{"repeat":1}]}`, "bundle 2: name is required"},
		{"/v2.5/esims/apply", `{"bundles":[{"name":"esim_1GB_7D_GB_V2"},{"name":"esim_1GB_7D_GB_V2","repeat":"x"}]}`, "bundle 2:"},
	}
	for _, c := range cases {
		res := e.post(c.path, c.body)
		if res.status != http.StatusBadRequest {
			t.Errorf("%s %s: %d %s; want 400", c.path, c.body, res.status, res.body)
			continue
		}
		if m := res.message(t); !strings.Contains(m, c.want) {
			t.Errorf("%s %s: message %q; want it to contain %q", c.path, c.body, m, c.want)
		}
	}
}
