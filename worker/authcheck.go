package worker

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// junkMailbox is where DMARC failures go (one of store.DefaultMailboxes,
// special use \Junk).
const junkMailbox = "Junk"

// errCheckStopped ends the pipe to the checker when it returned early.
var errCheckStopped = errors.New("worker: authentication check stopped reading")

// parseAndCheck streams r through the parser and the authentication checks
// at once: the one read of the object feeds both through a pipe, so the
// message is neither read twice nor held in memory.
func (w *Worker) parseAndCheck(ctx context.Context, r io.Reader, j store.Job) (*message.Summary, *authcheck.Result, error) {
	pr, pw := io.Pipe()
	type checked struct {
		res authcheck.Result
		err error
	}
	done := make(chan checked, 1)
	go func() {
		res, err := w.cfg.Checker.Check(ctx, j.ClientIP, j.Helo, j.From, pr)
		// Check reads to the end unless it failed; either way nothing
		// must block writing to the pipe any more.
		pr.CloseWithError(errCheckStopped)
		done <- checked{res, err}
	}()
	tee := io.TeeReader(r, pw)
	sum, err := message.Parse(tee)
	if err == nil {
		_, err = io.Copy(io.Discard, tee) // the parser may stop before the end
	}
	pw.CloseWithError(err) // nil: the checker sees EOF
	c := <-done
	if err != nil {
		return nil, nil, err
	}
	if c.err != nil {
		return nil, nil, c.err
	}
	return sum, &c.res, nil
}

// placement logs the authentication results of j and picks the mailbox:
// Junk when DMARC failed under a quarantine or reject policy (RFC 7489
// section 6.3; the edge refuses p=reject failures itself with
// --dmarc-reject=reject, so those reaching here are filed, not dropped),
// and when the message claims a local domain without proof (localSpoof).
func (w *Worker) placement(ctx context.Context, j store.Job, auth *authcheck.Result) string {
	if auth == nil {
		return store.Inbox
	}
	mailbox := store.Inbox
	if auth.Disposition == authcheck.DispositionQuarantine || auth.Disposition == authcheck.DispositionReject {
		mailbox = junkMailbox
	}
	spoof := w.localSpoof(ctx, j, auth)
	if spoof != "" {
		mailbox = junkMailbox
	}
	dkim := make([]string, len(auth.DKIM))
	for i, d := range auth.DKIM {
		dkim[i] = string(d.Value) + ":" + d.Domain
	}
	w.log.LogAttrs(ctx, slog.LevelInfo, "authentication checked",
		slog.String("queue_id", j.ID), slog.String("client_ip", j.ClientIP),
		slog.String("spf", string(auth.SPF)), slog.String("spf_domain", auth.SPFDomain),
		slog.Any("dkim", dkim), slog.String("dmarc", string(auth.DMARC)),
		slog.String("from_domain", auth.FromDomain), slog.String("disposition", string(auth.Disposition)),
		slog.String("local_spoof", spoof), slog.String("mailbox", mailbox))
	return mailbox
}
