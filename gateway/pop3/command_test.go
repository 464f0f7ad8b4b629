package pop3

import (
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line string
		want command
		err  error
	}{
		{"STAT", command{Name: "STAT"}, nil},
		{"stat", command{Name: "STAT"}, nil},
		{"USER alice@example.org", command{Name: "USER", Arg: "alice@example.org"}, nil},
		{"PASS with spaces  inside ", command{Name: "PASS", Arg: "with spaces  inside "}, nil},
		{"top 1 10", command{Name: "TOP", Arg: "1 10"}, nil},
		{"USER ", command{Name: "USER"}, nil},
		{"", command{}, errEmptyCommand},
		{" STAT", command{}, errBadKeyword},
		{"ST@T", command{}, errBadKeyword},
		{"STAT\x00", command{}, errBadCharacter},
		{"PASS a\tb", command{}, errBadCharacter},
		{strings.Repeat("A", maxKeyword+1), command{}, errBadKeyword},
	}
	for _, tt := range tests {
		got, err := parseCommand(tt.line)
		if err != tt.err || got != tt.want {
			t.Errorf("parseCommand(%q) = %+v, %v; want %+v, %v", tt.line, got, err, tt.want, tt.err)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for s, want := range map[string]int{"0": 0, "1": 1, "007": 7, "999999999": 999999999} {
		if n, ok := parseNumber(s); !ok || n != want {
			t.Errorf("parseNumber(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-1", "+1", "1x", "1000000000", " 1"} {
		if n, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) = %d, true; want false", s, n)
		}
	}
}

// FuzzCommand checks that the parser never panics, that what it accepts
// renders back to a line that parses to the same command, and that an
// accepted command never carries a line break or control character.
func FuzzCommand(f *testing.F) {
	for _, s := range []string{"CAPA", "USER a@b.c", "PASS p w", "AUTH PLAIN =", "TOP 1 0", "list", "RETR 99999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if cmd.Name == "" || cmd.Name != strings.ToUpper(cmd.Name) {
			t.Fatalf("parseCommand(%q): bad name %q", line, cmd.Name)
		}
		s := cmd.String()
		if strings.ContainsAny(s, "\r\n\x00") {
			t.Fatalf("parseCommand(%q): String %q has a control character", line, s)
		}
		if !strings.EqualFold(s, line) && !strings.EqualFold(s+" ", line) {
			t.Fatalf("parseCommand(%q): String %q differs from the line", line, s)
		}
		again, err := parseCommand(s)
		if err != nil || again != cmd {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, again, err, cmd)
		}
		for _, a := range cmd.Args() {
			if a == "" || strings.Contains(a, " ") {
				t.Fatalf("parseCommand(%q): bad argument %q", line, a)
			}
			parseNumber(a)
		}
	})
}
