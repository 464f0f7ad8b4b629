package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/bucketmail/bucketmail/internal/domainkeys"
)

func TestDKIMKeygenAndList(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	if code, _, errOut := runCmd(t, "", env, "domain", "add", "example.test"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runCmd(t, "", env, "dkim", "keygen", "Example.Test")
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	sel := "bm" + time.Now().UTC().Format("200601") + "e"
	if !strings.Contains(out, "selector: "+sel+"\n") || !strings.Contains(out, sel+"._domainkey.example.test. IN TXT \"v=DKIM1; k=ed25519; p=") {
		t.Fatalf("keygen output:\n%s", out)
	}
	code, out, errOut = runCmd(t, "", env, "dkim", "keygen", "example.test", "--algorithm", "rsa2048", "--selector", "big")
	if code != 0 {
		t.Fatalf("keygen rsa: %d %s", code, errOut)
	}
	// The record line is a valid master-file TXT record (split in 255-byte
	// strings) whose joined value is the key's.
	line := out[strings.Index(out, "big._domainkey"):]
	rr, err := dns.NewRR(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("record %q: %v", line, err)
	}
	txt := strings.Join(rr.(*dns.TXT).Txt, "")

	var sc storageConfig
	sc.DataDir = env["BUCKETMAIL_DATA_DIR"]
	st, bl, err := openStorage(sc)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := domainkeys.List(context.Background(), bl, "example.test")
	st.Close()
	if err != nil || len(keys) != 2 || keys[0].Selector != "big" || keys[0].TXT != txt || keys[1].Selector != sel {
		t.Fatalf("stored keys %+v, %v", keys, err)
	}

	code, out, _ = runCmd(t, "", env, "dkim", "list")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "rsa2048") || !strings.Contains(out, sel) {
		t.Fatalf("list: %d\n%s", code, out)
	}

	// Errors: exit 1 for a refused operation, 2 for a wrong command line.
	for _, c := range []struct {
		code int
		args []string
	}{
		{1, []string{"dkim", "keygen", "example.test", "--selector", "big"}}, // taken
		{1, []string{"dkim", "keygen", "other.test"}},                        // not local
		{2, []string{"dkim", "keygen", "example.test", "--algorithm", "dsa"}},
		{2, []string{"dkim", "keygen"}},
		{2, []string{"dkim", "keygen", "example.test", "--selector", "a/b"}},
		{2, []string{"dkim", "rotate"}},
	} {
		if code, _, errOut := runCmd(t, "", env, c.args...); code != c.code {
			t.Errorf("%v: exit %d (%s), want %d", c.args, code, errOut, c.code)
		} else {
			wantOneLine(t, errOut, "bucketmail: dkim")
		}
	}

	if code, _, errOut := runCmd(t, "", env, "dkim", "del", "example.test", "big"); code != 0 {
		t.Fatal(errOut)
	}
	if _, out, _ := runCmd(t, "", env, "dkim", "list", "example.test"); strings.Contains(out, "big") {
		t.Fatalf("after del:\n%s", out)
	}
}
