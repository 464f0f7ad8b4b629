package outbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// tlsMode says how a session uses TLS.
type tlsMode int

const (
	tlsOpportunistic tlsMode = iota // STARTTLS when offered (RFC 3207, RFC 7435)
	tlsNone                         // plaintext: the retry after a failed handshake
	tlsRequired                     // STARTTLS or fail: a relay we send a password to
	tlsImplicit                     // TLS from the first byte (port 465, RFC 8314)
)

// smtpDialer runs SMTP client sessions; every transport shares one.
type smtpDialer struct {
	hostname string
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	limit    *limiter
}

// target is one host to try.
type target struct {
	addr       string // host:port to dial (an IP address for MX hosts)
	serverName string // the host name: TLS SNI, limiter key, DSN Remote-MTA
	tls        tlsMode
	tlsConfig  *tls.Config
	user, pass string // AUTH PLAIN when user != ""
}

// deliver runs one session to t. next reports that the failure was the
// host's, not the recipients', so the next MX host should be tried.
func (d *smtpDialer) deliver(ctx context.Context, t target, env Envelope, body Body) (res []Result, next bool) {
	release, err := d.limit.acquire(ctx, t.serverName)
	if err != nil {
		return allResults(env.To, Temporary, 0, codeNoAnswer, t.serverName, "%v", err), false
	}
	defer release()
	out := d.session(ctx, t, env, body)
	if out.plainRetry {
		// The TLS handshake failed: opportunistic TLS falls back to a
		// plaintext session rather than not delivering (RFC 7435 section 3).
		t.tls = tlsNone
		out = d.session(ctx, t, env, body)
	}
	return out.res, out.next
}

// sessionResult is what one session did.
type sessionResult struct {
	res        []Result // the recipients' results
	next       bool     // the host failed, not the recipients: try the next host
	plainRetry bool     // the TLS handshake failed: a plaintext session may follow
}

// failAll gives every recipient of to the result of the session error err.
func failAll(to []string, server string, err error) sessionResult {
	r := classify("", server, err)
	out := make([]Result, len(to))
	for i, rcpt := range to {
		out[i] = r
		out[i].Rcpt = rcpt
	}
	return sessionResult{res: out, next: r.Status == Temporary}
}

// session connects to t, secures the connection, says EHLO (and AUTH),
// sorts out SMTPUTF8 and runs the mail transaction.
func (d *smtpDialer) session(ctx context.Context, t target, env Envelope, body Body) sessionResult {
	conn, err := d.dial(ctx, "tcp", t.addr)
	if err != nil {
		return sessionResult{res: allResults(env.To, Temporary, 0, codeNoAnswer, t.serverName,
			"connecting to %s: %v", t.serverName, err), next: true}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	conn, greeting, failed := d.secure(ctx, conn, t, env.To)
	if failed != nil {
		return *failed
	}
	c := smtp.NewClient(newGreetedConn(conn, greeting))
	defer c.Close()
	if err := c.Hello(d.hostname); err != nil {
		return failAll(env.To, t.serverName, err)
	}
	if t.user != "" {
		if err := c.Auth(sasl.NewPlainClient("", t.user, t.pass)); err != nil {
			return failAll(env.To, t.serverName, fmt.Errorf("authenticating to %s: %w", t.serverName, err))
		}
	}
	opts := &smtp.MailOptions{Size: body.Size()}
	to, refused := smtpUTF8(c, t, env, opts)
	if len(to) == 0 && len(refused) > 0 {
		_ = c.Quit()
		return sessionResult{res: refused}
	}
	return transaction(ctx, c, t, env.From, to, opts, body, refused)
}

// secure sets up TLS on conn as t asks: implicit TLS, or STARTTLS
// (startTLS). It returns the connection to go on with and the greeting
// already read, or the session's result when it cannot go on.
func (d *smtpDialer) secure(ctx context.Context, conn net.Conn, t target, to []string) (net.Conn, string, *sessionResult) {
	cfg := t.tlsConfig.Clone()
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		cfg.ServerName = t.serverName
	}
	if t.tls == tlsImplicit {
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			out := failAll(to, t.serverName, fmt.Errorf("TLS handshake with %s: %w", t.serverName, err))
			return nil, "", &out
		}
		return tc, "", nil
	}
	conn, greeting, upgraded, err := d.startTLS(ctx, conn, t, cfg)
	if err != nil {
		if upgraded && t.tls == tlsOpportunistic {
			return nil, "", &sessionResult{plainRetry: true}
		}
		out := failAll(to, t.serverName, err)
		return nil, "", &out
	}
	return conn, greeting, nil
}

// smtpUTF8 sets opts.UTF8 when env needs SMTPUTF8 and the server offers
// it. Without it, RFC 6531 section 3.2: a non-ASCII address cannot be used
// at all, so such recipients (all of them for a non-ASCII sender) are
// refused; a header with UTF-8 is sent as is. It returns the recipients
// to send to and the refused ones' results.
func smtpUTF8(c *smtp.Client, t target, env Envelope, opts *smtp.MailOptions) (to []string, refused []Result) {
	if !env.UTF8 {
		return env.To, nil
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		opts.UTF8 = true
		return env.To, nil
	}
	if !env.AddressUTF8 {
		return env.To, nil
	}
	noUTF8 := func(rcpt string) Result {
		return Result{Rcpt: rcpt, Status: Permanent, Code: 553, Enhanced: codeNoUTF8, MTA: t.serverName,
			Text: fmt.Sprintf("%s does not support SMTPUTF8 (RFC 6531), needed for a non-ASCII address", t.serverName)}
	}
	for _, r := range env.To {
		if isASCII(env.From) && isASCII(r) {
			to = append(to, r)
		} else {
			refused = append(refused, noUTF8(r))
		}
	}
	return to, refused
}

// transaction sends MAIL, RCPT and DATA for to. refused are results
// decided before (SMTPUTF8) and are kept whatever happens.
func transaction(ctx context.Context, c *smtp.Client, t target, from string, to []string, opts *smtp.MailOptions, body Body, refused []Result) sessionResult {
	res := append(make([]Result, 0, len(refused)+len(to)), refused...)
	fail := func(err error) sessionResult {
		out := failAll(to, t.serverName, err)
		// Keep the verdicts so far; the session error is for every
		// recipient of to.
		return sessionResult{res: append(slices.Clone(res), out.res...), next: out.next && len(res) == 0}
	}
	// go-smtp adds BODY=8BITMIME itself when the server offers it. A
	// server without it gets 8-bit content as is, as Postfix does with
	// its MIME conversion off; most accept it.
	if err := c.Mail(from, opts); err != nil {
		return fail(err)
	}
	var accepted []string
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt, nil); err != nil {
			r := classify(rcpt, t.serverName, err)
			if r.Code == 421 { // the server is closing: session-level
				return fail(err)
			}
			res = append(res, r)
			continue
		}
		accepted = append(accepted, rcpt)
	}
	if len(accepted) == 0 {
		_ = c.Quit()
		return sessionResult{res: res}
	}
	done := func(err error) sessionResult {
		for _, rcpt := range accepted {
			res = append(res, classify(rcpt, t.serverName, err))
		}
		return sessionResult{res: res}
	}
	w, err := c.Data()
	if err != nil {
		return done(err)
	}
	if _, err := copyBody(ctx, w, body); err != nil {
		return done(err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return done(err)
	}
	for _, rcpt := range accepted {
		res = append(res, Result{Rcpt: rcpt, Status: Sent, Code: 250, Text: "250 " + oneLine(resp.StatusText), MTA: t.serverName})
	}
	_ = c.Quit()
	return sessionResult{res: res}
}

// startTLS reads the greeting, says EHLO and, when the server offers it,
// runs STARTTLS (RFC 3207) on conn, before go-smtp's client takes over:
// that client cannot upgrade a session it did not open with TLS in mind
// and would say EHLO as "localhost". It returns the connection to go on
// with and the greeting to replay to the client. upgraded reports that a
// TLS handshake was tried, so that a failure may fall back to plaintext.
func (d *smtpDialer) startTLS(ctx context.Context, conn net.Conn, t target, cfg *tls.Config) (_ net.Conn, greeting string, upgraded bool, _ error) {
	tp := textproto.NewConn(conn)
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
		defer conn.SetDeadline(time.Time{})
	}
	code, msg, err := tp.ReadResponse(220)
	if err != nil {
		return nil, "", false, replyError(code, msg, err)
	}
	greeting = fmt.Sprintf("%d %s", code, strings.ReplaceAll(msg, "\n", " "))
	if t.tls == tlsNone {
		return conn, greeting, false, nil
	}
	id, err := tp.Cmd("EHLO %s", d.hostname)
	if err != nil {
		return nil, "", false, err
	}
	tp.StartResponse(id)
	code, msg, err = tp.ReadResponse(250)
	tp.EndResponse(id)
	offered := err == nil && hasExtension(msg, "STARTTLS")
	if !offered {
		if t.tls == tlsRequired {
			return nil, "", false, fmt.Errorf("%s does not offer STARTTLS, which is required to authenticate", t.serverName)
		}
		if err != nil && code == 0 {
			return nil, "", false, err
		}
		return conn, greeting, false, nil
	}
	id, err = tp.Cmd("STARTTLS")
	if err != nil {
		return nil, "", false, err
	}
	tp.StartResponse(id)
	code, msg, err = tp.ReadResponse(220)
	tp.EndResponse(id)
	if err != nil {
		if t.tls == tlsRequired {
			return nil, "", false, replyError(code, msg, err)
		}
		return conn, greeting, false, nil // refused: carry on in plaintext
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, "", true, fmt.Errorf("TLS handshake with %s: %w", t.serverName, err)
	}
	return tc, greeting, true, nil
}

// replyError turns a textproto reply error into go-smtp's error type, so
// classify sees the code.
func replyError(code int, msg string, err error) error {
	if _, ok := err.(*textproto.Error); ok && code != 0 {
		return &smtp.SMTPError{Code: code, Message: msg}
	}
	return err
}

// hasExtension looks for ext among the lines of an EHLO reply.
func hasExtension(reply, ext string) bool {
	for i, line := range strings.Split(reply, "\n") {
		if i == 0 {
			continue // the greeting line
		}
		f := strings.Fields(line)
		if len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

// greetedConn replays the greeting already read, for go-smtp's client,
// which reads one. Its EHLO then restarts the session, which RFC 5321
// section 4.1.4 allows (and after STARTTLS requires, RFC 3207 section 4.2).
type greetedConn struct {
	net.Conn
	pending string // what is left of the greeting line to replay
}

func newGreetedConn(conn net.Conn, greeting string) *greetedConn {
	if greeting == "" {
		return &greetedConn{Conn: conn}
	}
	return &greetedConn{Conn: conn, pending: greeting + "\r\n"}
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if c.pending != "" {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
