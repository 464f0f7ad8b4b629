package imapgw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Append answers APPEND (RFC 9051 section 6.3.12) with APPENDUID (RFC 4315
// section 3). The literal is streamed once: into a new object and, through
// a pipe, into the parser that makes the index summary. A failed insert
// deletes the object again.
func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if r.Size() > s.srv.cfg.AppendLimit {
		return nil, errTooBig
	}
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, mailbox)
	if err != nil {
		return nil, s.protoErr("append", err, errTryCreate)
	}
	if err := s.checkQuota(r.Size()); err != nil {
		return nil, err
	}
	date := options.Time
	if date.IsZero() {
		date = time.Now()
	}
	id := ulid.Make().String()
	flags := storeFlags(options.Flags)
	// The metadata lets reindex put the message back if the index loses it.
	meta := store.AppendMeta(store.Appended{UserID: s.user.ID, Mailbox: mb.Name, Date: date, Flags: flags})
	key, sum, text, size, err := putMessage(s.ctx, s.srv.cfg.Blobs, id, r, meta)
	if err != nil {
		return nil, s.protoErr("append: store object", err, nil)
	}
	var st *store.SearchText
	if !s.srv.cfg.NoSearchIndex {
		st = searchText(text)
	}
	// The idempotency key has the form of a delivery's, <object id>/<user
	// id>, so that reindex can tell whether the object is in the index.
	uid, _, err := s.mailboxes().InsertMessage(s.ctx, s.user.ID, mb.ID, id+"/"+s.user.ID, store.NewMessage{
		BlobKey:      key,
		Size:         size,
		InternalDate: date,
		Flags:        flags,
		Summary:      sum.Marshal(),
		Text:         st,
	})
	if err != nil {
		if derr := s.srv.cfg.Blobs.Delete(s.ctx, key); derr != nil {
			s.log.Warn("imap append: delete object", slog.String("key", key), slog.Any("err", derr))
		}
		return nil, s.protoErr("append: insert", err, errTryCreate)
	}
	if sink := s.srv.cfg.TextSink; sink != nil && st != nil {
		sink.AddText(s.user.ID, key, *st)
	}
	return &imap.AppendData{UID: imap.UID(uid), UIDValidity: mb.UIDValidity}, nil
}

// checkQuota answers NO [OVERQUOTA] (RFC 9208 section 4.3, RFC 5530) when
// size more bytes would take the user over its storage quota. The user is
// read again so that a quota changed during the session applies at once.
func (s *session) checkQuota(size int64) error {
	u, err := s.srv.cfg.Store.UserByID(s.ctx, s.user.ID)
	if err != nil {
		return s.protoErr("append: quota", err, errUnavailable)
	}
	err = quota.Check(s.ctx, s.srv.cfg.Store, u, s.srv.cfg.DefaultQuota, size)
	if errors.Is(err, quota.ErrOverQuota) {
		// s.log carries user_id since login.
		s.log.Info("imap append over quota", slog.String("error", err.Error()))
		return errOverQuota
	}
	return s.protoErr("append: quota", err, nil)
}

// putMessage writes r to a new object msg/<id> with meta and parses it on
// the way, reading r once. It returns the key, the summary and the
// object's size.
func putMessage(ctx context.Context, blobs blob.Store, id string, r io.Reader, meta map[string]string) (string, *message.Summary, *message.Text, int64, error) {
	key := blob.MessageKey(id)
	pr, pw := io.Pipe()
	type parsed struct {
		sum  *message.Summary
		text message.Text
		err  error
	}
	done := make(chan parsed, 1)
	go func() {
		tr, tee := message.NewTextTee(pr, message.IndexLimits)
		sum, err := message.Parse(tr)
		// Drain what the parser left so that Put never blocks on the pipe.
		_, _ = io.Copy(io.Discard, tr)
		text, terr := tee.Wait(err)
		done <- parsed{sum, text, errors.Join(err, terr)}
	}()
	n, err := blobs.Put(ctx, key, io.TeeReader(r, pw), meta)
	pw.CloseWithError(err) // nil: the parser sees EOF
	p := <-done
	if err != nil {
		return "", nil, nil, 0, err
	}
	if p.err != nil {
		_ = blobs.Delete(ctx, key)
		return "", nil, nil, 0, fmt.Errorf("imapgw: parse message: %w", p.err)
	}
	return key, p.sum, &p.text, n, nil
}

// searchText is the index's form of an appended message's text (it has no
// prefix lines).
func searchText(t *message.Text) *store.SearchText {
	return &store.SearchText{Head: t.Head, Body: t.Body, Truncated: t.Truncated}
}
