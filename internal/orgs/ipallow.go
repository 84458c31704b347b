package orgs

import (
	"net/netip"
	"strings"

	"github.com/esimd/esimd/internal/fault"
)

// MaxIPAllowList bounds an organisation's IP allow-list: eSIM Go's portal
// takes a handful of server addresses, and every request is checked
// against each entry.
const MaxIPAllowList = 100

// ParseIPAllowList reads an IP allow-list (eSIM Go v2.5's "IP
// whitelisting", notes §1.2): each entry a CIDR prefix (203.0.113.0/24,
// 2001:db8::/32) or a single address (203.0.113.7, which allows exactly
// it). IPv4-mapped IPv6 addresses count as IPv4, as the network stack
// reports them. A prefix with host bits set is refused rather than
// silently widened, so that a typo cannot open more than was meant.
// Duplicates are dropped; an empty list allows every address. Errors:
// Invalid naming the entry.
func ParseIPAllowList(entries []string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	seen := map[netip.Prefix]bool{}
	for _, raw := range entries {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		p, err := parseAllowEntry(e)
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	if len(out) > MaxIPAllowList {
		return nil, fault.Invalidf("the IP allow-list has %d entries, at most %d are allowed; use wider prefixes", len(out), MaxIPAllowList)
	}
	return out, nil
}

func parseAllowEntry(e string) (netip.Prefix, error) {
	shown := e
	if len(shown) > 60 {
		shown = shown[:60] + "…"
	}
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		if err != nil || p.Addr().Zone() != "" {
			return netip.Prefix{}, fault.Invalidf("IP allow-list entry %q is not a CIDR prefix such as 203.0.113.0/24 or 2001:db8::/32", shown)
		}
		if p.Addr().Is4In6() {
			bits := p.Bits() - 96
			if bits < 0 {
				return netip.Prefix{}, fault.Invalidf("IP allow-list entry %q covers more than the IPv4-mapped range; write the IPv4 prefix itself", shown)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), bits)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fault.Invalidf("IP allow-list entry %q has bits set after the prefix length; did you mean %s?", shown, m)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(e)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fault.Invalidf("IP allow-list entry %q is neither an IP address (203.0.113.7) nor a CIDR prefix (203.0.113.0/24)", shown)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// AllowsIP reports whether a request from addr may use the organisation's
// API keys: always with an empty allow-list, else when an entry contains
// addr.
func (o *Organisation) AllowsIP(addr netip.Addr) bool {
	if len(o.IPAllowList) == 0 {
		return true
	}
	addr = addr.Unmap().WithZone("")
	for _, p := range o.IPAllowList {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
