package imapgw

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/growthtest"
)

// fuzzDeadline bounds one fuzz iteration: a session that needs longer is a hang.
const fuzzDeadline = 20 * time.Second

// malformedCorpus returns the committed corpus of hostile messages
// (testdata/malformed at the repository root) and the generated ones.
func malformedCorpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob("../../testdata/malformed/*.eml")
	if err != nil || len(files) == 0 {
		tb.Fatalf("malformed corpus: %v (%d files)", err, len(files))
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	// Generated rather than committed; smaller than the end-to-end
	// test's (1 MB header line) so that fuzzing stays fast.
	out["long-header-line"] = []byte("Subject: " + strings.Repeat("x", 64<<10) + "\r\n\r\nbody\r\n")
	out["many-parts"] = manyParts(1000)
	// The adversarial shapes of the growth tests, at sizes where a
	// superlinear reader would show.
	out["folded-header"] = growthtest.FoldedHeader(80 << 10)
	out["folded-recipients"] = growthtest.FoldedRecipients(64 << 10)
	out["deep-nesting-2000"] = growthtest.DeepNesting(200 << 10)
	return out
}

// manyParts builds a multipart/mixed message with n tiny parts.
func manyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Subject: many parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	b.WriteString("--p--\r\n")
	return b.Bytes()
}

// FuzzHostileMIME delivers the fuzz input as a message and runs SEARCH
// (BODY, TEXT, HEADER) and FETCH (BODY[], BODY[1], BODY[1.MIME],
// BODYSTRUCTURE, BINARY[1], ENVELOPE) on it through a real client session.
// The gateway must not panic, must answer within fuzzDeadline, must serve
// BODY[] as exactly prefix + the delivered bytes, and the connection must
// stay usable (NOOP) afterwards. Seeds: the malformed corpus.
//
// Run it with -fuzzminimizetime 1x: coverage of a concurrent server varies
// from run to run, so the engine otherwise spends its time minimising
// "new" inputs and reports almost no executions.
func FuzzHostileMIME(f *testing.F) {
	for _, raw := range malformedCorpus(f) {
		f.Add(raw, "body")
	}
	f.Add([]byte(multipartMsg), "beach")
	f.Add([]byte(plainMsg), "\xff\x00\"\\{3}\r\n")
	env := newEnv(f)
	const prefix = "Return-Path: <fuzz@example.net>\r\nDelivered-To: alice@example.org\r\n"
	var sess *fuzzSession
	f.Cleanup(func() {
		if sess != nil {
			sess.close()
		}
	})
	f.Fuzz(func(t *testing.T, raw []byte, key string) {
		// The connection deadline bounds the session; this bounds
		// everything else, and shows where it hung.
		watchdog := time.AfterFunc(fuzzDeadline+10*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("FuzzHostileMIME hung on a %d-byte message, key %q:\n%s", len(raw), key, buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		uid := imap.UID(env.deliver(t, "alice@example.org", "INBOX", prefix, string(raw)))
		// One session serves every input, so that a message that leaves
		// it broken fails the next input too; it is redialled only after
		// a failure.
		if sess == nil {
			sess = dialFuzz(t, env)
		}
		defer func() {
			if t.Failed() {
				sess.close()
				sess = nil
			}
		}()
		_ = sess.conn.SetDeadline(time.Now().Add(fuzzDeadline))
		c := sess.c
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			t.Fatalf("select: %v", err)
		}
		// Search keys may be refused (a string that is not UTF-8, say);
		// what matters is that the session survives.
		for _, crit := range []*imap.SearchCriteria{
			{Body: []string{key}},
			{Text: []string{key}},
			{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: key}}},
			{Header: []imap.SearchCriteriaHeaderField{{Key: "Content-Type", Value: ""}}},
		} {
			crit.UID = []imap.UIDSet{imap.UIDSetNum(uid)}
			_, _ = c.UIDSearch(crit, nil).Wait()
		}
		whole := &imap.FetchItemBodySection{Peek: true}
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
			UID: true, Envelope: true, RFC822Size: true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
			BodySection:   []*imap.FetchItemBodySection{whole},
		}).Collect()
		if err != nil {
			t.Fatalf("FETCH ENVELOPE BODYSTRUCTURE BODY[]: %v", err)
		}
		if len(msgs) != 1 {
			t.Fatalf("FETCH returned %d messages", len(msgs))
		}
		if got, want := msgs[0].FindBodySection(whole), prefix+string(raw); string(got) != want {
			t.Fatalf("BODY[] is %d bytes, want prefix + %d delivered bytes", len(got), len(raw))
		}
		if msgs[0].RFC822Size != int64(len(prefix)+len(raw)) {
			t.Fatalf("RFC822.SIZE = %d, want %d", msgs[0].RFC822Size, len(prefix)+len(raw))
		}
		// Sections of a part may not exist in a broken message: an error
		// answer is fine, a dead session is not.
		for _, opts := range []*imap.FetchOptions{
			{BodySection: []*imap.FetchItemBodySection{{Part: []int{1}, Peek: true}}},
			{BodySection: []*imap.FetchItemBodySection{{Part: []int{1}, Specifier: imap.PartSpecifierMIME, Peek: true}}},
			{BodySection: []*imap.FetchItemBodySection{{Part: []int{1, 1}, Specifier: imap.PartSpecifierHeader, Peek: true}}},
			{BodySection: []*imap.FetchItemBodySection{{Specifier: imap.PartSpecifierText, Peek: true, Partial: &imap.SectionPartial{Offset: 3, Size: 7}}}},
			{BinarySection: []*imap.FetchItemBinarySection{{Part: []int{1}, Peek: true}}},
			{BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{1}}}},
		} {
			_, _ = c.Fetch(imap.UIDSetNum(uid), opts).Collect()
		}
		if err := c.Noop().Wait(); err != nil {
			t.Fatalf("session unusable after SEARCH and FETCH: %v", err)
		}
		// Keep the mailbox small across iterations.
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			t.Fatalf("select: %v", err)
		}
		if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			t.Fatalf("store \\Deleted: %v", err)
		}
		if err := c.UIDExpunge(imap.UIDSetNum(uid)).Close(); err != nil {
			t.Fatalf("UID EXPUNGE: %v", err)
		}
	})
}

// fuzzSession is the client session FuzzHostileMIME reuses.
type fuzzSession struct {
	conn net.Conn
	c    *imapclient.Client
}

func dialFuzz(t *testing.T, env *testEnv) *fuzzSession {
	conn, err := tls.Dial("tcp", env.tlsAddr, clientTLS())
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(fuzzDeadline))
	c := imapclient.New(conn, nil)
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		c.Close()
		t.Fatalf("login: %v", err)
	}
	return &fuzzSession{conn: conn, c: c}
}

func (s *fuzzSession) close() { s.c.Close() }
