package imapgw

import (
	"bufio"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/gateway/imap/wire"
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
