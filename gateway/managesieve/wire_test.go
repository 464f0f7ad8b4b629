package managesieve

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestReaderCommands reads commands of RFC 5804 section 4's grammar.
func TestReaderCommands(t *testing.T) {
	in := "putscript \"a \\\"b\\\"\" {5+}\r\nkeep;\r\n" +
		"HAVESPACE \"x\" 100\r\n" +
		"CHECKSCRIPT {3}\r\nab\n\r\n" +
		"LOGOUT\n"
	r := &reader{br: bufio.NewReader(strings.NewReader(in))}
	want := []struct {
		name string
		args []string
	}{
		{"PUTSCRIPT", []string{`a "b"`, "keep;"}},
		{"HAVESPACE", []string{"x", "100"}},
		{"CHECKSCRIPT", []string{"ab\n"}},
		{"LOGOUT", nil},
	}
	for _, w := range want {
		name, args, err := r.command()
		if err != nil || name != w.name || strings.Join(args, "|") != strings.Join(w.args, "|") {
			t.Errorf("got %q %q %v, want %q %q", name, args, err, w.name, w.args)
		}
	}
	if _, _, err := r.command(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last command: %v", err)
	}
}

// FuzzReader feeds the command reader arbitrary input: no panic, and
// every call consumes input or ends.
func FuzzReader(f *testing.F) {
	for _, s := range []string{"LOGOUT\r\n", "PUTSCRIPT \"a\" {3+}\r\nabc\r\n", "X {99999999999}\r\n", "A \"\\", "{", "\"\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := &reader{br: bufio.NewReader(strings.NewReader(in))}
		for i := 0; i <= len(in); i++ {
			_, _, err := r.command()
			if err != nil && !errors.Is(err, errSyntax) {
				return
			}
		}
		t.Fatalf("%d commands from %d bytes", len(in)+1, len(in))
	})
}
