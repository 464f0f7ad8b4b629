package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to log "bucketmail ready".
const startTimeout = 60 * time.Second

// server is one running bucketmail server process.
type server struct {
	cmd     *exec.Cmd
	dataDir string

	mu    sync.Mutex
	addrs map[string]string // listener name → bound address
	log   bytes.Buffer      // everything it wrote to stderr
	ready chan struct{}     // closed at "bucketmail ready"
	done  chan struct{}     // closed when the process has exited
	err   error             // of Wait, valid after done
}

// listenerFlags puts every listener of a server on a random loopback port.
var listenerFlags = []string{
	"--smtp-addr", "127.0.0.1:0",
	"--submission-addr", "127.0.0.1:0",
	"--submissions-addr", "127.0.0.1:0",
	"--imap-addr", "127.0.0.1:0",
	"--imaps-addr", "127.0.0.1:0",
	"--pop3-addr", "127.0.0.1:0",
	"--pop3s-addr", "127.0.0.1:0",
	"--managesieve-addr", "127.0.0.1:0",
	"--http-addr", "127.0.0.1:0",
}

// startServer runs "bucketmail <args...> --data-dir dataDir" and waits until
// it is ready. The process is killed at the end of the test if still alive.
func startServer(t *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	return startServerFor(t, t, dataDir, args...)
}

// startServerFor is startServer for a process that outlives the (sub)test t
// that starts it: it is killed at the end of owner.
func startServerFor(t, owner *testing.T, dataDir string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, owner, nil, dataDir, args...)
}

// startServerEnv is startServerFor with env (KEY=VALUE) added to the clean
// environment, e.g. the S3 credentials, which are never flags.
func startServerEnv(t, owner *testing.T, env []string, dataDir string, args ...string) *server {
	t.Helper()
	s := &server{
		dataDir: dataDir,
		addrs:   map[string]string{},
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
	}
	args = append(args, "--data-dir", dataDir, "--hostname", "mx.test.example", "--log-format", "json", "--log-level", "debug")
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Env = append(cleanEnv(), env...)
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := s.cmd.Process.Pid
	owner.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-s.done
		}
		if owner.Failed() {
			owner.Logf("log of bucketmail %s (pid %d):\n%s", args[0], pid, s.logTail(200))
		}
	})
	go s.readLog(stderr)
	select {
	case <-s.ready:
	case <-s.done:
		t.Fatalf("bucketmail %s exited before it was ready: %v\n%s", args[0], s.err, s.logTail(50))
	case <-time.After(startTimeout):
		t.Fatalf("bucketmail %s not ready after %s\n%s", args[0], startTimeout, s.logTail(50))
	}
	return s
}

// cleanEnv is the environment without BUCKETMAIL_* variables, so a
// developer's settings cannot change what the tests run. DNS goes to a
// loopback port nobody serves: the inbound checks (SPF, DKIM, DMARC) fail
// fast with temperror instead of querying the network, and mail is never
// filed by the real DNS records of a test domain. A test that needs DNS
// passes its own BUCKETMAIL_DNS_RESOLVER, which comes later and wins.
// The abuse limits are raised far above what any test does from
// 127.0.0.1 (the counters still run); a test of a limit sets its own.
// The metrics listener takes a random loopback port (listener "metrics"),
// so that servers started side by side do not fight over the default.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BUCKETMAIL_") {
			env = append(env, kv)
		}
	}
	return append(env, "BUCKETMAIL_DNS_RESOLVER="+deadDNS, "BUCKETMAIL_METRICS_ADDR=127.0.0.1:0",
		"BUCKETMAIL_LIMIT_CONN_PER_IP_MINUTE=1000000", "BUCKETMAIL_LIMIT_AUTH_FAILURES=1000000")
}

// deadDNS is a loopback UDP address without a server (the discard port).
const deadDNS = "127.0.0.1:9"

// readLog collects the log and picks out the bound addresses.
func (s *server) readLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	readyClosed := false
	for sc.Scan() {
		line := sc.Bytes()
		var rec struct {
			Msg      string `json:"msg"`
			Listener string `json:"listener"`
			Addr     string `json:"addr"`
		}
		_ = json.Unmarshal(line, &rec)
		s.mu.Lock()
		s.log.Write(line)
		s.log.WriteByte('\n')
		if rec.Msg == "listening" && rec.Listener != "" {
			s.addrs[rec.Listener] = rec.Addr
		}
		s.mu.Unlock()
		if rec.Msg == "bucketmail ready" && !readyClosed {
			close(s.ready)
			readyClosed = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
	s.err = s.cmd.Wait()
	close(s.done)
}

// addr returns the bound address of listener name ("smtp", "imap", ...),
// or an address naming the missing listener, which no dial can reach.
func (s *server) addr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.addrs[name]
	if !ok {
		return "no-" + name + "-listener.invalid:1"
	}
	return a
}

func (s *server) logTail(lines int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := strings.Split(strings.TrimRight(s.log.String(), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// logContains reports whether the log so far contains sub.
func (s *server) logContains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.log.String(), sub)
}

// stop sends SIGTERM and checks that the process exits 0 within a deadline.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("bucketmail did not exit within 30s of SIGTERM\n%s", s.logTail(50))
	}
	if s.err != nil {
		t.Fatalf("bucketmail exited with %v after SIGTERM\n%s", s.err, s.logTail(50))
	}
}

// kill sends SIGKILL and waits for the process to die.
func (s *server) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	<-s.done
}

// result is what an admin command did.
type result struct {
	stdout, stderr string
	code           int
}

// admin runs "bucketmail <args...> --data-dir dataDir" to completion.
func admin(t *testing.T, dataDir, stdin string, args ...string) result {
	t.Helper()
	return adminEnv(t, nil, dataDir, stdin, args...)
}

// adminEnv is admin with env (KEY=VALUE) added to the clean environment.
func adminEnv(t *testing.T, env []string, dataDir, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, append(args, "--data-dir", dataDir)...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("bucketmail %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustAdmin runs an admin command that must succeed.
func mustAdmin(t *testing.T, dataDir, stdin string, args ...string) string {
	t.Helper()
	r := admin(t, dataDir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("bucketmail %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}
