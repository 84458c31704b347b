package notify

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// extraBlocked are ranges that are neither public nor covered by the
// netip predicates.
var extraBlocked = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("64:ff9b::/96"),    // well-known NAT64: 64:ff9b::7f00:1 reaches 127.0.0.1 through a NAT64 gateway
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
}

// blockedReason says why a live organisation's callback may not go to ip,
// or "" when it may.
func blockedReason(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "an invalid address"
	case ip.IsLoopback():
		return "a loopback address"
	case ip.IsPrivate():
		return "a private address"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "a link-local address"
	case ip.IsUnspecified():
		return "the unspecified address"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range extraBlocked {
		if p.Contains(ip) {
			return "a reserved address"
		}
	}
	return ""
}

// BlockedError is a callback refused because its address is not public.
type BlockedError struct {
	Addr   string
	Reason string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("callback refused: %s is %s; live organisations may only call public addresses (the operator can allow private ones with --allow-private-callbacks)", e.Addr, e.Reason)
}

// guardControl runs after name resolution, on the address actually dialled,
// so a host name that resolves (or re-resolves) to a private address is
// refused too.
func guardControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return &BlockedError{Addr: host, Reason: "not an IP address"}
	}
	if r := blockedReason(ip); r != "" {
		return &BlockedError{Addr: ip.Unmap().String(), Reason: r}
	}
	return nil
}

// newClient returns the HTTP client of callbacks: no proxy (the guard must
// see the real destination), no redirects (a redirect is not followed to
// another address), guarded against non-public addresses when guard is set.
func newClient(guard bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if guard {
		d.Control = guardControl
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// checkURL validates a callback URL when it is set: absolute http(s), and
// for a live organisation not a literal non-public address or localhost
// (host names are checked again on every delivery, after resolution).
func checkURL(raw string, live bool) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("callback URL must be an absolute http or https URL, got %q", raw)
	}
	if u.User != nil {
		return errors.New("callback URL must not carry a user name or password")
	}
	if !live {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return &BlockedError{Addr: host, Reason: "a loopback address"}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if r := blockedReason(ip); r != "" {
			return &BlockedError{Addr: ip.String(), Reason: r}
		}
	}
	return nil
}
