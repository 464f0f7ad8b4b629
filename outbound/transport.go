package outbound

import (
	"context"
	"fmt"
	"io"
)

// Status is the outcome of one recipient of one attempt.
type Status int

// Outcomes. Temporary is retried until the lifetime ends; Permanent
// bounces at once (RFC 5321 section 4.2.1: 4yz vs 5yz replies).
const (
	Temporary Status = iota
	Sent
	Permanent
)

func (s Status) String() string {
	switch s {
	case Sent:
		return "sent"
	case Permanent:
		return "failed"
	default:
		return "temporary"
	}
}

// Envelope is one attempt to deliver to recipients of one domain.
type Envelope struct {
	From   string
	To     []string // all in Domain
	Domain string
	// UTF8 says the message needs SMTPUTF8 (RFC 6531): a non-ASCII
	// address or header. AddressUTF8 says an address is non-ASCII, so a
	// server without SMTPUTF8 cannot take it at all.
	UTF8, AddressUTF8 bool
	EightBit          bool // the content has 8-bit bytes (RFC 6152)
}

// Body is the message to send: read it through Reader, once per session,
// so that sessions to several hosts may run at once.
type Body struct {
	r    io.ReaderAt
	size int64
}

// NewBody returns a Body of size bytes read from r.
func NewBody(r io.ReaderAt, size int64) Body { return Body{r: r, size: size} }

// Reader returns a new reader of the whole message.
func (b Body) Reader() io.Reader { return io.NewSectionReader(b.r, 0, b.size) }

// Size is the message size in bytes.
func (b Body) Size() int64 { return b.size }

// Result is what happened to one recipient.
type Result struct {
	Rcpt   string
	Status Status
	// Code and Enhanced are the SMTP reply code and RFC 3463 status code
	// ("5.1.1"); Text is the diagnostic for the DSN; MTA the remote host
	// that answered, if any.
	Code     int
	Enhanced string
	Text     string
	MTA      string
}

// Transport delivers a message to remote recipients of one domain.
// It returns one Result per recipient of env.To, in any order.
type Transport interface {
	Deliver(ctx context.Context, env Envelope, body Body) []Result
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(ctx context.Context, env Envelope, body Body) []Result

// Deliver calls f.
func (f TransportFunc) Deliver(ctx context.Context, env Envelope, body Body) []Result {
	return f(ctx, env, body)
}

// allResults gives every recipient of to the same outcome.
func allResults(to []string, st Status, code int, enhanced, mta, format string, args ...any) []Result {
	text := fmt.Sprintf(format, args...)
	out := make([]Result, len(to))
	for i, r := range to {
		out[i] = Result{Rcpt: r, Status: st, Code: code, Enhanced: enhanced, Text: text, MTA: mta}
	}
	return out
}
