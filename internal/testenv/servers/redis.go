package servers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisEnv names an explicit redis-server binary, overriding the PATH.
const redisEnv = "BUCKETMAIL_REDIS_SERVER"

// RedisServer is a redis-server of one test, listening on loopback.
//
// Persistence: no RDB snapshots (--save ""), but an append-only file with
// --appendfsync no. Redis write(2)s the AOF before it answers a command, so
// every acknowledged write survives Kill (the data is in the kernel's page
// cache) and is back after Restart, at no fsync cost. Only a machine crash
// could lose it, which tests do not simulate.
type RedisServer struct {
	// Addr is "127.0.0.1:PORT".
	Addr string

	t   testing.TB
	bin string
	dir string

	mu   sync.Mutex
	proc *process
}

// Redis starts a redis-server for t, waits until it answers PING and stops
// it when t ends. It fails t if redis-server is missing or does not start.
func Redis(t testing.TB) *RedisServer {
	t.Helper()
	bin, err := redisBinary()
	if err != nil {
		t.Fatal(err)
	}
	s := &RedisServer{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	// A port found free may be taken before redis binds it: try new ones.
	for range 3 {
		var port int
		if port, err = freePort(); err != nil {
			break
		}
		s.Addr = hostPort(port)
		if err = s.start(); err == nil {
			return s
		}
	}
	t.Fatalf("servers: starting redis-server: %v", err)
	return nil
}

// redisPaths are looked at when redis-server is not in the PATH.
var redisPaths = []string{"/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server"}

// redisBinary finds redis-server.
func redisBinary() (string, error) { return findRedis(redisPaths) }

// findRedis finds redis-server in $BUCKETMAIL_REDIS_SERVER, the PATH or paths.
func findRedis(paths []string) (string, error) {
	if bin := os.Getenv(redisEnv); bin != "" {
		return bin, nil
	}
	if bin, err := exec.LookPath("redis-server"); err == nil {
		return bin, nil
	}
	for _, bin := range paths {
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
	}
	return "", errors.New("servers: redis-server not found in PATH (nor " + redisEnv +
		"); `make test` installs it with `apt-get install -y redis-server`, or run that yourself")
}

// URL is the redis:// URL of database 0.
func (s *RedisServer) URL() string { return "redis://" + s.Addr + "/0" }

// start runs redis-server on s.Addr and waits until it answers.
func (s *RedisServer) start() error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{
		"--port", port,
		"--bind", "127.0.0.1",
		"--protected-mode", "no",
		"--daemonize", "no",
		"--dir", s.dir,
		"--logfile", "", // stdout, which goes to our log file
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "no",
	}
	p, err := startProcess(s.bin, args, s.dir, filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err
	}
	if err := p.waitReady(func() error { return redisPing(s.Addr) }); err != nil {
		p.kill()
		return fmt.Errorf("redis-server on %s %w", s.Addr, err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// redisPing sends PING and expects PONG.
func redisPing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line = strings.TrimSpace(line); line != "+PONG" {
		return fmt.Errorf("PING answered %q", line) // -LOADING while reading the AOF
	}
	return nil
}

// PID is the process id of the running server, 0 if it is not running.
func (s *RedisServer) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.exited() {
		return 0
	}
	return s.proc.cmd.Process.Pid
}

// Kill ends the server abruptly (SIGKILL), as a crash would. Clients see
// connection errors until Restart.
func (s *RedisServer) Kill() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	p.kill()
}

// Restart kills the server if it runs and starts it again on the same
// address with the same data; it returns once the server answers.
func (s *RedisServer) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.t.Fatalf("servers: restarting redis-server: %v", err)
	}
}

// Pause freezes the server (SIGSTOP): connections stay open but nothing is
// answered, as with a hung server or a network partition. Resume undoes it.
func (s *RedisServer) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a server frozen by Pause (SIGCONT).
func (s *RedisServer) Resume() { s.signal(syscall.SIGCONT) }

func (s *RedisServer) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil {
		s.t.Fatalf("servers: redis-server on %s is not running", s.Addr)
	}
	if err := p.signal(sig); err != nil {
		s.t.Fatalf("servers: signal %v to redis-server: %v", sig, err)
	}
}

// String is for failure messages.
func (s *RedisServer) String() string {
	return "redis-server pid " + strconv.Itoa(s.PID()) + " on " + s.Addr
}
