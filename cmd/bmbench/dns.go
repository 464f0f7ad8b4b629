package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/miekg/dns"
)

// serveDNS answers every query with NXDOMAIN, on UDP and TCP, until ctx
// ends: the target's SPF, DKIM and DMARC lookups of the load generator's
// domain find nothing at once, as for a domain without those records,
// instead of waiting for a resolver this machine may not reach.
func serveDNS(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dns", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:5353", "`address` to answer on (UDP and TCP)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNameError)
		w.WriteMsg(m)
	})
	errs := make(chan error, 2)
	servers := []*dns.Server{{Addr: *addr, Net: "udp", Handler: h}, {Addr: *addr, Net: "tcp", Handler: h}}
	for _, s := range servers {
		go func() { errs <- s.ListenAndServe() }()
	}
	slog.Info("answering DNS with NXDOMAIN", "addr", *addr)
	select {
	case err := <-errs:
		return err
	case <-ctx.Done():
		for _, s := range servers {
			s.Shutdown()
		}
		return nil
	}
}
