package imapgw

import (
	"bufio"
	"context"
	"strings"
	"testing"
)

// TestQuotaCommands checks GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208)
// against the user's storage quota: STORAGE in KiB, usage rounded up; a
// user without a limit has no quota root.
func TestQuotaCommands(t *testing.T) {
	eachDeployment(t, func(t *testing.T, env *testEnv) {
		a := "alice@example.org"
		env.deliver(t, a, "INBOX", "", plainMsg)
		conn, err := tlsDial(env.tlsAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		rawExchange(t, conn, r, "q1", `LOGIN alice@example.org "`+testPassword+`"`)
		check := func(got []string, want ...string) {
			t.Helper()
			if len(got) != len(want)+1 {
				t.Fatalf("got %q, want %q and the tagged OK", got, want)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("line %d: %q, want %q", i, got[i], want[i])
				}
			}
		}
		check(rawExchange(t, conn, r, "q2", "GETQUOTAROOT INBOX"), `* QUOTAROOT INBOX`)
		if err := env.store.SetQuota(context.Background(), a, 10<<20); err != nil {
			t.Fatal(err)
		}
		check(rawExchange(t, conn, r, "q3", "GETQUOTAROOT inbox"),
			`* QUOTAROOT INBOX ""`, `* QUOTA "" (STORAGE 1 10240)`)
		check(rawExchange(t, conn, r, "q4", `GETQUOTA ""`), `* QUOTA "" (STORAGE 1 10240)`)
		for _, bad := range []string{`GETQUOTA "other"`, `SETQUOTA "" (STORAGE 1)`, "GETQUOTAROOT Nope"} {
			got := rawLine(t, conn, r, "q5", bad)
			if !strings.HasPrefix(got, "q5 NO [") {
				t.Errorf("%s: %q, want NO with a code", bad, got)
			}
		}
		if caps := rawExchange(t, conn, r, "q6", "CAPABILITY"); !containsAll(caps[0], " QUOTA ", " QUOTA=RES-STORAGE") {
			t.Errorf("QUOTA not advertised: %q", caps[0])
		}
	})
}

// rawLine sends a command expected to fail and returns its tagged line.
func rawLine(t *testing.T, conn interface{ Write([]byte) (int, error) }, r *bufio.Reader, tag, line string) string {
	t.Helper()
	if _, err := conn.Write([]byte(tag + " " + line + "\r\n")); err != nil {
		t.Fatal(err)
	}
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(l, tag+" ") {
			return strings.TrimRight(l, "\r\n")
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s+" ", sub) {
			return false
		}
	}
	return true
}
