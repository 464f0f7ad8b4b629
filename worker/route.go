package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
)

// route is where the recipients of one job go. Every envelope recipient
// ends in at least one of its lists (invariant 8): a local mailbox, a
// forwarded copy, a returned bounce, or a failure reported to the sender.
type route struct {
	local   []recipient
	forward []forward
	reverse []reversed
	failed  []dsn.Recipient
}

// forward is an alias that sends copies outside: the envelope recipient
// that named it and its foreign targets not already forwarded to by an
// earlier recipient of the job.
type forward struct {
	rcpt    string
	targets []string
}

// reversed is mail to one of our SRS addresses (a bounce of mail we
// forwarded) and the address it goes back to.
type reversed struct {
	rcpt string
	to   string
}

// resolve maps the envelope recipients of j to distinct local users,
// forwards, returned bounces and failures. Only temporary errors are
// returned; the job is then retried.
func (w *Worker) resolve(ctx context.Context, j store.Job) (route, error) {
	var rt route
	seen := map[string]bool{}
	for _, rcpt := range j.To {
		if srs.IsSRS(rcpt) && w.cfg.SRS != nil {
			handled, err := w.resolveSRS(ctx, j, rcpt, &rt)
			if err != nil {
				return rt, err
			}
			if handled {
				continue
			}
		}
		res, err := store.Resolve(ctx, w.cfg.Store, rcpt)
		if f, ok := unresolved(rcpt, err); ok {
			w.count(resultUnknown)
			w.log.LogAttrs(ctx, slog.LevelInfo, "recipient gone since RCPT, reporting to the sender",
				slog.String("queue_id", j.ID), slog.String("recipient", rcpt),
				slog.String("result", resultUnknown), slog.String("error", err.Error()))
			rt.failed = append(rt.failed, f)
			continue
		}
		if err != nil {
			return rt, fmt.Errorf("worker: resolving %s: %w", rcpt, err)
		}
		rt.add(rcpt, res, seen)
	}
	return rt, nil
}

// add records the users and foreign targets of rcpt, each once per job.
func (rt *route) add(rcpt string, res store.Resolution, seen map[string]bool) {
	for _, u := range res.Users {
		if !seen["u:"+u.ID] {
			seen["u:"+u.ID] = true
			rt.local = append(rt.local, recipient{user: u, rcpt: rcpt})
		}
	}
	f := forward{rcpt: rcpt}
	for _, ext := range res.External {
		if !seen["x:"+ext] {
			seen["x:"+ext] = true
			f.targets = append(f.targets, ext)
		}
	}
	if len(f.targets) > 0 {
		rt.forward = append(rt.forward, f)
	}
}

// unresolved turns a permanent resolution failure of rcpt into the
// failure the sender is told about (RFC 3463 codes).
func unresolved(rcpt string, err error) (dsn.Recipient, bool) {
	f := dsn.Recipient{Rcpt: rcpt}
	switch {
	case errors.Is(err, store.ErrNotFound):
		f.Status, f.Diagnostic = "5.1.1", "no such user here (the address was removed after the message was accepted)"
	case errors.Is(err, store.ErrNotLocal):
		f.Status, f.Diagnostic = "5.1.2", "the domain is no longer served here"
	case errors.Is(err, store.ErrInvalid):
		f.Status, f.Diagnostic = "5.1.3", "malformed recipient address"
	default:
		return f, false
	}
	return f, true
}

// resolveSRS handles rcpt, in SRS form: in one of our domains, a valid
// address is a bounce going back to the address it encodes; an invalid or
// expired one has failed (the edge refuses those at RCPT, so only an
// address that expired since gets here). An SRS address in a domain not
// ours is not handled here.
func (w *Worker) resolveSRS(ctx context.Context, j store.Job, rcpt string, rt *route) (bool, error) {
	local, err := w.cfg.Store.HasDomain(ctx, domainOf(rcpt))
	if err != nil {
		return false, fmt.Errorf("worker: resolving %s: %w", rcpt, err)
	}
	if !local {
		return false, nil
	}
	to, err := w.cfg.SRS.Reverse(ctx, rcpt)
	switch {
	case err == nil:
		rt.reverse = append(rt.reverse, reversed{rcpt: rcpt, to: to})
	case errors.Is(err, srs.ErrInvalid), errors.Is(err, srs.ErrExpired):
		w.log.LogAttrs(ctx, slog.LevelInfo, "SRS address not valid, reporting to the sender",
			slog.String("queue_id", j.ID), slog.String("recipient", rcpt), slog.String("error", err.Error()))
		rt.failed = append(rt.failed, dsn.Recipient{Rcpt: rcpt, Status: "5.1.1",
			Diagnostic: "invalid or expired return address (SRS)"})
	default:
		return false, fmt.Errorf("worker: reversing %s: %w", rcpt, err)
	}
	return true, nil
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}
