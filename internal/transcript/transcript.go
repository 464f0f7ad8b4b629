// Package transcript plays IMAP conversations written down as transcripts
// against a running server and checks every line the server sends. The
// format is our own and knows nothing of any IMAP library, so the same
// transcripts check whatever engine serves the protocol.
//
// A transcript is a text file of lines:
//
//	# a comment; blank lines are ignored
//	C: a1 LOGIN alice@example.org "correct horse battery"
//	S: a1 OK $*
//
// "C:" lines are sent by the client, "S:" lines are expected from the
// server, one response line each, in the order written. A digit names
// another connection: "C2:" and "S2:" talk on connection 2, which opens
// when first used (its first S2: line is its greeting). Connection n goes
// to gateway n (Env.Dial).
//
// An S: line is a pattern matched against the whole response line, as
// written (spaces included), but for: "$*", any run of characters;
// "$NAME" (upper-case letters, digits and '_'), which the first time it
// appears captures the characters up to the next space, parenthesis or
// bracket, and then stands for them in every later S: or C: line; "$$", a
// "$".
//
// Literals: the server's "{n}" or "~{n}" at the end of a line is followed
// by n bytes, which the transcript shows in the same line right after it,
// with the rest of the response after them. Bytes that are not printable
// are written in caret notation: ^M for CR, ^J for LF, ^@ for NUL, ^I for
// TAB, ^? for DEL, ^~ for RS (0x1e, whose caret letter is the caret
// itself), and "^^" is a "^". C: lines use the same notation, and each is
// sent followed by CRLF; a client literal is written as the protocol sends
// it: the line up to "{n}", the server's "S: + ..." continuation, then a
// C: line with the n bytes and the rest of the command ("{n+}" of LITERAL+
// has no continuation).
//
// A line starting with "!" is a directive, run at that point of the
// conversation:
//
//	!deliver USER MAILBOX MESSAGE [FLAG...]
//
// delivers the message file MESSAGE.eml of Runner.Messages (LF line ends
// are made CRLF) as the worker would.
//
//	!quota USER BYTES
//
// sets the storage quota of USER, for an Env that is a QuotaEnv.
package transcript

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Env is the server a transcript runs against.
type Env interface {
	// Dial connects to gateway n (1, 2, ...: several gateways share one
	// store, as the processes of the cloud deployment do).
	Dial(n int) (net.Conn, error)
	// Deliver indexes raw in mailbox of user as a delivery would.
	Deliver(user, mailbox string, raw []byte, flags []string) error
}

// QuotaEnv is an Env whose users' quotas a transcript can set (!quota).
type QuotaEnv interface {
	Env
	// SetQuota sets user's storage quota in bytes.
	SetQuota(user string, bytes int64) error
}

// Step is one line of a transcript.
type Step struct {
	Line int    // in the file, from 1
	Kind byte   // 'C', 'S' or '!'
	Conn int    // 1, 2, ... for C and S
	Text string // after the prefix
}

// Parse reads a transcript.
func Parse(src []byte) ([]Step, error) {
	var steps []Step
	for i, line := range strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") {
		n := i + 1
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "!") {
			steps = append(steps, Step{Line: n, Kind: '!', Text: line[1:]})
			continue
		}
		prefix, text, ok := strings.Cut(line, ":")
		if !ok || len(prefix) == 0 || (prefix[0] != 'C' && prefix[0] != 'S') {
			return nil, fmt.Errorf("line %d: want C:, S:, !directive or # comment: %q", n, line)
		}
		conn := 1
		if len(prefix) > 1 {
			c, err := strconv.Atoi(prefix[1:])
			if err != nil || c < 1 {
				return nil, fmt.Errorf("line %d: bad connection number in %q", n, prefix)
			}
			conn = c
		}
		steps = append(steps, Step{Line: n, Kind: prefix[0], Conn: conn, Text: strings.TrimPrefix(text, " ")})
	}
	return steps, nil
}

// DefaultTimeout bounds the wait for one server line, so that a missing
// response fails the transcript instead of hanging it.
const DefaultTimeout = 10 * time.Second

// Runner plays transcripts.
type Runner struct {
	Env Env
	// Messages is the directory of the message files of !deliver.
	Messages string
	// Timeout bounds the wait for each server line; 0 means DefaultTimeout.
	Timeout time.Duration
}

// RunFile plays the transcript in file; the error names the line that
// failed and what the server sent.
func (r *Runner) RunFile(file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	steps, err := Parse(src)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	if err := r.Run(steps); err != nil {
		return fmt.Errorf("%s:%w", filepath.Base(file), err)
	}
	return nil
}

// Run plays steps.
func (r *Runner) Run(steps []Step) error {
	p := &play{r: r, conns: map[int]*conn{}, vars: map[string]string{}}
	defer p.close()
	for _, st := range steps {
		if err := p.step(st); err != nil {
			return fmt.Errorf("%d: %w", st.Line, err)
		}
	}
	return nil
}

type conn struct {
	c  net.Conn
	br *bufio.Reader
}

type play struct {
	r     *Runner
	conns map[int]*conn
	vars  map[string]string
}

func (p *play) close() {
	for _, c := range p.conns {
		c.c.Close()
	}
}

func (p *play) conn(n int) (*conn, error) {
	if c := p.conns[n]; c != nil {
		return c, nil
	}
	nc, err := p.r.Env.Dial(n)
	if err != nil {
		return nil, fmt.Errorf("dial gateway %d: %w", n, err)
	}
	c := &conn{c: nc, br: bufio.NewReader(nc)}
	p.conns[n] = c
	return c, nil
}

func (p *play) step(st Step) error {
	switch st.Kind {
	case '!':
		return p.directive(st.Text)
	case 'C':
		c, err := p.conn(st.Conn)
		if err != nil {
			return err
		}
		line, err := p.substitute(st.Text)
		if err != nil {
			return err
		}
		b, err := Unescape(line)
		if err != nil {
			return err
		}
		_, err = c.c.Write(append(b, '\r', '\n'))
		return err
	default:
		c, err := p.conn(st.Conn)
		if err != nil {
			return err
		}
		got, err := readResponse(c, cmp.Or(p.r.Timeout, DefaultTimeout))
		if err != nil {
			return fmt.Errorf("want %q: %w", st.Text, err)
		}
		return p.match(st.Text, got)
	}
}

// directive runs a "!" line.
func (p *play) directive(text string) error {
	f := strings.Fields(text)
	if len(f) == 0 {
		return errors.New("empty directive")
	}
	switch f[0] {
	case "deliver":
		if len(f) < 4 {
			return errors.New("want !deliver USER MAILBOX MESSAGE [FLAG...]")
		}
		raw, err := os.ReadFile(filepath.Join(p.r.Messages, f[3]+".eml"))
		if err != nil {
			return err
		}
		raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		return p.r.Env.Deliver(f[1], f[2], raw, f[4:])
	case "quota":
		qe, ok := p.r.Env.(QuotaEnv)
		if !ok {
			return errors.New("!quota: the environment sets no quotas")
		}
		if len(f) != 3 {
			return errors.New("want !quota USER BYTES")
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("!quota: %w", err)
		}
		return qe.SetQuota(f[1], n)
	}
	return fmt.Errorf("unknown directive %q", f[0])
}

// literalAtEnd finds a literal announced at the end of a line: {n}, {n+},
// {n-} or ~{n}.
var literalAtEnd = regexp.MustCompile(`~?\{([0-9]+)[+-]?\}$`)

// maxLiteral bounds what a transcript reads of one literal.
const maxLiteral = 64 << 20

// readResponse reads one response line, with the bytes of the literals it
// announces and the rest of the line after each, in caret notation.
func readResponse(c *conn, timeout time.Duration) (string, error) {
	var out strings.Builder
	for {
		if err := c.c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return "", err
		}
		line, err := c.br.ReadString('\n')
		if err != nil {
			return out.String() + Escape([]byte(line)), err
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		out.WriteString(Escape([]byte(line)))
		m := literalAtEnd.FindStringSubmatch(line)
		if m == nil {
			return out.String(), nil
		}
		n, err := strconv.Atoi(m[1])
		if err != nil || n > maxLiteral {
			return out.String(), fmt.Errorf("literal of %s bytes", m[1])
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(c.br, b); err != nil {
			return out.String(), err
		}
		out.WriteString(Escape(b))
	}
}

// Escape writes b in the transcripts' caret notation.
func Escape(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		switch {
		case c == '^':
			sb.WriteString("^^")
		case c == 0x1e: // its caret letter is '^' itself
			sb.WriteString("^~")
		case c < 0x20:
			sb.WriteByte('^')
			sb.WriteByte(c + 0x40)
		case c == 0x7f:
			sb.WriteString("^?")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// Unescape reads caret notation.
func Unescape(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '^' {
			out = append(out, c)
			continue
		}
		if i+1 == len(s) {
			return nil, errors.New(`"^" at the end of a line: write "^^" for a caret`)
		}
		i++
		switch d := s[i]; {
		case d == '^':
			out = append(out, '^')
		case d == '?':
			out = append(out, 0x7f)
		case d == '~':
			out = append(out, 0x1e)
		case d >= '@' && d <= '_':
			out = append(out, d-0x40)
		default:
			return nil, fmt.Errorf("bad caret escape ^%c", d)
		}
	}
	return out, nil
}

var varName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*`)

// substitute replaces $NAME and $$ in a C: line.
func (p *play) substitute(line string) (string, error) {
	var out strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] != '$' {
			out.WriteByte(line[i])
			continue
		}
		rest := line[i+1:]
		switch name := varName.FindString(rest); {
		case strings.HasPrefix(rest, "$"):
			out.WriteByte('$')
			i++
		case name != "":
			v, ok := p.vars[name]
			if !ok {
				return "", fmt.Errorf("$%s used before the server gave it", name)
			}
			out.WriteString(v)
			i += len(name)
		default:
			return "", errors.New(`"$" must start $NAME or $$`)
		}
	}
	return out.String(), nil
}

// match checks got against the pattern of an S: line and binds its new
// variables.
func (p *play) match(pattern, got string) error {
	var re strings.Builder
	re.WriteString("^")
	var names []string
	for i := 0; i < len(pattern); i++ {
		if pattern[i] != '$' {
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			continue
		}
		rest := pattern[i+1:]
		switch name := varName.FindString(rest); {
		case strings.HasPrefix(rest, "*"):
			re.WriteString("(?:.*)")
			i++
		case strings.HasPrefix(rest, "$"):
			re.WriteString(`\$`)
			i++
		case name != "":
			if v, ok := p.vars[name]; ok {
				re.WriteString(regexp.QuoteMeta(v))
			} else {
				for _, n := range names {
					if n == name {
						return fmt.Errorf("$%s twice in one line before it is bound", name)
					}
				}
				names = append(names, name)
				re.WriteString(`([^ ()\[\]]+)`)
			}
			i += len(name)
		default:
			return errors.New(`"$" must start $*, $NAME or $$`)
		}
	}
	re.WriteString("$")
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return err
	}
	m := rx.FindStringSubmatch(got)
	if m == nil {
		return fmt.Errorf("server sent\n\t%s\nwant\n\t%s", got, pattern)
	}
	for i, name := range names {
		p.vars[name] = m[i+1]
	}
	return nil
}
