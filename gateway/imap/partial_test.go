package imapgw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// bigMessage is a multipart message larger than the body cache takes:
// part 1 is textSize bytes of 8-bit text, part 2 attSize random bytes in
// base64 lines of 76 characters.
func bigMessage(textSize, attSize int) (raw string, text, att []byte) {
	rng := rand.New(rand.NewChaCha8([32]byte{7}))
	var tb bytes.Buffer
	for tb.Len() < textSize {
		line := make([]byte, 74)
		for i := range line {
			line[i] = byte('a' + rng.IntN(26))
		}
		tb.Write(line)
		tb.WriteString("\r\n")
	}
	text = tb.Bytes()[:textSize]
	att = make([]byte, attSize)
	for i := range att {
		att[i] = byte(rng.UintN(256))
	}
	enc := base64.StdEncoding.EncodeToString(att)
	var b strings.Builder
	b.WriteString("From: Carol <carol@example.net>\r\nTo: alice@example.org\r\nSubject: big\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n" +
		"--BIG\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.Write(text)
	b.WriteString("\r\n--BIG\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--BIG--\r\n")
	return b.String(), text, att
}

// fetchPiece fetches one body or binary section of uid and returns it with
// the object bytes the blob driver read meanwhile.
func fetchPiece(t *testing.T, env *testEnv, c *imapclient.Client, uid imap.UID, opts *imap.FetchOptions) (*imapclient.FetchMessageBuffer, int64) {
	t.Helper()
	before := env.objectBytesRead(t)
	m := fetchOne(t, c, uid, opts)
	return m, env.objectBytesRead(t) - before
}

// rawFetch fetches item (BINARY[part]<offset.count>, then anything) of
// uid in INBOX by a raw session, as go-imap's client cannot read the
// origin of BINARY[part]<origin> (RFC 3516 section 4.2), and returns its
// data and the object bytes read. The response must name the origin.
func rawFetch(t *testing.T, env *testEnv, uid imap.UID, item string) ([]byte, int64) {
	t.Helper()
	item, _, _ = strings.Cut(item, " ")
	tr := rawLogin(t, env, "alice@example.org")
	tr.send("f1 EXAMINE INBOX")
	tr.expect("f1 OK")
	origin := item[:strings.IndexByte(item, '.')] + ">"
	peek := strings.Replace(item, "BINARY[", "BINARY.PEEK[", 1)
	before := env.objectBytesRead(t)
	tr.send(fmt.Sprintf("f2 UID FETCH %d (%s)", uid, peek))
	line := tr.expect("* ")
	name, size, ok := strings.Cut(line, " {")
	if !ok {
		name, size, ok = strings.Cut(line, " ~{")
	}
	if !ok || !strings.HasSuffix(name, " "+origin) {
		t.Fatalf("FETCH %s: %q, want %s and a literal", peek, line, origin)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(size, "}"))
	if err != nil {
		t.Fatalf("FETCH %s: %q", peek, line)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(tr.r, b); err != nil {
		t.Fatal(err)
	}
	tr.expect("f2 OK")
	return b, env.objectBytesRead(t) - before
}

// TestPartialFetchReadsTheRange: BODY[]<o.n>, BODY[TEXT]<o.n>,
// BODY[part]<o.n> and BINARY[part]<o.n> of a message too large for the body cache read their
// bytes of the object, not the object (counted by the blob driver), in
// both deployments; the bytes are the same as a whole fetch cut. A
// download in pieces reads the object once.
func TestPartialFetchReadsTheRange(t *testing.T) {
	eachDeployment(t, testPartialFetchReadsTheRange)
}

func testPartialFetchReadsTheRange(t *testing.T, env *testEnv) {
	raw, text, att := bigMessage(3<<20, 2<<20)
	prefix := "Return-Path: <carol@example.net>\r\nDelivered-To: alice@example.org\r\n"
	full := prefix + raw
	uid := imap.UID(env.deliver(t, "alice@example.org", "INBOX", prefix, raw))
	c := env.dial(t, "alice@example.org", nil)
	mustSelect(t, c, "INBOX", false)

	body := func(part int, off, n int64) *imap.FetchItemBodySection {
		return &imap.FetchItemBodySection{Part: []int{part}, Peek: true, Partial: &imap.SectionPartial{Offset: off, Size: n}}
	}
	whole := func(off, n int64) *imap.FetchItemBodySection {
		return &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: off, Size: n}}
	}
	textSec := func(off, n int64) *imap.FetchItemBodySection {
		return &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Peek: true, Partial: &imap.SectionPartial{Offset: off, Size: n}}
	}
	textStart := strings.Index(raw, "\r\n\r\n") + 4
	encStart := strings.Index(raw, "base64\r\n\r\n") + len("base64\r\n\r\n")
	encoded := raw[encStart : len(raw)-len("\r\n--BIG--\r\n")]
	// b64Pos is where the 4 characters holding decoded byte d start (lines
	// of 76 characters and CRLF, 57 bytes each); b64Read is what decoding
	// n bytes from off reads: whole 4-character groups.
	b64Pos := func(d int64) int64 { return d/57*78 + d%57/3*4 }
	b64Read := func(off, n int64) int64 { return b64Pos(off+n-1) + 4 - b64Pos(off) }
	for _, tc := range []struct {
		name     string
		opts     *imap.FetchOptions // nil: name fetched by a raw session (rawFetch)
		get      func(m *imapclient.FetchMessageBuffer) []byte
		want     []byte
		wantRead int64
	}{
		{"BODY[]<1000000.65536>", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{whole(1000000, 65536)}},
			func(m *imapclient.FetchMessageBuffer) []byte { return m.FindBodySection(whole(1000000, 65536)) }, []byte(full[1000000:1065536]), 65536},
		{"BODY[TEXT]<1000.5000>", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{textSec(1000, 5000)}},
			func(m *imapclient.FetchMessageBuffer) []byte { return m.FindBodySection(textSec(1000, 5000)) }, []byte(raw[textStart+1000 : textStart+6000]), 5000},
		{"BODY[1]<1000.5000>", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{body(1, 1000, 5000)}},
			func(m *imapclient.FetchMessageBuffer) []byte { return m.FindBodySection(body(1, 1000, 5000)) }, text[1000:6000], 5000},
		{"BODY[1]<3145000.5000> (past the end)", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{body(1, 3145000, 5000)}},
			func(m *imapclient.FetchMessageBuffer) []byte { return m.FindBodySection(body(1, 3145000, 5000)) }, text[3145000:], int64(len(text) - 3145000)},
		{"BODY[2]<76.100>", &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{body(2, 76, 100)}},
			func(m *imapclient.FetchMessageBuffer) []byte { return m.FindBodySection(body(2, 76, 100)) }, []byte(encoded[76:176]), 100},
		{name: "BINARY[1]<2000.7000>", want: text[2000:9000], wantRead: 7000},
		// base64 in lines of 76 characters: the lines that hold the range.
		{name: "BINARY[2]<100.1000>", want: att[100:1100], wantRead: b64Read(100, 1000)},
		{name: "BINARY[2]<1000001.65536>", want: att[1000001:1065537], wantRead: b64Read(1000001, 65536)},
		{name: "BINARY[2]<2097000.1000> (past the end)", want: att[2097000:], wantRead: int64(len(encoded)) - b64Pos(2097000)},
	} {
		var b []byte
		var read int64
		if tc.opts == nil {
			b, read = rawFetch(t, env, uid, tc.name)
		} else {
			var m *imapclient.FetchMessageBuffer
			m, read = fetchPiece(t, env, c, uid, tc.opts)
			b = tc.get(m)
		}
		if !bytes.Equal(b, tc.want) {
			t.Errorf("%s: %d bytes, not the %d expected", tc.name, len(b), len(tc.want))
		}
		if read != tc.wantRead {
			t.Errorf("%s: %d object bytes read, want %d", tc.name, read, tc.wantRead)
		}
	}
	m, read := fetchPiece(t, env, c, uid, &imap.FetchOptions{BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{1}}}})
	if n, _ := m.FindBinarySectionSize([]int{1}); n != uint32(len(text)) || read != 0 {
		t.Errorf("BINARY.SIZE[1] = %d (%d object bytes read), want %d from the index", n, read, len(text))
	}
	m, read = fetchPiece(t, env, c, uid, &imap.FetchOptions{BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{2}}}})
	if n, _ := m.FindBinarySectionSize([]int{2}); n != uint32(len(att)) || read > 2 {
		t.Errorf("BINARY.SIZE[2] = %d (%d object bytes read), want %d from the index and the padding", n, read, len(att))
	}
	// Thunderbird's download: BODY.PEEK[]<o.65536> until the end. The
	// pieces after the first are read ahead in growing windows, so the
	// download reads the object once, in at most maxAhead at a time.
	const piece = 64 << 10
	var got bytes.Buffer
	total := int64(0)
	for off := 0; off < len(full); off += piece {
		sec := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: int64(off), Size: piece}}
		m, read := fetchPiece(t, env, c, uid, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}})
		b := m.FindBodySection(sec)
		got.Write(b)
		total += read
		if off == 0 && read != int64(len(b)-len(prefix)) { // the prefix comes from the index
			t.Errorf("BODY[]<0.%d>: %d object bytes read, want %d", piece, read, len(b)-len(prefix))
		}
		if read > maxAhead {
			t.Fatalf("BODY[]<%d.%d>: %d object bytes read", off, piece, read)
		}
	}
	if got.String() != full {
		t.Fatalf("the pieces make %d bytes, not the message (%d)", got.Len(), len(full))
	}
	if total != int64(len(raw)) {
		t.Errorf("the download read %d object bytes, want the object's %d", total, len(raw))
	}
}

// TestPartialFetchOldSummary: an entry whose summary predates part offsets
// is served as before, from the whole object.
func TestPartialFetchOldSummary(t *testing.T) {
	env := newEnv(t)
	raw, text, _ := bigMessage(3<<20, 2<<20)
	u := env.users["alice@example.org"]
	ctx := context.Background()
	if err := env.store.EnsureUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	mb, err := env.store.Mailbox(ctx, u.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	key, sum, _, size, err := putMessage(ctx, env.blobs, ulid.Make().String(), strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.ReplaceAll(sum.Marshal(), []byte(`"off":`), []byte(`"xx":`))
	uid, _, err := env.store.InsertMessage(ctx, u.ID, mb.ID, "", store.NewMessage{
		BlobKey: key, Size: size, InternalDate: time.Now(), Summary: old,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := env.dial(t, "alice@example.org", nil)
	mustSelect(t, c, "INBOX", false)
	sec := &imap.FetchItemBodySection{Part: []int{1}, Peek: true, Partial: &imap.SectionPartial{Offset: 1000, Size: 5000}}
	m, read := fetchPiece(t, env, c, imap.UID(uid), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{sec}})
	if b := m.FindBodySection(sec); !bytes.Equal(b, text[1000:6000]) {
		t.Errorf("BODY[1]<1000.5000> of an old entry: %d bytes, not the part's", len(b))
	}
	if read != size {
		t.Errorf("%d object bytes read, want the object's %d", read, size)
	}
}
