package edge

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bucketmail/bucketmail/internal/store"
)

// TestShutdownFinishesTransactions: during Shutdown a connection without
// a transaction (greeted only, or after EHLO) gets 421, while one after
// RCPT and one in the middle of DATA complete with 250; Shutdown returns
// once they are done.
func TestShutdownFinishesTransactions(t *testing.T) {
	e := newEnv(t, nil)
	raw, err := net.Dial("tcp", e.addr[MX])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	rawR := bufio.NewReader(raw)
	if line, _ := rawR.ReadString('\n'); !strings.HasPrefix(line, "220 ") {
		t.Fatalf("greeting %q", line)
	}
	idle := e.dial(MX, true)
	afterRcpt := e.dial(MX, true)
	if err := afterRcpt.Mail("sender@remote.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := afterRcpt.Rcpt(alice, nil); err != nil {
		t.Fatal(err)
	}
	inData := e.dial(MX, false)
	if err := inData.Mail("sender@remote.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := inData.Rcpt(bob, nil); err != nil {
		t.Fatal(err)
	}
	dw, err := inData.Data()
	if err != nil {
		t.Fatal(err)
	}
	msg := "Subject: in data\r\n\r\n" + strings.Repeat("body line\r\n", 100)
	if _, err := io.WriteString(dw, msg[:len(msg)/2]); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.srv.Shutdown(ctx) }()

	// Connections without a transaction are told 421 at once.
	if line, _ := rawR.ReadString('\n'); !strings.HasPrefix(line, "421 ") {
		t.Errorf("greeted-only connection at shutdown: %q, want 421", line)
	}
	var se *smtp.SMTPError
	if err := idle.Noop(); !asSMTP(err, &se) || se.Code != 421 {
		t.Errorf("idle connection at shutdown: %v, want 421", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned with transactions open: %v", err)
	case <-time.After(300 * time.Millisecond):
	}

	// The open transactions finish.
	if _, err := io.WriteString(dw, msg[len(msg)/2:]); err != nil {
		t.Fatal(err)
	}
	if err := dw.Close(); err != nil {
		t.Fatalf("DATA in progress at shutdown: %v, want 250", err)
	}
	w2, err := afterRcpt.Data()
	if err != nil {
		t.Fatalf("DATA after RCPT at shutdown: %v", err)
	}
	if _, err := io.WriteString(w2, "Subject: after rcpt\r\n\r\nbody\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := w2.Close(); err != nil {
		t.Fatalf("end of DATA after RCPT at shutdown: %v, want 250", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the transactions ended")
	}
	if n := len(e.jobs(store.QueueInbound)); n != 2 {
		t.Errorf("%d inbound jobs, want 2", n)
	}
}

func asSMTP(err error, se **smtp.SMTPError) bool {
	e, ok := err.(*smtp.SMTPError)
	if ok {
		*se = e
	}
	return ok
}
