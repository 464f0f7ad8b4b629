package imapgw

import (
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestKeywordLimit: a STORE that would take a mailbox past
// store.MaxKeywords is NO [LIMIT] and changes nothing; keywords in use
// still go.
func TestKeywordLimit(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		env.deliver(t, a, "INBOX", "", plainMsg)
		c := env.dial(t, a, nil)
		mustSelect(t, c, "INBOX", false)
		var uid imap.UIDSet
		uid.AddNum(1)
		var kws []imap.Flag
		for i := range store.MaxKeywords {
			kws = append(kws, imap.Flag("k"+itoa(i)))
		}
		store := func(flags []imap.Flag) error {
			return c.Store(uid, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
		}
		if err := store(kws); err != nil {
			t.Fatalf("STORE of %d keywords: %v", len(kws), err)
		}
		err := store([]imap.Flag{"OneTooMany"})
		if imapCode(err) != imap.ResponseCodeLimit {
			t.Fatalf("STORE past the limit: %v, want NO [LIMIT]", err)
		}
		if err := store([]imap.Flag{"k7", imap.FlagFlagged}); err != nil {
			t.Fatalf("STORE of a keyword in use: %v", err)
		}
		m := fetchOne(t, c, 1, &imap.FetchOptions{Flags: true})
		if len(m.Flags) != len(kws)+2 { // and \Flagged, \Recent
			t.Errorf("%d flags after the refused STORE, want %d", len(m.Flags), len(kws)+2)
		}
	})
}
