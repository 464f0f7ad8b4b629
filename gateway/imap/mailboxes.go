package imapgw

import (
	"context"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// Create makes a mailbox and any missing parents (RFC 9051 section 6.3.4),
// with at most one special-use attribute (RFC 6154 section 3).
func (s *session) Create(name string, options *imap.CreateOptions) error {
	// A trailing delimiter only says that inferiors are planned.
	name = strings.TrimSuffix(name, string(store.Delimiter))
	var use string
	if options != nil && len(options.SpecialUse) > 0 {
		attr, ok := knownSpecialUse(options.SpecialUse[0])
		if len(options.SpecialUse) > 1 || !ok {
			return errUseAttr
		}
		use = string(attr)
	}
	err := s.mailboxes().CreateMailbox(s.ctx, s.user.ID, name, use)
	return s.protoErr("create", err, nil)
}

// Delete removes a mailbox and its messages; inferiors stay
// (RFC 9051 section 6.3.5). The store schedules the deletion of the
// objects no mailbox refers to any more.
func (s *session) Delete(name string) error {
	return s.protoErr("delete", s.mailboxes().DeleteMailbox(s.ctx, s.user.ID, name), nil)
}

// Rename renames a mailbox and its inferiors; renaming INBOX moves its
// messages (RFC 9051 section 6.3.6). The store keeps those rules.
func (s *session) Rename(oldName, newName string, _ *imap.RenameOptions) error {
	newName = strings.TrimSuffix(newName, string(store.Delimiter))
	err := s.mailboxes().RenameMailbox(s.ctx, s.user.ID, oldName, newName)
	return s.protoErr("rename", err, nil)
}

// Subscribe adds a mailbox to the subscriptions (RFC 9051 section 6.3.7).
func (s *session) Subscribe(name string) error {
	return s.protoErr("subscribe", s.mailboxes().SetSubscribed(s.ctx, s.user.ID, name, true), nil)
}

// Unsubscribe removes a mailbox from the subscriptions (section 6.3.8).
func (s *session) Unsubscribe(name string) error {
	return s.protoErr("unsubscribe", s.mailboxes().SetSubscribed(s.ctx, s.user.ID, name, false), nil)
}

// Status answers STATUS (RFC 9051 section 6.3.11) from the index.
func (s *session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	defer s.watch()()
	mb, err := s.mailboxes().Mailbox(s.ctx, s.user.ID, name)
	if err != nil {
		return nil, s.protoErr("status", err, nil)
	}
	data, err := s.statusData(mb, options)
	if err != nil {
		return nil, s.protoErr("status", err, nil)
	}
	// Echo the name as the client spelt it ("inbox"): clients match on it.
	data.Mailbox = name
	return data, nil
}

// statusData fills in what options ask for. DELETED and DELETED-STORAGE
// need the flags of every message, so they cost a scan of the index.
func (s *session) statusData(mb store.Mailbox, options *imap.StatusOptions) (*imap.StatusData, error) {
	data := &imap.StatusData{
		Mailbox:     mb.Name,
		UIDNext:     imap.UID(mb.UIDNext),
		UIDValidity: mb.UIDValidity,
	}
	messages, unseen, size, recent := mb.Messages, mb.Unseen, mb.Size, uint32(0)
	limit := uint32(s.srv.cfg.AppendLimit)
	data.NumMessages, data.NumUnseen, data.Size, data.NumRecent = &messages, &unseen, &size, &recent
	data.AppendLimit = &limit
	if options.NumDeleted || options.DeletedStorage {
		n, bytes, err := s.countDeleted(s.ctx, mb.ID)
		if err != nil {
			return nil, err
		}
		data.NumDeleted, data.DeletedStorage = &n, &bytes
	}
	return data, nil
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

// knownSpecialUse returns the canonical spelling of attr if it is an
// RFC 6154 (or RFC 8457) use; attributes are case-insensitive.
func knownSpecialUse(attr imap.MailboxAttr) (imap.MailboxAttr, bool) {
	for _, a := range []imap.MailboxAttr{
		imap.MailboxAttrAll, imap.MailboxAttrArchive, imap.MailboxAttrDrafts,
		imap.MailboxAttrFlagged, imap.MailboxAttrJunk, imap.MailboxAttrSent,
		imap.MailboxAttrTrash, imap.MailboxAttrImportant,
	} {
		if strings.EqualFold(string(a), string(attr)) {
			return a, true
		}
	}
	return "", false
}

// specialUseAttrs is mb's special-use attribute as a LIST attribute list.
func specialUseAttrs(mb store.Mailbox) []imap.MailboxAttr {
	if mb.SpecialUse == "" {
		return nil
	}
	return []imap.MailboxAttr{imap.MailboxAttr(mb.SpecialUse)}
}
