package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/store"
)

// VacationAuth is the Auth of a vacation reply's job, followed by the
// local address it answers for.
const VacationAuth = "vacation:"

// vacation sends the reply of a vacation action (RFC 5230): not to lists,
// automatic mail, the null sender or the user's own addresses
// (sieve.VacationReply.ShouldReply), and once per sender and handle per
// period, remembered as an expiring mark in the store. The reply's id is
// derived from the job, so a job run twice sends one reply.
func (w *Worker) vacation(ctx context.Context, d delivery, v *sieve.VacationReply) error {
	own := []string{d.r.rcpt, d.r.user.Address}
	if junk(d.auth, d.mailbox) || !v.ShouldReply(w.sieveMessage(ctx, d), own) {
		// Mail that failed SPF or DMARC most likely has a forged
		// sender: a reply would be backscatter.
		return nil
	}
	lim := w.cfg.Store
	mark := store.LimitKey("sieve-vacation", d.r.user.ID, v.Handle, strings.ToLower(d.j.From))
	id, at := derivedID(d.j, "sieve-vacation", []string{d.r.user.ID})
	queue, err := w.senderQueue(ctx, d.j.From)
	if err != nil || queue == "" {
		return err
	}
	known, err := w.cfg.Store.JobKnown(ctx, queue, id)
	if err != nil {
		return fmt.Errorf("worker: looking up %s: %w", id, err)
	}
	if !known {
		first, err := firstReply(ctx, lim, mark, v.Period)
		if err != nil || !first {
			return err
		}
		vj := store.Job{ID: id, Queue: queue, BlobKey: blob.MessageKey(id), To: []string{d.j.From},
			ReceivedAt: at, Auth: VacationAuth + d.r.rcpt}
		body := vacationReply(w.cfg.Hostname, id, at, d, v)
		if _, err := w.intake().Submit(ctx, vj, bytes.NewReader(body)); err != nil {
			return fmt.Errorf("worker: vacation reply %s: %w", id, err)
		}
	}
	if err := lim.Mark(ctx, mark, v.Period); err != nil {
		return fmt.Errorf("worker: vacation mark: %w", err)
	}
	w.log.LogAttrs(ctx, slog.LevelInfo, "vacation reply queued", slog.String("queue_id", d.j.ID),
		slog.String("reply_id", id), slog.String("to", d.j.From), slog.String("user_id", d.r.user.ID),
		slog.Bool("duplicate", known))
	return nil
}

// vacationReply writes the reply: from the user (or :from), to the
// sender, "Auto: " and the subject unless :subject is given (RFC 5230
// section 4.7), In-Reply-To and References (section 4.8), and
// Auto-Submitted: auto-replied (RFC 3834 section 5). The envelope
// sender is null (RFC 3834 section 3.3), set on the job.
func vacationReply(hostname, id string, at time.Time, d delivery, v *sieve.VacationReply) []byte {
	fields := parseFields(d.sum.Header)
	get := func(name string) string {
		for _, f := range fields {
			if strings.EqualFold(f.Name, name) {
				return f.Value
			}
		}
		return ""
	}
	from := d.r.user.Address
	if v.From != "" {
		// Only one of the user's own addresses: a reply sent (and
		// signed) by us must not speak for anyone else.
		if a, err := mail.ParseAddress(v.From); err == nil && ownAddress(a.Address, d, v) {
			from = a.String()
		}
	}
	subject := v.Subject
	if subject == "" {
		dec := mime.WordDecoder{}
		orig, err := dec.DecodeHeader(get("Subject"))
		if err != nil {
			orig = get("Subject")
		}
		subject = "Auto: " + orig
	}
	var b bytes.Buffer
	field := func(name, value string) { b.WriteString(name + ": " + headerLine(value) + "\r\n") }
	field("From", from)
	field("To", "<"+d.j.From+">")
	field("Subject", mime.QEncoding.Encode("utf-8", subject))
	field("Date", at.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	field("Message-ID", "<"+id+"@"+hostname+">")
	if mid := get("Message-ID"); mid != "" {
		field("In-Reply-To", mid)
		field("References", strings.TrimSpace(get("References")+" "+mid))
	}
	field("Auto-Submitted", "auto-replied (vacation)")
	field("MIME-Version", "1.0")
	if v.MIME {
		// RFC 5230 section 4.6: the reason is a MIME entity, its own
		// header included.
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(v.Reason, "\r\n", "\n"), "\n", "\r\n"))
		return b.Bytes()
	}
	field("Content-Type", "text/plain; charset=utf-8")
	field("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(v.Reason))
	qp.Close()
	return b.Bytes()
}

// headerLine drops the characters that could end a header line.
func headerLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

// firstReply reports whether no reply under mark went out in the last
// period. The mark (set after the reply is queued) covers the period
// from the reply on; the counter makes the check atomic, so that two
// messages from one sender delivered at the same moment send one reply.
func firstReply(ctx context.Context, lim store.Limiter, mark string, period time.Duration) (bool, error) {
	seen, err := lim.Marked(ctx, mark)
	if err != nil || seen {
		return false, err
	}
	n, err := lim.Hit(ctx, mark+"/claim", 1, max(period, time.Second))
	if err != nil {
		return false, fmt.Errorf("worker: vacation mark: %w", err)
	}
	return n == 1, nil
}

// ownAddress reports whether addr is the recipient's: the address the
// message came to, the user's, or one of the vacation's :addresses.
func ownAddress(addr string, d delivery, v *sieve.VacationReply) bool {
	for _, a := range append([]string{d.r.rcpt, d.r.user.Address}, v.Addresses...) {
		if strings.EqualFold(a, addr) {
			return true
		}
	}
	return false
}
