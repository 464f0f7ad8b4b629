// Package authchecktest runs a DNS server on loopback for tests of SPF,
// DKIM and DMARC: it serves the TXT records it is given and answers
// NXDOMAIN for every other name.
package authchecktest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/bucketmail/bucketmail/internal/resolver"
)

// DNS is a running test DNS server.
type DNS struct {
	Addr string // HOST:PORT of the UDP listener

	mu  sync.Mutex
	txt map[string][]string // by lower-case FQDN
}

// Start starts a DNS server on 127.0.0.1 that stops when the test ends.
func Start(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Addr: pc.LocalAddr().String(), txt: map[string][]string{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	<-started
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

// Resolver returns a resolver that asks only this server.
func (d *DNS) Resolver() *net.Resolver { return resolver.New(d.Addr) }

// TXT sets the TXT records of name, replacing any; no values removes them.
func (d *DNS) TXT(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	name = dns.Fqdn(strings.ToLower(name))
	if len(values) == 0 {
		delete(d.txt, name)
		return
	}
	d.txt[name] = values
}

func (d *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if len(req.Question) == 1 {
		q := req.Question[0]
		d.mu.Lock()
		values, ok := d.txt[strings.ToLower(q.Name)]
		d.mu.Unlock()
		switch {
		case !ok:
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeTXT:
			for _, v := range values {
				m.Answer = append(m.Answer, &dns.TXT{
					Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60},
					Txt: split(v),
				})
			}
		}
	}
	_ = w.WriteMsg(m)
}

// split cuts a TXT value into the 255-byte strings of one record
// (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2).
func split(v string) []string {
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}

// Closed returns a DNS whose address has no listener, for DNS failures.
func Closed(t testing.TB) *DNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return &DNS{Addr: addr, txt: map[string][]string{}}
}
