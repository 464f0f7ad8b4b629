package imapgw

import (
	"context"
	"strings"
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

// TestAppendOverQuotaBeforeTheLiteral: an APPEND over the quota is
// refused with NO [OVERQUOTA] in place of the continuation request of its
// synchronizing literal (RFC 9051 section 4.3), so the client does not
// send the message; the session goes on. A COPY whose copies would take
// the user over the quota is refused too (RFC 9208 section 4.3); a MOVE,
// which adds nothing, is not.
func TestAppendOverQuotaBeforeTheLiteral(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		env.deliver(t, a, "INBOX", "", plainMsg)
		if err := env.store.SetQuota(context.Background(), a, int64(len(plainMsg))*3/2); err != nil {
			t.Fatal(err)
		}
		tr := rawLogin(t, env, a)
		tr.send("q1 APPEND INBOX {" + itoa(len(plainMsg)) + "}")
		if line := tr.expect(""); !strings.HasPrefix(line, "q1 NO [OVERQUOTA]") {
			t.Fatalf("APPEND over quota: %q, want q1 NO [OVERQUOTA] before any continuation", line)
		}
		tr.send("q2 SELECT INBOX")
		tr.expect("q2 OK")
		tr.send("q3 COPY 1 Archive")
		if line := tr.expect("q3 "); !strings.HasPrefix(line, "q3 NO [OVERQUOTA]") {
			t.Errorf("COPY over quota: %q, want NO [OVERQUOTA]", line)
		}
		tr.send("q4 MOVE 1 Archive")
		if line := tr.expect("q4 "); !strings.HasPrefix(line, "q4 OK") {
			t.Errorf("MOVE over quota: %q, want OK", line)
		}
	})
}
