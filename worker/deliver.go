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

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

// recipient is one local user to deliver to, with the envelope address
// that led to them (the first one, when several did).
type recipient struct {
	user store.User
	rcpt string
}

// deliver settles every recipient of j (invariant 8): local users get the
// message in their INBOX (or Junk), foreign alias targets an outbound copy
// (forward.go), SRS addresses of ours send a bounce back, and recipients
// that lead nowhere any more are reported to the sender (report).
func (w *Worker) deliver(ctx context.Context, j store.Job) error {
	key := j.BlobKey
	if key == "" {
		key = blob.MessageKey(j.ID)
	}
	sum, text, auth, err := w.summarize(ctx, key, j)
	if err != nil {
		return err
	}
	rt, err := w.resolve(ctx, j)
	if err != nil {
		return err
	}
	mailbox := w.placement(ctx, j, auth)
	if err := w.forwardAll(ctx, j, sum.Header, auth, mailbox, &rt); err != nil {
		return err
	}
	if err := w.report(ctx, j, rt.failed, sum.Header, auth); err != nil {
		return err
	}
	if len(rt.local) == 0 {
		// No mailbox will hold a reference to the object (copies going
		// out have their own): the collector deletes it.
		return w.cfg.Store.ReleaseBlob(ctx, key)
	}
	return w.deliverLocal(ctx, j, sum, text, auth, mailbox, rt.local)
}

// deliverLocal inserts the message into mailbox of each of rcpts, with its
// text for the search index when text is not nil.
func (w *Worker) deliverLocal(ctx context.Context, j store.Job, sum *message.Summary, text *message.Text, auth *authcheck.Result, mailbox string, rcpts []recipient) error {
	key := j.BlobKey
	if key == "" {
		key = blob.MessageKey(j.ID)
	}
	encoded := sum.Marshal()
	received := j.ReceivedAt
	if received.IsZero() {
		received = time.Now()
	}
	var over []overRcpt
	for _, r := range rcpts {
		prefix := deliveryPrefix(j.From, r.rcpt)
		if auth != nil {
			// RFC 8601 section 5: the result goes above the fields it
			// speaks about, after the trace fields of this hop.
			prefix = append(prefix, auth.Header...)
		}
		m := store.NewMessage{
			BlobKey:      key,
			Prefix:       prefix,
			Size:         int64(len(prefix)) + sum.Size,
			InternalDate: received,
			Summary:      encoded,
			Text:         entryText(prefix, text),
		}
		if err := w.checkQuota(ctx, j, r, mailbox, m); err != nil {
			if !errors.Is(err, quota.ErrOverQuota) {
				return err
			}
			over = append(over, overRcpt{r: r, err: err})
			continue
		}
		if err := w.filter(ctx, delivery{j: j, r: r, mailbox: mailbox, m: m, sum: sum, auth: auth}); err != nil {
			return err
		}
	}
	return w.settleOverQuota(ctx, j, over, sum.Header)
}

// maxInMemory is the size up to which the worker reads an object into
// memory, then parses it and extracts its text one after the other; a
// larger object streams through both at once. Most mail without
// attachments is smaller; a worker holds at most twice this per delivery
// in flight (the buffer's growth).
const maxInMemory = 256 << 10

// summarize reads the object once and parses it, makes the text of the
// search index (unless NoSearchIndex; text is nil then) and, for mail
// received on port 25, runs the authentication checks over it (invariant
// 5: one GET per message).
func (w *Worker) summarize(ctx context.Context, key string, j store.Job) (*message.Summary, *message.Text, *authcheck.Result, error) {
	rc, err := w.cfg.Blobs.Get(ctx, key, 0, -1)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			err = fault.Permanent(err)
		}
		return nil, nil, nil, fmt.Errorf("worker: reading %s: %w", key, err)
	}
	defer rc.Close()
	buf, _ := w.objects.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer w.objects.Put(buf)
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(rc, maxInMemory+1)); err != nil {
		return nil, nil, nil, fmt.Errorf("worker: reading %s: %w", key, err)
	}
	whole := buf.Len() <= maxInMemory
	var r io.Reader = bytes.NewReader(buf.Bytes())
	var tee *message.TextTee
	if !whole {
		r = io.MultiReader(r, rc)
		if !w.cfg.NoSearchIndex {
			r, tee = message.NewTextTee(r, message.IndexLimits)
		}
	}
	var (
		sum  *message.Summary
		auth *authcheck.Result
	)
	if w.cfg.Checker == nil || j.Auth != "" {
		sum, err = message.Parse(r)
	} else {
		sum, auth, err = w.parseAndCheck(ctx, r, j)
	}
	var text *message.Text
	switch {
	case tee != nil:
		t, terr := tee.Wait(err)
		if err == nil && terr == nil {
			text = &t
		}
	case err == nil && !w.cfg.NoSearchIndex:
		t := message.ExtractTextBytes(buf.Bytes(), message.IndexLimits)
		text = &t
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("worker: reading %s: %w", key, err)
	}
	return sum, text, auth, nil
}

// entryText is the search text of one recipient's entry: its prefix lines'
// and the object's; nil without text.
func entryText(prefix []byte, text *message.Text) *store.SearchText {
	if text == nil {
		return nil
	}
	t := search.EntryText(prefix, *text)
	return &t
}

// insert adds m to mailbox (INBOX, or Junk) of r, once per job and user
// (invariant 3). A user without that mailbox gets it in the INBOX.
func (w *Worker) insert(ctx context.Context, j store.Job, r recipient, mailbox string, m store.NewMessage) error {
	return w.insertKeyed(ctx, j, r, mailbox, m, j.ID+"/"+r.user.ID)
}

// insertKeyed is insert with the delivery key given (see sieve.go).
func (w *Worker) insertKeyed(ctx context.Context, j store.Job, r recipient, mailbox string, m store.NewMessage, key string) error {
	uid := r.user.ID
	if _, ok := w.ensured.Load(uid); !ok {
		if err := w.cfg.Store.EnsureUser(ctx, uid); err != nil {
			return fmt.Errorf("worker: mailboxes of %s: %w", uid, err)
		}
		w.ensured.Store(uid, struct{}{})
	}
	mb, err := w.cfg.Store.Mailbox(ctx, uid, mailbox)
	if errors.Is(err, store.ErrNotFound) && mailbox != store.Inbox {
		mb, err = w.cfg.Store.Mailbox(ctx, uid, store.Inbox)
	}
	if err != nil {
		return fmt.Errorf("worker: %s of %s: %w", mailbox, uid, err)
	}
	n, dup, err := w.cfg.Store.InsertMessage(ctx, uid, mb.ID, key, m)
	if err != nil {
		return fmt.Errorf("worker: delivering to %s: %w", uid, err)
	}
	w.indexed(uid, m, dup)
	result := resultDelivered
	if dup {
		result = resultDuplicate
	}
	w.count(result)
	w.log.LogAttrs(ctx, slog.LevelInfo, "delivered",
		slog.String("queue_id", j.ID), slog.String("recipient", r.rcpt),
		slog.String("user_id", uid), slog.String("mailbox", mb.Name),
		slog.Uint64("uid", uint64(n)), slog.Bool("duplicate", dup),
		slog.Int64("size", m.Size), slog.String("result", result))
	return nil
}

// deliveryPrefix is the per-recipient header lines served before the
// object: Return-Path with the envelope sender (RFC 5321 section 4.4, "<>"
// for the null sender) and Delivered-To with the envelope recipient.
func deliveryPrefix(from, rcpt string) []byte {
	return []byte("Return-Path: <" + headerSafe(from) + ">\r\n" +
		"Delivered-To: " + headerSafe(rcpt) + "\r\n")
}

// headerSafe drops characters that could end or fold a header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

// indexed counts the text of an entry just inserted and hands it to the
// TextSink, if any (also for a duplicate: a sink may have lost it).
func (w *Worker) indexed(userID string, m store.NewMessage, dup bool) {
	if m.Text == nil {
		return
	}
	if w.cfg.TextSink != nil {
		w.cfg.TextSink.AddText(userID, m.BlobKey, *m.Text)
	}
	if met := w.cfg.Metrics; met != nil && !dup {
		met.SearchIndexed.Inc()
		met.SearchIndexedBytes.Add(float64(len(m.Text.Head) + len(m.Text.Body)))
	}
}
