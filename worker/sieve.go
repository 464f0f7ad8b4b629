package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-msgauth/authres"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/dsn"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/sieve"
	"github.com/bucketmail/bucketmail/internal/sievestore"
	"github.com/bucketmail/bucketmail/internal/store"
)

// maxSieveBody bounds the part of the body a script's body test reads.
const maxSieveBody = 64 << 10

// delivery is one recipient's copy of a job, as deliverLocal prepared it.
type delivery struct {
	j       store.Job
	r       recipient
	mailbox string // INBOX, or Junk after the authentication checks
	m       store.NewMessage
	sum     *message.Summary
	auth    *authcheck.Result
	stored  *bool // an entry was made for this user by the script's actions
}

// filter delivers d through the recipient's active Sieve script, if any
// (RFC 5228). The script runs after the authentication checks, so its
// header tests see Authentication-Results. A script that fails keeps the
// message (the implicit keep, RFC 5228 section 2.10.6): mail is never
// lost to a script. Every action is idempotent with the job's id, so a
// job run twice acts once.
func (w *Worker) filter(ctx context.Context, d delivery) error {
	if w.cfg.Sieve == nil {
		return w.insert(ctx, d.j, d.r, d.mailbox, d.m)
	}
	src, err := w.active(ctx, d.r.user.ID)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if src == "" {
		return w.insert(ctx, d.j, d.r, d.mailbox, d.m)
	}
	res, err := w.runSieve(ctx, d, src)
	if err != nil {
		w.log.LogAttrs(ctx, slog.LevelWarn, "sieve script failed, message kept",
			slog.String("queue_id", d.j.ID), slog.String("user_id", d.r.user.ID),
			slog.String("recipient", d.r.rcpt), slog.String("error", err.Error()))
		return w.insert(ctx, d.j, d.r, d.mailbox, d.m)
	}
	stored := false
	d.stored = &stored
	for _, a := range res.Actions {
		if err := w.act(ctx, d, a); err != nil {
			return err
		}
	}
	if !stored {
		// Discarded, rejected or only redirected: this user holds no
		// reference to the object. Unless another recipient's entry
		// holds one, the collector deletes it once the job is done (it
		// checks both).
		return w.cfg.Store.ReleaseBlob(ctx, d.m.BlobKey)
	}
	return nil
}

// runSieve compiles src and runs it on the message of d.
func (w *Worker) runSieve(ctx context.Context, d delivery, src string) (*sieve.Result, error) {
	s, err := w.scripts.compile(src)
	if err != nil {
		return nil, err
	}
	msg := w.sieveMessage(ctx, d)
	if s.Requires("body") {
		text, raw, err := w.bodyText(ctx, d)
		if err != nil {
			return nil, err
		}
		msg.Body, msg.RawBody = text, raw
	}
	return s.Run(msg)
}

// sieveMessage is what a script sees of d: the header with the
// authentication results on top, the envelope and the size.
func (w *Worker) sieveMessage(ctx context.Context, d delivery) *sieve.Message {
	header := d.m.Prefix
	header = append(header[:len(header):len(header)], d.sum.Header...)
	return &sieve.Message{
		Header: parseFields(header),
		From:   d.j.From,
		To:     d.r.rcpt,
		Size:   d.sum.Size,
		Mailbox: func(name string) bool {
			_, err := w.cfg.Store.Mailbox(ctx, d.r.user.ID, name)
			return err == nil
		},
		Include: func(global bool, name string) (string, error) {
			return w.includeScript(ctx, d.r.user.ID, global, name)
		},
	}
}

// includeScript returns one of the user's scripts for include (RFC 6609
// :personal); there are no global scripts yet.
func (w *Worker) includeScript(ctx context.Context, uid string, global bool, name string) (string, error) {
	if global || w.cfg.Sieve == nil {
		return "", sieve.ErrNoScript
	}
	src, err := w.cfg.Sieve.Get(ctx, uid, name)
	if errors.Is(err, sievestore.ErrNotFound) {
		return "", sieve.ErrNoScript
	}
	return src, err
}

// bodyText returns the decoded text of the message's text parts for the
// body test (RFC 5173 section 5: transfer encodings undone), and the raw
// body for :raw: one bounded read, only for scripts that require "body".
func (w *Worker) bodyText(ctx context.Context, d delivery) (text, raw string, err error) {
	rc, err := w.cfg.Blobs.Get(ctx, d.m.BlobKey, 0, d.sum.HeaderSize+maxSieveBody)
	if err != nil {
		return "", "", fmt.Errorf("reading the body of %s: %w", d.m.BlobKey, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, d.sum.HeaderSize+maxSieveBody))
	if err != nil {
		return "", "", fmt.Errorf("reading the body of %s: %w", d.m.BlobKey, err)
	}
	if int64(len(b)) > d.sum.HeaderSize {
		raw = string(b[d.sum.HeaderSize:])
	}
	var out strings.Builder
	if ent, err := gomessage.Read(bytes.NewReader(b)); err == nil || gomessage.IsUnknownCharset(err) || gomessage.IsUnknownEncoding(err) {
		collectText(ent, &out, 0)
	}
	return out.String(), raw, nil
}

// collectText appends the decoded text/* parts of ent to out, up to
// maxSieveBody bytes; a part that does not decode is skipped.
func collectText(ent *gomessage.Entity, out *strings.Builder, depth int) {
	if ent == nil || depth > 10 || out.Len() >= maxSieveBody {
		return
	}
	if mr := ent.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
				return
			}
			collectText(p, out, depth+1)
		}
	}
	t, _, _ := ent.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") {
		return
	}
	b, _ := io.ReadAll(io.LimitReader(ent.Body, int64(maxSieveBody-out.Len())))
	out.Write(b)
}

// parseFields splits a header block into unfolded fields (RFC 5322
// section 2.2.3).
func parseFields(header []byte) []sieve.Field {
	var out []sieve.Field
	for line := range bytes.Lines(header) {
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += " " + strings.TrimSpace(string(line))
			continue
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		out = append(out, sieve.Field{Name: string(bytes.TrimSpace(name)), Value: strings.TrimSpace(string(value))})
	}
	return out
}

// act carries out one action for d.
func (w *Worker) act(ctx context.Context, d delivery, a sieve.Action) error {
	switch a.Kind {
	case sieve.Keep:
		return w.fileInto(ctx, d, d.mailbox, false, a.Flags)
	case sieve.FileInto:
		return w.fileInto(ctx, d, a.Mailbox, a.Create, a.Flags)
	case sieve.Redirect:
		return w.sieveRedirect(ctx, d, a.Address)
	case sieve.Reject:
		return w.sieveReject(ctx, d, a.Reason)
	case sieve.Vacation:
		return w.vacation(ctx, d, a.Vacation)
	}
	return nil
}

// fileInto adds an index entry for the same object to the recipient's
// mailbox name, creating it first for :create (RFC 5490 section 3). A
// mailbox that does not exist means the INBOX. The first entry of a run
// has the delivery key of a delivery without a script (what reindex
// looks for); further ones add their mailbox's id to it, so each mailbox
// gets one entry per job.
func (w *Worker) fileInto(ctx context.Context, d delivery, name string, create bool, flags []string) error {
	uid := d.r.user.ID
	if create && name != "" {
		err := w.cfg.Store.CreateMailbox(ctx, uid, name, "")
		if err != nil && !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("worker: creating %s of %s: %w", name, uid, err)
		}
	}
	m := d.m
	m.Flags = flags
	key := d.j.ID + "/" + uid
	if d.stored != nil && *d.stored {
		mb, err := w.cfg.Store.Mailbox(ctx, uid, name)
		if errors.Is(err, store.ErrNotFound) {
			mb, err = w.cfg.Store.Mailbox(ctx, uid, store.Inbox)
		}
		if err != nil {
			return fmt.Errorf("worker: %s of %s: %w", name, uid, err)
		}
		key += "/" + mb.ID
	}
	if d.stored != nil {
		*d.stored = true
	}
	return w.insertKeyed(ctx, d.j, d.r, name, m, key)
}

// sieveRedirect sends a copy to addr through the forwarding path (SRS,
// loop and junk checks of forward.go). A copy that must not go out is
// kept instead.
func (w *Worker) sieveRedirect(ctx context.Context, d delivery, addr string) error {
	hops := countFields(d.sum.Header, "Received")
	if status, why := w.refuseForward(d.sum.Header, hops, d.auth, d.mailbox, d.r.rcpt); status != "" {
		w.log.LogAttrs(ctx, slog.LevelInfo, "sieve redirect refused, message kept", slog.String("queue_id", d.j.ID),
			slog.String("recipient", d.r.rcpt), slog.String("to", addr), slog.String("reason", why))
		return w.fileInto(ctx, d, d.mailbox, false, nil)
	}
	from, err := w.srsFrom(ctx, d.j, d.r.rcpt)
	if err != nil {
		return err
	}
	id, _ := derivedID(d.j, "sieve-redirect", []string{d.r.user.ID, strings.ToLower(addr)})
	fj := store.Job{ID: id, From: from, To: []string{addr}, Auth: ForwardAuth + d.r.rcpt}
	return w.copyOut(ctx, d.j, fj, "Delivered-To: "+headerSafe(d.r.rcpt)+"\r\n", resultForwarded)
}

// sieveReject refuses the message with a DSN (RFC 5429 section 2.1.2),
// but only when the sender is known to be genuine: mail submitted by a
// user, or whose SPF or a DKIM signature passed. Otherwise the DSN could
// go to a forged sender (backscatter) and the message is kept.
func (w *Worker) sieveReject(ctx context.Context, d delivery, reason string) error {
	if !senderVerified(d.j, d.auth) {
		w.log.LogAttrs(ctx, slog.LevelInfo, "sieve reject not sent to an unverified sender, message kept",
			slog.String("queue_id", d.j.ID), slog.String("recipient", d.r.rcpt), slog.String("from", d.j.From))
		return w.fileInto(ctx, d, d.mailbox, false, nil)
	}
	if d.j.From == "" {
		return nil
	}
	rc := dsn.Recipient{Rcpt: d.r.rcpt, Status: "5.7.1", Diagnostic: "rejected by the recipient's filter: " + oneLine(reason)}
	return w.sendDSN(ctx, d.j, "sieve-reject", []dsn.Recipient{rc}, d.sum.Header)
}

// senderVerified reports whether j's sender is authenticated.
func senderVerified(j store.Job, auth *authcheck.Result) bool {
	if j.Auth != "" {
		return true
	}
	if auth == nil {
		return false
	}
	if auth.SPF == authres.ResultPass {
		return true
	}
	for _, k := range auth.DKIM {
		if k.Value == authres.ResultPass {
			return true
		}
	}
	return false
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// maxCachedScripts bounds the compiled scripts a worker keeps.
const maxCachedScripts = 1024

// scriptCache keeps compiled scripts by the hash of their text: a cache
// of what the store holds, never the record, so the worker stays
// stateless. A compiled script is safe to run concurrently.
type scriptCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*sieve.Script
}

func (c *scriptCache) compile(src string) (*sieve.Script, error) {
	key := sha256.Sum256([]byte(src))
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := sieve.Compile(src, sieve.Limits{})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedScripts {
		c.m = map[[sha256.Size]byte]*sieve.Script{}
	}
	c.m[key] = s
	return s, nil
}
