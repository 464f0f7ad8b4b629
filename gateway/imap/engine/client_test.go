package engine

import (
	"context"
	"net"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/batchconn"
)

// TestGoIMAPClient drives the engine with go-imap's client: LOGIN, two
// APPENDs, SELECT, FETCH and LOGOUT; on a plain connection and on the
// batched one the gateway serves (internal/batchconn).
func TestGoIMAPClient(t *testing.T) {
	t.Run("plain", func(t *testing.T) { goIMAPClient(t, func(c net.Conn) net.Conn { return c }) })
	t.Run("batched", func(t *testing.T) { goIMAPClient(t, func(c net.Conn) net.Conn { return batchconn.New(c) }) })
}

func goIMAPClient(t *testing.T, wrap func(net.Conn) net.Conn) {
	var appended []string
	srvConn, cliConn := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(testConfig(&appended)).Serve(context.Background(), wrap(srvConn))
	}()
	defer func() { cliConn.Close(); <-done }()

	c := imapclient.New(cliConn, nil)
	if err := c.Login("joe", "wrong").Wait(); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if err := c.Login("joe", "secret").Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, body := range []string{"Subject: one\r\n\r\nfirst\r\n", "Subject: two\r\n\r\nsecond\r\n"} {
		cmd := c.Append("INBOX", int64(len(body)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}})
		if _, err := cmd.Write([]byte(body)); err != nil {
			t.Fatalf("append write: %v", err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatalf("append close: %v", err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if len(appended) != 2 || appended[1] != "Subject: two\r\n\r\nsecond\r\n" {
		t.Fatalf("appended %q", appended)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if sel.NumMessages != 2 {
		t.Errorf("SELECT: %d messages", sel.NumMessages)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2), &imap.FetchOptions{UID: true}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(msgs) != 2 || msgs[0].UID != 1 || msgs[1].UID != 2 {
		t.Errorf("fetch: %+v", msgs)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("logout: %v", err)
	}
}
