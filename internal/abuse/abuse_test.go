package abuse

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

func openLimits(t *testing.T, cfg Config) *Limits {
	t.Helper()
	db := testenv.Embedded(t).Store
	if cfg.MaxDelay == 0 {
		cfg.MaxDelay = time.Millisecond
	}
	l := New(db, cfg, nil)
	if l == nil {
		t.Fatal("sqlite store should implement store.Limiter")
	}
	return l
}

func TestNilAllowsEverything(t *testing.T) {
	var l *Limits
	ctx := context.Background()
	if !l.Connect(ctx, "192.0.2.1") {
		t.Error("nil Limits limited something")
	}
	if a, ok := l.BeginAuth(ctx, "192.0.2.1", "a@b"); !ok || a.Failed(ctx) {
		t.Error("nil Limits limited an authentication")
	}
	if m, r := l.SendAllowed(ctx, "a@b", 5); !m || !r {
		t.Error("nil Limits limited sending")
	}
	if New(nil, Config{}, nil) != nil {
		t.Error("New without a Limiter should be nil")
	}
}

func TestConnectLimit(t *testing.T) {
	l := openLimits(t, Config{ConnPerIPMinute: 3})
	ctx := context.Background()
	for i := range 3 {
		if !l.Connect(ctx, "192.0.2.1") {
			t.Fatalf("connection %d refused", i+1)
		}
	}
	if l.Connect(ctx, "192.0.2.1") {
		t.Fatal("4th connection in a minute allowed")
	}
	if !l.Connect(ctx, "192.0.2.2") {
		t.Fatal("another IP refused")
	}
}

func TestSendLimits(t *testing.T) {
	l := openLimits(t, Config{MessagesPerHour: 2, RecipientsPerHour: 5})
	ctx := context.Background()
	if m, r := l.SendAllowed(ctx, "u@example.com", 5); !m || !r {
		t.Fatal("fresh user limited")
	}
	if _, r := l.SendAllowed(ctx, "u@example.com", 6); r {
		t.Fatal("6 recipients allowed with a limit of 5")
	}
	l.Sent(ctx, "u@example.com", 3)
	if m, r := l.SendAllowed(ctx, "U@example.com", 2); !m || !r {
		t.Fatal("second message with 2 more recipients refused")
	}
	if _, r := l.SendAllowed(ctx, "u@example.com", 3); r {
		t.Fatal("recipient limit not enforced")
	}
	l.Sent(ctx, "u@example.com", 1)
	if m, _ := l.SendAllowed(ctx, "u@example.com", 0); m {
		t.Fatal("third message allowed with a limit of 2")
	}
}

func TestListenerRefusesOverLimit(t *testing.T) {
	l := openLimits(t, Config{ConnPerIPMinute: 1})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := l.Listener(raw, "421 4.7.0 Too many connections\r\n")
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	first, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("first connection not accepted")
	}
	second, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_ = second.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(second).ReadString('\n')
	if err != nil || line != "421 4.7.0 Too many connections\r\n" {
		t.Fatalf("second connection got %q, %v", line, err)
	}
	select {
	case <-accepted:
		t.Fatal("a refused connection was handed out")
	default:
	}
}
