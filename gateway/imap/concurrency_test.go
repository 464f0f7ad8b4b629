package imapgw

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestConcurrentSessionsModel runs 8 sessions on one INBOX for a while,
// each doing SELECT, FETCH, STORE, EXPUNGE, APPEND, COPY, MOVE and IDLE at
// random, and checks every untagged response against the session's own
// model of the mailbox (RFC 9051 sections 7.4 and 5.5):
//   - EXPUNGE names a sequence number the session knows; EXISTS never
//     shrinks the mailbox; UIDs stay strictly ascending;
//   - a FETCH's UID matches the model's UID at that sequence number;
//   - each session owns a keyword no other session touches: once its STORE
//     of that keyword completed, every later FLAGS of that message carries
//     the keyword's new state (no flags from the past), and the STORE's own
//     reply carries it;
//   - a FETCH answers for every message of the view, also one another
//     session expunged meanwhile while the gateway holds its head (and
//     FETCH (UID) always: the view has the UIDs); where it cannot (the
//     body, envelope or body structure, whose entry is gone; a message
//     that came and went between two updates of the session) it ends NO [EXPUNGEISSUED]
//     (RFC 5530), and the EXPUNGE of each message left out must then come;
//   - nothing else gets NO or BAD;
//   - the gateway logs no ERROR.
func TestConcurrentSessionsModel(t *testing.T) {
	errs := &errorLog{}
	env := newEnv(t, func(c *Config) { c.Log = slog.New(errs) })
	for i := range 20 {
		env.deliver(t, "alice@example.org", "INBOX", "", fmt.Sprintf("Subject: seed %d\r\n\r\nbody %d\r\n", i, i))
	}
	duration := 20 * time.Second
	if testing.Short() {
		duration = 3 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	failures := make(chan string, 8)
	ops := make([]int, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := newModelSession(env.tlsAddr, i)
			if err != nil {
				failures <- fmt.Sprintf("session %d: %v", i, err)
				return
			}
			defer s.close()
			n, err := s.run(ctx, rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano()))))
			ops[i] = n
			if err != nil {
				failures <- fmt.Sprintf("session %d after %d commands: %v\nlast lines:\n%s", i, n, err, s.tail())
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	total := 0
	for _, n := range ops {
		total += n
	}
	if total < 8*10 {
		t.Errorf("only %d commands in all: the test did not exercise the server", total)
	}
	t.Logf("%d commands over 8 sessions in %v", total, duration)
	if e := errs.errors(); len(e) > 0 {
		t.Errorf("the gateway logged %d ERROR lines, first: %s", len(e), e[0])
	}
}

// errorLog is a slog handler that keeps ERROR records.
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	h.errs = append(h.errs, b.String())
	h.mu.Unlock()
	return nil
}
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }
func (h *errorLog) errors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.errs)
}

// modelSession is a raw IMAP client that reads every response in wire
// order and keeps its own view of the selected INBOX.
type modelSession struct {
	id      int
	conn    io.ReadWriteCloser
	r       *bufio.Reader
	w       *bufio.Writer
	tagN    int
	keyword string
	uids    []uint32 // sequence number - 1 -> UID; 0 while unknown
	// own is the state of the session's keyword on a UID, once a STORE of
	// it completed: true present, false absent.
	own map[uint32]bool
	// storing is the UID whose keyword a STORE in flight changes, and
	// lastFlags the keyword state the last FETCH for it showed.
	storing   uint32
	lastFlags *bool
	// answered collects the UIDs of the FETCH responses of the command
	// running, when not nil.
	answered map[uint32]bool
	lines    []string // the last lines read, for the failure message
}

func newModelSession(addr string, id int) (*modelSession, error) {
	c, err := tlsDial(addr)
	if err != nil {
		return nil, err
	}
	s := &modelSession{id: id, conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c),
		keyword: "$S" + strconv.Itoa(id), own: map[uint32]bool{}}
	if _, err := s.readLine(); err != nil { // greeting
		c.Close()
		return nil, err
	}
	if err := s.command(`LOGIN "alice@example.org" "` + testPassword + `"`); err != nil {
		c.Close()
		return nil, err
	}
	return s, nil
}

func (s *modelSession) close() {
	s.command("LOGOUT")
	s.conn.Close()
}

func (s *modelSession) tail() string { return strings.Join(s.lines, "\n") }

func (s *modelSession) readLine() (string, error) {
	line, err := s.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	// Literals: read and drop their bytes, keep reading the line.
	for strings.HasSuffix(line, "}") {
		i := strings.LastIndexByte(line, '{')
		n, err := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-1], "+"))
		if i < 0 || err != nil {
			break
		}
		if _, err := io.CopyN(io.Discard, s.r, int64(n)); err != nil {
			return "", err
		}
		rest, err := s.r.ReadString('\n')
		if err != nil {
			return "", err
		}
		line = line[:i] + "\"\"" + strings.TrimRight(rest, "\r\n")
	}
	s.lines = append(s.lines, line)
	if len(s.lines) > 12 {
		s.lines = s.lines[1:]
	}
	return line, nil
}

// command sends one command and reads to its tagged response, which must
// be OK; every untagged response on the way goes through the model.
func (s *modelSession) command(cmd string) error {
	s.tagN++
	tag := "M" + strconv.Itoa(s.tagN)
	fmt.Fprintf(s.w, "%s %s\r\n", tag, cmd)
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.readUntil(tag, cmd)
}

func (s *modelSession) readUntil(tag, cmd string) error {
	for {
		line, err := s.readLine()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return fmt.Errorf("%s: %s", cmd, line)
			}
			return nil
		}
		if strings.HasPrefix(line, "* ") {
			if err := s.untagged(line); err != nil {
				return fmt.Errorf("%s: %w", cmd, err)
			}
		}
	}
}

var (
	numbered  = regexp.MustCompile(`^\* (\d+) (EXISTS|EXPUNGE|FETCH|RECENT)\b(.*)$`)
	uidItem   = regexp.MustCompile(`\bUID (\d+)`)
	flagsItem = regexp.MustCompile(`\bFLAGS \(([^)]*)\)`)
)

// untagged applies one untagged response to the model, or says why it
// cannot be right.
func (s *modelSession) untagged(line string) error {
	m := numbered.FindStringSubmatch(line)
	if m == nil {
		return nil // OK, SEARCH, FLAGS, LIST, ...: checked by their command
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "EXISTS":
		if n < len(s.uids) {
			return fmt.Errorf("EXISTS %d shrinks a mailbox of %d without EXPUNGE", n, len(s.uids))
		}
		for len(s.uids) < n {
			s.uids = append(s.uids, 0)
		}
	case "EXPUNGE":
		if n < 1 || n > len(s.uids) {
			return fmt.Errorf("EXPUNGE %d of a mailbox of %d", n, len(s.uids))
		}
		delete(s.own, s.uids[n-1])
		s.uids = slices.Delete(s.uids, n-1, n)
	case "FETCH":
		if n < 1 || n > len(s.uids) {
			return fmt.Errorf("FETCH for %d of a mailbox of %d", n, len(s.uids))
		}
		if u := uidItem.FindStringSubmatch(m[3]); u != nil {
			uid64, _ := strconv.ParseUint(u[1], 10, 32)
			uid := uint32(uid64)
			switch known := s.uids[n-1]; {
			case known == 0:
				if n > 1 && s.uids[n-2] != 0 && s.uids[n-2] >= uid {
					return fmt.Errorf("UID %d at %d after UID %d", uid, n, s.uids[n-2])
				}
				s.uids[n-1] = uid
			case known != uid:
				return fmt.Errorf("FETCH %d says UID %d, the session knows UID %d there", n, uid, known)
			}
			if s.answered != nil {
				s.answered[uid] = true
			}
		}
		if f := flagsItem.FindStringSubmatch(m[3]); f != nil && s.uids[n-1] != 0 {
			uid := s.uids[n-1]
			has := slices.Contains(strings.Fields(f[1]), s.keyword)
			if uid == s.storing {
				s.lastFlags = &has
			} else if want, ok := s.own[uid]; ok && want != has {
				return fmt.Errorf("FLAGS of UID %d: %s is %v, its STORE made it %v (flags from the past)", uid, s.keyword, has, want)
			}
		}
	}
	return nil
}

// learnUIDs fetches the UIDs the model does not know yet (new messages).
// Each FETCH must answer for every message known when it started; more
// may be announced at its end (EXISTS after the FETCH responses), and are
// fetched by the next round.
func (s *modelSession) learnUIDs() error {
	for range 100 {
		first := slices.Index(s.uids, 0)
		if first < 0 {
			return nil
		}
		known := len(s.uids)
		if err := s.command(fmt.Sprintf("FETCH %d:* (UID)", first+1)); err != nil {
			return err
		}
		if i := slices.Index(s.uids, 0); i >= 0 && i < known {
			return fmt.Errorf("FETCH %d:* (UID) left sequence number %d of %d without a UID", first+1, i+1, known)
		}
	}
	return fmt.Errorf("new messages kept coming for 100 rounds of FETCH n:* (UID)")
}

func (s *modelSession) selectInbox() error {
	s.uids = s.uids[:0]
	if err := s.command("SELECT INBOX"); err != nil {
		return err
	}
	return s.learnUIDs()
}

func (s *modelSession) run(ctx context.Context, rng *rand.Rand) (int, error) {
	if err := s.command("CREATE Other"); err != nil && !strings.Contains(err.Error(), "NO") {
		return 0, err
	}
	if err := s.selectInbox(); err != nil {
		return 0, err
	}
	n := 0
	for ctx.Err() == nil {
		if err := s.step(rng); err != nil {
			return n, err
		}
		if err := s.learnUIDs(); err != nil {
			return n, err
		}
		if !slices.IsSorted(s.uids) || len(slices.Compact(slices.Clone(s.uids))) != len(s.uids) {
			return n, fmt.Errorf("UIDs out of order: %v", s.uids)
		}
		n++
	}
	return n, nil
}

func (s *modelSession) step(rng *rand.Rand) error {
	count := len(s.uids)
	seq := func() int { return 1 + rng.IntN(count) }
	op := rng.IntN(100)
	if count < 8 {
		op = 0 // keep some messages around: APPEND
	}
	switch {
	case op < 12:
		msg := fmt.Sprintf("Subject: append %d\r\n\r\nfrom session %d\r\n", rng.Uint32(), s.id)
		return s.command(fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg))
	case op < 27:
		lo := seq()
		hi := min(count, lo+rng.IntN(10))
		return s.fetchRange(lo, hi)
	case op < 37:
		n := seq()
		uid := s.uids[n-1]
		err := s.command(fmt.Sprintf("FETCH %d (UID ENVELOPE BODYSTRUCTURE)", n))
		if err != nil {
			if !strings.Contains(err.Error(), "NO [EXPUNGEISSUED]") {
				return err
			}
			// Its entry, with the summary ENVELOPE and BODYSTRUCTURE come
			// from, went with another session's EXPUNGE.
			return s.awaitExpunge(uid, "FETCH ENVELOPE answered NO [EXPUNGEISSUED]")
		}
		err = s.command(fmt.Sprintf("FETCH %d (UID BODY.PEEK[])", n))
		if err == nil || !strings.Contains(err.Error(), "NO [EXPUNGEISSUED]") {
			return err
		}
		// The body of a message another session expunged, whose entry
		// (with its per-recipient prefix) is gone: RFC 5530's answer. Its
		// EXPUNGE must then come.
		return s.awaitExpunge(uid, "FETCH BODY[] answered NO [EXPUNGEISSUED]")
	case op < 57:
		return s.storeKeyword(seq(), rng.IntN(2) == 0)
	case op < 63:
		// Expunge one message of our own choosing (UIDPLUS).
		n := seq()
		uid := s.uids[n-1]
		if err := s.command(fmt.Sprintf("UID STORE %d +FLAGS.SILENT (\\Deleted)", uid)); err != nil {
			return err
		}
		return s.command(fmt.Sprintf("UID EXPUNGE %d", uid))
	case op < 70:
		return s.command(fmt.Sprintf("COPY %d Other", seq()))
	case op < 76:
		return s.command(fmt.Sprintf("MOVE %d Other", seq()))
	case op < 84:
		// Every number must be one the session knows, once, ascending; a
		// message another session expunged may be left out (its EXPUNGE
		// is not yet reported, so the session cannot tell it apart).
		r, _, err := s.search("SEARCH ALL")
		if err != nil {
			return err
		}
		if !slices.IsSorted(r) || len(slices.Compact(slices.Clone(r))) != len(r) {
			return fmt.Errorf("SEARCH ALL numbers not ascending or repeated: %v", r)
		}
		return nil
	case op < 92:
		return s.idle(time.Duration(50+rng.IntN(200)) * time.Millisecond)
	case op < 96:
		return s.command("NOOP")
	default:
		return s.selectInbox()
	}
}

// storeKeyword sets or clears the session's keyword on message n with a
// non-silent STORE, whose FETCH reply must show the new state.
func (s *modelSession) storeKeyword(n int, set bool) error {
	uid := s.uids[n-1]
	sign := "-"
	if set {
		sign = "+"
	}
	s.storing, s.lastFlags = uid, nil
	err := s.command(fmt.Sprintf("STORE %d %sFLAGS (%s)", n, sign, s.keyword))
	s.storing = 0
	if err != nil {
		return err
	}
	if s.lastFlags == nil {
		// No reply is right only for a message another session expunged
		// meanwhile: its EXPUNGE must then come.
		return s.awaitExpunge(uid, fmt.Sprintf("STORE %d %sFLAGS (%s): no FETCH with FLAGS in the reply", n, sign, s.keyword))
	}
	if *s.lastFlags != set {
		// Right only for a message another session expunged meanwhile,
		// answered with the flags it last had: its EXPUNGE must come.
		return s.awaitExpunge(uid, fmt.Sprintf("STORE %d %sFLAGS (%s) answered with the flags from before the change", n, sign, s.keyword))
	}
	s.own[uid] = set
	return nil
}

// fetchRange fetches the flags of lo:hi. A message of the view another
// session expunged may be answered NO [EXPUNGEISSUED] (RFC 5530) when the
// gateway never had its head (it came and went between two updates of
// this session); every one left unanswered must then be reported
// expunged.
func (s *modelSession) fetchRange(lo, hi int) error {
	want := slices.Clone(s.uids[lo-1 : hi])
	s.answered = map[uint32]bool{}
	err := s.command(fmt.Sprintf("FETCH %d:%d (UID FLAGS)", lo, hi))
	answered := s.answered
	s.answered = nil
	if err == nil || !strings.Contains(err.Error(), "NO [EXPUNGEISSUED]") {
		return err
	}
	for _, uid := range want {
		if !answered[uid] {
			if err := s.awaitExpunge(uid, fmt.Sprintf("FETCH %d:%d left UID %d out with NO [EXPUNGEISSUED]", lo, hi, uid)); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitExpunge checks that uid, which an answer treated as expunged by
// another session, is reported expunged, at the latest on a NOOP a moment
// later (once the change reached this gateway); else what happened is an
// error.
func (s *modelSession) awaitExpunge(uid uint32, what string) error {
	for range 40 {
		if !slices.Contains(s.uids, uid) {
			return nil
		}
		if err := s.command("NOOP"); err != nil {
			return err
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("%s, and UID %d was never reported expunged", what, uid)
}

// search runs a SEARCH and checks every number it returns is one the
// session knows; known is how many messages it knew then.
func (s *modelSession) search(cmd string) (got []int, known int, err error) {
	s.tagN++
	tag := "M" + strconv.Itoa(s.tagN)
	fmt.Fprintf(s.w, "%s %s\r\n", tag, cmd)
	if err := s.w.Flush(); err != nil {
		return nil, 0, err
	}
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, 0, err
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return nil, 0, fmt.Errorf("%s: %s", cmd, line)
			}
			return got, known, nil
		}
		if rest, ok := strings.CutPrefix(line, "* SEARCH"); ok {
			known = len(s.uids)
			for _, f := range strings.Fields(rest) {
				n, err := strconv.Atoi(f)
				if err != nil || n < 1 || n > known {
					return nil, 0, fmt.Errorf("SEARCH result %q outside the %d messages the session knows", f, known)
				}
				got = append(got, n)
			}
			continue
		}
		if strings.HasPrefix(line, "* ") {
			if err := s.untagged(line); err != nil {
				return nil, 0, err
			}
		}
	}
}

// idle waits in IDLE for d, applying what comes, then ends it.
func (s *modelSession) idle(d time.Duration) error {
	s.tagN++
	tag := "M" + strconv.Itoa(s.tagN)
	fmt.Fprintf(s.w, "%s IDLE\r\n", tag)
	if err := s.w.Flush(); err != nil {
		return err
	}
	line, err := s.readLine()
	for err == nil && strings.HasPrefix(line, "* ") {
		if err := s.untagged(line); err != nil {
			return err
		}
		line, err = s.readLine()
	}
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+") {
		return fmt.Errorf("IDLE: %s", line)
	}
	// DONE is written from the timer's goroutine while this one reads;
	// sent tells this one the writer is its own again.
	sent := make(chan struct{})
	time.AfterFunc(d, func() {
		defer close(sent)
		s.w.WriteString("DONE\r\n")
		s.w.Flush()
	})
	err = s.readUntil(tag, "IDLE")
	<-sent
	return err
}
