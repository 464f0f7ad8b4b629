package pop3

import (
	"context"
	"errors"
	"log/slog"

	"github.com/bucketmail/bucketmail/internal/store"
)

// cmdQUIT ends the session. In the TRANSACTION state it enters the UPDATE
// state first and applies the marks (RFC 1939 section 6).
func (s *session) cmdQUIT(ctx context.Context) {
	if s.state != stateTransaction {
		s.ok("%s POP3 server signing off", s.srv.cfg.Hostname)
		return
	}
	deleted, err := s.update(ctx)
	s.deleted = deleted
	if err != nil {
		s.log.Error("pop3 update failed", slog.String("error", err.Error()))
		s.err(codeSysTemp, "Some deleted messages not removed")
		return
	}
	s.ok("%s POP3 server signing off (%d messages deleted)", s.srv.cfg.Hostname, deleted)
}

// update gives \Seen to the messages retrieved and not deleted, then flags
// \Deleted and expunges the messages marked deleted, only those. It
// returns how many messages were expunged.
func (s *session) update(ctx context.Context) (int, error) {
	d := s.drop
	var seen, del []uint32
	for _, e := range d.msgs {
		switch {
		case e.deleted:
			del = append(del, e.uid)
		case e.retrieved && !e.seen:
			seen = append(seen, e.uid)
		}
	}
	st := s.srv.cfg.Store
	var errs []error
	if len(seen) > 0 {
		if _, err := st.SetFlags(ctx, d.userID, d.mailboxID, seen, store.FlagsAdd, []string{store.FlagSeen}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(del) == 0 {
		return 0, errors.Join(errs...)
	}
	if _, err := st.SetFlags(ctx, d.userID, d.mailboxID, del, store.FlagsAdd, []string{store.FlagDeleted}); err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	// The store schedules the objects left without a reference for
	// deletion; the collector deletes them a delay later.
	expunged, err := st.Expunge(ctx, d.userID, d.mailboxID, del)
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	return len(expunged), errors.Join(errs...)
}
