package worker

import (
	"strings"
	"testing"

	"github.com/bucketmail/bucketmail/internal/authcheck"
	"github.com/bucketmail/bucketmail/internal/authcheck/authchecktest"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

// TestLocalSpoofToJunk: port-25 mail claiming our domain example.com in
// From: or MAIL FROM without an SPF pass (aligned, for From:) is filed to
// Junk, though example.com publishes no DMARC record; the same from an IP
// that example.com's SPF authorises, remote senders and the null sender
// with a remote From: stay in the INBOX.
func TestLocalSpoofToJunk(t *testing.T) {
	d := authchecktest.Start(t)
	d.TXT("example.com", "v=spf1 ip4:192.0.2.1 -all")
	e := newEnv(t)
	w := e.worker(e.blobs)
	logs := &testenv.Log{}
	w.log = logs.Logger()
	w.cfg.Checker = &authcheck.Checker{Resolver: d.Resolver(), Hostname: "mx.test"}

	job := func(header, from, ip string) store.Job {
		j := e.job("Received: from x by test; Tue, 4 Jun 2024 10:00:00 +0000\r\n"+header+
			"To: alice@example.com\r\nSubject: "+from+" "+ip+"\r\n\r\nbody\r\n", "alice@example.com")
		j.From, j.ClientIP, j.Helo = from, ip, "mx.sender.example"
		return j
	}
	junk := []store.Job{
		job("From: <bob@example.com>\r\n", "carol@remote.example", "198.51.100.1"),
		job("From: <carol@remote.example>\r\n", "bob@example.com", "198.51.100.1"),
		job("From: <bob@example.com>\r\n", "bob@example.com", "198.51.100.1"),
		job("From: <bob@example.com>\r\n", "", "198.51.100.1"),
		job("From: <carol@remote.example>\r\nFrom: <bob@example.com>\r\n", "carol@remote.example", "198.51.100.1"),
		job("From : <bob@example.com>\r\nFrom: <carol@remote.example>\r\n", "carol@remote.example", "198.51.100.1"),
		// SPF passes for the client, but not for example.com: the
		// envelope is remote.
		job("From: <bob@example.com>\r\n", "carol@remote.example", "192.0.2.1"),
	}
	inbox := []store.Job{
		job("From: <bob@example.com>\r\n", "bob@example.com", "192.0.2.1"),
		job("From: <carol@remote.example>\r\n", "carol@remote.example", "198.51.100.1"),
		job("From: <MAILER-DAEMON@remote.example>\r\n", "", "198.51.100.1"),
	}
	for _, j := range append(append([]store.Job{}, junk...), inbox...) {
		e.enqueue(j)
	}
	e.run(w)
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead jobs: %+v", qs)
	}
	where := map[string]string{}
	for _, name := range []string{store.Inbox, junkMailbox} {
		for _, m := range e.mailbox("alice", name) {
			where[m.BlobKey] = name
		}
	}
	for _, tc := range []struct {
		jobs []store.Job
		want string
	}{{junk, junkMailbox}, {inbox, store.Inbox}} {
		for i, j := range tc.jobs {
			if where[j.BlobKey] != tc.want {
				t.Errorf("%s #%d (from %q, ip %s): in %q, want %q", tc.want, i, j.From, j.ClientIP, where[j.BlobKey], tc.want)
			}
		}
	}
	if !strings.Contains(logs.String(), `"local_spoof":"header_from"`) || !strings.Contains(logs.String(), `"local_spoof":"mail_from"`) {
		t.Errorf("the log does not say why:\n%s", logs.String())
	}
}
