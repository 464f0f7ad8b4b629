package outbound

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/store"
)

// DSN actions (RFC 3464 section 2.3.3).
const (
	actionFailed  = "failed"
	actionDelayed = "delayed"
)

// maxReturnedHeader caps the original header returned in a DSN.
const maxReturnedHeader = 64 << 10

// dsnRecord is a notice decided on but maybe not sent yet. Its id is
// fixed before it is sent, so sending it again replaces the same object
// and finds its job already there.
type dsnRecord struct {
	ID     string    `json:"id"`
	Action string    `json:"action"`
	Rcpts  []Result  `json:"rcpts"`
	At     time.Time `json:"at"`
}

// queueNotices decides which notices this attempt owes the sender: a
// "failed" DSN for recipients that failed for good since the last one,
// and once a "delayed" DSN when the message has waited DelayNotice. They
// are recorded in st, and sent by sendNotices after st is saved.
func (s *Sender) queueNotices(ctx context.Context, log *slog.Logger, j store.Job, st *state, pending []string, now time.Time) error {
	var failed []Result
	for r, rs := range st.Rcpts {
		if rs.Status == Permanent && !rs.Reported {
			failed = append(failed, rs.Result)
			rs.Reported = true
			st.Rcpts[r] = rs
		}
	}
	var delayed []Result
	if len(pending) > 0 && !st.DelayNotified && s.cfg.DelayNotice > 0 && now.Sub(j.ReceivedAt) >= s.cfg.DelayNotice {
		st.DelayNotified = true
		for _, r := range pending {
			d := st.Deferred[r]
			d.Rcpt, d.Status = r, Temporary
			delayed = append(delayed, d)
		}
	}
	if len(failed) == 0 && len(delayed) == 0 {
		return nil
	}
	// Never notify the null sender (RFC 5321 section 6.1: no bounce of a
	// bounce), and only a local sender has an INBOX to notify.
	if j.From == "" {
		return nil
	}
	local, err := s.cfg.Store.HasDomain(ctx, domainOf(j.From))
	if err != nil {
		return fmt.Errorf("looking up the sender's domain: %w", err)
	}
	if !local {
		log.Warn("no notice for a sender outside our domains", slog.String("from", j.From))
		return nil
	}
	sortResults(failed)
	sortResults(delayed)
	if len(failed) > 0 {
		st.DSNs = append(st.DSNs, dsnRecord{ID: ulid.Make().String(), Action: actionFailed, Rcpts: failed, At: now})
	}
	if len(delayed) > 0 {
		st.DSNs = append(st.DSNs, dsnRecord{ID: ulid.Make().String(), Action: actionDelayed, Rcpts: delayed, At: now})
	}
	return nil
}

// sendNotices writes each recorded notice as a message object and
// enqueues it for local delivery to the sender, with the null sender as
// its envelope sender (RFC 3464 section 2; RFC 5321 section 4.5.5).
func (s *Sender) sendNotices(ctx context.Context, log *slog.Logger, j store.Job, st *state) error {
	if len(st.DSNs) == 0 {
		return nil
	}
	header, err := s.originalHeader(ctx, j.BlobKey)
	if err != nil {
		return err
	}
	for _, rec := range st.DSNs {
		// Auth marks the notice as made here, so the worker does not judge
		// it as port-25 mail (SPF, DMARC of our own host name).
		dj := store.Job{ID: rec.ID, Queue: store.QueueInbound, BlobKey: blob.MessageKey(rec.ID),
			From: "", To: []string{j.From}, ReceivedAt: rec.At, Auth: "MAILER-DAEMON@" + s.cfg.Hostname}
		var buf bytes.Buffer
		s.writeDSN(&buf, j, rec, header)
		if _, err := s.cfg.Blobs.Put(ctx, dj.BlobKey, &buf, store.JobMeta(dj)); err != nil {
			return fmt.Errorf("writing DSN: %w", err)
		}
		if err := s.cfg.Store.Enqueue(ctx, dj); err != nil && !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("enqueueing DSN: %w", err)
		}
		log.Info("delivery status notification", slog.String("action", rec.Action),
			slog.String("dsn", rec.ID), slog.Int("recipients", len(rec.Rcpts)))
	}
	st.DSNs = nil
	return s.saveState(ctx, j.ID, st)
}

// originalHeader reads the header of the original message, for the
// text/rfc822-headers part (RFC 3462 section 2: returning the header only
// keeps a DSN of a big message small). A message that is gone gets none.
func (s *Sender) originalHeader(ctx context.Context, key string) ([]byte, error) {
	rc, err := s.cfg.Blobs.Get(ctx, key, 0, maxReturnedHeader)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the original header: %w", err)
	}
	defer rc.Close()
	var out bytes.Buffer
	br := bufio.NewReader(rc)
	for {
		line, err := br.ReadBytes('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			break
		}
		out.Write(bytes.TrimRight(line, "\r\n"))
		out.WriteString("\r\n")
		if err != nil {
			break
		}
	}
	return out.Bytes(), nil
}

// writeDSN writes the notice rec about j as a multipart/report message
// (RFC 3462) with a message/delivery-status part (RFC 3464).
func (s *Sender) writeDSN(w io.Writer, j store.Job, rec dsnRecord, header []byte) {
	host := s.cfg.Hostname
	boundary := "bm-report-" + rec.ID
	subject := "Undelivered Mail Returned to Sender"
	if rec.Action == actionDelayed {
		subject = "Delayed Mail (still being retried)"
	}
	date := rec.At.Format(time.RFC1123Z)
	fmt.Fprintf(w, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", host)
	fmt.Fprintf(w, "To: <%s>\r\n", j.From)
	fmt.Fprintf(w, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(w, "Date: %s\r\n", date)
	fmt.Fprintf(w, "Message-ID: <%s.dsn@%s>\r\n", rec.ID, host)
	fmt.Fprintf(w, "Auto-Submitted: auto-replied\r\n") // RFC 3834 section 5
	fmt.Fprintf(w, "MIME-Version: 1.0\r\n")
	fmt.Fprintf(w, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is a MIME-encapsulated delivery status notification.\r\n")

	// 1. The human-readable part.
	fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	fmt.Fprintf(w, "This is the mail system at host %s.\r\n\r\n", host)
	if rec.Action == actionDelayed {
		fmt.Fprintf(w, "Your message has not been delivered yet to the recipients below.\r\n")
		fmt.Fprintf(w, "It will be retried until %s; you need not send it again.\r\n\r\n",
			j.ReceivedAt.Add(s.cfg.Lifetime).Format(time.RFC1123Z))
	} else {
		fmt.Fprintf(w, "Your message could not be delivered to the recipients below.\r\n\r\n")
	}
	for _, r := range rec.Rcpts {
		fmt.Fprintf(w, "<%s>: %s\r\n", r.Rcpt, oneLine(r.Text))
	}

	// 2. The machine-readable part: per-message fields, then one block of
	// per-recipient fields each (RFC 3464 sections 2.2 and 2.3).
	fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: message/delivery-status\r\n\r\n", boundary)
	fmt.Fprintf(w, "Reporting-MTA: dns; %s\r\n", host)
	fmt.Fprintf(w, "X-Bucketmail-Queue-ID: %s\r\n", j.ID)
	if !j.ReceivedAt.IsZero() {
		fmt.Fprintf(w, "Arrival-Date: %s\r\n", j.ReceivedAt.Format(time.RFC1123Z))
	}
	for _, r := range rec.Rcpts {
		fmt.Fprintf(w, "\r\n")
		addrType := "rfc822"
		if !isASCII(r.Rcpt) {
			addrType = "utf-8" // RFC 6533 section 3
		}
		fmt.Fprintf(w, "Final-Recipient: %s; %s\r\n", addrType, r.Rcpt)
		fmt.Fprintf(w, "Action: %s\r\n", rec.Action)
		fmt.Fprintf(w, "Status: %s\r\n", statusCode(r, rec.Action))
		if r.MTA != "" {
			fmt.Fprintf(w, "Remote-MTA: dns; %s\r\n", r.MTA)
		}
		if r.Text != "" {
			kind := "smtp"
			if r.Code == 0 {
				kind = "x-bucketmail"
			}
			fmt.Fprintf(w, "Diagnostic-Code: %s; %s\r\n", kind, oneLine(r.Text))
		}
		fmt.Fprintf(w, "Last-Attempt-Date: %s\r\n", date)
		if rec.Action == actionDelayed {
			fmt.Fprintf(w, "Will-Retry-Until: %s\r\n", j.ReceivedAt.Add(s.cfg.Lifetime).Format(time.RFC1123Z))
		}
	}

	// 3. The original header.
	if len(header) > 0 {
		fmt.Fprintf(w, "\r\n--%s\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
		w.Write(header)
	}
	fmt.Fprintf(w, "\r\n--%s--\r\n", boundary)
}

// statusCode is the RFC 3463 code of r for the Status field: a failure
// reports a 5.x.x or, for an expiry, 4.4.7 as RFC 3464 examples do; a
// delay a 4.x.x.
func statusCode(r Result, action string) string {
	code := r.Enhanced
	if code == "" {
		code = codeOtherTemp
		if action == actionFailed {
			code = codeOtherPerm
		}
	}
	return code
}

func sortResults(rs []Result) {
	slices.SortFunc(rs, func(a, b Result) int { return strings.Compare(a.Rcpt, b.Rcpt) })
}
