package imapgw

import (
	"bufio"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
	"github.com/bucketmail/bucketmail/internal/store"
)

// rawConn is an IMAP client of a few lines, for what go-imap's client
// does not send: SELECT (QRESYNC ...) and UID FETCH (... VANISHED).
type rawConn struct {
	t *testing.T
	r *bufio.Reader
	w interface{ Write([]byte) (int, error) }
	n int
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := tlsDial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &rawConn{t: t, r: bufio.NewReader(nc), w: nc}
	if _, err := c.r.ReadString('\n'); err != nil { // greeting
		t.Fatal(err)
	}
	c.do("LOGIN alice@example.org " + strconv.Quote(testPassword))
	return c
}

// do sends a command and returns its untagged responses; it fails the
// test unless the command completes OK.
func (c *rawConn) do(cmd string) []string {
	c.t.Helper()
	c.send(cmd)
	return c.recv(cmd)
}

// send sends a command without waiting for its answer (recv).
func (c *rawConn) send(cmd string) {
	c.t.Helper()
	c.n++
	if _, err := c.w.Write([]byte("t" + strconv.Itoa(c.n) + " " + cmd + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// recv reads the answer to the last command sent.
func (c *rawConn) recv(cmd string) []string {
	c.t.Helper()
	tag := "t" + strconv.Itoa(c.n)
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("%s: %v", cmd, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				c.t.Fatalf("%s: %s", cmd, line)
			}
			return append(lines, line)
		}
		lines = append(lines, line)
	}
}

var (
	reHighest = regexp.MustCompile(`HIGHESTMODSEQ (\d+)`)
	reModSeq  = regexp.MustCompile(`MODSEQ \((\d+)\)`)
	reFetch   = regexp.MustCompile(`^\* \d+ FETCH \(UID (\d+) FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)$`)
)

func firstNumber(t *testing.T, re *regexp.Regexp, lines []string) uint64 {
	t.Helper()
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in %q", re, lines)
	return 0
}

// TestQResyncAcrossGateways: in the cloud deployment a client resyncs
// with QRESYNC on one gateway after another gateway's session expunged and
// flagged messages; it learns exactly what changed, from the index alone
// (no object read), mod-sequences grow across the gateways, and a
// conditional STORE loses against the other session's newer change.
func TestQResyncAcrossGateways(t *testing.T) {
	env := newCloudEnv(t)
	for range 10 {
		env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	}
	second := env.secondGateway(t)

	a := dialRaw(t, env.tlsAddr)
	a.do("ENABLE QRESYNC")
	sel := a.do("SELECT INBOX")
	h1 := firstNumber(t, reHighest, sel)
	uv := firstNumber(t, regexp.MustCompile(`UIDVALIDITY (\d+)`), sel)
	a.do("LOGOUT")

	// Another gateway's session, with go-imap's client and CONDSTORE.
	b, err := imapclient.DialTLS(second, &imapclient.Options{TLSConfig: clientTLS()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Login("alice@example.org", testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	bsel, err := b.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if bsel.HighestModSeq != h1 {
		t.Fatalf("HIGHESTMODSEQ %d on the second gateway, %d on the first", bsel.HighestModSeq, h1)
	}
	// Mod-sequences of changes made alternately on either gateway only grow.
	c := dialRaw(t, env.tlsAddr)
	c.do("ENABLE QRESYNC")
	c.do("SELECT INBOX (CONDSTORE)")
	last := h1
	grows := func(what string, n uint64) {
		t.Helper()
		if n <= last {
			t.Fatalf("%s: MODSEQ %d after %d", what, n, last)
		}
		last = n
	}
	storeB := func(uid imap.UID, flag imap.Flag) uint64 {
		t.Helper()
		msgs, err := b.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{flag}},
			&imap.StoreOptions{UnchangedSince: last}).Collect()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("store on the second gateway: %v %v", msgs, err)
		}
		return msgs[0].ModSeq
	}
	grows("second gateway", storeB(2, imap.FlagFlagged))
	grows("first gateway", firstNumber(t, reModSeq, c.do("UID STORE 7 +FLAGS (\\Answered)")))
	grows("second gateway", storeB(4, imap.FlagFlagged))
	grows("second gateway", storeB(3, imap.FlagDeleted))
	grows("first gateway", firstNumber(t, reModSeq, c.do("UID STORE 5 +FLAGS (\\Deleted)")))
	if err := b.UIDExpunge(imap.UIDSetNum(3, 5)).Close(); err != nil {
		t.Fatal(err)
	}
	// The first gateway's session hears of it as VANISHED, QRESYNC being on.
	if got := c.do("NOOP"); !slices.Contains(got, "* VANISHED 3,5") {
		t.Errorf("NOOP after an expunge on the other gateway: %q, want * VANISHED 3,5", got)
	}
	// A conditional STORE against a change the other gateway made since.
	m2 := firstNumber(t, reModSeq, c.do("UID FETCH 2 (MODSEQ)"))
	grows("second gateway", storeB(2, imap.FlagSeen))
	if got := c.do("UID STORE 2 (UNCHANGEDSINCE " + strconv.FormatUint(m2, 10) + ") +FLAGS (\\Draft)"); !strings.Contains(got[len(got)-1], "[MODIFIED 2]") {
		t.Errorf("conditional STORE after a newer change: %q, want [MODIFIED 2]", got)
	}

	// The resync: on the first gateway again.
	before := env.objectBytesRead(t)
	r := dialRaw(t, env.tlsAddr)
	r.do("ENABLE QRESYNC")
	got := r.do("SELECT INBOX (QRESYNC (" + strconv.FormatUint(uv, 10) + " " + strconv.FormatUint(h1, 10) + " 1:10))")
	if !slices.Contains(got, "* VANISHED (EARLIER) 3,5") {
		t.Errorf("QRESYNC SELECT: %q, want * VANISHED (EARLIER) 3,5", got)
	}
	flags := map[string]string{}
	for _, l := range got {
		if m := reFetch.FindStringSubmatch(l); m != nil {
			f := strings.Fields(m[2])
			slices.Sort(f)
			flags[m[1]] = strings.Join(f, " ")
		}
	}
	want := map[string]string{"2": `\Flagged \Seen`, "4": `\Flagged`, "7": `\Answered`}
	if len(flags) != len(want) {
		t.Errorf("QRESYNC SELECT reported flags of %v, want %v", flags, want)
	}
	for uid, f := range want {
		if flags[uid] != f {
			t.Errorf("UID %s: flags (%s), want (%s)", uid, flags[uid], f)
		}
	}
	if h := firstNumber(t, reHighest, got); h != last {
		t.Errorf("HIGHESTMODSEQ %d after the resync, want %d (the last change)", h, last)
	}
	if n := env.objectBytesRead(t) - before; n != 0 {
		t.Errorf("the resync read %d object bytes, want 0", n)
	}
}

// TestMissing: the UIDs VANISHED (EARLIER) reports once the tombstones no
// longer reach back far enough: every UID of the set, up to the limit,
// that is not in the mailbox, as ranges.
func TestMissing(t *testing.T) {
	set := func(rs ...wire.NumRange) wire.NumSet { return wire.NumSet{Ranges: rs} }
	for _, tc := range []struct {
		set         wire.NumSet
		star, limit uint32
		present     []uint32
		want        string
	}{
		{set(wire.NumRange{Start: 1, Stop: wire.Star}), 9, 9, []uint32{2, 4, 5, 9}, "1,3,6:8"},
		{set(wire.NumRange{Start: 1, Stop: 4294967295}), 9, 12, []uint32{2, 4, 5, 9}, "1,3,6:8,10:12"},
		{set(wire.NumRange{Start: 7, Stop: 3}, wire.NumRange{Start: 5, Stop: 5}), 9, 9, []uint32{4}, "3,5:7"},
		{set(wire.NumRange{Start: 20, Stop: 30}), 9, 9, []uint32{4}, ""},
		{set(wire.NumRange{Start: 1, Stop: 3}), 9, 9, []uint32{1, 2, 3}, ""},
		{set(wire.NumRange{Start: 1, Stop: 5}), 9, 9, nil, "1:5"},
	} {
		if got := (wire.NumSet{Ranges: missing(tc.set, tc.star, tc.limit, tc.present)}).String(); got != tc.want {
			t.Errorf("missing(%s, *=%d, limit %d, %v) = %q, want %q", tc.set, tc.star, tc.limit, tc.present, got, tc.want)
		}
	}
}

// TestStoreUnchangedSinceRace: two sessions, on two gateways of the cloud
// deployment, send STORE (UNCHANGEDSINCE m) for the same message at the
// same time; exactly one of them changes it, the other gets [MODIFIED].
func TestStoreUnchangedSinceRace(t *testing.T) {
	env := newCloudEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	a := dialRaw(t, env.tlsAddr)
	b := dialRaw(t, env.secondGateway(t))
	a.do("SELECT INBOX (CONDSTORE)")
	b.do("SELECT INBOX (CONDSTORE)")
	for round := range 20 {
		m := strconv.FormatUint(firstNumber(t, reModSeq, a.do("UID FETCH 1 (MODSEQ)")), 10)
		a.send("UID STORE 1 (UNCHANGEDSINCE " + m + ") FLAGS (a" + strconv.Itoa(round) + ")")
		b.send("UID STORE 1 (UNCHANGEDSINCE " + m + ") FLAGS (b" + strconv.Itoa(round) + ")")
		ra, rb := a.recv("store a"), b.recv("store b")
		lost := 0
		for _, r := range [][]string{ra, rb} {
			if strings.Contains(r[len(r)-1], "[MODIFIED 1]") {
				lost++
			}
		}
		if lost != 1 {
			t.Fatalf("round %d: %d of 2 conditional STOREs failed, want 1:\n%q\n%q", round, lost, ra, rb)
		}
	}
}

// TestQResyncSeqMatch: once more expunges happened than the tombstones
// remember (store.MaxTombstones), VANISHED (EARLIER) is every known UID
// not in the mailbox, and the message sequence match data (RFC 7162
// section 3.2.5.2) leaves out the UIDs up to the last pair that still
// holds, up to the first pair that does not.
func TestQResyncSeqMatch(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		ctx := context.Background()
		u := env.users["alice@example.org"]
		if err := env.store.EnsureUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		mb, err := env.store.Mailbox(ctx, u.ID, "INBOX")
		if err != nil {
			t.Fatal(err)
		}
		key, sum, _, size, err := putMessage(ctx, env.blobs, ulid.Make().String(), strings.NewReader(plainMsg), nil)
		if err != nil {
			t.Fatal(err)
		}
		// UIDs 1 to n; after the client's mod-sequence the first n-10
		// and n-5 are expunged, more than the tombstones keep.
		n := store.MaxTombstones + 11
		batch := make([]store.NewMessage, 1000)
		for i := range batch {
			batch[i] = store.NewMessage{BlobKey: key, Size: size, InternalDate: time.Now(), Flags: []string{`\Seen`}, Summary: sum.Marshal()}
		}
		for added := 0; added < n; added += len(batch) {
			if _, err := env.store.InsertMessages(ctx, u.ID, mb.ID, batch[:min(len(batch), n-added)]); err != nil {
				t.Fatal(err)
			}
		}
		c := dialRaw(t, env.tlsAddr)
		c.do("ENABLE QRESYNC")
		sel := c.do("EXAMINE INBOX")
		h1 := strconv.FormatUint(firstNumber(t, reHighest, sel), 10)
		uv := strconv.FormatUint(firstNumber(t, regexp.MustCompile(`UIDVALIDITY (\d+)`), sel), 10)
		c.do("UNSELECT")
		var gone []uint32
		for uid := range uint32(n - 10) {
			gone = append(gone, uid+1)
		}
		gone = append(gone, uint32(n-5))
		if _, err := env.store.SetFlags(ctx, u.ID, mb.ID, gone, store.FlagsAdd, []string{`\Deleted`}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.store.Expunge(ctx, u.ID, mb.ID, gone); err != nil {
			t.Fatal(err)
		}
		if _, complete, err := env.store.Vanished(ctx, u.ID, mb.ID, firstNumber(t, reHighest, sel)); err != nil || complete {
			t.Fatalf("Vanished since the client's mod-sequence: complete %v, %v; want the tombstones short", complete, err)
		}
		// The mailbox: UIDs n-9 to n-6 are messages 1 to 4, n-4 to n are
		// 5 to 9.
		first, last := n-9, n
		all := fmt.Sprintf("* VANISHED (EARLIER) 1:%d,%d", first-1, n-5)
		for _, tc := range []struct{ seqMatch, want string }{
			{"", all},
			// Message 1 is UID n-9: the client knows of every expunge up to it.
			{fmt.Sprintf(" (1 %d)", first), fmt.Sprintf("* VANISHED (EARLIER) %d", n-5)},
			// ... and up to n-4, message 5.
			{fmt.Sprintf(" (1,5 %d,%d)", first, n-4), ""},
			// The client knew n-5 as message 5: it missed that expunge.
			{fmt.Sprintf(" (1,5 %d,%d)", first, n-5), fmt.Sprintf("* VANISHED (EARLIER) %d", n-5)},
			// It knew message 3 as UID 5: stale, nothing is left out, and
			// pairs after one that does not hold are not looked at (8 is
			// UID n-1).
			{" (3 5)", all},
			{fmt.Sprintf(" (3,8 5,%d)", n-1), all},
			// A pair past the mailbox's end does not hold.
			{fmt.Sprintf(" (10 %d)", last+1), all},
		} {
			cmd := fmt.Sprintf("EXAMINE INBOX (QRESYNC (%s %s 1:%d%s))", uv, h1, last, tc.seqMatch)
			var vanished []string
			for _, l := range c.do(cmd) {
				if strings.HasPrefix(l, "* VANISHED") {
					vanished = append(vanished, l)
				}
			}
			if want := []string{tc.want}; tc.want == "" && len(vanished) != 0 || tc.want != "" && !slices.Equal(vanished, want) {
				t.Errorf("%s: %q, want %q", cmd, vanished, tc.want)
			}
		}
		// The known UIDs bound the answer still: those from 5000 on.
		got := c.do(fmt.Sprintf("EXAMINE INBOX (QRESYNC (%s %s 5000:%d))", uv, h1, last))
		if !slices.Contains(got, fmt.Sprintf("* VANISHED (EARLIER) 5000:%d,%d", first-1, n-5)) {
			t.Errorf("known UIDs 5000:%d: %q", last, got)
		}
	})
}
