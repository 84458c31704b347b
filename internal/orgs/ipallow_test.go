package orgs_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

func TestParseIPAllowList(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    []string
		mention string
	}{
		{nil, []string{}, ""},
		{[]string{"", "  "}, []string{}, ""},
		{[]string{"203.0.113.7"}, []string{"203.0.113.7/32"}, ""},
		{[]string{" 203.0.113.0/24 ", "2001:db8::/32", "2001:db8::1"}, []string{"203.0.113.0/24", "2001:db8::/32", "2001:db8::1/128"}, ""},
		{[]string{"::ffff:198.51.100.9"}, []string{"198.51.100.9/32"}, ""},
		{[]string{"::ffff:198.51.100.0/120"}, []string{"198.51.100.0/24"}, ""},
		{[]string{"10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"}, []string{"10.0.0.0/8"}, ""},
		{[]string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}, ""},
		{[]string{"203.0.113.7/24"}, nil, "did you mean 203.0.113.0/24?"},
		{[]string{"203.0.113.0/33"}, nil, "not a CIDR prefix"},
		{[]string{"example.com"}, nil, `"example.com" is neither an IP address`},
		{[]string{"203.0.113"}, nil, "neither an IP address"},
		{[]string{"fe80::1%eth0"}, nil, "neither an IP address"},
		{[]string{"fe80::%eth0/64"}, nil, "not a CIDR prefix"},
		{[]string{"::ffff:0:0/90"}, nil, "IPv4-mapped"},
	} {
		got, err := orgs.ParseIPAllowList(tc.in)
		if tc.mention != "" {
			if !fault.Is(err, fault.Invalid) || !strings.Contains(fault.MessageOf(err), tc.mention) {
				t.Errorf("%q: %v, want Invalid mentioning %q", tc.in, err, tc.mention)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		strs := []string{}
		for _, p := range got {
			strs = append(strs, p.String())
		}
		if diff := cmp.Diff(tc.want, strs); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
	many := make([]string, orgs.MaxIPAllowList+1)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}).String()
	}
	if _, err := orgs.ParseIPAllowList(many); !strings.Contains(fault.MessageOf(err), "at most 100") {
		t.Errorf("101 entries: %v", err)
	}
}

func TestAllowsIP(t *testing.T) {
	list, err := orgs.ParseIPAllowList([]string{"203.0.113.0/24", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	o := orgs.Organisation{IPAllowList: list}
	for addr, want := range map[string]bool{
		"203.0.113.1": true, "203.0.113.255": true, "203.0.114.1": false, "::ffff:203.0.113.9": true,
		"2001:db8::1": true, "2001:db8::2": false, "fe80::1%eth0": false, "127.0.0.1": false,
	} {
		if got := o.AllowsIP(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowsIP(%s) = %v, want %v", addr, got, want)
		}
	}
	if open := (orgs.Organisation{}); !open.AllowsIP(netip.MustParseAddr("198.51.100.1")) {
		t.Error("an empty allow-list refuses an address")
	}
}

// FuzzParseIPAllowList: any entry either parses to canonical prefixes that
// parse back to themselves and contain the address they name, or is an
// Invalid error with a message.
func FuzzParseIPAllowList(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "10.0.0.0/8", "2001:db8::/32", "::ffff:1.2.3.4", "1.2.3.4/24", "fe80::1%x", "/", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		got, err := orgs.ParseIPAllowList([]string{entry})
		if err != nil {
			if !fault.Is(err, fault.Invalid) || fault.MessageOf(err) == "" {
				t.Fatalf("%q: error %v is not Invalid with a message", entry, err)
			}
			return
		}
		for _, p := range got {
			back, err := netip.ParsePrefix(p.String())
			if err != nil || back != p || p.Masked() != p || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("%q: prefix %v is not canonical", entry, p)
			}
			if !(&orgs.Organisation{IPAllowList: got}).AllowsIP(p.Addr()) {
				t.Fatalf("%q: the list %v does not allow its own address %v", entry, got, p.Addr())
			}
		}
	})
}
