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

	"github.com/bucketmail/bucketmail/gateway/imap/engine"
	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/quota"
	"github.com/bucketmail/bucketmail/internal/store"
)

// maxAppendMessages bounds the messages of one MULTIAPPEND (invariant
// 9): their index entries are inserted in one step. Past it the command
// is refused with NO [LIMIT] before the client sends the next message.
const maxAppendMessages = 1000

// errTooManyMessages refuses a MULTIAPPEND past maxAppendMessages.
var errTooManyMessages = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeLimit,
	Text: "Too many messages in one APPEND"}

// appending is what the running APPEND has accepted so far: its
// messages' sizes count against the quota of the next one, since none is
// in the index before the last is read.
type appending struct {
	messages int
	bytes    int64
	// mb is the target mailbox, looked up before the first continuation
	// request: a mailbox that does not exist is NO [TRYCREATE] before the
	// client sends anything.
	mb *store.Mailbox
}

// checkAppend is asked about each APPEND message before the client sends
// it (engine.Config.CheckAppend): over APPENDLIMIT is NO [TOOBIG] (RFC
// 7889), over the user's quota with the command's earlier messages NO
// [OVERQUOTA] (RFC 9208 section 4.3), either before the continuation
// request of a synchronizing literal. A refused message of a MULTIAPPEND
// fails the whole command (the reader discards the rest of it).
func (srv *Server) checkAppend(c *engine.Conn, info wire.LiteralInfo) error {
	if info.Size > srv.cfg.AppendLimit {
		return errTooBig
	}
	s := at(c)
	if s.appending.mb == nil {
		mb, err := s.appendMailbox(info.Mailbox)
		if err != nil {
			return err
		}
		s.appending.mb = &mb
	}
	if s.appending.messages >= maxAppendMessages {
		return errTooManyMessages
	}
	if err := s.checkQuota(s.appending.bytes + info.Size); err != nil {
		return err
	}
	s.appending.messages++
	s.appending.bytes += info.Size
	return nil
}

// appendCmd answers APPEND (RFC 9051 section 6.3.12) with APPENDUID (RFC
// 4315 section 3), and MULTIAPPEND (RFC 3502): every message is streamed
// once, into a new object and, through a pipe, into the parser that makes
// the index summary (the object before its index entry). Once all the
// messages are read, their entries are inserted in one atomic step, each
// with its idempotency key, or none is.
//
// On a failure no entry is inserted. Objects written before the failure
// was known (a later message refused, or not parsed) are deleted at once:
// nothing can reference them. Objects whose insert failed are released to
// the collector instead (store.Ledger.ReleaseBlob): an insert that failed
// uncertainly (a timeout after the Redis script ran) may have kept them,
// and the collector deletes only what no entry references.
func (s *session) appendCmd(cmd *wire.Command) error {
	defer func() { s.appending = appending{} }()
	a := cmd.Args.(*wire.Append)
	r := s.conn.Reader()
	var (
		mb   store.Mailbox
		fail error
	)
	if s.appending.mb != nil {
		mb = *s.appending.mb
	} else {
		mb, fail = s.appendMailbox(a.Mailbox)
	}
	var put []putObject
	for m := a.Message; m != nil; {
		if fail == nil {
			p, err := s.putObject(mb, m)
			if err != nil {
				fail = err
			} else {
				put = append(put, p)
			}
		}
		next, err := r.NextMessage()
		if err != nil {
			s.deleteObjects(put)
			return s.readError(err)
		}
		m = next
	}
	if fail != nil {
		s.deleteObjects(put)
		return fail
	}
	ms := make([]store.NewMessage, len(put))
	for i, p := range put {
		ms[i] = p.msg
	}
	uids, err := s.mailboxes().InsertMessages(s.ctx, s.user.ID, mb.ID, ms)
	if err != nil {
		s.releaseObjects(put)
		return s.protoErr("append: insert", err, errTryCreate)
	}
	if sink := s.srv.cfg.TextSink; sink != nil {
		for _, p := range put {
			if p.msg.Text != nil {
				sink.AddText(s.user.ID, p.key, *p.msg.Text)
			}
		}
	}
	s.conn.SetOK("APPENDUID "+itoa32(mb.UIDValidity)+" "+uidSet(uids), "APPEND completed")
	return nil
}

// appendMailbox is the mailbox an APPEND names (raw, as sent).
func (s *session) appendMailbox(raw string) (store.Mailbox, error) {
	name, err := s.mailboxName(raw)
	if err != nil {
		return store.Mailbox{}, err
	}
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return store.Mailbox{}, s.protoErr("append", err, errTryCreate)
	}
	return mb, nil
}

// deleteObjects deletes the objects of an APPEND that inserted nothing
// and never tried to.
func (s *session) deleteObjects(put []putObject) {
	for _, p := range put {
		if err := s.srv.cfg.Blobs.Delete(s.ctx, p.key); err != nil {
			s.log.Warn("imap append: delete object", slog.String("key", p.key), slog.Any("err", err))
		}
	}
}

// releaseObjects hands the objects of a failed insert to the collector,
// which deletes those no index entry references.
func (s *session) releaseObjects(put []putObject) {
	for _, p := range put {
		if err := s.srv.cfg.Store.ReleaseBlob(s.ctx, p.key); err != nil {
			s.log.Warn("imap append: release object", slog.String("key", p.key), slog.Any("err", err))
		}
	}
}

// putObject is a message of an APPEND, stored and not yet in the index.
type putObject struct {
	id, key string
	msg     store.NewMessage
}

// putObject stores one APPEND message as an object.
func (s *session) putObject(mb store.Mailbox, m *wire.Message) (putObject, error) {
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	id := ulid.Make().String()
	flags := storeFlags(m.Flags)
	// The metadata lets reindex put the message back if the index loses it.
	meta := store.AppendMeta(store.Appended{UserID: s.user.ID, Mailbox: mb.Name, Date: date, Flags: flags})
	key, sum, text, size, err := putMessage(s.ctx, s.srv.cfg.Blobs, id, m, meta)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return putObject{}, err // the client is gone
		}
		return putObject{}, s.protoErr("append: store object", err, nil)
	}
	var st *store.SearchText
	if !s.srv.cfg.NoSearchIndex {
		st = searchText(text)
	}
	// The idempotency key has the form of a delivery's, <object id>/<user
	// id>, so that reindex can tell whether the object is in the index.
	return putObject{id: id, key: key, msg: store.NewMessage{
		IdemKey:      id + "/" + s.user.ID,
		BlobKey:      key,
		Size:         size,
		InternalDate: date,
		Flags:        flags,
		Summary:      sum.Marshal(),
		Text:         st,
	}}, nil
}

// readError answers what the reader refused in the middle of a command
// (the next message of a MULTIAPPEND): BAD, or BYE for what ends the
// session.
func (s *session) readError(err error) error {
	var e *wire.Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Kind {
	case wire.KindFatal:
		s.conn.Writer().Status("*", "BYE", e.Code, e.Msg)
		return io.ErrUnexpectedEOF // ends the session without a tagged answer
	case wire.KindRefused:
		return e.Err
	}
	return &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCode(e.Code), Text: "Syntax error: " + e.Msg}
}

// checkQuota answers NO [OVERQUOTA] (RFC 9208 section 4.3, RFC 5530) when
// size more bytes would take the user over its storage quota. The user is
// read again so that a quota changed during the session applies at once.
func (s *session) checkQuota(size int64) error {
	u, err := s.srv.cfg.Store.UserByID(s.ctx, s.user.ID)
	if err != nil {
		return s.protoErr("append: quota", err, errUnavailable)
	}
	return s.quotaCheck("append", u, size)
}

// quotaCheck is checkQuota for a user read; op names the command in the
// log.
func (s *session) quotaCheck(op string, u store.User, size int64) error {
	err := quota.Check(s.ctx, s.srv.cfg.Store, u, s.srv.cfg.DefaultQuota, size)
	if errors.Is(err, quota.ErrOverQuota) {
		// s.log carries user_id since login.
		s.log.Info("imap "+op+" over quota", slog.String("error", err.Error()))
		return errOverQuota
	}
	return s.protoErr(op+": quota", err, nil)
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
