package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/intake"
	"github.com/bucketmail/bucketmail/internal/store"
)

const testMessage = "From: Carol <carol@remote.test>\r\n" +
	"To: Alice <alice@example.test>\r\n" +
	"Subject: hello\r\n" +
	"\r\n" +
	"Hi Alice,\r\n" +
	".leading dot survives dot-stuffing\r\n"

func TestEHLOExtensionsMX(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxMessageSize = 1 << 20 })
	c := e.dial(MX, false)
	for _, ext := range []string{"PIPELINING", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES", "SMTPUTF8"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO lacks %s", ext)
		}
	}
	if size, ok := c.MaxMessageSize(); !ok || size != 1<<20 {
		t.Errorf("SIZE = %d, %v; want %d", size, ok, 1<<20)
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("port 25 offers AUTH before STARTTLS")
	}
	c = e.dial(MX, true)
	if ok, _ := c.Extension("AUTH"); ok {
		t.Error("port 25 offers AUTH after STARTTLS")
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Error("STARTTLS offered again over TLS")
	}
}

func TestEHLOExtensionsSubmission(t *testing.T) {
	e := newEnv(t, nil)
	if ok, _ := e.dial(Submission, false).Extension("AUTH"); ok {
		t.Error("submission offers AUTH before STARTTLS")
	}
	if !e.dial(Submission, true).SupportsAuth("PLAIN") {
		t.Error("submission does not offer AUTH PLAIN after STARTTLS")
	}
	if !e.dial(SubmissionTLS, false).SupportsAuth("PLAIN") {
		t.Error("implicit TLS submission does not offer AUTH PLAIN")
	}
}

func TestDeliverOverSTARTTLS(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, true)
	id, err := send(c, "carol@remote.test", []string{alice}, testMessage)
	if err != nil {
		t.Fatal(err)
	}

	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 {
		t.Fatalf("got %d jobs, want 1", len(jobs))
	}
	j := jobs[0]
	if j.ID != id || j.BlobKey != blob.MessageKey(id) || j.From != "carol@remote.test" ||
		len(j.To) != 1 || j.To[0] != alice || j.ClientIP != "127.0.0.1" ||
		j.Helo != "client.example.net" || j.Auth != "" || j.ReceivedAt.IsZero() {
		t.Errorf("job = %+v", j)
	}

	obj, meta := e.object(id)
	trace, ok := strings.CutSuffix(string(obj), testMessage)
	if !ok {
		t.Fatalf("object does not end with the message sent:\n%s", obj)
	}
	if !strings.HasPrefix(trace, "Received: from client.example.net ([127.0.0.1])\r\n\tby "+testHostname+" with ESMTPS (TLS1.3 ") {
		t.Errorf("Received line starts badly:\n%s", trace)
	}
	for _, want := range []string{"\tid " + id + "\r\n", "\tfor <" + alice + ">; "} {
		if !strings.Contains(trace, want) {
			t.Errorf("Received line lacks %q:\n%s", want, trace)
		}
	}
	if strings.Count(trace, "\r\n") != 4 || strings.Count(trace, "\r\n\t") != 3 {
		t.Errorf("trace is not one folded header line:\n%q", trace)
	}
	mj, err := store.JobFromMeta(blob.MessageKey(id), meta)
	if err != nil {
		t.Fatal(err)
	}
	if mj.ID != id || mj.From != j.From || len(mj.To) != 1 || mj.To[0] != alice || mj.Queue != store.QueueInbound {
		t.Errorf("object metadata = %+v, want the job's envelope", mj)
	}

	if got := counter(t, e.m.Accepted, "smtp"); got != 1 {
		t.Errorf("Accepted{smtp} = %v, want 1", got)
	}
	recs := e.logs.Records(t, "smtp transaction")
	if len(recs) != 1 || recs[0]["queue_id"] != id || recs[0]["result"] != "queued" ||
		recs[0]["code"] != float64(250) || recs[0]["client_ip"] != "127.0.0.1" {
		t.Errorf("transaction log = %v", recs)
	}
}

func TestNullSenderAndAliases(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	rcpts := []string{"team@example.test", "ALICE+news@Example.Test", bob}
	id, err := send(c, "", rcpts, testMessage)
	if err != nil {
		t.Fatal(err)
	}
	jobs := e.jobs(store.QueueInbound)
	if len(jobs) != 1 || jobs[0].From != "" || len(jobs[0].To) != 3 {
		t.Fatalf("jobs = %+v", jobs)
	}
	obj, _ := e.object(id)
	if !strings.Contains(string(obj), " with ESMTP\r\n") || strings.Contains(string(obj), "\tfor <") {
		t.Errorf("Received line of a plain, multi-recipient message:\n%s", obj)
	}
}

func TestUnknownUser(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt("nobody@example.test", nil), 550, smtp.EnhancedCode{5, 1, 1})
	if got := counter(t, e.m.Rejected, "unknown_user"); got != 1 {
		t.Errorf("Rejected{unknown_user} = %v, want 1", got)
	}
}

func TestRelayDenied(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	if err := c.Mail(alice, nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt("dave@elsewhere.test", nil), 554, smtp.EnhancedCode{5, 7, 1})
	if got := counter(t, e.m.Rejected, "relay_denied"); got != 1 {
		t.Errorf("Rejected{relay_denied} = %v, want 1", got)
	}
}

func TestTooManyRecipients(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	for i := range DefaultMaxRecipients {
		if err := c.Rcpt(fmt.Sprintf("alice+%d@example.test", i), nil); err != nil {
			t.Fatalf("recipient %d: %v", i+1, err)
		}
	}
	wantReply(t, c.Rcpt("bob@example.test", nil), 452, smtp.EnhancedCode{4, 5, 3})
}

func TestDirectoryFailure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Dir = failingDir{c.Dir} })
	c := e.dial(MX, false)
	if err := c.Mail("carol@remote.test", nil); err != nil {
		t.Fatal(err)
	}
	wantReply(t, c.Rcpt(alice, nil), 451, smtp.EnhancedCode{4, 3, 0})
}

func TestOversize(t *testing.T) {
	const limit = 4 << 10
	e := newEnv(t, func(c *Config) { c.MaxMessageSize = limit })
	c := e.dial(MX, false)

	// Announced with SIZE (RFC 1870): refused at MAIL.
	wantReply(t, c.Mail("carol@remote.test", &smtp.MailOptions{Size: limit + 1}), 552, smtp.EnhancedCode{5, 3, 4})

	// Not announced: refused after DATA, and nothing is kept.
	big := testMessage + strings.Repeat("0123456789abcdef\r\n", 2*limit/18)
	_, err := send(c, "carol@remote.test", []string{alice}, big)
	wantReply(t, err, 552, smtp.EnhancedCode{5, 3, 4})
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 0 {
		t.Errorf("jobs left: %v", jobs)
	}

	// The session is still usable and a message just under the limit passes.
	line := strings.Repeat("x", 98) + "\r\n"
	small := testMessage + strings.Repeat(line, (limit-len(testMessage))/len(line))
	if _, err := send(c, "carol@remote.test", []string{alice}, small); err != nil {
		t.Fatalf("%v\n%s", err, e.logs)
	}
	if got := counter(t, e.m.Rejected, "too_big"); got != 1 {
		t.Errorf("Rejected{too_big} = %v, want 1", got)
	}
}

func TestLineTooLong(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	_, err := send(c, "carol@remote.test", []string{alice}, testMessage+strings.Repeat("x", 3000)+"\r\n")
	wantReply(t, err, 554, smtp.EnhancedCode{5, 6, 0})
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
}

func TestBlobFailure(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Blobs = failingBlobs{c.Blobs} })
	c := e.dial(MX, false)
	_, err := send(c, "carol@remote.test", []string{alice}, testMessage+strings.Repeat("filler\r\n", 100))
	wantReply(t, err, 451, smtp.EnhancedCode{4, 3, 0})
	if objs := e.objects(); len(objs) != 0 {
		t.Errorf("objects left: %v", objs)
	}
	if jobs := e.jobs(store.QueueInbound); len(jobs) != 0 {
		t.Errorf("jobs left: %v", jobs)
	}
	if e.logs.Contains("disk on fire") == false {
		t.Error("the cause is not logged")
	}
}

// TestQueueFailure: an enqueue that failed in a way that may have left
// the job behind (a temporary error) keeps the object, which the
// reconciler delivers if no job exists; one that certainly did not enqueue
// (a permanent error) deletes it. Either answers 451.
func TestQueueFailure(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		objects int
	}{
		{"temporary", errors.New("queue unreachable"), 1},
		{"permanent", fmt.Errorf("job refused: %w", store.ErrInvalid), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Queue = failingQueue{c.Queue, tc.err} })
			c := e.dial(MX, false)
			_, err := send(c, "carol@remote.test", []string{alice}, testMessage)
			wantReply(t, err, 451, smtp.EnhancedCode{4, 3, 0})
			if objs := e.objects(); len(objs) != tc.objects {
				t.Errorf("objects left: %v, want %d", objs, tc.objects)
			}
			if jobs := e.jobs(store.QueueInbound); len(jobs) != 0 {
				t.Errorf("jobs: %v", jobs)
			}
			if got := counter(t, e.m.Accepted, "smtp"); got != 0 {
				t.Errorf("Accepted{smtp} = %v, want 0", got)
			}
		})
	}
}

func TestSessionsGauge(t *testing.T) {
	e := newEnv(t, nil)
	c := e.dial(MX, false)
	if got := counter(t, e.m.Sessions, "smtp"); got != 1 {
		t.Errorf("Sessions{smtp} = %v with one client, want 1", got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Sessions{smtp} to drop to 0", func() bool { return counter(t, e.m.Sessions, "smtp") == 0 })
}

func TestServeNeedsStorage(t *testing.T) {
	if err := New(Config{}).Serve(newLocalListener(t), MX); err == nil {
		t.Error("Serve without storage succeeded")
	}
	e := newEnv(t, nil)
	s := New(Config{Dir: e.db, Queue: e.db, Blobs: e.blobs, TLS: nil})
	if err := s.Serve(newLocalListener(t), SubmissionTLS); err == nil {
		t.Error("implicit TLS without a TLS configuration succeeded")
	}
}

func TestServeAfterClose(t *testing.T) {
	s := New(Config{Dir: failingDir{}, Queue: failingQueue{}, Blobs: failingBlobs{}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ln := newLocalListener(t)
	if err := s.Serve(ln, MX); !errors.Is(err, smtp.ErrServerClosed) {
		t.Errorf("Serve after Close = %v, want ErrServerClosed", err)
	}
}

// failingDir is a directory whose storage is down.
type failingDir struct{ store.Directory }

func (failingDir) HasDomain(context.Context, string) (bool, error) {
	return false, errors.New("directory unreachable")
}

// failingBlobs lets the real store start writing, then breaks the stream.
type failingBlobs struct{ blob.Store }

func (f failingBlobs) Put(ctx context.Context, key string, r io.Reader, meta map[string]string) (int64, error) {
	return f.Store.Put(ctx, key, &breakingReader{r: r, left: 100}, meta)
}

type breakingReader struct {
	r    io.Reader
	left int
}

func (b *breakingReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errors.New("disk on fire")
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// failingQueue cannot enqueue: it returns err (or a temporary error).
type failingQueue struct {
	intake.Queue
	err error
}

func (f failingQueue) Enqueue(context.Context, store.Job) error {
	if f.err != nil {
		return f.err
	}
	return errors.New("queue unreachable")
}
