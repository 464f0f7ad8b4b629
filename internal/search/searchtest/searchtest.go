// Package searchtest is the conformance suite of the full-text search
// index, run against both deployments: the SQLite store, which keeps the
// text itself, and Redis with the bucket's segments (internal/search).
package searchtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/search"
	"github.com/bucketmail/bucketmail/internal/store"
)

// Env is one deployment's index under test.
type Env struct {
	Store store.Store
	Blobs blob.Store
	Index store.TextIndex
	// Sink takes the texts the Store does not keep; nil when the Store
	// keeps NewMessage.Text.
	Sink store.TextSink
	// Flush makes what Sink took searchable; nil without a Sink.
	Flush func(ctx context.Context) error
}

// Run runs the suite; newEnv gives each test an empty deployment.
func Run(t *testing.T, newEnv func(t *testing.T) Env) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, e *env)
	}{
		{"DeliveredIsSearchable", testDelivered},
		{"ExpungeRemoves", testExpunge},
		{"CopyAndMoveKeep", testCopyMove},
		{"NotIndexedIsRead", testNotIndexed},
		{"TruncatedIsRead", testTruncated},
		{"Hostile", testHostile},
		{"MatchesScan", testMatchesScan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{Env: newEnv(t), t: t, ctx: context.Background()}
			e.user = e.addUser("alice")
			tc.fn(t, e)
		})
	}
}

type env struct {
	Env
	t     *testing.T
	ctx   context.Context
	user  string
	texts map[string]message.Text // read texts by mailbox/UID (UIDs are never reused)
}

func (e *env) addUser(local string) string {
	e.t.Helper()
	_ = e.Store.AddDomain(e.ctx, "example.org")
	u, err := e.Store.AddUser(e.ctx, local+"@example.org", "x")
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.Store.EnsureUser(e.ctx, u.ID); err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func (e *env) mailbox(name string) string {
	e.t.Helper()
	mb, err := e.Store.Mailbox(e.ctx, e.user, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return mb.ID
}

// deliver stores raw and enters it into mailbox with prefix, as the
// worker does; without index, as if the process died before indexing.
func (e *env) deliver(mailbox, prefix, raw string, index bool) uint32 {
	e.t.Helper()
	key := blob.MessageKey(ulid.Make().String())
	if _, err := e.Blobs.Put(e.ctx, key, strings.NewReader(raw), nil); err != nil {
		e.t.Fatal(err)
	}
	sum, err := message.Parse(strings.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	m := store.NewMessage{BlobKey: key, Prefix: []byte(prefix), Size: int64(len(prefix) + len(raw)), Summary: sum.Marshal()}
	var text store.SearchText
	if index {
		t, err := message.ExtractText(strings.NewReader(raw), message.IndexLimits)
		if err != nil {
			e.t.Fatal(err)
		}
		text = search.EntryText([]byte(prefix), t)
		if e.Sink == nil {
			m.Text = &text
		}
	}
	uid, _, err := e.Store.InsertMessage(e.ctx, e.user, e.mailbox(mailbox), "", m)
	if err != nil {
		e.t.Fatal(err)
	}
	if index && e.Sink != nil {
		e.Sink.AddText(e.user, key, text)
	}
	return uid
}

func (e *env) flush() {
	e.t.Helper()
	if e.Flush != nil {
		if err := e.Flush(e.ctx); err != nil {
			e.t.Fatal(err)
		}
	}
}

// search answers one BODY (head false) or TEXT string as the gateway
// does: the index's hits, and the unknown UIDs read and checked. It
// returns the matching UIDs and how many objects it read.
func (e *env) search(mailbox, pattern string, head bool) ([]uint32, int) {
	e.t.Helper()
	mbID := e.mailbox(mailbox)
	hits, unknown, err := e.Index.SearchText(e.ctx, e.user, mbID, pattern, head)
	if err != nil {
		e.t.Fatal(err)
	}
	if !slices.IsSorted(hits) || !slices.IsSorted(unknown) {
		e.t.Fatalf("answers not sorted: %v %v", hits, unknown)
	}
	if hx, ok := e.Index.(store.HeadTextIndex); ok {
		heads, err := e.Store.MessageHeads(e.ctx, e.user, mbID, 1, 0, 0)
		if err != nil {
			e.t.Fatal(err)
		}
		h2, u2, err := hx.SearchHeads(e.ctx, e.user, heads, pattern, head)
		if err != nil || !slices.Equal(h2, hits) || !slices.Equal(u2, unknown) {
			e.t.Fatalf("SearchHeads %v %v, SearchText %v %v (%v)", h2, u2, hits, unknown, err)
		}
	}
	out := slices.Clone(hits)
	for _, uid := range unknown {
		if e.readMatch(mbID, uid, pattern, head) {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	return out, len(unknown)
}

// scan answers by reading every message.
func (e *env) scan(mailbox, pattern string, head bool) []uint32 {
	e.t.Helper()
	mbID := e.mailbox(mailbox)
	uids, err := e.Store.UIDs(e.ctx, e.user, mbID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []uint32
	for _, uid := range uids {
		if e.readMatch(mbID, uid, pattern, head) {
			out = append(out, uid)
		}
	}
	return out
}

func (e *env) readMatch(mbID string, uid uint32, pattern string, head bool) bool {
	e.t.Helper()
	text := e.read(mbID, uid)
	p := strings.ToLower(pattern)
	return strings.Contains(text.Body, p) || (head && strings.Contains(text.Head, p))
}

// read returns the text of a message as a search that reads it sees it.
func (e *env) read(mbID string, uid uint32) message.Text {
	e.t.Helper()
	ck := fmt.Sprint(mbID, "/", uid)
	if t, ok := e.texts[ck]; ok {
		return t
	}
	ms, err := e.Store.Messages(e.ctx, e.user, mbID, uid, uid, 0)
	if err != nil || len(ms) != 1 {
		e.t.Fatalf("message %d: %v", uid, err)
	}
	rc, err := e.Blobs.Get(e.ctx, ms[0].BlobKey, 0, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	obj, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		e.t.Fatal(err)
	}
	text := search.ScanText(ms[0].Prefix, obj)
	if e.texts == nil {
		e.texts = map[string]message.Text{}
	}
	e.texts[ck] = text
	return text
}

// want checks a search's answer and its reads.
func (e *env) want(mailbox, pattern string, head bool, uids []uint32, reads int) {
	e.t.Helper()
	got, n := e.search(mailbox, pattern, head)
	if !slices.Equal(got, uids) || n != reads {
		e.t.Errorf("search %q (head %v) in %s: %v with %d reads, want %v with %d", pattern, head, mailbox, got, n, uids, reads)
	}
}

var corpus = []string{
	// 0: UTF-8, with an encoded-word subject
	"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.net>\r\nSubject: =?utf-8?b?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDas Wetter in MÜNCHEN ist schön, the quick brown fox.\r\n",
	// 1: ISO-8859-1, quoted-printable
	"From: cafe@example.net\r\nSubject: menu\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCr=E8me br=FBl=E9e et caf=E9 cr=\r\n=E8me\r\n",
	// 2: base64 UTF-8 in a multipart with an attachment
	"From: ivan@example.net\r\nSubject: privet\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n0J/RgNC40LLQtdGCLCDQvNC40YAh\r\n--zz\r\nContent-Type: application/pdf; name=\"Rechnung-2024.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--zz--\r\n",
	// 3: HTML with entities
	"From: shop@example.net\r\nSubject: offer\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Fish &amp; Chips for &euro;5</p><p>the QUICK brown dog</p></body></html>\r\n",
}

func testDelivered(t *testing.T, e *env) {
	var uids []uint32
	for i, raw := range corpus {
		uids = append(uids, e.deliver("INBOX", fmt.Sprintf("Delivered-To: alice+%d@example.org\r\n", i), raw, true))
	}
	e.flush()
	for _, c := range []struct {
		pattern string
		head    bool
		want    []int
	}{
		{"münchen", false, []int{0}},
		{"MÜNCHEN", false, []int{0}},
		{"Grüße", true, []int{0}},
		{"Grüße", false, nil}, // subject: TEXT only
		{"jörg", true, []int{0}},
		{"crème brûlée", false, []int{1}},
		{"café crème", false, []int{1}}, // across a soft line break
		{"привет, мир", false, []int{2}},
		{"rechnung-2024", false, []int{2}}, // attachment name
		{"fish & chips", false, []int{3}},
		{"€5", false, []int{3}},
		{"&amp;", false, nil}, // HTML reduced to text
		{"quick brown", false, []int{0, 3}},
		{"uick b", false, []int{0, 3}},
		{"QU", false, []int{0, 3}}, // shorter than a trigram
		{"ö", true, []int{0}},
		{"alice+2", true, []int{2}}, // the entry's prefix lines
		{"alice+2", false, nil},
		{"*", false, nil},
		{"nowhere to be found", true, nil},
	} {
		var want []uint32
		for _, i := range c.want {
			want = append(want, uids[i])
		}
		e.want("INBOX", c.pattern, c.head, want, 0)
	}
}

func testExpunge(t *testing.T, e *env) {
	a := e.deliver("INBOX", "", corpus[0], true)
	b := e.deliver("INBOX", "", corpus[3], true)
	e.flush()
	e.want("INBOX", "quick brown", false, []uint32{a, b}, 0)
	inbox := e.mailbox("INBOX")
	if _, err := e.Store.SetFlags(e.ctx, e.user, inbox, []uint32{a}, store.FlagsAdd, []string{store.FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Expunge(e.ctx, e.user, inbox, nil); err != nil {
		t.Fatal(err)
	}
	e.want("INBOX", "quick brown", false, []uint32{b}, 0)
	e.want("INBOX", "münchen", false, nil, 0)
}

func testCopyMove(t *testing.T, e *env) {
	a := e.deliver("INBOX", "Delivered-To: alice@example.org\r\n", corpus[1], true)
	e.flush()
	inbox, archive, trash := e.mailbox("INBOX"), e.mailbox("Archive"), e.mailbox("Trash")
	_, copied, err := e.Store.CopyMessages(e.ctx, e.user, inbox, []uint32{a}, archive)
	if err != nil || len(copied) != 1 {
		t.Fatal(copied, err)
	}
	e.want("Archive", "crème", false, copied, 0)
	e.want("Archive", "delivered-to", true, nil, 0)
	e.want("Archive", "alice@example.org", true, copied, 0)
	e.want("INBOX", "crème", false, []uint32{a}, 0)
	_, moved, err := e.Store.MoveMessages(e.ctx, e.user, inbox, []uint32{a}, trash)
	if err != nil || len(moved) != 1 {
		t.Fatal(moved, err)
	}
	e.want("Trash", "crème", false, moved, 0)
	e.want("INBOX", "crème", false, nil, 0)
	e.want("Archive", "crème", false, copied, 0)
}

// testNotIndexed: a message entered without its text (the process died
// between delivery and indexing, or an entry restored from a snapshot) is
// still found, by reading it, until Rebuild gives it its text.
func testNotIndexed(t *testing.T, e *env) {
	a := e.deliver("INBOX", "", corpus[0], true)
	b := e.deliver("INBOX", "", corpus[3], false)
	e.flush()
	e.want("INBOX", "quick brown", false, []uint32{a, b}, 1)
	e.want("INBOX", "fish", false, []uint32{b}, 1)
	var calls int
	n, err := search.Rebuild(e.ctx, e.Store, e.Blobs, e.user, func(done, total int) { calls++ })
	if err != nil || n != 1 || calls != 1 {
		t.Fatalf("rebuild: %d texts, %d progress calls, %v", n, calls, err)
	}
	e.want("INBOX", "quick brown", false, []uint32{a, b}, 0)
	e.want("INBOX", "fish", false, []uint32{b}, 0)
	if n, err := search.Rebuild(e.ctx, e.Store, e.Blobs, e.user, nil); err != nil || n != 0 {
		t.Fatalf("second rebuild: %d texts, %v", n, err)
	}
}

// testTruncated: a message longer than the index keeps is found by its
// prefix without a read, and by a read past it.
func testTruncated(t *testing.T, e *env) {
	raw := "Subject: long\r\n\r\nearly words\r\n" + strings.Repeat("filler text ", message.IndexLimits.Body/12+100) + "\r\nlate words\r\n"
	a := e.deliver("INBOX", "", raw, true)
	b := e.deliver("INBOX", "", corpus[0], true)
	e.flush()
	e.want("INBOX", "early words", false, []uint32{a}, 0)
	e.want("INBOX", "late words", false, []uint32{a}, 1)
	e.want("INBOX", "quick", false, []uint32{b}, 1)
}

// testHostile: deep nesting and a huge text are indexed within the
// limits and searched.
func testHostile(t *testing.T, e *env) {
	var b bytes.Buffer
	b.WriteString("Subject: deep\r\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom of the well\r\n")
	deep := e.deliver("INBOX", "", b.String(), true)
	huge := e.deliver("INBOX", "", "Subject: huge\r\n\r\n"+strings.Repeat("spam and eggs ", 1<<18), true)
	e.flush()
	got, _ := e.search("INBOX", "bottom of the well", false)
	if want := e.scan("INBOX", "bottom of the well", false); !slices.Equal(got, want) || !slices.Equal(got, []uint32{deep}) {
		t.Errorf("deep: search %v, scan %v, want [%d]", got, want, deep)
	}
	// Found in the prefix of the huge one; the deep one, truncated
	// (its innermost levels are kept as raw text), is read.
	e.want("INBOX", "eggs spam", false, []uint32{huge}, 1)
}

// testMatchesScan is the property test: on a generated corpus, every
// search answers what reading every message answers.
func testMatchesScan(t *testing.T, e *env) {
	rng := rand.New(rand.NewPCG(23, 9051))
	words := []string{"Apfel", "apfelbaum", "Birne", "ÉCOLE", "école", "straße", "STRASSE", "naïve", "zoë", "x", "ab", "abc", "a&b", "fish", "日本語", "данные", "ok!", "50%", "re:"}
	var uids []uint32
	for i := range 120 {
		uids = append(uids, e.deliver("INBOX", fmt.Sprintf("Delivered-To: alice+%d@example.org\r\n", i%7), generate(rng, words), i%11 != 0))
	}
	e.flush()
	patterns := []string{"", "a", "ab", "abc", "e"}
	for range 150 {
		w := words[rng.IntN(len(words))]
		start := rng.IntN(len(w))
		p := w[start:]
		if rng.IntN(2) == 0 {
			p = strings.ToUpper(p)
		}
		if rng.IntN(3) == 0 {
			p += " " + words[rng.IntN(len(words))]
		}
		patterns = append(patterns, p)
	}
	for _, p := range patterns {
		for _, head := range []bool{false, true} {
			got, _ := e.search("INBOX", p, head)
			if want := e.scan("INBOX", p, head); !slices.Equal(got, want) {
				t.Errorf("%q (head %v): index %v, scan %v", p, head, got, want)
			}
		}
	}
}

// generate makes a message of random words in a random encoding.
func generate(rng *rand.Rand, words []string) string {
	var body strings.Builder
	for range 5 + rng.IntN(40) {
		body.WriteString(words[rng.IntN(len(words))])
		body.WriteByte(" \r\n"[rng.IntN(2)])
	}
	text := body.String()
	subject := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]
	h := "From: sender@example.net\r\nSubject: =?utf-8?b?" + b64(subject) + "?=\r\n"
	switch rng.IntN(4) {
	case 0:
		return h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text
	case 1:
		return h + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b64(text) + "\r\n"
	case 2:
		return h + "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" + strings.ReplaceAll(text, "&", "&amp;") + "</p>"
	default:
		return h + "Content-Type: multipart/alternative; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			qp(text) + "\r\n--q\r\nContent-Type: text/plain; name=\"" + words[rng.IntN(len(words))] + ".txt\"\r\n\r\nattached\r\n--q--\r\n"
	}
}
