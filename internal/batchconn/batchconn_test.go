package batchconn

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bucketmail/bucketmail/internal/testenv"
)

// counted counts the writes that reach the network.
type counted struct {
	net.Conn
	writes atomic.Int64
}

func (c *counted) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// pair returns a batched server side and the plain client side of a
// loopback TCP connection.
func pair(t *testing.T) (*Conn, *counted, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	raw := <-accepted
	if raw == nil {
		t.Fatal("accept failed")
	}
	cc := &counted{Conn: raw}
	srv := New(cc)
	t.Cleanup(func() { srv.Close(); client.Close() })
	return srv, cc, client
}

func TestWritesWaitForRead(t *testing.T) {
	srv, cc, client := pair(t)
	for i := range 100 {
		if _, err := srv.Write([]byte(strings.Repeat("x", 10) + string(rune('0'+i%10)) + "\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if n := cc.writes.Load(); n != 0 {
		t.Fatalf("%d writes before the server read, want 0", n)
	}
	// The server reads: the batch goes out first, in one write.
	go func() {
		buf := make([]byte, 16)
		srv.Read(buf)
	}()
	got := make([]byte, 100*13)
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if n := cc.writes.Load(); n != 1 {
		t.Fatalf("%d writes for one batch, want 1", n)
	}
	if !bytes.HasPrefix(got, []byte("xxxxxxxxxx0\r\nxxxxxxxxxx1\r\n")) || !bytes.HasSuffix(got, []byte("xxxxxxxxxx9\r\n")) {
		t.Fatalf("bytes out of order: %q...", got[:40])
	}
	client.Write([]byte("done\r\n"))
}

func TestWriteDuringReadGoesOut(t *testing.T) {
	srv, _, client := pair(t)
	readDone := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(srv).ReadString('\n')
		readDone <- line
	}()
	// Wait until the Read is waiting, then write from another goroutine,
	// as an IDLE update does: it must reach the client with no flush.
	for {
		srv.mu.Lock()
		r := srv.reading
		srv.mu.Unlock()
		if r {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := srv.Write([]byte("* 3 EXISTS\r\n")); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(client).ReadString('\n')
	if err != nil || line != "* 3 EXISTS\r\n" {
		t.Fatalf("client read %q, %v", line, err)
	}
	client.Write([]byte("DONE\r\n"))
	if got := <-readDone; got != "DONE\r\n" {
		t.Fatalf("server read %q", got)
	}
}

func TestCloseFlushes(t *testing.T) {
	srv, _, client := pair(t)
	srv.Write([]byte("* BYE shutting down\r\n"))
	srv.Close()
	client.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(client)
	if err != nil || string(b) != "* BYE shutting down\r\n" {
		t.Fatalf("client read %q, %v", b, err)
	}
}

func TestLargeWritesAndFullBatches(t *testing.T) {
	srv, cc, client := pair(t)
	small := bytes.Repeat([]byte("s"), 1000)
	big := bytes.Repeat([]byte("B"), 3*Max)
	var want []byte
	for range 40 { // 40,000 bytes: one full batch goes out on the way
		srv.Write(small)
		want = append(want, small...)
	}
	srv.Write(big)
	want = append(want, big...)
	srv.Write([]byte("end"))
	want = append(want, "end"...)
	done := make(chan []byte)
	go func() {
		got := make([]byte, len(want))
		client.SetReadDeadline(time.Now().Add(5 * time.Second))
		io.ReadFull(client, got)
		done <- got
	}()
	if err := srv.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := <-done; !bytes.Equal(got, want) {
		t.Fatal("bytes differ from what was written")
	}
	// 32 small ones fill a batch, the next 8 wait, the big one goes
	// straight out after them, "end" at the Flush: 4 writes.
	if n := cc.writes.Load(); n != 4 {
		t.Fatalf("%d writes, want 4", n)
	}
}

func TestWriteErrorSticks(t *testing.T) {
	srv, _, client := pair(t)
	client.Close()
	srv.Conn.Close()
	srv.Write([]byte("lost\r\n"))
	if err := srv.Flush(); err == nil {
		t.Fatal("flush to a closed connection succeeded")
	}
	if _, err := srv.Write([]byte("more\r\n")); err == nil {
		t.Fatal("write after a failed flush succeeded")
	}
}

// TestTLSCloseSendsBatch: tls.Conn.Close sets the write deadline to now
// after its close_notify; what was batched before must still go out.
func TestTLSCloseSendsBatch(t *testing.T) {
	srv, _, client := pair(t)
	cert := testenv.NewCert(t, "localhost")
	tsrv := tls.Server(srv, cert.Server)
	tcli := tls.Client(client, cert.Client("localhost"))
	tcli.SetDeadline(time.Now().Add(5 * time.Second))
	go func() {
		if err := tsrv.Handshake(); err != nil {
			return
		}
		tsrv.Write([]byte("* BYE Logging out\r\n"))
		tsrv.Write([]byte("a1 OK LOGOUT completed\r\n"))
		tsrv.Close()
	}()
	b, err := io.ReadAll(tcli)
	if err != nil || string(b) != "* BYE Logging out\r\na1 OK LOGOUT completed\r\n" {
		t.Fatalf("client read %q, %v", b, err)
	}
}
