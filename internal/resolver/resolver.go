// Package resolver makes the DNS resolver every lookup of bucketmail goes
// through (MX for outbound delivery; TXT for SPF, DKIM and DMARC; A/AAAA),
// so that --dns-resolver can point all of them at one server.
package resolver

import (
	"context"
	"net"
	"time"
)

// New returns the system resolver when server is empty, else a resolver
// that sends every query to server (HOST:PORT) over UDP, or TCP when the
// answer is truncated, as the Go resolver does.
func New(server string) *net.Resolver {
	if server == "" {
		return net.DefaultResolver
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, server)
		},
	}
}
