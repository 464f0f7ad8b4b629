package imapgw

import (
	"bufio"
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"github.com/bucketmail/bucketmail/internal/store"
)

// appendMsg APPENDs raw to mailbox and returns the APPENDUID data.
func appendMsg(t *testing.T, c *imapclient.Client, mailbox, raw string, options *imap.AppendOptions) *imap.AppendData {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(raw)), options)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	return data
}

func TestAppendAndFetchEveryItem(t *testing.T) {
	env := newEnv(t)
	c := env.dial(t, "alice@example.org", nil)
	date := time.Date(2023, 11, 5, 9, 15, 0, 0, time.FixedZone("", -5*3600))
	app := appendMsg(t, c, "INBOX", multipartMsg, &imap.AppendOptions{Flags: []imap.Flag{imap.FlagFlagged, "$Work"}, Time: date})
	sel := mustSelect(t, c, "INBOX", false)
	if app.UID != 1 || app.UIDValidity != sel.UIDValidity {
		t.Errorf("APPENDUID = %+v, UIDVALIDITY %d", app, sel.UIDValidity)
	}
	if keys, _ := env.blobs.List(t.Context(), "msg/", "", 10); len(keys) != 1 {
		t.Fatalf("objects after APPEND: %v", keys)
	}

	m := fetchOne(t, c, app.UID, &imap.FetchOptions{
		Flags: true, UID: true, Envelope: true, RFC822Size: true, InternalDate: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
	})
	if !slices.Contains(m.Flags, imap.FlagFlagged) || !slices.Contains(m.Flags, "$Work") || slices.Contains(m.Flags, imap.FlagSeen) {
		t.Errorf("FLAGS = %v", m.Flags)
	}
	if m.RFC822Size != int64(len(multipartMsg)) {
		t.Errorf("RFC822.SIZE = %d, want %d", m.RFC822Size, len(multipartMsg))
	}
	if !m.InternalDate.Equal(date) {
		t.Errorf("INTERNALDATE = %v, want %v", m.InternalDate, date)
	}
	checkEnvelopeAndStructure(t, m, []byte(multipartMsg))

	// BODY (non-extended) too.
	if b := fetchOne(t, c, app.UID, &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{}}); b.BodyStructure == nil {
		t.Errorf("BODY gave no structure")
	}
}

// checkEnvelopeAndStructure compares what the index served with what
// imapserver computes from the full message.
func checkEnvelopeAndStructure(t *testing.T, m *imapclient.FetchMessageBuffer, full []byte) {
	t.Helper()
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(full)))
	if err != nil {
		t.Fatal(err)
	}
	wantEnv := imapserver.ExtractEnvelope(h)
	// On the wire a missing Sender or Reply-To is the From (RFC 9051 section 7.5.2).
	if len(wantEnv.Sender) == 0 {
		wantEnv.Sender = wantEnv.From
	}
	if len(wantEnv.ReplyTo) == 0 {
		wantEnv.ReplyTo = wantEnv.From
	}
	for _, l := range []*[]imap.Address{&wantEnv.Cc, &wantEnv.Bcc, &m.Envelope.Cc, &m.Envelope.Bcc} {
		if len(*l) == 0 {
			*l = nil
		}
	}
	got := *m.Envelope
	if !got.Date.Equal(wantEnv.Date) {
		t.Errorf("ENVELOPE date %v, want %v", got.Date, wantEnv.Date)
	}
	got.Date = wantEnv.Date
	if !reflect.DeepEqual(&got, wantEnv) {
		t.Errorf("ENVELOPE\n got %+v\nwant %+v", &got, wantEnv)
	}
	wantBS := imapserver.ExtractBodyStructure(bytes.NewReader(full))
	if !reflect.DeepEqual(normBS(m.BodyStructure), normBS(wantBS)) {
		t.Errorf("BODYSTRUCTURE\n got %s\nwant %s", dumpBS(m.BodyStructure), dumpBS(wantBS))
	}
}

// normBS drops nil-vs-empty noise.
func normBS(bs imap.BodyStructure) imap.BodyStructure {
	switch bs := bs.(type) {
	case *imap.BodyStructureSinglePart:
		c := *bs
		if len(c.Params) == 0 {
			c.Params = nil
		}
		if c.Extended != nil {
			e := *c.Extended
			if e.Disposition != nil && len(e.Disposition.Params) == 0 {
				d := *e.Disposition
				d.Params = nil
				e.Disposition = &d
			}
			c.Extended = &e
		}
		c.Encoding = strings.ToLower(c.Encoding)
		if c.Encoding == "" {
			c.Encoding = "7bit"
		}
		return &c
	case *imap.BodyStructureMultiPart:
		c := *bs
		c.Children = nil
		for _, ch := range bs.Children {
			c.Children = append(c.Children, normBS(ch))
		}
		if c.Extended != nil && len(c.Extended.Params) == 0 {
			e := *c.Extended
			e.Params = nil
			c.Extended = &e
		}
		return &c
	}
	return bs
}

func dumpBS(bs imap.BodyStructure) string {
	var b strings.Builder
	bs.Walk(func(path []int, part imap.BodyStructure) bool {
		switch p := part.(type) {
		case *imap.BodyStructureSinglePart:
			b.WriteString(fmtAny(*p) + " ext " + fmtAny(p.Extended))
		case *imap.BodyStructureMultiPart:
			b.WriteString("multipart/" + p.Subtype + " ext " + fmtAny(p.Extended))
		}
		b.WriteString("\n")
		return true
	})
	return b.String()
}

func TestFetchBodySections(t *testing.T) {
	env := newEnv(t)
	prefix := "Return-Path: <eve@example.com>\r\nDelivered-To: alice@example.org\r\n"
	uid := imap.UID(env.deliver(t, "alice@example.org", "INBOX", prefix, multipartMsg))
	full := prefix + multipartMsg
	c := env.dial(t, "alice@example.org", nil)
	mustSelect(t, c, "INBOX", false)

	header := full[:strings.Index(full, "\r\n\r\n")+4]
	text := full[strings.Index(full, "\r\n\r\n")+4:]
	sections := []struct {
		name string
		sec  *imap.FetchItemBodySection
		want string
	}{
		{"BODY[]", &imap.FetchItemBodySection{Peek: true}, full},
		{"BODY[HEADER]", &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}, header},
		{"BODY[TEXT]", &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true}, text},
		{"BODY[]<10.20>", &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 10, Size: 20}}, full[10:30]},
		{"BODY[]<5000.10>", &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 5000, Size: 10}}, ""},
		{"BODY[HEADER.FIELDS (Subject Delivered-To)]", &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader,
			HeaderFields: []string{"Subject", "Delivered-To"}, Peek: true},
			"Delivered-To: alice@example.org\r\nSubject: =?utf-8?q?Photos_=C3=A9t=C3=A9?=\r\n\r\n"},
		{"BODY[1]", &imap.FetchItemBodySection{Part: []int{1}, Peek: true}, "Here are the pictures from the beach=2E"},
		{"BODY[1.MIME]", &imap.FetchItemBodySection{Part: []int{1}, Specifier: imap.PartSpecifierMIME, Peek: true},
			"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"},
		{"BODY[2]<0.4>", &imap.FetchItemBodySection{Part: []int{2}, Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: 4}}, "iVBO"},
	}
	for _, tc := range sections {
		m := fetchOne(t, c, uid, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{tc.sec}})
		if got := string(m.FindBodySection(tc.sec)); got != tc.want {
			t.Errorf("%s\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	// The prefix is part of the header as served; ENVELOPE and
	// BODYSTRUCTURE are what imapserver computes from the served bytes.
	plainUID := imap.UID(env.deliver(t, "alice@example.org", "INBOX", prefix, plainMsg))
	if err := c.Noop().Wait(); err != nil { // learn of it
		t.Fatal(err)
	}
	for uid, raw := range map[imap.UID]string{uid: full, plainUID: prefix + plainMsg} {
		m := fetchOne(t, c, uid, &imap.FetchOptions{Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true}})
		checkEnvelopeAndStructure(t, m, []byte(raw))
	}
	want := imapserver.ExtractBodySection(strings.NewReader(full), &imap.FetchItemBodySection{Part: []int{1}})
	if string(want) != sections[6].want {
		t.Errorf("reference BODY[1] = %q", want)
	}

	// BINARY decodes the transfer encoding (RFC 3516).
	bin := &imap.FetchItemBinarySection{Part: []int{1}, Peek: true}
	m := fetchOne(t, c, uid, &imap.FetchOptions{BinarySection: []*imap.FetchItemBinarySection{bin}, BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{2}}}})
	if got := string(m.FindBinarySection(bin)); got != "Here are the pictures from the beach." {
		t.Errorf("BINARY[1] = %q", got)
	}
	if n, ok := m.FindBinarySectionSize([]int{2}); !ok || n != 8 {
		t.Errorf("BINARY.SIZE[2] = %d, %v; want 8", n, ok)
	}

	// Still unseen: everything so far was PEEK.
	if m := fetchOne(t, c, uid, &imap.FetchOptions{Flags: true}); slices.Contains(m.Flags, imap.FlagSeen) {
		t.Fatalf("PEEK set \\Seen: %v", m.Flags)
	}
	// RFC822.SIZE counts the prefix and matches BODY[].
	if m := fetchOne(t, c, uid, &imap.FetchOptions{RFC822Size: true}); m.RFC822Size != int64(len(full)) {
		t.Errorf("RFC822.SIZE = %d, want %d", m.RFC822Size, len(full))
	}
	// BODY[] without PEEK sets \Seen and says so.
	sec := &imap.FetchItemBodySection{}
	m = fetchOne(t, c, uid, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}})
	if string(m.FindBodySection(sec)) != full || !slices.Contains(m.Flags, imap.FlagSeen) {
		t.Errorf("BODY[] gave flags %v", m.Flags)
	}
}

func TestAppendLimit(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.AppendLimit = 100 })
	c := env.dial(t, "alice@example.org", nil)
	st, err := c.Status("INBOX", &imap.StatusOptions{AppendLimit: true}).Wait()
	if err != nil || st.AppendLimit == nil || *st.AppendLimit != 100 {
		t.Errorf("STATUS APPENDLIMIT = %v, %v", st.AppendLimit, err)
	}
	// The message's lines must not be taken for commands after the refusal.
	raw := plainMsg + "a1 DELETE Archive\r\n"
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	if _, err := cmd.Wait(); imapCode(err) != imap.ResponseCodeTooBig {
		t.Errorf("APPEND over the limit: %v, want TOOBIG", err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatalf("NOOP after refused APPEND: %v", err)
	}
	st, err = c.Status("Archive", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil || *st.NumMessages != 0 {
		t.Errorf("Archive after refused APPEND: %v, %v", st, err)
	}
	if l, _ := env.blobs.List(t.Context(), "msg/", "", 10); len(l) != 0 {
		t.Errorf("objects after refused APPEND: %v", l)
	}
	appendMsg(t, c, "INBOX", lunchMsg[:90], nil)
}

func TestFetchRFC822Items(t *testing.T) {
	env := newEnv(t)
	env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("e1 EXAMINE INBOX")
	tr.expect("e1 OK [READ-ONLY]")
	tr.send("e2 FETCH 1 (RFC822.HEADER RFC822.TEXT)")
	line := tr.expect("* 1 FETCH")
	if !strings.Contains(line, "RFC822.HEADER {") {
		t.Errorf("FETCH RFC822.HEADER: %q", line)
	}
	tr.expect("e2 OK")
	tr.send("e3 FETCH 1 (RFC822)")
	if line := tr.expect("* 1 FETCH"); !strings.Contains(line, "RFC822 {"+itoa(len(plainMsg))+"}") {
		t.Errorf("FETCH RFC822: %q", line)
	}
	tr.expect("e3 OK")
	// EXAMINE is read-only: RFC822 (BODY[]) must not set \Seen.
	tr.send("e4 FETCH 1 (FLAGS)")
	if line := tr.expect("* 1 FETCH"); strings.Contains(line, `\Seen`) {
		t.Errorf("read-only fetch set \\Seen: %q", line)
	}
	tr.expect("e4 OK")
	tr.send("e5 STORE 1 +FLAGS (\\Flagged)")
	if line := tr.expect("e5 "); !strings.HasPrefix(line, "e5 NO") {
		t.Errorf("STORE in EXAMINE: %q", line)
	}
	tr.send("e6 FETCH 1 FAST")
	if line := tr.expect("* 1 FETCH"); !strings.Contains(line, "RFC822.SIZE "+itoa(len(plainMsg))) || !strings.Contains(line, "INTERNALDATE") {
		t.Errorf("FETCH FAST: %q", line)
	}
	tr.expect("e6 OK")
}

// TestSyncFromMetaCache: a sync served from the metadata cache (heads
// listing, no summaries) answers exactly what the first one, decoded from
// the summaries, did; a second session of the same user hits the cache.
func TestSyncFromMetaCache(t *testing.T) {
	env := newEnv(t)
	for range 3 {
		env.deliver(t, "alice@example.org", "INBOX", "", plainMsg)
		env.deliver(t, "alice@example.org", "INBOX", "", multipartMsg)
	}
	sync := func() []*imapclient.FetchMessageBuffer {
		c := env.dial(t, "alice@example.org", nil)
		defer c.Close()
		mustSelect(t, c, "INBOX", true)
		msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
			UID: true, Flags: true, Envelope: true, RFC822Size: true, InternalDate: true,
			BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		return msgs
	}
	first := sync()
	if n := len(env.srv.meta.cur) + len(env.srv.meta.prev); n != 6 {
		t.Fatalf("%d cached entries after the first sync, want 6", n)
	}
	second := sync()
	if len(first) != 6 || !reflect.DeepEqual(first, second) {
		t.Fatalf("second sync differs:\n%s\n%s", fmtAny(first), fmtAny(second))
	}
	for _, m := range second {
		if m.Envelope == nil || m.Envelope.Subject == "" || m.BodyStructure == nil {
			t.Fatalf("message %d: envelope %+v, bodystructure %v", m.UID, m.Envelope, m.BodyStructure)
		}
	}
}

// fullHeads is a store whose MessageHeads returns whole entries, as a
// driver may; it counts the Messages calls.
type fullHeads struct {
	Store
	messages atomic.Int64
}

func (f *fullHeads) Messages(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	f.messages.Add(1)
	return f.Store.Messages(ctx, userID, mailboxID, first, last, changedSince)
}

func (f *fullHeads) MessageHeads(ctx context.Context, userID, mailboxID string, first, last uint32, changedSince uint64) ([]store.Message, error) {
	return f.Store.Messages(ctx, userID, mailboxID, first, last, changedSince)
}

// TestSyncWithFullHeads: when MessageHeads already carries the summaries,
// a cold sync decodes them and lists nothing more, per message or at all.
func TestSyncWithFullHeads(t *testing.T) {
	var fh *fullHeads
	env := newEnv(t, func(cfg *Config) {
		fh = &fullHeads{Store: cfg.Store}
		cfg.Store = fh
	})
	for range 5 {
		env.deliver(t, "alice@example.org", "INBOX", "", multipartMsg)
	}
	c := env.dial(t, "alice@example.org", nil)
	mustSelect(t, c, "INBOX", true)
	before := fh.messages.Load()
	msgs, err := c.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, &imap.FetchOptions{
		UID: true, Flags: true, Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
	}).Collect()
	if err != nil || len(msgs) != 5 || msgs[4].Envelope == nil || msgs[4].Envelope.Subject == "" {
		t.Fatalf("sync: %d messages, %v", len(msgs), err)
	}
	if n := fh.messages.Load() - before; n > 1 { // the poll after the command may list changes
		t.Fatalf("%d Messages calls for a sync of 5, want at most 1", n)
	}
}
