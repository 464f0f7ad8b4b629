package edge

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// FuzzSession feeds arbitrary bytes to a live session, on port 25 or on
// submission (with plaintext AUTH allowed so that AUTH is reachable). The
// server must neither panic (newEnv's cleanup checks the log) nor stop
// answering new connections.
func FuzzSession(f *testing.F) {
	e := newEnv(f, func(c *Config) { c.AllowInsecureAuth = true; c.MaxMessageSize = 64 << 10 })
	seeds := []string{
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n",
		"EHLO x\r\nMAIL FROM:<> SIZE=99999999999\r\nRCPT TO:<@a,@b:alice@example.test>\r\n",
		"HELO\r\nEHLO [127.0.0.1]\r\nMAIL FROM:<\"q u\"@example.test> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<pépé@example.test>\r\nRSET\r\n",
		"EHLO x\r\nAUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0IGhvcnNlIGJhdHRlcnk=\r\nMAIL FROM:<alice@example.test>\r\n",
		"EHLO x\r\nAUTH PLAIN\r\n*\r\nAUTH LOGIN\r\nAUTH PLAIN ====\r\n",
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\nBDAT 5\r\nhelloBDAT 0 LAST\r\n",
		"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<alice@example.test>\r\nBDAT 100\r\nshort",
		"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01\x00\x05hello",
		"\x00\xff\r\n\r\n\n\n.\r\nDATA\r\nVRFY x\r\nNOOP\r\n",
	}
	for _, s := range seeds {
		f.Add(false, []byte(s))
		f.Add(true, []byte(s))
	}
	f.Fuzz(func(t *testing.T, submission bool, input []byte) {
		mode := MX
		if submission {
			mode = Submission
		}
		conn, err := net.Dial("tcp", e.addr[mode])
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Write(input)
		// End of input: the server must then finish and close.
		_ = conn.(*net.TCPConn).CloseWrite()
		// A reset also closes: the server may hang up on input it will
		// not read (a line over the limit), and the kernel then resets.
		if _, err := io.Copy(io.Discard, conn); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("server did not close the connection at end of input: %v", err)
		}
		c := e.dialAs(t, mode, false)
		if err := c.Noop(); err != nil {
			t.Fatalf("server stopped answering: %v", err)
		}
		_ = c.Close()
	})
}
