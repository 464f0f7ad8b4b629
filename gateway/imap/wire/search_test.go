package wire

import (
	"errors"
	"strings"
	"testing"
)

// TestSearchKeyCap: a command may hold MaxSearchKeys search keys, counted
// at every level and anew for each command; one more is a syntax error
// and the next command is read as sent.
func TestSearchKeyCap(t *testing.T) {
	keys := func(n int) string { return strings.Repeat(" SEEN", n) }
	nested := func(n int) string { return strings.Repeat(" (SEEN SEEN)", n/3) + keys(n%3) } // 3 keys each
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"a SEARCH" + keys(MaxSearchKeys), true},
		{"a SEARCH" + keys(MaxSearchKeys+1), false},
		{"a SEARCH" + nested(MaxSearchKeys), true},
		{"a SEARCH" + nested(MaxSearchKeys+1), false},
		{"a UID SORT (DATE) UTF-8" + keys(MaxSearchKeys+1), false},
		{"a THREAD REFERENCES UTF-8" + keys(MaxSearchKeys+1), false},
	} {
		// Twice: the count of one command does not carry into the next.
		c := newConn(tt.in+"\r\n"+tt.in+"\r\nz NOOP\r\n", Limits{})
		for range 2 {
			_, err := c.r.ReadCommand()
			var e *Error
			if tt.ok && err != nil || !tt.ok && (!errors.As(err, &e) || e.Kind != KindSyntax) {
				t.Fatalf("%.40s... (%d bytes): %v, want ok %v", tt.in, len(tt.in), err, tt.ok)
			}
		}
		if next, err := c.r.ReadCommand(); err != nil || next.Tag != "z" {
			t.Fatalf("next command %+v %v", next, err)
		}
	}
}

// TestSearchModSeqEntry: the entry name of SEARCH MODSEQ is a flag's
// (RFC 7162 section 7: entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE).
func TestSearchModSeqEntry(t *testing.T) {
	cmd, err := readOne(t, "a SEARCH MODSEQ \"/FLAGS/$Work\" PRIV 7\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if k := cmd.Args.(*Search).Key.Keys[0]; k.EntryName != "/FLAGS/$Work" || k.EntryType != "PRIV" || k.Number != 7 {
		t.Fatalf("MODSEQ key %+v", k)
	}
	for _, in := range []string{`"/shared/comment" shared 1`, `"/flags/" all 1`, `"x" all 1`, `"/flags/\\seen" both 1`} {
		if _, err := readOne(t, "a SEARCH MODSEQ "+in+"\r\n"); err == nil {
			t.Errorf("SEARCH MODSEQ %s accepted", in)
		}
	}
}
