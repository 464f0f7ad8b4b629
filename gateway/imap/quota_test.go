package imapgw

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/bucketmail/bucketmail/internal/store"
)

func tryAppend(c *imapclient.Client, mailbox, raw string) error {
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	cmd.Write([]byte(raw))
	cmd.Close()
	_, err := cmd.Wait()
	return err
}

func TestAppendOverQuota(t *testing.T) {
	env := newEnv(t)
	a := "alice@example.org"
	ctx := context.Background()
	if err := env.store.SetQuota(ctx, a, int64(len(plainMsg))*3/2); err != nil {
		t.Fatal(err)
	}
	c := env.dial(t, a, nil)
	if err := tryAppend(c, "INBOX", plainMsg); err != nil {
		t.Fatalf("APPEND under quota: %v", err)
	}
	objects := func() int {
		infos, err := env.blobs.List(ctx, "msg/", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(infos)
	}
	before := objects()
	err := tryAppend(c, "Archive", plainMsg)
	if imapCode(err) != imap.ResponseCodeOverQuota {
		t.Fatalf("APPEND over quota: %v, want NO [OVERQUOTA]", err)
	}
	if n := objects(); n != before {
		t.Errorf("a refused APPEND left %d objects, want %d", n, before)
	}
	// A quota changed during the session applies at once.
	if err := env.store.SetQuota(ctx, a, store.QuotaUnlimited); err != nil {
		t.Fatal(err)
	}
	if err := tryAppend(c, "Archive", plainMsg); err != nil {
		t.Fatalf("APPEND unlimited: %v", err)
	}
}

func TestAppendDefaultQuota(t *testing.T) {
	env := newEnv(t, func(c *Config) { c.DefaultQuota = 10 })
	c := env.dial(t, "bob@example.org", nil)
	if err := tryAppend(c, "INBOX", plainMsg); imapCode(err) != imap.ResponseCodeOverQuota {
		t.Fatalf("APPEND beyond the default quota: %v, want NO [OVERQUOTA]", err)
	}
}
