package adminapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminRefusesDuplicateKeys: a key given twice, at any depth and in
// any letter case (encoding/json matches struct fields either way), is a
// 400 naming the key, and nothing is created.
func TestAdminRefusesDuplicateKeys(t *testing.T) {
	e := newEnv(t, token)
	cases := []struct {
		method, path, body string
		want               string
	}{
		{"POST", "/admin/v1/organisations", `{"name":"a","balance":5,"name":"b"}`, `"name"`},
		{"POST", "/admin/v1/organisations", `{"name":"a","Name":"b"}`, `"Name"`},
		{"PUT", "/admin/v1/organisations/1/callbacks", `{"callbackVersion":"V2","callbackVersion":"V3"}`, `"callbackVersion"`},
		{"POST", "/admin/v1/usage", `{"records":[{"recordId":"r1","iccid":"8999901000000000013","bytes":1,"bytes":2,"country":"GB"}]}`, `"bytes" in records[0]`},
	}
	for _, c := range cases {
		var m message
		e.do(c.method, c.path, c.body, http.StatusBadRequest, &m)
		if !strings.Contains(m.Message, c.want) || !strings.Contains(m.Message, "twice") {
			t.Errorf("%s %s %s: message %q; want it to name %s", c.method, c.path, c.body, m.Message, c.want)
		}
	}
	var list struct{ Organisations []struct{ Name string } }
	e.do("GET", "/admin/v1/organisations", "", http.StatusOK, &list)
	if len(list.Organisations) != 1 {
		t.Errorf("organisations after refused bodies: %+v; want only the first", list.Organisations)
	}
}
