package imapgw

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/gateway/imap/sortthread"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/store"
)

// summaryCounter is the gateway's store, counting the listings that carry
// summaries (Messages); MessageHeads lists none.
type summaryCounter struct {
	Store
	calls atomic.Int64
}

func (c *summaryCounter) Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	c.calls.Add(1)
	return c.Store.Messages(ctx, userID, mailboxID, first, last, changedSince)
}

// TestSortKeysCached: the summaries are read once for the sort keys, by
// the first SORT or THREAD that needs them; later ones, from any session
// and of any mailbox holding the same objects, read none and answer the
// same. THREAD REFERENCES reads them once more for the references.
func TestSortKeysCached(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		counter := &summaryCounter{Store: env.cfg.Store}
		cfg := env.cfg
		cfg.Store = counter
		env.srv = New(cfg)
		env.tlsAddr = env.listen(t, true)
		t.Cleanup(func() { env.srv.Close() })

		c := env.dial(t, "alice@example.org", nil)
		appendCorpus(t, c, threadMessages)
		if err := c.Create("Copy", nil).Wait(); err != nil {
			t.Fatal(err)
		}
		mustSelect(t, c, "INBOX", false)
		if _, err := c.Copy(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), "Copy").Wait(); err != nil {
			t.Fatal(err)
		}
		all := &imap.SearchCriteria{}
		sortBy := func(c *imapclient.Client, k imapclient.SortKey) []uint32 {
			t.Helper()
			ids, err := c.Sort(&imapclient.SortOptions{SearchCriteria: all, SortCriteria: []imapclient.SortCriterion{{Key: k}}}).Wait()
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		thread := func(c *imapclient.Client, alg imap.ThreadAlgorithm) string {
			t.Helper()
			ts, err := c.Thread(&imapclient.ThreadOptions{Algorithm: alg, SearchCriteria: all}).Wait()
			if err != nil {
				t.Fatal(err)
			}
			return formatThreads(ts)
		}
		step := func(what string, wantCalls bool, f func()) {
			t.Helper()
			before := counter.calls.Load()
			f()
			if calls := counter.calls.Load() - before; (calls > 0) != wantCalls {
				t.Errorf("%s listed summaries %d times, want them listed: %v", what, calls, wantCalls)
			}
		}
		var date, subject []uint32
		step("the first SORT (DATE)", true, func() { date = sortBy(c, "DATE") })
		step("SORT (DATE) again", false, func() {
			if again := sortBy(c, "DATE"); !slices.Equal(again, date) {
				t.Errorf("SORT (DATE) from the cache = %v, first %v", again, date)
			}
		})
		step("SORT (SUBJECT)", false, func() { subject = sortBy(c, "SUBJECT") })
		step("THREAD ORDEREDSUBJECT", false, func() {
			if got, want := thread(c, imap.ThreadOrderedSubject), "(9)(1 (2)(3)(4)(10))(5 8)(6 7)(11)"; got != want {
				t.Errorf("THREAD ORDEREDSUBJECT = %s, want %s", got, want)
			}
		})
		refs := "(9)((1 (2 3)(4))(10))(5 (8)(11))((6)(7))"
		step("the first THREAD REFERENCES", true, func() {
			if got := thread(c, imap.ThreadReferences); got != refs {
				t.Errorf("THREAD REFERENCES = %s, want %s", got, refs)
			}
		})
		c2 := env.dial(t, "alice@example.org", nil)
		mustSelect(t, c2, "Copy", true)
		step("THREAD REFERENCES of the copies, another session", false, func() {
			if got := thread(c2, imap.ThreadReferences); got != refs {
				t.Errorf("THREAD REFERENCES of the copies = %s, want %s", got, refs)
			}
		})
		step("SORT (SUBJECT) of the copies", false, func() {
			if got := sortBy(c2, "SUBJECT"); !slices.Equal(got, subject) {
				t.Errorf("SORT (SUBJECT) of the copies = %v, want %v", got, subject)
			}
		})
	})
}

// TestSortCacheBound: the cache holds at most its bound in bytes, keeps
// what was used recently, and an entry put again replaces the old one.
func TestSortCacheBound(t *testing.T) {
	const bound = 64 << 10
	c := newSortCache(bound)
	held := func() int {
		n := 0
		for _, gen := range []map[string]*sortEntry{c.cur, c.prev} {
			for _, e := range gen {
				n += e.bytes
			}
		}
		return n
	}
	entry := func(i int) *sortEntry {
		return &sortEntry{keys: sortthread.Keys{Subject: fmt.Sprintf("SUBJECT %d", i)}, messageID: fmt.Sprintf("<%d@example.org>", i)}
	}
	key := func(i int) string { return fmt.Sprintf("msg/%026d", i) }
	out := make([]*sortEntry, 1)
	for i := range 2000 {
		c.put(key(i), entry(i))
		if i%10 == 0 {
			c.getAll([]string{key(0)}, out) // used all along
		}
		if n := held(); n > bound {
			t.Fatalf("after %d entries the cache holds %d bytes, bound %d", i+1, n, bound)
		}
	}
	c.getAll([]string{key(0), key(1), key(1999)}, make([]*sortEntry, 3))
	got := make([]*sortEntry, 3)
	c.getAll([]string{key(0), key(1), key(1999)}, got)
	if got[0] == nil || got[1] != nil || got[2] == nil {
		t.Errorf("kept: recently used %v, old %v, newest %v; want the first and the last", got[0] != nil, got[1] != nil, got[2] != nil)
	}
	withRefs := entry(1999)
	withRefs.refs, withRefs.hasRefs = []string{"<a@x>"}, true
	c.put(key(1999), withRefs)
	c.getAll([]string{key(1999)}, out)
	if out[0] != withRefs {
		t.Error("an entry put again is not the one returned")
	}
	n := 0
	for _, e := range c.cur {
		n += e.bytes
	}
	if n != c.curBytes {
		t.Errorf("current generation counted %d bytes, holds %d", c.curBytes, n)
	}
}

// TestFieldValues: the values of a header field, folded or repeated, in
// any case, up to the blank line or a line that is not a field.
func TestFieldValues(t *testing.T) {
	for _, tc := range []struct {
		hdr  string
		want []string
	}{
		{"References: <a@x>\r\n\r\n", []string{" <a@x>"}},
		{"references : <a@x>\r\n <b@x>\r\nSubject: s\r\nREFERENCES:<c@x>\r\n\r\n", []string{" <a@x>\r\n <b@x>", "<c@x>"}},
		{"References: <a@x>\n\t<b@x>\n\nReferences: <body@x>\n", []string{" <a@x>\r\n\t<b@x>"}},
		{"Subject: s\r\nbroken line\r\nReferences: <a@x>\r\n\r\n", nil},
		{"X-References: <a@x>\r\n Subject: <b@x>\r\n\r\n", nil},
		{"References: <a@x>", []string{" <a@x>"}}, // no blank line: the whole block
	} {
		if got := fieldValues([]byte(tc.hdr), "References"); !slices.Equal(got, tc.want) {
			t.Errorf("fieldValues(%q) = %q, want %q", tc.hdr, got, tc.want)
		}
	}
}

// BenchmarkSortEntry measures making one message's sort entry from its
// encoded summary, as a SORT does for each message its cache lacks:
// without and with the references (THREAD REFERENCES).
func BenchmarkSortEntry(b *testing.B) {
	sum, err := message.Parse(strings.NewReader(sortBenchMessage(5)))
	if err != nil {
		b.Fatal(err)
	}
	enc := sum.Marshal()
	for _, refs := range []bool{false, true} {
		b.Run(map[bool]string{false: "keys", true: "references"}[refs], func(b *testing.B) {
			for b.Loop() {
				d := &msgData{m: &store.Message{NewMessage: store.NewMessage{Summary: enc}}}
				if _, err := newSortEntry(d, refs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
