package servers

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// redisDo sends one command and returns the first line of the reply (plus
// the next line for a bulk string).
func redisDo(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "$") && line != "$-1" {
		v, err := r.ReadString('\n')
		return strings.TrimSpace(v), err
	}
	return line, nil
}

func mustDo(t *testing.T, addr string, want string, args ...string) {
	t.Helper()
	got, err := redisDo(addr, args...)
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if got != want {
		t.Fatalf("%v = %q, want %q", args, got, want)
	}
}

func TestRedis(t *testing.T) {
	s := Redis(t)
	if want := "redis://" + s.Addr + "/0"; s.URL() != want {
		t.Errorf("URL() = %q, want %q", s.URL(), want)
	}
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Errorf("Addr = %q, want loopback", s.Addr)
	}
	mustDo(t, s.Addr, "+PONG", "PING")
	mustDo(t, s.Addr, "+OK", "SET", "k", "v")
	mustDo(t, s.Addr, "v", "GET", "k")
}

// TestRedisKillRestart: acknowledged writes survive a crash (the AOF).
func TestRedisKillRestart(t *testing.T) {
	s := Redis(t)
	mustDo(t, s.Addr, "+OK", "SET", "k", "v")
	pid := s.PID()
	s.Kill()
	if _, err := redisDo(s.Addr, "PING"); err == nil {
		t.Fatal("PING answered after Kill")
	}
	if s.PID() != 0 {
		t.Errorf("PID() = %d after Kill, want 0", s.PID())
	}
	s.Restart()
	if s.PID() == pid || s.PID() == 0 {
		t.Errorf("PID() = %d after Restart (was %d)", s.PID(), pid)
	}
	mustDo(t, s.Addr, "v", "GET", "k")
	s.Restart() // while running
	mustDo(t, s.Addr, "v", "GET", "k")
}

func TestRedisPause(t *testing.T) {
	s := Redis(t)
	s.Pause()
	if _, err := redisDo(s.Addr, "PING"); err == nil {
		t.Fatal("PING answered while paused")
	}
	s.Resume()
	mustDo(t, s.Addr, "+PONG", "PING")
}

// TestRedisCleanup: the server is gone once its test has ended, even when
// left paused.
func TestRedisCleanup(t *testing.T) {
	var pid int
	var addr string
	t.Run("inner", func(t *testing.T) {
		s := Redis(t)
		pid, addr = s.PID(), s.Addr
		s.Pause()
	})
	if pid == 0 {
		t.Fatal("no PID")
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("process %d still exists after cleanup (kill 0: %v)", pid, err)
	}
	if _, err := redisDo(addr, "PING"); err == nil {
		t.Error("PING answered after cleanup")
	}
}

// TestRedisTwo: servers of one test are independent.
func TestRedisTwo(t *testing.T) {
	a, b := Redis(t), Redis(t)
	if a.Addr == b.Addr {
		t.Fatalf("same address %s", a.Addr)
	}
	mustDo(t, a.Addr, "+OK", "SET", "k", "a")
	mustDo(t, b.Addr, "$-1", "GET", "k")
}
