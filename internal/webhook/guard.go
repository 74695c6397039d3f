package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// MaxURLLength is the longest webhook URL accepted.
const MaxURLLength = 2048

// ErrRefused is the error of a connection to an address the Guard refuses.
var ErrRefused = errors.New("the address is on a loopback, private or link-local network")

// Guard keeps webhooks from reaching the server's own networks (server-side request forgery):
// unless AllowPrivate, a target on a loopback, private (RFC 1918, unique local), link-local (cloud
// metadata services among them), shared (RFC 6598), unspecified or multicast address is refused.
// It is enforced when connecting, on the address actually dialled, so a name that resolves to a
// public address when registered and to a private one later (DNS rebinding) is refused too;
// CheckURL refuses early what can be told from the URL alone.
type Guard struct {
	AllowPrivate bool
}

// shared is RFC 6598's carrier-grade NAT range, private in practice.
var shared = netip.MustParsePrefix("100.64.0.0/10")

// Allows tells whether the guard lets a connection to addr through.
func (g Guard) Allows(addr netip.Addr) bool {
	if g.AllowPrivate {
		return true
	}
	addr = addr.Unmap()
	return addr.IsValid() && !addr.IsLoopback() && !addr.IsPrivate() && !addr.IsLinkLocalUnicast() &&
		!addr.IsLinkLocalMulticast() && !addr.IsInterfaceLocalMulticast() && !addr.IsMulticast() &&
		!addr.IsUnspecified() && !shared.Contains(addr) && !(addr.Is4() && addr.As4()[0] == 0)
}

// CheckURL refuses a webhook URL that is not an absolute http or https URL with a host, has a user
// or password, is longer than MaxURLLength, or names a refused address or localhost.
func (g Guard) CheckURL(raw string) error {
	if len(raw) > MaxURLLength {
		return fmt.Errorf("url is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("url is not a valid URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("url must start with http:// or https://")
	case u.Host == "" || u.Hostname() == "":
		return errors.New("url must name a host")
	case u.User != nil:
		return errors.New("url must not hold a user or password")
	}
	if g.AllowPrivate {
		return nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("url: %w", ErrRefused)
	}
	if addr, err := netip.ParseAddr(host); err == nil && !g.Allows(addr) {
		return fmt.Errorf("url: %w", ErrRefused)
	}
	return nil
}

// dialer connects only to the addresses the guard allows: Control sees each address after name
// resolution, just before the connection is made.
func (g Guard) dialer(d *net.Dialer) func(ctx context.Context, network, address string) (net.Conn, error) {
	d.Control = func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !g.Allows(ap.Addr()) {
			return ErrRefused
		}
		return nil
	}
	return d.DialContext
}
