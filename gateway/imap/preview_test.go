package imapgw

import (
	"bufio"
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/bucketmail/bucketmail/internal/store"
)

// rawExchange sends one command line over conn and returns the lines of
// the answer up to its tagged status.
func rawExchange(t *testing.T, conn *tls.Conn, r *bufio.Reader, tag, line string) []string {
	t.Helper()
	if _, err := conn.Write([]byte(tag + " " + line + "\r\n")); err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%s %s: %v after %q", tag, line, err, out)
		}
		l = strings.TrimRight(l, "\r\n")
		out = append(out, l)
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				t.Fatalf("%s %s: %q", tag, line, out)
			}
			return out
		}
	}
}

// TestFetchPreview checks FETCH PREVIEW (RFC 8970): served from the index
// summary without reading an object, and made from the object for an
// entry whose summary predates previews.
func TestFetchPreview(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		env.deliver(t, a, "INBOX", "Delivered-To: alice@example.org\r\n", plainMsg)
		env.deliver(t, a, "INBOX", "", multipartMsg)
		old := env.deliverOldSummary(t, a, "INBOX", lunchMsg)

		conn, err := tlsDial(env.tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		if caps := rawExchange(t, conn, r, "p1", "LOGIN "+a+" \""+testPassword+"\""); !strings.Contains(caps[len(caps)-1], "PREVIEW") {
			t.Errorf("PREVIEW not advertised after login: %q", caps)
		}
		rawExchange(t, conn, r, "p2", "SELECT INBOX")
		before := env.blobs.Gets()
		got := rawExchange(t, conn, r, "p3", "FETCH 1:2 (PREVIEW)")
		want := []string{
			`* 1 FETCH (UID 1 PREVIEW "The numbers look good this quarter. Regards, Carol")`,
			`* 2 FETCH (UID 2 PREVIEW "Here are the pictures from the beach.")`,
		}
		for i, w := range want {
			if got[i] != w {
				t.Errorf("FETCH PREVIEW line %d: %q, want %q", i, got[i], w)
			}
		}
		if n := env.blobs.Gets() - before; n != 0 {
			t.Errorf("FETCH PREVIEW read %d objects, want 0", n)
		}
		got = rawExchange(t, conn, r, "p4", "UID FETCH "+itoa(int(old))+" (PREVIEW (LAZY))")
		if w := `* 3 FETCH (UID 3 PREVIEW "Pizza?")`; got[0] != w {
			t.Errorf("FETCH PREVIEW of an old summary: %q, want %q", got[0], w)
		}
		if env.blobs.Gets() == before {
			t.Error("the preview of an old summary read no object")
		}
	})
}

// deliverOldSummary is deliver with the summary as made before previews
// were kept.
func (env *testEnv) deliverOldSummary(t *testing.T, addr, mailbox, raw string) uint32 {
	t.Helper()
	ctx := context.Background()
	u := env.users[addr]
	mb, err := env.store.Mailbox(ctx, u.ID, mailbox)
	if err != nil {
		t.Fatal(err)
	}
	key, sum, _, size, err := putMessage(ctx, env.blobs, ulid.Make().String(), strings.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum.Preview = ""
	uid, _, err := env.store.InsertMessage(ctx, u.ID, mb.ID, "", store.NewMessage{
		BlobKey: key, Size: size, InternalDate: time.Date(2024, 3, 10, 12, 0, 0, 0, time.UTC), Summary: sum.Marshal(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return uid
}

// TestRecentRev2: an IMAP4rev2 session has no \Recent (RFC 9051 appendix
// E): its SELECT claims nothing, so an IMAP4rev1 session that selects
// after it still gets the message as \Recent.
func TestRecentRev2(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		env.deliver(t, a, "INBOX", "", plainMsg)
		session := func(rev2 bool) []string {
			conn, err := tlsDial(env.tlsAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			if _, err := r.ReadString('\n'); err != nil {
				t.Fatal(err)
			}
			rawExchange(t, conn, r, "r1", "LOGIN "+a+" \""+testPassword+"\"")
			if rev2 {
				rawExchange(t, conn, r, "r2", "ENABLE IMAP4rev2")
			}
			out := rawExchange(t, conn, r, "r3", "SELECT INBOX")
			return append(out, rawExchange(t, conn, r, "r4", "FETCH 1 FLAGS")...)
		}
		got := strings.Join(session(true), "\n")
		if strings.Contains(got, "RECENT") || strings.Contains(got, `\Recent`) {
			t.Errorf("IMAP4rev2 session saw \\Recent:\n%s", got)
		}
		got = strings.Join(session(false), "\n")
		if !strings.Contains(got, "* 1 RECENT") || !strings.Contains(got, `FLAGS (\Recent)`) {
			t.Errorf("IMAP4rev1 session after an IMAP4rev2 one:\n%s", got)
		}
	})
}
