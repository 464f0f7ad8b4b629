// Package dsn writes delivery status notifications: multipart/report
// messages (RFC 3462) with a message/delivery-status part (RFC 3464). The
// outbound worker sends them for remote failures and delays, the local
// delivery worker for recipients over quota, forwards refused and loops;
// both through Submit.
package dsn

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"strings"
	"time"
)

// Actions (RFC 3464 section 2.3.3) for Params.Action.
const (
	ActionFailed  = "failed"
	ActionDelayed = "delayed"
)

// Params is a delivery status notification to write with Write.
type Params struct {
	// ID is the notice's own unique id: its Message-ID is <ID.dsn@Hostname>
	// and its MIME boundary is made from it.
	ID string
	// Hostname is the reporting MTA (Reporting-MTA, MAILER-DAEMON@Hostname).
	Hostname string
	// Action is ActionFailed or ActionDelayed; it applies to every recipient.
	Action string
	// At is when the notice was decided (Date, Last-Attempt-Date).
	At time.Time
	// RetryUntil is the end of the retries of a delayed message
	// (Will-Retry-Until); zero leaves it out.
	RetryUntil time.Time

	// The original envelope: queue id, sender (the notice's To:) and
	// arrival time (Arrival-Date, left out when zero).
	QueueID string
	From    string
	Arrival time.Time

	Recipients []Recipient
	// Header is the original message's header block, returned as a
	// text/rfc822-headers part (RFC 3462 section 2); nil leaves it out.
	// Lines end in CRLF in the notice; it stops at the first empty line.
	Header []byte
}

// Recipient is the per-recipient part of a notice (RFC 3464 section 2.3).
type Recipient struct {
	Rcpt   string // Final-Recipient
	Status string // RFC 3463 code, "5.2.2"
	// Diagnostic is the reason given to the sender (Diagnostic-Code); its
	// DiagnosticType is "smtp" for a remote reply, and "x-bucketmail"
	// (the default) for a reason of our own.
	Diagnostic     string
	DiagnosticType string
	RemoteMTA      string // Remote-MTA, if a remote host answered
}

// Write writes p as a multipart/report message (RFC 3462) with a
// message/delivery-status part (RFC 3464). The output depends on p only,
// so writing the same notice twice gives the same bytes.
func Write(w io.Writer, p Params) error {
	ew := &errWriter{w: w}
	write(ew, p)
	return ew.err
}

// errWriter keeps the first write error and drops later writes.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func write(w io.Writer, p Params) {
	host := p.Hostname
	boundary := "bm-report-" + p.ID
	subject := "Undelivered Mail Returned to Sender"
	if p.Action == ActionDelayed {
		subject = "Delayed Mail (still being retried)"
	}
	date := p.At.Format(time.RFC1123Z)
	fmt.Fprintf(w, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host)
	fmt.Fprintf(w, "To: <%s>\r\n", p.From)
	fmt.Fprintf(w, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(w, "Date: %s\r\n", date)
	fmt.Fprintf(w, "Message-ID: <%s.dsn@%s>\r\n", p.ID, host)
	fmt.Fprintf(w, "Auto-Submitted: auto-replied\r\n") // RFC 3834 section 5
	fmt.Fprintf(w, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(w, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is a MIME-encapsulated delivery status notification.\r\n")

	// 1. The human-readable part.
	fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is the mail system at host %s.\r\n\r\n", host)
	if p.Action == ActionDelayed {
		fmt.Fprintf(w, "Your message has not been delivered yet to the recipients below.\r\n")
		if !p.RetryUntil.IsZero() {
			fmt.Fprintf(w, "It will be retried until %s; you need not send it again.\r\n\r\n",
				p.RetryUntil.Format(time.RFC1123Z))
		} else {
			fmt.Fprintf(w, "It will be retried; you need not send it again.\r\n\r\n")
		}
	} else {
		fmt.Fprintf(w, "Your message could not be delivered to the recipients below.\r\n\r\n")
	}
	for _, r := range p.Recipients {
		fmt.Fprintf(w, "<%s>: %s\r\n", r.Rcpt, oneLine(r.Diagnostic))
	}

	// 2. The machine-readable part: per-message fields, then one block of
	// per-recipient fields each (RFC 3464 sections 2.2 and 2.3).
	fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(w, "Reporting-MTA: dns; %s\r\n", host)
	fmt.Fprintf(w, "X-Bucketmail-Queue-ID: %s\r\n", p.QueueID)
	if !p.Arrival.IsZero() {
		fmt.Fprintf(w, "Arrival-Date: %s\r\n", p.Arrival.Format(time.RFC1123Z))
	}
	for _, r := range p.Recipients {
		fmt.Fprintf(w, "\r\n")
		addrType := "rfc822"
		if !isASCII(r.Rcpt) {
			addrType = "utf-8" // RFC 6533 section 3
		}
		fmt.Fprintf(w, "Final-Recipient: %s; %s\r\n", addrType, r.Rcpt)
		fmt.Fprintf(w, "Action: %s\r\n", p.Action)
		fmt.Fprintf(w, "Status: %s\r\n", r.Status)
		if r.RemoteMTA != "" {
			fmt.Fprintf(w, "Remote-MTA: dns; %s\r\n", r.RemoteMTA)
		}
		if r.Diagnostic != "" {
			kind := r.DiagnosticType
			if kind == "" {
				kind = "x-bucketmail"
			}
			fmt.Fprintf(w, "Diagnostic-Code: %s; %s\r\n", kind, oneLine(r.Diagnostic))
		}
		fmt.Fprintf(w, "Last-Attempt-Date: %s\r\n", date)
		if p.Action == ActionDelayed && !p.RetryUntil.IsZero() {
			fmt.Fprintf(w, "Will-Retry-Until: %s\r\n", p.RetryUntil.Format(time.RFC1123Z))
		}
	}

	// 3. The original header.
	if header := headerLines(p.Header); len(header) > 0 {
		fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
		w.Write(header)
	}
	fmt.Fprintf(w, "\r\n--%s--\r\n", boundary)
}

// headerLines returns the lines of a header block up to its first empty
// line, each ending in CRLF.
func headerLines(h []byte) []byte {
	var out []byte
	for len(h) > 0 {
		line := h
		if i := bytes.IndexByte(h, '\n'); i >= 0 {
			line, h = h[:i], h[i+1:]
		} else {
			h = nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		out = append(out, line...)
		out = append(out, '\r', '\n')
	}
	return out
}

// oneLine folds a multi-line reply for a DSN field.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", "")
	return strings.TrimSpace(strings.ReplaceAll(s, "\n", " "))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
