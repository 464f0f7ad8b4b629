package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// fuzzLimits are small, so that the fuzzer reaches them.
var fuzzLimits = Limits{Line: 512, Literal: 256, Message: 1024, Command: 2048, Depth: 8}

// FuzzCommand reads whatever the fuzzer sends as commands. The reader must
// not panic, must stop, must keep its caps, and what it writes back into
// responses (section names) must not break a response line.
func FuzzCommand(f *testing.F) {
	for _, s := range seedCommands() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		conts := 0
		r := NewReader(bufio.NewReader(bytes.NewReader(in)), fuzzLimits, func() error { conts++; return nil })
		for range len(in) + 1 {
			cmd, err := r.ReadCommand()
			if err != nil {
				var e *Error
				if errors.As(err, &e) && e.Kind != KindFatal {
					continue
				}
				return // EOF, or fatal: the connection ends
			}
			if int64(len(cmd.Tag)) > int64(fuzzLimits.Line) {
				t.Fatalf("tag of %d bytes", len(cmd.Tag))
			}
			switch a := cmd.Args.(type) {
			case *Fetch:
				for _, it := range a.Items {
					if strings.ContainsAny(it.ResponseName(), "\r\n\x00") {
						t.Fatalf("response name %q", it.ResponseName())
					}
				}
			case *Append:
				for m := a.Message; m != nil; {
					n, err := io.Copy(io.Discard, m)
					if err != nil {
						return
					}
					if n > fuzzLimits.Message {
						t.Fatalf("message of %d bytes over the cap", n)
					}
					if m, err = r.NextMessage(); err != nil {
						break
					}
				}
			}
		}
		t.Fatalf("more commands than input bytes")
	})
}

// FuzzLiteral puts a literal of any content in a LOGIN, followed by any
// rest of line, with the literal accepted or refused: whatever happens to
// the LOGIN, the next command must be read as sent.
func FuzzLiteral(f *testing.F) {
	f.Add([]byte("joe"), " pw", false, false)
	f.Add([]byte("a\r\nb"), " {3}", true, false)
	f.Add([]byte("x"), " pw extra", false, true)
	f.Add([]byte("a\x00"), " \"pw\"", false, false)
	f.Add([]byte(")\r\nz LOGOUT\r\n"), " (", false, false)
	f.Fuzz(func(t *testing.T, data []byte, rest string, sync, refuse bool) {
		if int64(len(data)) > fuzzLimits.Literal {
			return
		}
		// The rest of the line must stay on the line and not announce
		// another literal: the client would wait for a continuation.
		rest = strings.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == '{' || r == '}' {
				return -1
			}
			return r
		}, rest)
		if len(rest) > 200 {
			rest = rest[:200]
		}
		var in bytes.Buffer
		mark := "+"
		if sync {
			mark = ""
		}
		in.WriteString("a LOGIN {" + itoa(len(data)) + mark + "}\r\n")
		refusedSync := sync && refuse
		if !refusedSync {
			in.Write(data) // the client sends it unless refused a continuation
			in.WriteString(rest)
			in.WriteString("\r\n")
		}
		in.WriteString("z NOOP\r\n")
		r := NewReader(bufio.NewReader(&in), fuzzLimits, func() error { return nil })
		if refuse {
			r.Literal = func(LiteralInfo) error { return errors.New("no") }
		}
		cmd, err := r.ReadCommand()
		var e *Error
		switch {
		case err == nil:
			if refuse {
				t.Fatal("refused literal, command read")
			}
			if cmd.Args.(*Login).Username != string(data) {
				t.Fatalf("username %q, want %q", cmd.Args.(*Login).Username, data)
			}
		case errors.As(err, &e) && e.Kind != KindFatal:
			if e.Tag != "a" {
				t.Fatalf("error without the tag: %+v", e)
			}
		default:
			t.Fatalf("error %v", err)
		}
		next, err := r.ReadCommand()
		if err != nil || next.Tag != "z" || next.Name != "NOOP" {
			t.Fatalf("next command %+v %v, want z NOOP", next, err)
		}
	})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// seedCommands is the seed corpus: a command of every kind, valid and not.
func seedCommands() []string {
	return []string{
		"a CAPABILITY\r\n",
		"a LOGIN {3}\r\njoe {2+}\r\npw\r\n",
		"a AUTHENTICATE PLAIN AGpvZQBwdw==\r\n",
		"a ID (\"name\" \"x\" \"v\" NIL)\r\n",
		"a ENABLE QRESYNC UTF8=ACCEPT\r\n",
		"a SELECT INBOX (QRESYNC (67890007 90060115194045000 41:211,214:541 (1:7 41:47)))\r\n",
		"a CREATE x (USE (\\Sent))\r\n",
		"a LIST (SUBSCRIBED) \"\" (INBOX %) RETURN (CHILDREN STATUS (MESSAGES SIZE))\r\n",
		"a LSUB \"\" *\r\n",
		"a STATUS INBOX (MESSAGES UIDNEXT)\r\n",
		"a APPEND INBOX (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {5+}\r\nhello ~{3+}\r\na\x00b\r\n",
		"a APPEND INBOX {2}\r\nhi\r\nb NOOP\r\n",
		"a UID FETCH 1:* (UID FLAGS BODY.PEEK[1.2.HEADER.FIELDS (FROM)]<0.10> BINARY[1]<0.7> BINARY.SIZE[1]) (CHANGEDSINCE 5 VANISHED)\r\n",
		"a FETCH $ FULL\r\n",
		"a STORE 1:3 (UNCHANGEDSINCE 9) +FLAGS.SILENT (\\Seen $x)\r\n",
		"a UID SEARCH RETURN (MIN MAX SAVE) CHARSET UTF-8 OR (FROM {3+}\r\njoe SINCE 1-Feb-2024) NOT MODSEQ \"/flags/\\\\seen\" all 5\r\n",
		"a UID SORT RETURN (COUNT) (REVERSE ARRIVAL) UTF-8 UNSEEN\r\n",
		"a UID SORT RETURN (CONTEXT PARTIAL 100:1 UPDATE) (SUBJECT) UTF-8 UNSEEN\r\n",
		"a CANCELUPDATE \"a\" \"b2\"\r\n",
		"a SEARCH OLDER 60 YOUNGER 4294967295 SAVEDON 8-Dec-2026 SAVEDBEFORE 1-Jan-2030 SAVEDSINCE 01-Jan-2000 SAVEDATESUPPORTED\r\n",
		"a THREAD REFERENCES UTF-8 OR MODSEQ \"/flags/$work\" priv 1 NOT SAVEDSINCE 1-Jan-2024\r\n",
		"a THREAD REFERENCES UTF-8 ALL\r\n",
		"a UID EXPUNGE 1:*\r\n",
		"a SETQUOTA \"\" (STORAGE 10)\r\n",
		"a GETQUOTAROOT INBOX\r\n",
		"a COMPRESS DEFLATE\r\n",
		"a FETCH 1 (BADITEM {8+}\r\nz NOOP\r\n)\r\n",
		"a XYZZY {6+}\r\nz NOOP\r\nb NOOP\r\n",
		"a SEARCH ((((((((((ALL))))))))))\r\n",
		"a LOGIN {300+}\r\n",
	}
}
