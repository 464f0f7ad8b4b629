package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
)

// MaxHops is how many Received fields a message may carry and still be
// forwarded: RFC 5321 section 6.3 counts them to detect loops, with "a
// large rejection threshold, normally at least 100".
const MaxHops = 100

// Auth of the outbound jobs made here, followed by the local address they
// are sent for (`bucketmail queue` shows the kind).
const (
	ForwardAuth = "forward:"    // a copy forwarded by an alias
	ReturnAuth  = "srs-return:" // a bounce to an SRS address, sent back
)

// forwardAll queues one outbound copy per forward and per returned bounce
// of rt, and moves the forwards that must not go out to rt.failed.
// Copies have derived ids, so a job processed again queues nothing new.
func (w *Worker) forwardAll(ctx context.Context, j store.Job, header []byte, auth *authcheck.Result, mailbox string, rt *route) error {
	hops := countFields(header, "Received")
	for _, f := range rt.forward {
		if status, why := w.refuseForward(header, hops, auth, mailbox, f.rcpt); status != "" {
			w.log.LogAttrs(ctx, slog.LevelInfo, "not forwarded", slog.String("queue_id", j.ID),
				slog.String("recipient", f.rcpt), slog.String("targets", strings.Join(f.targets, ",")),
				slog.String("reason", why))
			rt.failed = append(rt.failed, dsn.Recipient{Rcpt: f.rcpt, Status: status, Diagnostic: why})
			continue
		}
		from, err := w.srsFrom(ctx, j, f.rcpt)
		if err != nil {
			return err
		}
		id, _ := derivedID(j, "forward", []string{strings.ToLower(f.rcpt)})
		fj := store.Job{ID: id, From: from, To: f.targets, Auth: ForwardAuth + f.rcpt}
		prefix := "Delivered-To: " + headerSafe(f.rcpt) + "\r\n"
		if err := w.copyOut(ctx, j, fj, prefix, resultForwarded); err != nil {
			return err
		}
	}
	for _, r := range rt.reverse {
		if hops > MaxHops {
			rt.failed = append(rt.failed, dsn.Recipient{Rcpt: r.rcpt, Status: "5.4.6", Diagnostic: loopText(hops)})
			continue
		}
		id, _ := derivedID(j, "srs-return", []string{strings.ToLower(r.rcpt)})
		// The null sender: a bounce is never bounced (RFC 5321 section 6.1).
		fj := store.Job{ID: id, To: []string{r.to}, Auth: ReturnAuth + r.rcpt}
		if err := w.copyOut(ctx, j, fj, "", resultReturned); err != nil {
			return err
		}
	}
	return nil
}

// refuseForward returns the status and reason that keep a copy for rcpt
// from going out, or "" to forward it.
func (w *Worker) refuseForward(header []byte, hops int, auth *authcheck.Result, mailbox, rcpt string) (string, string) {
	switch {
	case hops > MaxHops:
		return "5.4.6", loopText(hops)
	case hasField(header, "Delivered-To", rcpt):
		// Our own trace line for this address: the copy we forwarded came
		// back. Postfix's local(8) bounces such mail ("mail forwarding
		// loop"); so do we, after its local recipients got theirs.
		return "5.4.6", "mail forwarding loop for " + rcpt
	case !w.cfg.ForwardJunk && junk(auth, mailbox):
		return "5.7.1", "not forwarded: the message failed the sender authentication checks (SPF or DMARC)"
	}
	return "", ""
}

func loopText(hops int) string {
	return fmt.Sprintf("too many hops (%d Received fields, at most %d): a mail loop", hops, MaxHops)
}

// junk reports whether mail must not be passed on: filed to Junk, or
// failing SPF or DMARC.
func junk(auth *authcheck.Result, mailbox string) bool {
	if mailbox == junkMailbox {
		return true
	}
	return auth != nil && (auth.SPF == authres.ResultFail || auth.DMARC == authres.ResultFail)
}

// srsFrom is the envelope sender of a copy of j forwarded by alias: the
// sender rewritten with SRS in the alias's domain, so that SPF at the
// destination checks our hosts (RFC 7208 appendix D: a forwarding
// mediator takes responsibility for the reverse path). The null sender, a
// sender in one of our domains (whose SPF already lists our hosts) and one
// that cannot be rewritten stay as they are.
func (w *Worker) srsFrom(ctx context.Context, j store.Job, alias string) (string, error) {
	if j.From == "" || w.cfg.SRS == nil {
		return j.From, nil
	}
	local, err := w.cfg.Store.HasDomain(ctx, domainOf(j.From))
	if err != nil {
		return "", fmt.Errorf("worker: domain of %s: %w", j.From, err)
	}
	if local {
		return j.From, nil
	}
	key, err := w.cfg.SRS.Signing(ctx)
	if err != nil {
		return "", fmt.Errorf("worker: SRS key: %w", err)
	}
	at := j.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	from, err := srs.Forward(key, j.From, domainOf(alias), at)
	if err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "sender kept unrewritten", slog.String("queue_id", j.ID),
			slog.String("from", j.From), slog.String("error", err.Error()))
		return j.From, nil
	}
	return from, nil
}

// copyOut writes prefix and the message of j as the object of the
// outbound job fj and queues it, unless the queue knows fj already. The
// copy is its own object, with fj's envelope as metadata (invariant 2),
// because its trace line differs from the stored message and an outbound
// job owns the object it sends (the collector keeps an object while a job
// of its id is queued).
func (w *Worker) copyOut(ctx context.Context, j, fj store.Job, prefix, result string) error {
	fj.Queue, fj.BlobKey, fj.ReceivedAt = store.QueueOutbound, blob.MessageKey(fj.ID), j.ReceivedAt
	known, err := w.intake().SubmitNew(ctx, fj, func(ctx context.Context) (io.ReadCloser, error) {
		return w.openCopy(ctx, j, prefix)
	})
	if err != nil {
		return fmt.Errorf("worker: copy %s: %w", fj.ID, err)
	}
	if known {
		result = resultDuplicate
	}
	w.countN(result, len(fj.To))
	w.log.LogAttrs(ctx, slog.LevelInfo, "queued for remote delivery", slog.String("queue_id", j.ID),
		slog.String("outbound_id", fj.ID), slog.String("for", fj.Auth), slog.String("from", fj.From),
		slog.String("to", strings.Join(fj.To, ",")), slog.Bool("duplicate", known), slog.String("result", result))
	return nil
}

// openCopy opens the body of a copy of j: prefix, then the bytes of j's
// object.
func (w *Worker) openCopy(ctx context.Context, j store.Job, prefix string) (io.ReadCloser, error) {
	key := j.BlobKey
	if key == "" {
		key = blob.MessageKey(j.ID)
	}
	rc, err := w.cfg.Blobs.Get(ctx, key, 0, -1)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			err = fault.Permanent(err)
		}
		return nil, fmt.Errorf("worker: reading %s: %w", key, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(strings.NewReader(prefix), rc), rc}, nil
}

// intake writes the messages the worker makes (notices, forwarded copies)
// and enqueues their jobs.
func (w *Worker) intake() intake.Intake {
	return intake.Intake{Blobs: w.cfg.Blobs, Queue: w.cfg.Store}
}

// countFields counts the header fields named name in header.
func countFields(header []byte, name string) int {
	n := 0
	for line := range bytes.Lines(header) {
		if fieldName(line, name) {
			n++
		}
	}
	return n
}

// hasField reports whether header has a field name whose value, trimmed,
// is value (both compared case-insensitively).
func hasField(header []byte, name, value string) bool {
	for line := range bytes.Lines(header) {
		if fieldName(line, name) {
			v := strings.TrimSpace(string(line[len(name)+1:]))
			v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
			if strings.EqualFold(v, value) {
				return true
			}
		}
	}
	return false
}

// fieldName reports whether line starts the field name (RFC 5322 section
// 2.2: the name, then a colon; obsolete syntax allows blanks before it,
// which we do not produce and ignore here).
func fieldName(line []byte, name string) bool {
	return len(line) > len(name) && line[len(name)] == ':' && strings.EqualFold(string(line[:len(name)]), name)
}
