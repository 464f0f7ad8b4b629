package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/srs"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestRcptSRS: on port 25 a valid SRS0 address in a local domain is
// accepted (a bounce of mail we forwarded), and the message is queued for
// it; a forged, tampered, expired or foreign-keyed one gets 550 5.1.1.
func TestRcptSRS(t *testing.T) {
	blobs := testenv.LocalBlobs(t)
	kr := &srs.Keyring{Blobs: blobs}
	key, err := kr.Signing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.SRS = kr })
	now := time.Now()
	valid, _ := srs.Forward(key, "orig@sender.test", "example.test", now)
	expired, _ := srs.Forward(key, "orig@sender.test", "example.test", now.Add(-srs.MaxAge-72*time.Hour))
	other, _ := srs.Forward([]byte("another key, not ours, 32 bytes!"), "orig@sender.test", "example.test", now)
	tampered := strings.Replace(valid, "=orig@", "=mallory@", 1)

	c := e.dial(MX, false)
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{expired, other, tampered, "SRS0=xxxxxx=AA=sender.test=orig@example.test"} {
		wantReply(t, c.Rcpt(bad, nil), 550, smtp.EnhancedCode{5, 1, 1})
	}
	if err := c.Rcpt(valid, nil); err != nil {
		t.Fatalf("RCPT %s: %v", valid, err)
	}
	if err := c.Rcpt(strings.ToLower(valid), nil); err != nil {
		t.Fatalf("RCPT lower-cased: %v", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: bounce\r\n\r\nundeliverable\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 || jobs[0].From != "" || len(jobs[0].To) != 1 || jobs[0].To[0] != valid {
		t.Fatalf("queued jobs = %+v", jobs)
	}
}
