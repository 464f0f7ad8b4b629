package edge

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

func TestCRLFReader(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb\r\n":         "a\r\nb\r\n",
		"a\nb\n":             "a\r\nb\r\n",
		"a\rb\r":             "a\r\nb\r\n",
		"x\r.\r\ny":          "x\r\n.\r\ny",
		"x\n.\ny\r.\r":       "x\r\n.\r\ny\r\n.\r\n",
		"\r\r\n\n\r":         "\r\n\r\n\r\n\r\n",
		"":                   "",
		"no line break":      "no line break",
		"\r\n.\r\n\r\n.\r\n": "\r\n.\r\n\r\n.\r\n",
	} {
		for name, r := range map[string]io.Reader{
			"whole":   strings.NewReader(in),
			"onebyte": iotest.OneByteReader(strings.NewReader(in)),
		} {
			got, err := io.ReadAll(newCRLFReader(r))
			if err != nil || string(got) != want {
				t.Errorf("%s %q: got %q, %v; want %q", name, in, got, err, want)
			}
		}
	}
}

func TestCRLFReaderKeepsError(t *testing.T) {
	boom := errors.New("boom")
	r := newCRLFReader(io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(boom)))
	got, err := io.ReadAll(r)
	if !errors.Is(err, boom) || string(got) != "a\r\nb" {
		t.Errorf("got %q, %v; want the bytes and the error", got, err)
	}
}

// rawSession writes script to a new connection to addr all at once and
// returns everything the server answered until it closed the connection.
func rawSession(t *testing.T, addr, script string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, script); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("reading replies: %v\n%s", err, got)
	}
	return string(got)
}

// wantNoBareEOL fails if b has a CR not followed by LF or an LF not after CR.
func wantNoBareEOL(t *testing.T, b []byte) {
	t.Helper()
	for i, c := range b {
		if (c == '\r' && (i+1 == len(b) || b[i+1] != '\n')) || (c == '\n' && (i == 0 || b[i-1] != '\r')) {
			t.Fatalf("bare line break at %d in %q", i, b)
		}
	}
}

// smuggled is a DATA block that hides a second transaction behind line
// ends other than CRLF: "\n.\n", "\r.\r\n" and "\r.\r", as a receiver
// reading bare LF or bare CR as a line break would end DATA there.
const smuggled = "Subject: first\r\n\r\nbody\n.\nMAIL FROM:<x@remote.test>\nRCPT TO:<bob@example.test>\nDATA\n" +
	"one\r.\r\nMAIL FROM:<y@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n" +
	"two\r.\rMAIL FROM:<z@remote.test>\rRCPT TO:<bob@example.test>\rDATA\rthree\r\n.\r\n"

// TestSmugglingMX sends the smuggling block to port 25 in one write: one
// message is queued, for alice only, and its object has CRLF line breaks
// only, the would-be commands being lines of its body.
func TestSmugglingMX(t *testing.T) {
	e := newEnv(t, nil)
	replies := rawSession(t, e.addr[MX], "EHLO client.example.net\r\nMAIL FROM:<carol@remote.test>\r\n"+
		"RCPT TO:<alice@example.test>\r\nDATA\r\n"+smuggled+"QUIT\r\n")
	if n := strings.Count(replies, "queued as"); n != 1 || !strings.Contains(replies, "\r\n221 ") {
		t.Fatalf("replies:\n%s", replies)
	}
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 || len(jobs[0].To) != 1 || jobs[0].To[0] != alice {
		t.Fatalf("jobs = %+v, want one to alice", jobs)
	}
	obj, _ := e.object(jobs[0].ID)
	wantNoBareEOL(t, obj)
	if !bytes.HasSuffix(obj, []byte("\r\nbody\r\n.\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\none\r\n.\r\n"+
		"MAIL FROM:<y@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\ntwo\r\n.\r\nMAIL FROM:<z@remote.test>\r\n"+
		"RCPT TO:<bob@example.test>\r\nDATA\r\nthree\r\n")) {
		t.Errorf("object = %q", obj)
	}
	if !e.logs.Contains(`"bare_eol_fixed":11`) {
		t.Errorf("the transaction log does not count the bare line breaks:\n%s", e.logs.String())
	}
}

// TestSmugglingSubmission is the same through submission to a remote
// recipient: the outbound job's object, which goes out as is, has CRLF
// line breaks only.
func TestSmugglingSubmission(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.AllowInsecureAuth = true })
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + alice + "\x00" + testPassword))
	replies := rawSession(t, e.addr[Submission], "EHLO client.example.net\r\nAUTH PLAIN "+plain+"\r\n"+
		"MAIL FROM:<alice@example.test>\r\nRCPT TO:<dave@elsewhere.test>\r\nDATA\r\n"+
		"From: alice@example.test\r\n"+smuggled+"QUIT\r\n")
	if n := strings.Count(replies, "queued as"); n != 1 {
		t.Fatalf("replies:\n%s", replies)
	}
	jobs := e.jobs(store.QueueOutbound)
	if len(jobs) != 1 || len(jobs[0].To) != 1 {
		t.Fatalf("jobs = %+v, want one outbound", jobs)
	}
	obj, _ := e.object(jobs[0].ID)
	wantNoBareEOL(t, obj)
	if !bytes.Contains(obj, []byte("\r\ntwo\r\n.\r\nMAIL FROM:<z@remote.test>\r\n")) {
		t.Errorf("object = %q", obj)
	}
}

// BenchmarkCRLFReader passes 1 MiB of 78-character CRLF lines through.
func BenchmarkCRLFReader(b *testing.B) {
	msg := []byte(strings.Repeat(strings.Repeat("x", 78)+"\r\n", (1<<20)/80))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := io.Copy(io.Discard, newCRLFReader(bytes.NewReader(msg))); err != nil {
			b.Fatal(err)
		}
	}
}
