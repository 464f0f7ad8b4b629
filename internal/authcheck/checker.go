// Package authcheck evaluates the authentication of a message received on
// port 25: SPF (RFC 7208) for the client IP, HELO and MAIL FROM, DKIM
// signatures (RFC 6376, RFC 8463) and DMARC (RFC 7489) for the domain of
// the From: header field, and writes the outcome as an
// Authentication-Results header field (RFC 8601).
//
// Every DNS query goes through the Checker's Resolver. A DNS failure is a
// temperror result, not an error: the message is still delivered, and
// DMARC only rejects or quarantines on a definite fail.
package authcheck

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/resolver"
)

// Disposition is what the DMARC policy asks a receiver to do with a
// message (RFC 7489 section 6.3, p= and sp=).
type Disposition string

// Dispositions.
const (
	DispositionNone       Disposition = "none"
	DispositionQuarantine Disposition = "quarantine"
	DispositionReject     Disposition = "reject"
)

// Checker evaluates messages. Resolver is required (a *net.Resolver, or
// one behind resolver.NewCache); Hostname is the
// authserv-id of the Authentication-Results field; Now defaults to
// time.Now.
type Checker struct {
	Resolver resolver.Lookuper
	Hostname string
	Now      func() time.Time
}

// DKIMResult is the verification of one DKIM-Signature field.
type DKIMResult struct {
	Value      authres.ResultValue // pass, fail, temperror, permerror
	Domain     string              // d=
	Identifier string              // i=
	Reason     string              // why it did not pass; "" on pass
}

// Result is the outcome of Check.
type Result struct {
	SPF       authres.ResultValue // none, neutral, pass, fail, softfail, temperror, permerror
	SPFDomain string              // the domain SPF checked: MAIL FROM's, or HELO for the null sender

	DKIM []DKIMResult // one per signature; empty when unsigned

	DMARC       authres.ResultValue // none, pass, fail, temperror, permerror
	FromDomain  string              // domain of the From: header field
	Policy      string              // the policy that applied (p= or sp=); "" without a record
	Disposition Disposition         // what DMARC asks for this message

	// Header is the whole Authentication-Results field, folded, with its
	// final CRLF: ready to prepend to the message.
	Header string

	// FromDomains are the domains of every From: address, "" among them
	// when there are several From: fields (from.go): a message may name
	// a local domain among others.
	FromDomains []string
}

// Check evaluates the message read from r, which was received from ip
// (a textual IP address) with HELO helo and MAIL FROM mailFrom ("" for the
// null sender). It reads r to the end. It fails only when r does.
func (c *Checker) Check(ctx context.Context, ip, helo, mailFrom string, r io.Reader) (Result, error) {
	hdr := &headerCapture{}
	body := io.TeeReader(r, hdr)
	var res Result
	var tooLarge bool
	res.DKIM, tooLarge = c.checkDKIM(ctx, body)
	// DKIM verification may stop early; the rest of the message is read
	// so that a caller feeding r from a pipe never blocks, and so that a
	// reader failure is seen.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return Result{}, err
	}
	res.SPF, res.SPFDomain = c.checkSPF(ctx, ip, helo, mailFrom)
	if tooLarge {
		// The From: fields past the limit are not read, so the author
		// domain is unknown, and a From: hidden there must not escape
		// its domain's policy: to Junk (RFC 7489 section 6.6.1).
		res.DMARC, res.Disposition = authres.ResultPermError, DispositionQuarantine
	} else {
		res.FromDomains = hdr.from()
		c.checkDMARC(ctx, res.FromDomains, &res)
	}
	res.Header = c.header(helo, mailFrom, res)
	return res, nil
}

// header formats res as an Authentication-Results field (RFC 8601
// section 2.2), one method per line.
func (c *Checker) header(helo, mailFrom string, res Result) string {
	results := []authres.Result{&authres.SPFResult{Value: res.SPF, From: mailFrom, Helo: helo}}
	if len(res.DKIM) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range res.DKIM {
		results = append(results, &authres.DKIMResult{Value: d.Value, Domain: d.Domain, Identifier: d.Identifier})
	}
	results = append(results, &authres.DMARCResult{Value: res.DMARC, From: res.FromDomain})
	host := c.Hostname
	if host == "" {
		host = "localhost"
	}
	parts := strings.Split(headerSafe(authres.Format(headerSafe(host), results)), "; ")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p) // Format leaves a space after a result without properties
	}
	return "Authentication-Results: " + strings.Join(parts, ";\r\n\t") + "\r\n"
}

func (c *Checker) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// headerSafe drops control characters, which could end or fold a header
// line where we do not mean to.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
