package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Data stores the message and enqueues its job, and only then answers 250
// (invariant 1). Any failure before that answers 4xx and leaves nothing
// that would be delivered later, except an enqueue whose outcome is
// unknown (see enqueueFailed).
func (s *session) Data(r io.Reader) error {
	// Busy from before take until Data returns, so Shutdown never cuts
	// the message short (shutdown.go).
	s.setInData(true)
	defer s.setInData(false)
	tx := s.take()
	if tx == nil || len(tx.rcpts) == 0 {
		return errTempFailure // go-smtp checks RCPT first; a concurrent Close can get here
	}
	// go-smtp sets the read deadline per command line; the whole DATA block
	// gets its own, longer one (RFC 5321 section 4.5.3.2.6).
	_ = s.conn.Conn().SetReadDeadline(time.Now().Add(dataTimeout))
	out := s.deliver(tx, r)
	s.logTx(tx, out)
	if out.reply != nil {
		return out.reply
	}
	// go-smtp sends any *SMTPError as is, a 250 included: that is how the
	// reply names the queue id.
	return reply(c250OK, e200Other, "OK queued as "+out.id)
}

// outcome is how a transaction ended, for the log.
type outcome struct {
	id     string
	size   int64 // message bytes received, Received: line excluded
	reply  *smtp.SMTPError
	result string // "queued", "too_big", "line_too_long", "storage", "client", "from_refused", "abandoned"
	err    error  // detail for the log
	// bareEOL counts the bare CR and LF made CRLF (crlf.go).
	bareEOL int64
}

func (s *session) deliver(tx *transaction, r io.Reader) outcome {
	cfg := &s.srv.cfg
	now := time.Now().UTC()
	id := ulid.Make().String()
	job := store.Job{
		ID:         id,
		Queue:      queueFor(tx),
		BlobKey:    blob.MessageKey(id),
		From:       tx.from,
		To:         tx.rcpts,
		ReceivedAt: now,
		ClientIP:   s.clientIP,
		Helo:       tx.helo,
		Auth:       tx.auth,
	}
	trace := receivedHeader(traceInfo{
		helo: tx.helo, clientIP: s.clientIP, hostname: cfg.Hostname, tls: s.tls,
		auth: tx.auth != "", id: id, rcpts: tx.rcpts, date: now,
	})
	eol := newCRLFReader(r) // on every port: smuggling goes out by submission, comes in on 25
	body := &limitReader{r: eol, max: cfg.MaxMessageSize}
	var header *headerCapture // submission: the header block, to check From:
	var stream io.Reader = body
	if s.mode != MX {
		header = &headerCapture{r: body}
		stream = header
	}

	ctx, cancel := context.WithTimeout(s.srv.ctx, dataTimeout)
	defer cancel()
	out := outcome{id: id}
	_, err := s.put(ctx, job, io.MultiReader(strings.NewReader(trace), stream))
	out.size, out.bareEOL = body.n, eol.fixed
	if err == nil && (body.tooBig || body.readErr != nil) {
		// A Put that swallowed the reader's error must not leave the object.
		s.deleteObject(job.BlobKey)
		err = fmt.Errorf("edge: blob store accepted a failed stream")
	}
	switch {
	case body.tooBig:
		s.reject("too_big")
		out.result, out.reply, out.err = "too_big", errTooBig, err
		return out
	case errors.Is(body.readErr, smtp.ErrTooLongLine):
		s.reject("line_too_long")
		out.result, out.reply, out.err = "line_too_long", errLineTooLong, body.readErr
		return out
	case body.readErr != nil:
		out.result, out.reply, out.err = "client", errTempFailure, body.readErr
		return out
	case err != nil:
		out.result, out.reply, out.err = "storage", s.storageFailure(nil, "put", err), err
		return out
	}
	if header != nil {
		if rep, err := s.checkFromHeader(ctx, header); rep != nil || err != nil {
			// Nothing was queued: the object goes, and the client hears why.
			s.deleteObject(job.BlobKey)
			if err != nil {
				out.result, out.reply, out.err = "storage", s.storageFailure(nil, "from", err), err
				return out
			}
			reason := "bad_header"
			if rep == errSenderNotOwned {
				reason = "sender_not_owned"
			}
			s.reject(reason)
			out.result, out.reply = "from_refused", rep
			return out
		}
	}
	if rep, result, err := s.checkDMARC(ctx, job); rep != nil {
		out.result, out.reply, out.err = result, rep, err
		return out
	}
	if err := s.enqueue(ctx, job); err != nil && !s.enqueueFailed(job, err) {
		out.result, out.reply, out.err = "storage", s.storageFailure(nil, "enqueue", err), err
		return out
	}
	cfg.Metrics.Accepted.WithLabelValues(s.mode.String()).Inc()
	s.countSent(tx)
	out.result = "queued"
	return out
}

// queueFor picks the queue of a transaction. A submitted message with at
// least one remote recipient becomes ONE outbound job whose To holds every
// recipient, local ones too: the outbound worker hands the local ones back
// to the inbound queue under the same id. Anything else is one inbound job.
func queueFor(tx *transaction) string {
	if tx.remote && tx.auth != "" {
		return store.QueueOutbound
	}
	return store.QueueInbound
}

// intake writes objects and enqueues jobs for the edge, each storage
// call timed.
func (s *Server) intake() intake.Intake {
	return intake.Intake{Blobs: s.cfg.Blobs, Queue: s.cfg.Queue, Observe: s.observe}
}

func (s *session) put(ctx context.Context, job store.Job, r io.Reader) (int64, error) {
	return s.srv.intake().Put(ctx, job, r)
}

func (s *session) enqueue(ctx context.Context, job store.Job) error {
	_, err := s.srv.intake().Enqueue(ctx, job) // a duplicate is queued: 250
	return err
}

// enqueueFailed decides what an Enqueue that returned err did (see
// intake.Settle), and reports whether the job is queued after all.
// Queued: the client gets 250, and no dead letter "object missing" is left
// for mail it would resend. Certainly not queued: the object is gone.
// Unknown: the object stays, since its job may exist; if it does not, the
// reconciler enqueues the object (invariant 2), and the client, told 4xx,
// may send a copy.
func (s *session) enqueueFailed(job store.Job, err error) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.srv.ctx), storeTimeout)
	defer cancel()
	out, serr := s.srv.intake().Settle(ctx, job, err)
	switch {
	case out == intake.Dropped:
		if serr != nil {
			s.srv.cfg.Log.Error("smtp could not delete unqueued object", slog.String("key", job.BlobKey), slog.String("error", serr.Error()))
		}
		return false
	case out == intake.Unknown:
		s.srv.cfg.Log.Warn("smtp enqueue outcome unknown: object kept for the reconciler", slog.String("key", job.BlobKey),
			slog.Bool("looked_up", serr == nil), slog.String("error", err.Error()))
		return false
	}
	s.srv.cfg.Log.Warn("smtp enqueue failed but the job is queued", slog.String("id", job.ID),
		slog.String("error", err.Error()))
	return true
}

// deleteObject removes an object whose job could not be enqueued, best
// effort: the reconciler would otherwise deliver a message the client was
// told to send again. It outlives Close, which may be why Enqueue failed.
func (s *session) deleteObject(key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.srv.ctx), storeTimeout)
	defer cancel()
	if err := s.srv.intake().Delete(ctx, store.Job{BlobKey: key}); err != nil {
		s.srv.cfg.Log.Error("smtp could not delete unqueued object", slog.String("key", key), slog.String("error", err.Error()))
	}
}
