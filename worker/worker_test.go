package worker

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	dto "github.com/prometheus/client_model/go"

	"github.com/bucketmail/bucketmail/internal/blob"
	"github.com/bucketmail/bucketmail/internal/fault"
	"github.com/bucketmail/bucketmail/internal/message"
	"github.com/bucketmail/bucketmail/internal/metrics"
	"github.com/bucketmail/bucketmail/internal/store"
	"github.com/bucketmail/bucketmail/internal/store/sqlite"
	"github.com/bucketmail/bucketmail/internal/testenv"
)

const sample = "Received: from client.example.net by mx.example.com; Tue, 4 Jun 2024 10:00:00 +0000\r\n" +
	"From: Sender <sender@example.net>\r\n" +
	"To: alice@example.com\r\n" +
	"Subject: =?utf-8?q?caf=C3=A9?=\r\n" +
	"Date: Tue, 4 Jun 2024 11:59:58 +0200\r\n" +
	"Message-ID: <m1@example.net>\r\n" +
	"Content-Type: multipart/mixed; boundary=b\r\n" +
	"\r\n" +
	"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\nworld\r\n--b\r\n" +
	"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b--\r\n"

// env is the embedded storage (testenv.Embedded) with the domain
// example.com and users alice, bob, carol and dave.
type env struct {
	t       *testing.T
	st      *sqlite.DB
	blobs   blob.Store
	metrics *metrics.Metrics
	users   map[string]store.User // by local part
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := testenv.Embedded(t)
	e := &env{t: t, st: st.SQLite, blobs: st.Blobs, metrics: metrics.New(), users: map[string]store.User{}}
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		e.users[name] = st.User(name + "@example.com")
	}
	return e
}

func (e *env) alias(source string, targets ...string) {
	e.t.Helper()
	if err := e.st.AddAlias(e.t.Context(), source, targets); err != nil {
		e.t.Fatal(err)
	}
}

// job stores raw as a new object and returns its job, not yet enqueued.
func (e *env) job(raw string, to ...string) store.Job {
	e.t.Helper()
	id := ulid.Make().String()
	if _, err := e.blobs.Put(e.t.Context(), blob.MessageKey(id), strings.NewReader(raw), nil); err != nil {
		e.t.Fatal(err)
	}
	return store.Job{
		ID: id, Queue: store.QueueInbound, BlobKey: blob.MessageKey(id),
		From: "sender@example.net", To: to, ReceivedAt: time.Now().UTC().Truncate(time.Second),
	}
}

func (e *env) enqueue(j store.Job) {
	e.t.Helper()
	if err := e.st.Enqueue(e.t.Context(), j); err != nil {
		e.t.Fatal(err)
	}
}

// worker makes a worker with fast retries; blobs replaces the blob store
// when not nil.
func (e *env) worker(blobs blob.Store) *Worker {
	if blobs == nil {
		blobs = e.blobs
	}
	return New(Config{
		Store: e.st, Blobs: blobs, Hostname: "test", Consumer: "test", Concurrency: 2,
		Lease: 10 * time.Second, RetryBase: time.Millisecond, RetryMax: 5 * time.Millisecond,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: e.metrics,
	})
}

// run runs w until the test ends and checks that Run returns.
func (e *env) run(w *Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	e.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				e.t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			e.t.Error("Run did not return after its context ended")
		}
	})
}

// settle waits until the inbound queue has nothing pending, in flight or
// delayed, and returns its stats.
func (e *env) settle() store.QueueStats {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		qs, err := e.st.QueueStats(e.t.Context(), store.QueueInbound)
		if err != nil {
			e.t.Fatal(err)
		}
		if qs.Pending+qs.InFlight+qs.Delayed == 0 {
			return qs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("queue did not settle: %+v", qs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inbox returns the messages in the INBOX of user (by local part).
func (e *env) inbox(name string) []store.Message {
	e.t.Helper()
	ctx := e.t.Context()
	uid := e.users[name].ID
	if err := e.st.EnsureUser(ctx, uid); err != nil {
		e.t.Fatal(err)
	}
	mb, err := e.st.Mailbox(ctx, uid, store.Inbox)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.st.Messages(ctx, uid, mb.ID, 1, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

func (e *env) counted(result string) int {
	var m dto.Metric
	if err := e.metrics.Deliveries.WithLabelValues(result).Write(&m); err != nil {
		e.t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

func TestDeliverToUser(t *testing.T) {
	e := newEnv(t)
	j := e.job(sample, "Alice@Example.com")
	e.enqueue(j)
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("dead jobs: %+v", qs)
	}
	msgs := e.inbox("alice")
	if len(msgs) != 1 {
		t.Fatalf("alice has %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	wantPrefix := "Return-Path: <sender@example.net>\r\nDelivered-To: Alice@Example.com\r\n"
	if string(m.Prefix) != wantPrefix {
		t.Errorf("Prefix = %q, want %q", m.Prefix, wantPrefix)
	}
	if m.BlobKey != j.BlobKey || m.Size != int64(len(wantPrefix)+len(sample)) || !m.InternalDate.Equal(j.ReceivedAt) {
		t.Errorf("entry = %q size %d date %v; want %q size %d date %v",
			m.BlobKey, m.Size, m.InternalDate, j.BlobKey, len(wantPrefix)+len(sample), j.ReceivedAt)
	}
	got, err := message.Unmarshal(m.Summary)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := message.Parse(strings.NewReader(sample))
	if !bytes.Equal(got.Marshal(), want.Marshal()) {
		t.Errorf("summary = %s\nwant %s", got.Marshal(), want.Marshal())
	}
	if got.Envelope.Subject != "café" || len(got.Body.Parts) != 2 || got.Body.Parts[0].Lines != 1 {
		t.Errorf("summary content: subject %q, %d parts", got.Envelope.Subject, len(got.Body.Parts))
	}
	if n := e.counted(resultDelivered); n != 1 {
		t.Errorf("delivered count = %d, want 1", n)
	}
}

func TestDeliverAliases(t *testing.T) {
	e := newEnv(t)
	e.alias("team@example.com", "alice@example.com", "bob@example.com")
	e.alias("a1@example.com", "dave@example.com")
	e.alias("a2@example.com", "dave@example.com")
	e.alias("@example.com", "carol@example.com")
	e.alias("fwd@example.com", "someone@elsewhere.example")
	cases := []struct {
		name string
		to   []string
		want map[string]int // messages per user after this job, cumulative
	}{
		{"alias list", []string{"team@example.com"}, map[string]int{"alice": 1, "bob": 1}},
		{"plus address", []string{"bob+news@example.com"}, map[string]int{"alice": 1, "bob": 2}},
		{"catch-all", []string{"nobody@example.com"}, map[string]int{"alice": 1, "bob": 2, "carol": 1}},
		{"two aliases, one user", []string{"a1@example.com", "a2@example.com", "dave@example.com"},
			map[string]int{"alice": 1, "bob": 2, "carol": 1, "dave": 1}},
		{"external target forwarded", []string{"fwd@example.com", "alice@example.com"},
			map[string]int{"alice": 2, "bob": 2, "carol": 1, "dave": 1}},
	}
	e.run(e.worker(nil))
	for _, c := range cases {
		e.enqueue(e.job(sample, c.to...))
		e.settle()
		for _, name := range []string{"alice", "bob", "carol", "dave"} {
			if n := len(e.inbox(name)); n != c.want[name] {
				t.Errorf("%s: %s has %d messages, want %d", c.name, name, n, c.want[name])
			}
		}
	}
	if got := e.inbox("dave")[0].Prefix; !bytes.Contains(got, []byte("Delivered-To: a1@example.com\r\n")) {
		t.Errorf("dave's prefix = %q, want Delivered-To of the first recipient", got)
	}
	if n := e.counted(resultForwarded); n != 1 {
		t.Errorf("forwarded count = %d, want 1", n)
	}
}

// TestUnknownRecipientReported: recipients gone since RCPT get a DSN to
// the sender (invariant 8), the others their copy, and nothing is retried.
func TestUnknownRecipientReported(t *testing.T) {
	e := newEnv(t)
	e.enqueue(e.job(sample, "ghost@example.com", "bob@example.com", "x@not-ours.example"))
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("job buried: %+v", qs)
	}
	if n := len(e.inbox("bob")); n != 1 {
		t.Errorf("bob has %d messages, want 1", n)
	}
	if n := e.counted(resultUnknown); n != 2 {
		t.Errorf("unknown count = %d, want 2", n)
	}
	if n := e.counted(resultBounced); n != 2 {
		t.Errorf("bounced count = %d, want 2", n)
	}
	if n := e.counted(resultRetry); n != 0 {
		t.Errorf("retries = %d, want 0", n)
	}
}

// TestDeliverTwice: a job delivered again (its worker died before the ack,
// the lease ran out) leaves one copy per mailbox (invariant 3).
func TestDeliverTwice(t *testing.T) {
	e := newEnv(t)
	e.alias("team@example.com", "alice@example.com", "bob@example.com")
	j := e.job(sample, "team@example.com", "alice@example.com")
	e.enqueue(j)
	// A first worker claims the job, delivers and dies before Ack.
	jobs, err := e.st.Claim(t.Context(), store.QueueInbound, "doomed", 1, time.Second, 300*time.Millisecond)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim = %v, %v", jobs, err)
	}
	w := e.worker(nil)
	if err := w.deliver(t.Context(), jobs[0]); err != nil {
		t.Fatal(err)
	}
	// Its lease runs out; a live worker takes the job over.
	e.run(w)
	e.settle()
	for _, name := range []string{"alice", "bob"} {
		if n := len(e.inbox(name)); n != 1 {
			t.Errorf("%s has %d messages, want 1", name, n)
		}
	}
	if d, dup := e.counted(resultDelivered), e.counted(resultDuplicate); d != 2 || dup != 2 {
		t.Errorf("delivered %d, duplicate %d; want 2, 2", d, dup)
	}
}

// flakyBlobs fails the first n Gets (all when n < 0) with a temporary error.
type flakyBlobs struct {
	blob.Store
	n     int64
	calls atomic.Int64
}

var errFlaky = errors.New("blob: connection reset")

func (f *flakyBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if c := f.calls.Add(1); f.n < 0 || c <= f.n {
		return nil, errFlaky
	}
	return f.Store.Get(ctx, key, off, length)
}

func TestTemporaryFailureRetried(t *testing.T) {
	e := newEnv(t)
	e.enqueue(e.job(sample, "carol@example.com"))
	flaky := &flakyBlobs{Store: e.blobs, n: 2}
	e.run(e.worker(flaky))
	if qs := e.settle(); qs.Dead != 0 {
		t.Fatalf("job buried: %+v", qs)
	}
	if n := len(e.inbox("carol")); n != 1 {
		t.Errorf("carol has %d messages, want 1", n)
	}
	if n := e.counted(resultRetry); n != 2 {
		t.Errorf("retries = %d, want 2", n)
	}
	if n := flaky.calls.Load(); n != 3 {
		t.Errorf("object read %d times, want 3", n)
	}
}

func TestMissingObjectBuried(t *testing.T) {
	e := newEnv(t)
	j := e.job(sample, "alice@example.com")
	if err := e.blobs.Delete(t.Context(), j.BlobKey); err != nil {
		t.Fatal(err)
	}
	e.enqueue(j)
	e.run(e.worker(nil))
	if qs := e.settle(); qs.Dead != 1 {
		t.Fatalf("stats = %+v, want one dead job", qs)
	}
	dead, err := e.st.DeadJobs(t.Context(), store.QueueInbound, 10)
	if err != nil || len(dead) != 1 || dead[0].ID != j.ID {
		t.Fatalf("DeadJobs = %+v, %v", dead, err)
	}
	if dead[0].Attempts != 1 || e.counted(resultRetry) != 0 {
		t.Errorf("attempts %d, retries %d; a permanent failure is not retried", dead[0].Attempts, e.counted(resultRetry))
	}
	if n := len(e.inbox("alice")); n != 0 {
		t.Errorf("alice has %d messages, want 0", n)
	}
}

func TestAttemptsExhausted(t *testing.T) {
	e := newEnv(t)
	j := e.job(sample, "alice@example.com")
	e.enqueue(j)
	e.run(e.worker(&flakyBlobs{Store: e.blobs, n: -1}))
	if qs := e.settle(); qs.Dead != 1 {
		t.Fatalf("stats = %+v, want one dead job", qs)
	}
	dead, err := e.st.DeadJobs(t.Context(), store.QueueInbound, 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("DeadJobs = %+v, %v", dead, err)
	}
	if dead[0].Attempts != store.MaxAttempts || !strings.Contains(dead[0].LastError, errFlaky.Error()) {
		t.Errorf("dead job: attempts %d, last error %q", dead[0].Attempts, dead[0].LastError)
	}
	if n := e.counted(resultRetry); n != store.MaxAttempts-1 {
		t.Errorf("retries = %d, want %d", n, store.MaxAttempts-1)
	}
	if n := e.counted(resultDead); n != 1 {
		t.Errorf("dead count = %d, want 1", n)
	}
}

func TestBackoff(t *testing.T) {
	w := New(Config{RetryBase: 30 * time.Second})
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 4: 4 * time.Minute, 9: time.Hour, 100: time.Hour} {
		for range 20 {
			if d := w.backoff(attempts); d < want*8/10 || d > want*12/10 {
				t.Errorf("backoff(%d) = %v, want %v ±20%%", attempts, d, want)
			}
		}
	}
	if !fault.IsTemporary(errFlaky) {
		t.Fatal("errFlaky must be temporary")
	}
}

// slowBlobs holds every Get until release is closed.
type slowBlobs struct {
	blob.Store
	started chan struct{}
	release chan struct{}
}

func (s *slowBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	s.started <- struct{}{}
	<-s.release
	return s.Store.Get(ctx, key, off, length)
}

// TestShutdownFinishesInFlight: when Run's context ends, the job being
// delivered is finished and acked before Run returns.
func TestShutdownFinishesInFlight(t *testing.T) {
	e := newEnv(t)
	e.enqueue(e.job(sample, "alice@example.com"))
	slow := &slowBlobs{Store: e.blobs, started: make(chan struct{}, 1), release: make(chan struct{})}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- e.worker(slow).Run(ctx) }()
	select {
	case <-slow.started:
	case <-time.After(10 * time.Second):
		t.Fatal("job not claimed")
	}
	cancel()
	close(slow.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	// No polling: by the time Run returned the job was done.
	qs, err := e.st.QueueStats(t.Context(), store.QueueInbound)
	if err != nil || qs != (store.QueueStats{}) {
		t.Fatalf("stats %+v, %v; want an empty queue", qs, err)
	}
	if n := len(e.inbox("alice")); n != 1 {
		t.Errorf("alice has %d messages, want 1", n)
	}
}
