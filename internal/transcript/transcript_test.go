package transcript

import (
	"bytes"
	"strings"
	"testing"
)

func TestEscapeRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, b := range [][]byte{all, []byte("a^b\r\n"), {0, '^', '^', 0x7f}, nil} {
		got, err := Unescape(Escape(b))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("Unescape(Escape(%q)) = %q, %v", b, got, err)
		}
	}
	if got := Escape([]byte("x\r\n\x00^")); got != "x^M^J^@^^" {
		t.Errorf("Escape = %q", got)
	}
	for _, bad := range []string{"a^", "^a", "^1"} {
		if _, err := Unescape(bad); err == nil {
			t.Errorf("Unescape(%q) succeeded", bad)
		}
	}
}

func TestParse(t *testing.T) {
	steps, err := Parse([]byte("# c\n\nC: a1 NOOP\r\nS: a1 OK $*\nC2: b1 NOOP\nS2: b1 OK\n!deliver u m plain\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{{3, 'C', 1, "a1 NOOP"}, {4, 'S', 1, "a1 OK $*"}, {5, 'C', 2, "b1 NOOP"}, {6, 'S', 2, "b1 OK"}, {7, '!', 0, "deliver u m plain"}}
	if len(steps) != len(want) {
		t.Fatalf("Parse = %+v", steps)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, steps[i], want[i])
		}
	}
	for _, bad := range []string{"X: a", "C0: a", "no prefix", "Cx: a"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

func TestMatch(t *testing.T) {
	p := &play{vars: map[string]string{}}
	for _, tc := range []struct {
		pattern, got string
		ok           bool
	}{
		{"* OK [UIDVALIDITY $UV] $*", "* OK [UIDVALIDITY 123] UIDs valid", true},
		{"* STATUS INBOX (UIDVALIDITY $UV)", "* STATUS INBOX (UIDVALIDITY 123)", true},
		{"* STATUS INBOX (UIDVALIDITY $UV)", "* STATUS INBOX (UIDVALIDITY 124)", false},
		{"* FLAGS ($$Label1 \\Seen)", "* FLAGS ($Label1 \\Seen)", true},
		{"a1 OK", "a1 OK done", false},
		{"a1 OK $*", "a1 OK", false}, // the space is part of the pattern
		{"a1 OK$*", "a1 OK", true},
		{"* 1 FETCH (BODY[] {3}a^M^J)", "* 1 FETCH (BODY[] {3}a^M^J)", true},
		{"a.b", "axb", false}, // no regexp syntax leaks through
	} {
		err := p.match(tc.pattern, tc.got)
		if (err == nil) != tc.ok {
			t.Errorf("match(%q, %q) = %v, want ok %v", tc.pattern, tc.got, err, tc.ok)
		}
	}
	if got, err := p.substitute("a2 STATUS x (UIDVALIDITY $UV) $$"); err != nil || got != "a2 STATUS x (UIDVALIDITY 123) $" {
		t.Errorf("substitute = %q, %v", got, err)
	}
	if _, err := p.substitute("$NOPE"); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("substitute of an unbound name = %v", err)
	}
	if err := p.match("$A $A", "x x"); err == nil {
		t.Error("a name twice before it is bound matched")
	}
}
