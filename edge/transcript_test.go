package edge

import (
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/store"
)

// transcript plays a conversation: lines starting with "C: " are sent,
// lines starting with "S: " are replies whose beginning must match.
func transcript(t *testing.T, addr, script string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	tc := textproto.NewConn(conn)
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "C: "):
			if err := tc.PrintfLine("%s", strings.ReplaceAll(line[3:], `\n`, "\r\n")); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(line, "S: "):
			got, err := tc.ReadLine()
			if err != nil {
				t.Fatalf("waiting for %q: %v", line[3:], err)
			}
			if !strings.HasPrefix(got, line[3:]) {
				t.Fatalf("got %q, want %q", got, line[3:])
			}
		case strings.HasPrefix(line, "S+ "): // skip continuation lines up to this one
			for {
				got, err := tc.ReadLine()
				if err != nil {
					t.Fatalf("waiting for %q: %v", line[3:], err)
				}
				if strings.HasPrefix(got, line[3:]) {
					break
				}
			}
		}
	}
}

// BDAT (RFC 3030, which go-smtp offers as CHUNKING) runs DATA in a
// goroutine of go-smtp's; the session must handle it the same way.
func TestBDAT(t *testing.T) {
	e := newEnv(t, nil)
	transcript(t, e.addr[MX], `
		S: 220 `+testHostname+`
		C: EHLO client.example.net
		S+ 250 SIZE
		C: MAIL FROM:<carol@remote.test>
		S: 250 2.0.0
		C: RCPT TO:<alice@example.test>
		S: 250 2.0.0
		C: BDAT 13\nSubject: hi
		S: 250 2.0.0 Continue
		C: BDAT 8 LAST\n\nbody
		S: 250 2.0.0 OK queued as
		C: QUIT
		S: 221`)
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 {
		t.Fatalf("got %d jobs, want 1", len(jobs))
	}
	obj, _ := e.object(jobs[0].ID)
	if !strings.HasSuffix(string(obj), "\r\nSubject: hi\r\n\r\nbody\r\n") {
		t.Errorf("object = %q", obj)
	}
}

// Pipelined commands (RFC 2920) get their replies in order, refusals
// included, and a transaction without any recipient gets no DATA.
func TestPipelining(t *testing.T) {
	e := newEnv(t, nil)
	transcript(t, e.addr[MX], `
		S: 220
		C: EHLO client.example.net
		S+ 250 SIZE
		C: MAIL FROM:<carol@remote.test>\nRCPT TO:<nobody@example.test>\nRCPT TO:<dave@elsewhere.test>\nDATA
		S: 250 2.0.0
		S: 550 5.1.1
		S: 554 5.7.1
		S: 502 5.5.1
		C: QUIT
		S: 221`)
}
