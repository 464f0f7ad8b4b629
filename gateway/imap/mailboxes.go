package imapgw

import (
	"context"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// create makes a mailbox and any missing parents (RFC 9051 section
// 6.3.4), with at most one special-use attribute (RFC 6154 section 3).
func (s *session) create(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Create)
	name, err := s.mailboxName(a.Mailbox)
	if err != nil {
		return err
	}
	// A trailing delimiter only says that inferiors are planned.
	name = strings.TrimSuffix(name, string(store.Delimiter))
	var use string
	if len(a.SpecialUse) > 0 {
		attr, ok := knownSpecialUse(a.SpecialUse[0])
		if len(a.SpecialUse) > 1 || !ok {
			return errUseAttr
		}
		use = attr
	}
	if err := s.mailboxes().CreateMailbox(s.ctx, s.user.ID, name, use); err != nil {
		return s.protoErr("create", err, nil)
	}
	// The new mailbox's MAILBOXID (RFC 8474 section 4.1); a mailbox
	// renamed or deleted meanwhile just goes without it.
	if mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name); err == nil {
		s.conn.SetOK("MAILBOXID ("+mb.ID+")", "CREATE completed")
	}
	return nil
}

// mailboxCmd answers the commands that take one mailbox name: DELETE
// removes a mailbox and its messages, inferiors stay (RFC 9051 section
// 6.3.5; the store schedules the deletion of the objects no mailbox refers
// to any more); SUBSCRIBE and UNSUBSCRIBE (sections 6.3.7, 6.3.8).
func (s *session) mailboxCmd(cmd *wire.Command) error {
	name, err := s.mailboxName(cmd.Args.(*wire.MailboxArg).Mailbox)
	if err != nil {
		return err
	}
	switch cmd.Name {
	case "DELETE":
		err = s.mailboxes().DeleteMailbox(s.ctx, s.user.ID, name)
	case "SUBSCRIBE":
		err = s.mailboxes().SetSubscribed(s.ctx, s.user.ID, name, true)
	default:
		err = s.mailboxes().SetSubscribed(s.ctx, s.user.ID, name, false)
	}
	return s.protoErr(strings.ToLower(cmd.Name), err, nil)
}

// rename renames a mailbox and its inferiors; renaming INBOX moves its
// messages (RFC 9051 section 6.3.6). The store keeps those rules.
func (s *session) rename(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Rename)
	from, err := s.mailboxName(a.From)
	if err != nil {
		return err
	}
	to, err := s.mailboxName(a.To)
	if err != nil {
		return err
	}
	to = strings.TrimSuffix(to, string(store.Delimiter))
	return s.protoErr("rename", s.mailboxes().RenameMailbox(s.ctx, s.user.ID, from, to), nil)
}

// status answers STATUS (RFC 9051 section 6.3.11) from the index.
func (s *session) status(cmd *wire.Command) error {
	a := cmd.Args.(*wire.Status)
	if err := checkStatusItems(a.Items); err != nil {
		return err
	}
	name, err := s.mailboxName(a.Mailbox)
	if err != nil {
		return err
	}
	defer s.watch()()
	if slices.Contains(a.Items, "HIGHESTMODSEQ") {
		s.mu.Lock()
		s.enableCondStore(s.sel) // RFC 7162 section 3.1
		s.mu.Unlock()
	}
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return s.protoErr("status", err, nil)
	}
	// Echo the name as the client spelt it ("inbox"): clients match on it.
	return s.protoErr("status", s.writeStatus(mb, a.Mailbox, a.Items), nil)
}

// statusItems are the STATUS items answered (RFC 9051 section 6.3.11,
// RFC 3501's RECENT, SIZE of RFC 8438, APPENDLIMIT of RFC 7889,
// DELETED-STORAGE of RFC 9208, HIGHESTMODSEQ of RFC 7162, MAILBOXID of
// RFC 8474), in the order they are written.
var statusItems = []string{"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT", "APPENDLIMIT", "DELETED-STORAGE", "HIGHESTMODSEQ", "MAILBOXID"}

func checkStatusItems(items []string) error {
	for _, it := range items {
		if !slices.Contains(statusItems, it) {
			return &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown STATUS item " + it}
		}
	}
	return nil
}

// writeStatus writes "* STATUS name (items)" for mb; spelt, if not
// empty, is the name as the client sent it. DELETED is the index's count;
// DELETED-STORAGE needs the flags of every message, so it costs a scan of
// the index. RECENT is what the next claim of \Recent would get (RFC
// 3501 section 2.3.2), counted without claiming it.
func (s *session) writeStatus(mb store.Mailbox, spelt string, items []string) error {
	var deletedSize int64
	if slices.Contains(items, "DELETED-STORAGE") {
		var err error
		if _, deletedSize, err = s.countDeleted(s.ctx, mb.ID); err != nil {
			return err
		}
	}
	var recent uint32
	if slices.Contains(items, "RECENT") {
		var err error
		if recent, err = s.mailboxes().CountRecent(s.ctx, s.user.ID, mb.ID); err != nil {
			return err
		}
	}
	w := s.conn.Writer().Start().Atom("STATUS")
	switch {
	case spelt != "" && mb.Name == store.Inbox:
		w.Atom(spelt)
	case spelt != "":
		w.String(spelt)
	default:
		w.Mailbox(mb.Name)
	}
	w.BeginList()
	for _, it := range statusItems {
		if !slices.Contains(items, it) {
			continue
		}
		w.Atom(it)
		switch it {
		case "MESSAGES":
			w.Number(mb.Messages)
		case "UIDNEXT":
			w.Number(mb.UIDNext)
		case "UIDVALIDITY":
			w.Number(mb.UIDValidity)
		case "UNSEEN":
			w.Number(mb.Unseen)
		case "DELETED":
			w.Number(mb.Deleted)
		case "SIZE":
			w.Number64(uint64(max(mb.Size, 0)))
		case "RECENT":
			w.Number(recent)
		case "APPENDLIMIT":
			w.Number64(uint64(s.srv.cfg.AppendLimit))
		case "DELETED-STORAGE":
			w.Number64(uint64(deletedSize))
		case "HIGHESTMODSEQ":
			w.Number64(mb.HighestModSeq)
		case "MAILBOXID":
			w.BeginList().Atom(mb.ID).EndList()
		}
	}
	w.EndList().End()
	return nil
}

func (s *session) countDeleted(ctx context.Context, mailboxID string) (uint32, int64, error) {
	msgs, err := s.mailboxes().MessageHeads(ctx, s.user.ID, mailboxID, 1, 0, 0)
	if err != nil {
		return 0, 0, err
	}
	var n uint32
	var size int64
	for _, m := range msgs {
		if hasFlag(m.Flags, store.FlagDeleted) {
			n++
			size += m.Size
		}
	}
	return n, size, nil
}

// specialUses are the attributes of RFC 6154 and RFC 8457.
var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Junk`, `\Sent`, `\Trash`, `\Important`}

// knownSpecialUse returns the canonical spelling of attr if it is an
// RFC 6154 (or RFC 8457) use; attributes are case-insensitive.
func knownSpecialUse(attr string) (string, bool) {
	for _, a := range specialUses {
		if strings.EqualFold(a, attr) {
			return a, true
		}
	}
	return "", false
}

// specialUseAttrs is mb's special-use attribute as a LIST attribute list.
func specialUseAttrs(mb store.Mailbox) []string {
	if mb.SpecialUse == "" {
		return nil
	}
	return []string{mb.SpecialUse}
}
