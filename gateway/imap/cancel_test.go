package imapgw

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/blob"
)

// holdingBlobs holds the first Get until its context ends, and reports
// how it ended: the command reading a message is then running.
type holdingBlobs struct {
	blob.Store
	once    sync.Once
	started chan struct{}
	ended   chan error // context.Canceled, or nil when it was never cancelled
}

func (h *holdingBlobs) Get(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	first := false
	h.once.Do(func() { first = true })
	if !first {
		return h.Store.Get(ctx, key, off, length)
	}
	close(h.started)
	select {
	case <-ctx.Done():
		h.ended <- ctx.Err()
		return nil, ctx.Err()
	case <-time.After(30 * time.Second):
		h.ended <- nil
		return h.Store.Get(ctx, key, off, length)
	}
}

// TestCommandCancelledWhenClientLeaves: a SEARCH TEXT or FETCH BODY[] whose
// client closes the connection while it runs has its work cancelled, over
// plain TCP and over TLS (where a close_notify precedes the FIN).
func TestCommandCancelledWhenClientLeaves(t *testing.T) {
	for _, c := range []struct {
		name string
		tls  bool
		run  func(c *imapclient.Client)
	}{
		{"search plain", false, func(c *imapclient.Client) {
			c.UIDSearch(&imap.SearchCriteria{Text: []string{"needle"}}, nil)
		}},
		{"search tls", true, func(c *imapclient.Client) {
			c.UIDSearch(&imap.SearchCriteria{Body: []string{"needle"}}, nil)
		}},
		{"fetch tls", true, func(c *imapclient.Client) {
			c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			hold := &holdingBlobs{started: make(chan struct{}), ended: make(chan error, 1)}
			env := newEnv(t, func(cfg *Config) {
				hold.Store, cfg.Blobs = cfg.Blobs, hold
				cfg.AllowInsecureAuth = true
			})
			env.noText = true // not indexed yet: a search reads them
			for range 3 {
				env.deliver(t, "alice@example.org", "INBOX", "", "From: b@example.org\r\nSubject: s\r\n\r\nhay\r\n")
			}
			var cl *imapclient.Client
			var err error
			if c.tls {
				cl, err = imapclient.DialTLS(env.tlsAddr, &imapclient.Options{TLSConfig: clientTLS()})
			} else {
				cl, err = imapclient.DialInsecure(env.plainAddr, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			if err := cl.Login("alice@example.org", testPassword).Wait(); err != nil {
				t.Fatal(err)
			}
			mustSelect(t, cl, "INBOX", false)
			c.run(cl)
			select {
			case <-hold.started:
			case <-time.After(10 * time.Second):
				t.Fatal("the command never read a message")
			}
			cl.Close()
			if err := <-hold.ended; !errors.Is(err, context.Canceled) {
				t.Fatalf("the command's read ended with %v, want context.Canceled", err)
			}
		})
	}
}
