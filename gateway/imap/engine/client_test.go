package engine

import (
	"context"
	"net"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestGoIMAPClient drives the engine with go-imap's client: LOGIN, two
// APPENDs, SELECT, FETCH and LOGOUT.
func TestGoIMAPClient(t *testing.T) {
	var appended []string
	srvConn, cliConn := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(testConfig(&appended)).Serve(context.Background(), srvConn)
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
