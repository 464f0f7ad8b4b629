package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestOutbound runs outbound delivery through the binary: a message
// submitted by alice to a remote domain (routed with --transport to an
// SMTP server inside the test) arrives DKIM-signed with the key made by
// "bucketmail dkim keygen", verified against the TXT record served by a
// DNS server inside the test (--dns-resolver); its local recipient gets it
// too; a recipient the remote refuses with 550 comes back to alice as a
// delivery status notification.
func TestOutbound(t *testing.T) {
	dnsSrv := authchecktest.Start(t)
	rm := startOutboundRemote(t)
	w := setupWorld(t, "--transport", "remote.example=127.0.0.1:"+rm.port, "--dns-resolver", dnsSrv.Addr)

	out := mustAdmin(t, w.dataDir, "", "dkim", "keygen", "example.org")
	m := regexp.MustCompile(`(?m)^(\S+)\. IN TXT (.+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dkim keygen printed no record:\n%s", out)
	}
	// The zone form is quoted strings; the DNS answer is their concatenation.
	dnsSrv.TXT(m[1], unquoteAll(m[2]))

	c := dialSMTP(t, w.srv.addr("submission"))
	if err := c.Auth(sasl.NewPlainClient("", alice, alicePass)); err != nil {
		t.Fatal(err)
	}
	to := []string{"carol@remote.example", "nobody@remote.example", bob}
	if err := send(c, alice, to, message(alice, "carol@remote.example", "outbound one", "hello remote")); err != nil {
		t.Fatal(err)
	}

	eventually(t, deliveryTimeout, "the remote delivery", func() (bool, string) {
		n := len(rm.messages())
		return n == 1, fmt.Sprint(n, " messages")
	})
	got := rm.messages()[0]
	if got.from != alice || !slices.Equal(got.to, []string{"carol@remote.example"}) || !got.tls {
		t.Errorf("remote got %q -> %q (TLS %v)", got.from, got.to, got.tls)
	}
	res := dnsSrv.Resolver()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got.data), &dkim.VerifyOptions{
		LookupTXT: func(d string) ([]string, error) { return res.LookupTXT(context.Background(), d) },
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "example.org" {
		t.Errorf("DKIM: %v %+v", err, vs)
	}
	w.waitSubjects(t, bob, w.bobPass, "INBOX", "outbound one")
	w.waitSubjects(t, alice, alicePass, "INBOX", "Undelivered Mail Returned to Sender")
}

// unquoteAll joins the quoted strings of a zone-file TXT value.
func unquoteAll(v string) string {
	var b strings.Builder
	for _, s := range regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(v, -1) {
		b.WriteString(s[1])
	}
	if b.Len() == 0 {
		return strings.Trim(v, `"`)
	}
	return b.String()
}

type outboundMsg struct {
	from string
	to   []string
	data []byte
	tls  bool
}

// outboundRemote is the receiving SMTP server of another domain: it takes
// everything but nobody@.
type outboundRemote struct {
	mu   sync.Mutex
	msgs []outboundMsg
	port string
}

func startOutboundRemote(t *testing.T) *outboundRemote {
	t.Helper()
	rm := &outboundRemote{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &outboundSession{rm: rm, conn: c}, nil
	}))
	srv.Domain = "mx.remote.example"
	srv.TLSConfig = testenv.NewCert(t, "mx.remote.example").Server
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, rm.port, _ = net.SplitHostPort(ln.Addr().String())
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rm
}

func (rm *outboundRemote) messages() []outboundMsg {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return slices.Clone(rm.msgs)
}

type outboundSession struct {
	rm   *outboundRemote
	conn *smtp.Conn
	cur  outboundMsg
}

func (s *outboundSession) Mail(from string, _ *smtp.MailOptions) error {
	_, isTLS := s.conn.TLSConnectionState()
	s.cur = outboundMsg{from: from, tls: isTLS}
	return nil
}

func (s *outboundSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nobody@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *outboundSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.rm.mu.Lock()
	s.rm.msgs = append(s.rm.msgs, s.cur)
	s.rm.mu.Unlock()
	return nil
}

func (s *outboundSession) Reset()        {}
func (s *outboundSession) Logout() error { return nil }
