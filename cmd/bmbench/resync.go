package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The qresync scenario resyncs a copy of the sync mailbox after another
// client changed it, once as a client without QRESYNC does (SELECT, then
// UID FETCH 1:* (FLAGS)) and once with QRESYNC (RFC 7162 section 3.2.5:
// SELECT with the UIDVALIDITY and HIGHESTMODSEQ it knew), counting round
// trips, the bytes the server sent, the time and, on bucketmail, the
// object reads. A target that does not advertise QRESYNC gets the first
// only, and "QRESYNC advertised" 0.

// resyncBox is the copy of the sync INBOX the scenario changes, so that
// the other scenarios find the INBOX whole.
const resyncBox = "bench-qresync"

// countingConn counts the bytes the server sent.
type countingConn struct {
	net.Conn
	n int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n += int64(n)
	return n, err
}

// dialCounted is dialIMAP with a count of the bytes read, and logs in.
func dialCounted(cfg *config, user string) (*imapConn, *countingConn, error) {
	nc, err := net.DialTimeout("tcp", cfg.imap, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	cc := &countingConn{Conn: nc}
	ic, err := newIMAPConn(cc)
	if err != nil {
		return nil, nil, err
	}
	if err := ic.login(cfg.addr(user), cfg.password); err != nil {
		ic.Close()
		return nil, nil, err
	}
	return ic, cc, nil
}

// collect runs a command and returns its untagged lines (literals left
// out) and its tagged status.
func (ic *imapConn) collect(format string, args ...any) ([]string, error) {
	tag := ic.tag()
	ic.w.WriteString(tag + " ")
	fmt.Fprintf(ic.w, format, args...)
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return nil, err
	}
	var lines []string
	var r result
	for {
		line, _, err := ic.readResp()
		if err != nil {
			return nil, err
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return lines, fmt.Errorf("%s: %s", strings.Fields(format)[0], line)
			}
			return lines, nil
		}
		if strings.HasPrefix(line, "* ") {
			ic.note(line, &r)
			lines = append(lines, line)
		}
	}
}

// capabilities returns what the server advertises once logged in.
func (ic *imapConn) capabilities() (map[string]bool, error) {
	lines, err := ic.collect("CAPABILITY")
	if err != nil {
		return nil, err
	}
	caps := map[string]bool{}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && strings.EqualFold(f[1], "CAPABILITY") {
			for _, c := range f[2:] {
				caps[strings.ToUpper(c)] = true
			}
		}
	}
	return caps, nil
}

func yes(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// blobReads is what a bucketmail target read from its object store so
// far, from its /metrics: GETs (cloud mode only; ok false without) and
// content bytes (both modes).
type blobReads struct {
	gets, bytes float64
	hasGets     bool
}

func scrapeReads(ctx context.Context, url string) (blobReads, error) {
	var b blobReads
	err := metricLines(ctx, url, func(line string) {
		switch {
		case strings.HasPrefix(line, "bucketmail_storage_seconds_count{") && label(line, "op") == "get":
			b.gets += value(line)
			b.hasGets = true
		case strings.HasPrefix(line, "bucketmail_blob_read_bytes_total{"):
			b.bytes += value(line)
		}
	})
	return b, err
}

// metricLines hands each line of the target's /metrics to fn.
func metricLines(ctx context.Context, url string, fn func(line string)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fn(sc.Text())
	}
	return sc.Err()
}

// readMeter measures the object reads of a step, when the target has a
// /metrics URL (bucketmail); it does nothing otherwise.
type readMeter struct {
	ctx    context.Context
	url    string
	before blobReads
}

func (m *readMeter) start() error {
	if m.url == "" {
		return nil
	}
	var err error
	m.before, err = scrapeReads(m.ctx, m.url)
	return err
}

// stop adds the reads since start as figures of scenario/param, metric
// prefix what.
func (m *readMeter) stop(res *results, scenario, param, what string) error {
	if m.url == "" {
		return nil
	}
	after, err := scrapeReads(m.ctx, m.url)
	if err != nil {
		return err
	}
	if after.hasGets {
		res.add(scenario, param, what+", object reads", "requests", "lower", after.gets-m.before.gets)
	}
	res.add(scenario, param, what+", object bytes read", "bytes", "lower", after.bytes-m.before.bytes)
	return nil
}

var (
	uidValidityRe = regexp.MustCompile(`(?i)\[UIDVALIDITY (\d+)\]`)
	modSeqRe      = regexp.MustCompile(`(?i)\[HIGHESTMODSEQ (\d+)\]`)
)

// findNumber returns the first number re captures in lines, 0 if none.
func findNumber(lines []string, re *regexp.Regexp) uint64 {
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			n, _ := strconv.ParseUint(m[1], 10, 64)
			return n
		}
	}
	return 0
}

// setSize counts the numbers of a sequence set such as "3,5:7".
func setSize(set string) int {
	n := 0
	for r := range strings.SplitSeq(set, ",") {
		lo, hi, isRange := strings.Cut(r, ":")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		switch {
		case !isRange && err1 == nil:
			n++
		case isRange && err1 == nil && err2 == nil:
			n += max(a, b) - min(a, b) + 1
		}
	}
	return n
}

// uidSet writes uids as a sequence set.
func uidSet(uids []int) string {
	s := make([]string, len(uids))
	for i, u := range uids {
		s[i] = strconv.Itoa(u)
	}
	return strings.Join(s, ",")
}

// resyncState is what a client kept of the mailbox at its last sync.
type resyncState struct {
	uidValidity, modSeq uint64
	uids                []int
}

// syncState selects the mailbox as a client would before going offline.
func syncState(cfg *config, qresync bool) (resyncState, error) {
	var st resyncState
	ic, _, err := dialCounted(cfg, "sync")
	if err != nil {
		return st, err
	}
	defer ic.Close()
	if qresync {
		if _, err := ic.cmd("ENABLE QRESYNC"); err != nil {
			return st, err
		}
	}
	lines, err := ic.collect("SELECT %s", quote(resyncBox))
	if err != nil {
		return st, err
	}
	st.uidValidity, st.modSeq = findNumber(lines, uidValidityRe), findNumber(lines, modSeqRe)
	if lines, err = ic.collect("UID SEARCH ALL"); err != nil {
		return st, err
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 1 && strings.EqualFold(f[1], "SEARCH") {
			for _, x := range f[2:] {
				if u, err := strconv.Atoi(x); err == nil {
					st.uids = append(st.uids, u)
				}
			}
		}
	}
	if qresync && (st.uidValidity == 0 || st.modSeq == 0) {
		return st, fmt.Errorf("qresync: SELECT gave no UIDVALIDITY or HIGHESTMODSEQ: %q", lines)
	}
	return st, nil
}

// changeMailbox is the other client: it flags the messages at changed
// and expunges those at expunged.
func changeMailbox(cfg *config, changed, expunged []int) error {
	ic, err := dialIMAP(cfg.imap)
	if err != nil {
		return err
	}
	defer ic.Close()
	if err := ic.login(cfg.addr("sync"), cfg.password); err != nil {
		return err
	}
	if _, err := ic.cmd("SELECT %s", quote(resyncBox)); err != nil {
		return err
	}
	if _, err := ic.cmd(`UID STORE %s +FLAGS.SILENT (\Flagged)`, uidSet(changed)); err != nil {
		return err
	}
	if _, err := ic.cmd(`UID STORE %s +FLAGS.SILENT (\Deleted)`, uidSet(expunged)); err != nil {
		return err
	}
	_, err = ic.cmd("EXPUNGE")
	return err
}

// copyForResync makes resyncBox a copy of the sync INBOX.
func copyForResync(cfg *config) error {
	ic, err := dialIMAP(cfg.imap)
	if err != nil {
		return err
	}
	defer ic.Close()
	if err := ic.login(cfg.addr("sync"), cfg.password); err != nil {
		return err
	}
	ic.cmd("DELETE %s", quote(resyncBox)) // a copy of an earlier run, if any
	if _, err := ic.cmd("CREATE %s", quote(resyncBox)); err != nil {
		return err
	}
	if _, err := ic.cmd("SELECT INBOX"); err != nil {
		return err
	}
	if ic.exists < cfg.syncSize {
		return fmt.Errorf("qresync: the sync INBOX has %d messages, want %d", ic.exists, cfg.syncSize)
	}
	_, err = ic.cmd("UID COPY 1:* %s", quote(resyncBox))
	return err
}

// imapQResync is the qresync scenario (see above).
func imapQResync(ctx context.Context, cfg *config, res *results) error {
	nChanged, nExpunged := max(min(100, cfg.syncSize/10), 1), max(min(10, cfg.syncSize/100), 1)
	param := fmt.Sprintf("%d messages, %d changed, %d expunged", cfg.syncSize, nChanged, nExpunged)
	const scenario = "imap-qresync"
	ic, _, err := dialCounted(cfg, "sync")
	if err != nil {
		return err
	}
	caps, err := ic.capabilities()
	ic.Close()
	if err != nil {
		return err
	}
	qresync := caps["QRESYNC"]
	res.add(scenario, param, "QRESYNC advertised", "1 yes, 0 no", "", yes(qresync))
	if !qresync {
		slog.Warn("qresync: QRESYNC not advertised; only the full resync is measured", "target", cfg.target)
	}
	if err := copyForResync(cfg); err != nil {
		return err
	}
	meter := &readMeter{ctx: ctx, url: cfg.metrics}
	flagged := map[int]bool{} // by the runs so far
	for run := range cfg.runs {
		st, err := syncState(cfg, qresync)
		if err != nil {
			return err
		}
		n := len(st.uids)
		if n < nChanged+nExpunged {
			return fmt.Errorf("qresync: %d messages left in %s", n, resyncBox)
		}
		// Spread over the mailbox: messages not flagged by an earlier
		// run (flagging them again would change nothing), and the expunged
		// ones apart from them.
		var changed, expunged []int
		isChanged := map[int]bool{}
		step := n / nChanged
		for i := range nChanged {
			at := i*step + run%step
			for flagged[st.uids[at%n]] || isChanged[st.uids[at%n]] {
				at++
			}
			u := st.uids[at%n]
			changed = append(changed, u)
			isChanged[u], flagged[u] = true, true
		}
		for i := range nExpunged {
			at := i*(n/nExpunged) + step/2
			for isChanged[st.uids[at%n]] {
				at++
			}
			expunged = append(expunged, st.uids[at%n])
		}
		if err := changeMailbox(cfg, changed, expunged); err != nil {
			return err
		}

		// Without QRESYNC: every message's flags again.
		c, cc, err := dialCounted(cfg, "sync")
		if err != nil {
			return err
		}
		if err := meter.start(); err != nil {
			c.Close()
			return err
		}
		sent, t0 := cc.n, time.Now()
		_, err = c.cmd("SELECT %s", quote(resyncBox))
		var r result
		if err == nil {
			r, err = c.cmd("UID FETCH 1:* (FLAGS)")
		}
		d, bytes := time.Since(t0), cc.n-sent
		c.Close()
		if err != nil {
			return err
		}
		if want := n - nExpunged; r.fetches != want {
			return fmt.Errorf("qresync: UID FETCH 1:* gave %d messages, want %d", r.fetches, want)
		}
		res.add(scenario, param, "full resync, time", "ms", "lower", ms(d))
		res.add(scenario, param, "full resync, bytes sent", "bytes", "lower", float64(bytes))
		res.add(scenario, param, "full resync, round trips", "round trips", "lower", 2)
		if err := meter.stop(res, scenario, param, "full resync"); err != nil {
			return err
		}
		slog.Info("qresync: full resync", "target", cfg.target, "run", run+1, "took", d.Round(time.Microsecond), "bytes", bytes)
		if !qresync {
			continue
		}

		// With QRESYNC: what changed since the mod-sequence the client knew.
		if c, cc, err = dialCounted(cfg, "sync"); err != nil {
			return err
		}
		if err := meter.start(); err != nil {
			c.Close()
			return err
		}
		sent, t0 = cc.n, time.Now()
		_, err = c.cmd("ENABLE QRESYNC")
		var lines []string
		if err == nil {
			lines, err = c.collect("SELECT %s (QRESYNC (%d %d %d:%d))", quote(resyncBox), st.uidValidity, st.modSeq, st.uids[0], st.uids[n-1])
		}
		d, bytes = time.Since(t0), cc.n-sent
		c.Close()
		if err != nil {
			return err
		}
		fetches, vanished := 0, 0
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) >= 3 && strings.EqualFold(f[2], "FETCH"):
				fetches++
			case len(f) >= 3 && strings.EqualFold(f[1], "VANISHED"):
				vanished += setSize(f[len(f)-1])
			}
		}
		// More is allowed (RFC 7162 section 3.2.5.2: a server may report
		// what the client knew already), less is a resync that missed a change.
		if fetches < nChanged || vanished < nExpunged {
			return fmt.Errorf("qresync: %d FETCH and %d VANISHED, want at least %d and %d", fetches, vanished, nChanged, nExpunged)
		}
		res.add(scenario, param, "QRESYNC, time", "ms", "lower", ms(d))
		res.add(scenario, param, "QRESYNC, bytes sent", "bytes", "lower", float64(bytes))
		res.add(scenario, param, "QRESYNC, round trips", "round trips", "lower", 2)
		res.add(scenario, param, "QRESYNC, FETCH responses", "messages", "", float64(fetches))
		res.add(scenario, param, "QRESYNC, VANISHED UIDs", "messages", "", float64(vanished))
		if err := meter.stop(res, scenario, param, "QRESYNC"); err != nil {
			return err
		}
		slog.Info("qresync: QRESYNC resync", "target", cfg.target, "run", run+1, "took", d.Round(time.Microsecond), "bytes", bytes, "fetches", fetches, "vanished", vanished)
	}
	return nil
}
