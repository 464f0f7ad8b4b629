package imapgw

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// warnLog keeps the records of level WARN and above a server logs.
type warnLog struct {
	mu   sync.Mutex
	recs []string
}

func (l *warnLog) Enabled(_ context.Context, lvl slog.Level) bool { return lvl >= slog.LevelWarn }
func (l *warnLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, b.String())
	return nil
}
func (l *warnLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *warnLog) WithGroup(string) slog.Handler      { return l }

func (l *warnLog) records() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.recs...)
}

// TestFetchRacingExpunge: a session FETCHes ENVELOPE and BODYSTRUCTURE of
// messages that a session on another gateway (another process of the
// cloud deployment, with its own caches) expunged after the first one
// listed them. While the object exists (it stays for --gc-delay) the
// message is served from it; once it is gone the answer is NO
// [EXPUNGEISSUED]. Neither is logged as a failure (it was NO [UNAVAILABLE]
// and an ERROR "decoding summary: unexpected end of JSON input").
func TestFetchRacingExpunge(t *testing.T) {
	log := &warnLog{}
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		testFetchRacingExpunge(t, env, log)
	}, func(c *Config) { c.Log = slog.New(log) })
}

func testFetchRacingExpunge(t *testing.T, env *testEnv, log *warnLog) {
	const alice = "alice@example.org"
	env.deliver(t, alice, "INBOX", "Delivered-To: alice@example.org\r\n", plainMsg)
	env.deliver(t, alice, "INBOX", "", multipartMsg)
	env.deliver(t, alice, "INBOX", "", plainMsg)

	a := env.dial(t, alice, nil)
	mustSelect(t, a, "INBOX", false)
	var all imap.SeqSet
	all.AddRange(1, 0)
	if _, err := a.Fetch(all, &imap.FetchOptions{Flags: true}).Collect(); err != nil {
		t.Fatal(err) // the heads are now in a's gateway's cache
	}

	b, err := imapclient.DialTLS(env.secondGateway(t), &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if err := b.Login(alice, testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	mustSelect(t, b, "INBOX", false)
	if err := b.Store(imap.SeqSetNum(1, 2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Expunge().Close(); err != nil {
		t.Fatal(err)
	}

	// The collector deleted message 2's object, message 1's is still
	// there (--gc-delay): a serves message 1 from it, and answers NO
	// [EXPUNGEISSUED] for message 2.
	keys, err := env.blobs.List(context.Background(), "msg/", "", 10)
	if err != nil || len(keys) != 3 {
		t.Fatalf("List = %d objects, %v", len(keys), err)
	}
	deleted := 0
	for _, k := range keys {
		rc, err := env.blobs.Get(context.Background(), k.Key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(rc)
		rc.Close()
		if strings.Contains(buf.String(), "Photos") {
			if err := env.blobs.Delete(context.Background(), k.Key); err != nil {
				t.Fatal(err)
			}
			deleted++
		}
	}
	if deleted != 1 {
		t.Fatalf("deleted %d objects, want message 2's", deleted)
	}
	items := &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}}
	msgs, err := a.Fetch(imap.SeqSetNum(1, 2), items).Collect()
	if imapCode(err) != responseCodeExpungeIssued {
		t.Errorf("FETCH 1:2 ENVELOPE BODYSTRUCTURE, both expunged by another session, 2's object gone = %v, want NO [EXPUNGEISSUED]", err)
	}
	if len(msgs) != 1 || msgs[0].SeqNum != 1 {
		t.Fatalf("FETCH 1:2: %d messages, want message 1", len(msgs))
	}
	checkEnvelopeAndStructure(t, msgs[0], []byte("Delivered-To: alice@example.org\r\n"+plainMsg))

	// a has now seen that messages left (the poll after FETCH), but may not
	// say so before a command that allows EXPUNGE: still NO [EXPUNGEISSUED].
	if _, err := a.Fetch(imap.SeqSetNum(2), items).Collect(); imapCode(err) != responseCodeExpungeIssued {
		t.Errorf("FETCH 2 again = %v, want NO [EXPUNGEISSUED]", err)
	}
	if msgs, err := a.Fetch(imap.SeqSetNum(3), items).Collect(); err != nil || len(msgs) != 1 {
		t.Errorf("FETCH 3 = %d messages, %v", len(msgs), err)
	}
	// FETCH (UID) answers from the view, for the expunged messages too.
	if msgs, err := a.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{UID: true}).Collect(); err != nil || len(msgs) != 3 {
		t.Errorf("FETCH 1:3 (UID) = %d messages, %v; want 3, OK", len(msgs), err)
	}
	// The session goes on, and learns of the expunges at the next NOOP.
	if err := a.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if recs := log.records(); len(recs) > 0 {
		t.Errorf("logged:\n%s", strings.Join(recs, "\n"))
	}
}
