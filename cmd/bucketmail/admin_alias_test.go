package main

import (
	"strings"
	"testing"
)

// TestAliasAddRefusesBadAndLoopingTargets: an invalid target or one that
// leads back to the source is refused with one line and exit 1, and
// nothing changes; outside targets are marked by alias list.
func TestAliasAddRefusesBadAndLoopingTargets(t *testing.T) {
	env := map[string]string{"BUCKETMAIL_DATA_DIR": t.TempDir()}
	must := func(args ...string) string {
		t.Helper()
		code, out, errOut := runCmd(t, "", env, args...)
		if code != 0 {
			t.Fatalf("%v: code %d: %s", args, code, errOut)
		}
		return out
	}
	must("domain", "add", "example.org")
	must("user", "add", "alice@example.org")
	must("alias", "add", "fwd@example.org", "Someone@Gmail.example", "alice@example.org")
	must("alias", "add", "a@example.org", "b@example.org")
	must("alias", "add", "catch@example.org", "nobody@example.org")
	before := must("alias", "list")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"self@example.org", "self@example.org"}, "self@example.org would loop: self@example.org -> self@example.org"},
		{[]string{"b@example.org", "a@example.org"}, "b@example.org would loop: b@example.org -> a@example.org -> b@example.org"},
		{[]string{"b@example.org", "alice@example.org", "a+tag@example.org"}, "b@example.org would loop: b@example.org -> a+tag@example.org -> a@example.org -> b@example.org"},
		{[]string{"@example.org", "x@example.org"}, "@example.org would loop: @example.org -> x@example.org -> @example.org"},
		{[]string{"c@example.org", ""}, `target "" is not an address`},
		{[]string{"c@example.org", "bad"}, `target "bad" is not an address`},
		{[]string{"c@example.org", "a b@example.net"}, `target "a b@example.net" is not an address`},
		{[]string{"c@example.org", "x\x01y@example.net"}, `target "x\x01y@example.net" is not an address (control characters)`},
		{[]string{"c@example.org", "x@exa_mple.net"}, `target "x@exa_mple.net" is not an address`},
		{[]string{"../x@example.org", "alice@example.org"}, `store: address "../x@example.org"`},
		{[]string{"c@example.org", "../a@example.net"}, `target: store: address "../a@example.net"`},
		{[]string{"c@example.org", strings.Repeat("x", 65) + "@example.net"}, `target: store: address`},
	} {
		code, _, errOut := runCmd(t, "", env, append([]string{"alias", "add"}, c.args...)...)
		if code != exitError {
			t.Errorf("alias add %q: code %d, want %d (%s)", c.args, code, exitError, errOut)
		}
		wantOneLine(t, errOut, "bucketmail: alias: add: "+c.want)
	}
	after := must("alias", "list")
	if after != before {
		t.Errorf("refused additions changed the aliases:\n%s\nwant\n%s", after, before)
	}
	if !strings.Contains(after, "fwd@example.org alice@example.org someone@gmail.example (outside)\n") ||
		!strings.Contains(after, "a@example.org b@example.org\n") {
		t.Errorf("alias list = %q", after)
	}
}
