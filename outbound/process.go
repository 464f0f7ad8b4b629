package outbound

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
)

// settleTimeout bounds the bookkeeping after the deliveries of a job.
const settleTimeout = 30 * time.Second

// process makes one attempt at job j: deliveries run on ctx (bounded by
// the lease), bookkeeping on base with its own timeout, so a slow remote
// does not leave a job unsettled.
func (s *Sender) process(ctx, base context.Context, j store.Job) {
	log := s.log.With(slog.String("id", j.ID), slog.Int("attempt", j.Attempts))
	st, err := s.loadState(ctx, j)
	if err != nil {
		s.retrySoon(base, log, j, nil, err)
		return
	}
	if st.Finished {
		// A crash or a failed ack after the last attempt: settle again.
		if err := s.sendNotices(ctx, log, j, st); err != nil {
			s.retrySoon(base, log, j, st, err)
			return
		}
		s.finish(base, log, j, st)
		return
	}
	locals, remotes, err := s.split(ctx, j.To)
	if err != nil {
		s.retrySoon(base, log, j, st, err)
		return
	}
	if len(locals) > 0 && !st.LocalQueued {
		if err := s.enqueueLocal(ctx, j, locals); err != nil {
			s.retrySoon(base, log, j, st, err)
			return
		}
		st.LocalQueued = true
	}
	pending := make([]string, 0, len(remotes))
	for _, r := range remotes {
		if _, done := st.Rcpts[r]; !done {
			pending = append(pending, r)
		}
	}
	if len(pending) > 0 {
		results, err := s.attempt(ctx, log, j, pending)
		if err != nil {
			if fault.IsPermanent(err) {
				s.bury(base, log, j, st, err)
				return
			}
			s.retrySoon(base, log, j, st, err)
			return
		}
		s.record(st, results)
	}
	now := s.cfg.now()
	if st.First.IsZero() {
		st.First = now
	}
	j.ReceivedAt = s.start(j, st)
	pending = pending[:0]
	for _, r := range remotes {
		if _, done := st.Rcpts[r]; !done {
			pending = append(pending, r)
		}
	}
	expired := now.Sub(j.ReceivedAt) >= s.cfg.Lifetime
	if expired {
		for _, r := range pending {
			last := st.Deferred[r]
			last.Rcpt, last.Status = r, Permanent
			last.Text = "delivery time expired (" + s.cfg.Lifetime.String() + ")" + lastError(last.Text)
			last.Enhanced = codeExpired
			st.Rcpts[r] = rcptState{Result: last, At: now}
			delete(st.Deferred, r)
		}
		pending = nil
	}
	if err := s.queueNotices(ctx, log, j, st, pending, now); err != nil {
		s.retrySoon(base, log, j, st, err)
		return
	}

	sctx, cancel := context.WithTimeout(base, settleTimeout)
	defer cancel()
	if len(pending) == 0 {
		st.Finished = true
	}
	if err := s.saveState(sctx, j, st); err != nil {
		s.retrySoon(sctx, log, j, st, err)
		return
	}
	if err := s.sendNotices(sctx, log, j, st); err != nil {
		s.retrySoon(sctx, log, j, st, err)
		return
	}
	if st.Finished {
		s.finish(sctx, log, j, st)
		return
	}
	at := s.nextAttempt(j, now)
	reason := fmt.Sprintf("%d recipient(s) deferred", len(pending))
	if last, ok := st.Deferred[pending[0]]; ok {
		reason += ": " + last.Text
	}
	if j, err = withState(j, st); err != nil {
		s.retrySoon(sctx, log, j, nil, err)
		return
	}
	if err := s.cfg.Store.Retry(sctx, j, at, reason); err != nil {
		log.Error("retry failed", slog.String("error", err.Error()))
		return
	}
	log.Info("deferred", slog.Int("pending", len(pending)), slog.Time("next", at), slog.String("reason", reason))
}

// start is when j's lifetime began.
func (s *Sender) start(j store.Job, st *state) time.Time {
	if j.ReceivedAt.IsZero() {
		return st.First
	}
	return j.ReceivedAt
}

func lastError(text string) string {
	if text == "" {
		return ""
	}
	return "; last error: " + text
}

// split sorts recipients into local (a domain of ours) and remote.
func (s *Sender) split(ctx context.Context, to []string) (locals, remotes []string, err error) {
	known := map[string]bool{}
	for _, r := range to {
		d := domainOf(r)
		local, ok := known[d]
		if !ok {
			if local, err = s.cfg.Store.HasDomain(ctx, d); err != nil {
				return nil, nil, fmt.Errorf("looking up domain %s: %w", d, err)
			}
			known[d] = local
		}
		if local {
			locals = append(locals, r)
		} else {
			remotes = append(remotes, r)
		}
	}
	return locals, remotes, nil
}

// enqueueLocal hands the local recipients to the MDA: one inbound job
// with the same id and object. ErrExists means it was done before.
func (s *Sender) enqueueLocal(ctx context.Context, j store.Job, locals []string) error {
	lj := j
	lj.Queue = store.QueueInbound
	lj.To = locals
	lj.Attempts, lj.LastError, lj.NotBefore, lj.State = 0, "", time.Time{}, ""
	// The object is written: the local job shares it.
	if _, err := s.intake().Enqueue(ctx, lj); err != nil {
		return fmt.Errorf("enqueueing local delivery: %w", err)
	}
	return nil
}

// intake writes the notices the sender makes and enqueues jobs.
func (s *Sender) intake() intake.Intake {
	return intake.Intake{Blobs: s.cfg.Blobs, Queue: s.cfg.Store}
}

// attempt signs the message once and delivers it to every domain of
// pending, the domains in parallel (PerDestination bounds each host).
func (s *Sender) attempt(ctx context.Context, log *slog.Logger, j store.Job, pending []string) ([]Result, error) {
	sp, err := s.spool(ctx, j)
	if err != nil {
		return nil, err
	}
	defer sp.close()
	groups := map[string][]string{}
	var order []string
	for _, r := range pending {
		d := strings.ToLower(domainOf(r))
		if _, ok := groups[d]; !ok {
			order = append(order, d)
		}
		groups[d] = append(groups[d], r)
	}
	var (
		mu  sync.Mutex
		all []Result
		wg  sync.WaitGroup
	)
	for _, d := range order {
		env := Envelope{From: j.From, To: groups[d], Domain: d, UTF8: sp.headerUTF8, EightBit: sp.eightBit}
		if !isASCII(j.From) || !allASCII(groups[d]) {
			env.UTF8, env.AddressUTF8 = true, true
		}
		wg.Go(func() {
			res := s.transportFor(d).Deliver(ctx, env, sp.body)
			res = complete(env.To, res)
			for _, r := range res {
				s.count(r.Status)
				log.LogAttrs(ctx, slog.LevelInfo, "remote delivery", slog.String("rcpt", r.Rcpt),
					slog.String("result", r.Status.String()), slog.String("mta", r.MTA), slog.String("reply", r.Text))
			}
			mu.Lock()
			all = append(all, res...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, nil
}

// complete makes sure every recipient has a result: a transport that
// forgot one is treated as a temporary failure.
func complete(to []string, res []Result) []Result {
	seen := map[string]bool{}
	for _, r := range res {
		seen[r.Rcpt] = true
	}
	for _, r := range to {
		if !seen[r] {
			res = append(res, Result{Rcpt: r, Status: Temporary, Enhanced: codeOtherTemp, Text: "no result from the transport"})
		}
	}
	return res
}

// record folds the results of an attempt into st.
func (s *Sender) record(st *state, results []Result) {
	now := s.cfg.now()
	for _, r := range results {
		switch r.Status {
		case Sent, Permanent:
			st.Rcpts[r.Rcpt] = rcptState{Result: r, At: now}
			delete(st.Deferred, r.Rcpt)
		default:
			st.Deferred[r.Rcpt] = r
		}
	}
}

func (s *Sender) count(st Status) {
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Deliveries.WithLabelValues("remote_" + st.String()).Inc()
	}
}

// nextAttempt is the time of the next try: store.Backoff from RetryBase
// to RetryMax, and never after the lifetime ends, so the last try comes
// at the deadline.
func (s *Sender) nextAttempt(j store.Job, now time.Time) time.Time {
	at := now.Add(store.Backoff(s.cfg.RetryBase, s.cfg.RetryMax, j.Attempts))
	if end := j.ReceivedAt.Add(s.cfg.Lifetime); at.After(end) {
		at = end
	}
	return at
}

// finish acks j and hands its object to the collector if no mailbox
// holds it (the inbound job of local recipients, if still queued, keeps
// it from being collected: see reconcile's collector).
func (s *Sender) finish(ctx context.Context, log *slog.Logger, j store.Job, st *state) {
	j, err := withState(j, st)
	if err == nil {
		err = s.cfg.Store.Ack(ctx, j)
	}
	if err != nil {
		log.Error("ack failed", slog.String("error", err.Error()))
		return
	}
	log.Info("outbound job done", slog.Int("recipients", len(st.Rcpts)))
	if err := s.cfg.Store.ReleaseBlob(ctx, j.BlobKey); err != nil {
		log.Warn("scheduling object deletion", slog.String("error", err.Error()))
	}
}

// retrySoon retries j after a failure of ours (storage), not the remote's,
// keeping st (what this attempt did; nil: the state j was claimed with).
func (s *Sender) retrySoon(ctx context.Context, log *slog.Logger, j store.Job, st *state, cause error) {
	log.Warn("outbound job failed; will retry", slog.String("error", cause.Error()))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if st != nil {
		var err error
		if j, err = withState(j, st); err != nil {
			log.Error("retry failed", slog.String("error", err.Error()))
			return
		}
	}
	at := s.cfg.now().Add(min(s.cfg.RetryBase, time.Minute))
	if err := s.cfg.Store.Retry(sctx, j, at, cause.Error()); err != nil {
		log.Error("retry failed", slog.String("error", err.Error()))
	}
}

func (s *Sender) bury(ctx context.Context, log *slog.Logger, j store.Job, st *state, cause error) {
	log.Error("outbound job buried", slog.String("error", cause.Error()))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if b, err := withState(j, st); err == nil {
		j = b
	}
	if err := s.cfg.Store.Bury(sctx, j, cause.Error()); err != nil {
		log.Error("bury failed", slog.String("error", err.Error()))
	}
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func allASCII(ss []string) bool {
	for _, s := range ss {
		if !isASCII(s) {
			return false
		}
	}
	return true
}
