package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
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
	case !validPort(u.Port()):
		return errors.New("url's port must be a number from 1 to 65535")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if numericHost(host) {
		// Browsers, curl and other receivers' tools read 127.1, 2130706433 or 0x7f000001 as IPv4
		// addresses (the WHATWG URL standard); Go does not: only the dotted-quad form is taken,
		// so that what the guard checks is the address everyone else would reach.
		if _, err := netip.ParseAddr(host); err != nil {
			return errors.New("url's host must be a name or an IP address in its usual form (four decimal numbers for IPv4)")
		}
	}
	if g.AllowPrivate {
		return nil
	}
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
// validPort tells whether a URL's port (empty: the scheme's) can be dialled.
func validPort(port string) bool {
	if port == "" {
		return true
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// numericHost tells whether a URL's host is an IPv4 address in some form: by the WHATWG URL
// standard, a host whose last label is a number (decimal, or hexadecimal after 0x) is one.
func numericHost(host string) bool {
	last := host[strings.LastIndexByte(host, '.')+1:]
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		return strings.Trim(hex, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

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
