package e2e

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// imapGreets reports whether addr accepts a connection and greets with
// "* OK".
func imapGreets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
}

// TestReadinessGate: a gateway with --readiness-gate stops listening on its
// IMAP port while Redis is down (what a NodeBalancer's TCP check sees) and
// listens again on the same port once Redis is back.
func TestReadinessGate(t *testing.T) {
	rds := testenv.Redis(t)
	s3srv := testenv.S3(t)
	env := []string{
		"BUCKETMAIL_S3_ACCESS_KEY=" + s3srv.AccessKey,
		"BUCKETMAIL_S3_SECRET_KEY=" + s3srv.SecretKey,
		"BUCKETMAIL_CREATE_BUCKET=true",
	}
	args := []string{"gateway", "--readiness-gate",
		"--imap-addr", "127.0.0.1:0", "--imaps-addr", "", "--pop3-addr", "", "--pop3s-addr", "", "--managesieve-addr", "", "--http-addr", "",
		"--store", rds.URL(), "--blobs", s3srv.URL("gate")}
	gw := startServerEnv(t, t, env, t.TempDir(), args...)
	addr := gw.addr("imap")
	if !imapGreets(addr) {
		t.Fatalf("IMAP on %s does not greet while Redis is up", addr)
	}

	rds.Kill()
	waitUntil(t, 40*time.Second, "the IMAP port closed while Redis is down", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// The line comes once the listeners are closed, so it may lag the
	// closed port by a moment.
	waitUntil(t, 10*time.Second, "a log line saying the listeners were closed", func() bool {
		return gw.logContains("protocol listeners closed")
	})

	rds.Restart()
	waitUntil(t, 40*time.Second, "the IMAP port open again once Redis is back", func() bool { return imapGreets(addr) })
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
