package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// TestFreshStartNoError: the first start of `bucketmail run` on an empty
// data directory logs no ERROR (the reconciler and the snapshotter both
// check the store's epoch at once; one creates it, the other waits).
func TestFreshStartNoError(t *testing.T) {
	srv := startServer(t, t.TempDir(), append(append([]string{"run"}, listenerFlags...),
		"--reconcile-interval", "1s", "--snapshot-interval", "1s")...)
	time.Sleep(5 * time.Second)
	for line := range strings.SplitSeq(srv.logTail(100000), "\n") {
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == "ERROR" {
			t.Errorf("ERROR in the first seconds: %s", line)
		}
	}
}

// TestKilledWorkerJobTaken: a worker process holding an outbound job (the
// remote takes the DATA and never answers) is SIGKILLed; another worker,
// already running, takes the job once the dead one's lease runs out (it
// renewed it while alive). The time is logged, not asserted.
func TestKilledWorkerJobTaken(t *testing.T) {
	sink := startStallingRemote(t)
	dataDir := t.TempDir()
	mustAdmin(t, dataDir, "", "domain", "add", "example.org")
	mustAdmin(t, dataDir, alicePass+"\n", "user", "add", alice, "--password-stdin")
	front := startServer(t, dataDir, append(append([]string{"run", "--roles", "edge,gateway"}, listenerFlags...), "--http-addr", "")...)
	workerArgs := []string{"worker", "--http-addr", "", "--worker-concurrency", "1",
		"--transport", "remote.example=127.0.0.1:" + sink.port}
	first := startServer(t, dataDir, workerArgs...)

	c := dialSMTP(t, front.addr("submission"))
	if err := c.Auth(sasl.NewPlainClient("", alice, alicePass)); err != nil {
		t.Fatal(err)
	}
	if err := send(c, alice, []string{"carol@remote.example"}, message(alice, "carol@remote.example", "held", "held by a worker")); err != nil {
		t.Fatal(err)
	}
	eventually(t, deliveryTimeout, "the first worker to be in DATA", func() (bool, string) {
		n := sink.sessions()
		return n == 1, fmt.Sprint(n, " sessions in DATA")
	})
	second := startServer(t, dataDir, workerArgs...)
	// The first worker has held the job past one lease already, renewing it.
	time.Sleep(20 * time.Second)
	if n := sink.sessions(); n != 1 {
		t.Fatalf("%d sessions after 20 s: the job was taken from a live holder", n)
	}
	first.kill(t)
	killed := time.Now()
	eventually(t, 2*time.Minute, "another worker to take the job", func() (bool, string) {
		n := sink.sessions()
		return n == 2, fmt.Sprint(n, " sessions in DATA")
	})
	t.Logf("job taken by another worker %.1f s after SIGKILL (--worker-lease 15s)", time.Since(killed).Seconds())
	_ = second
}

// stallingRemote is an SMTP server on loopback that accepts MAIL and RCPT
// and then holds every DATA until the test ends.
type stallingRemote struct {
	port    string
	mu      sync.Mutex
	inData  int
	release chan struct{}
}

func startStallingRemote(t *testing.T) *stallingRemote {
	t.Helper()
	rm := &stallingRemote{release: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &stallingSession{rm: rm}, nil }))
	srv.Domain = "mx.remote.example"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, rm.port, _ = net.SplitHostPort(ln.Addr().String())
	go srv.Serve(ln)
	t.Cleanup(func() { close(rm.release); srv.Close() })
	return rm
}

// sessions is how many DATA commands arrived so far.
func (rm *stallingRemote) sessions() int {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	return rm.inData
}

type stallingSession struct{ rm *stallingRemote }

func (s *stallingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *stallingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *stallingSession) Reset()                               {}
func (s *stallingSession) Logout() error                        { return nil }

func (s *stallingSession) Data(r io.Reader) error {
	s.rm.mu.Lock()
	s.rm.inData++
	s.rm.mu.Unlock()
	<-s.rm.release
	return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "test over"}
}
