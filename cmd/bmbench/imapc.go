package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// imapConn is a minimal IMAP4rev1 client: it sends one command at a time,
// reads literals, and reports untagged lines. It does little parsing on
// purpose, so that the load generator costs little next to the server.
type imapConn struct {
	c      net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	seq    int
	exists int // last "* N EXISTS"
	// keep makes readResp return literals inline instead of skipping them.
	keep bool
}

func dialIMAP(addr string) (*imapConn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return newIMAPConn(c)
}

// newIMAPConn reads the greeting on c.
func newIMAPConn(c net.Conn) (*imapConn, error) {
	ic := &imapConn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriterSize(c, 16<<10)}
	line, _, err := ic.readResp()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		c.Close()
		return nil, fmt.Errorf("greeting: %q", line)
	}
	return ic, nil
}

func (ic *imapConn) Close() error { return ic.c.Close() }

// literalLen reports the size of a literal announced at the end of line.
func literalLen(line string) (int, bool) {
	if !strings.HasSuffix(line, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(line, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[i+1:len(line)-1], "+"))
	return n, err == nil
}

// readResp reads one response line with its literals, whose bytes are
// skipped; it returns the line without them and how many literal bytes
// there were.
func (ic *imapConn) readResp() (string, int, error) {
	var sb strings.Builder
	lit := 0
	for {
		part, err := ic.r.ReadString('\n')
		if err != nil {
			return "", 0, err
		}
		part = strings.TrimRight(part, "\r\n")
		sb.WriteString(part)
		n, ok := literalLen(part)
		if !ok {
			return sb.String(), lit, nil
		}
		lit += n
		if ic.keep {
			sb.WriteString(" ")
			if _, err := io.CopyN(&sb, ic.r, int64(n)); err != nil {
				return "", 0, err
			}
			continue
		}
		if _, err := io.CopyN(io.Discard, ic.r, int64(n)); err != nil {
			return "", 0, err
		}
	}
}

// result is what a command got back.
type result struct {
	untagged int // untagged lines
	fetches  int // untagged FETCH lines
	bytes    int // literal bytes
	searched int // numbers in untagged SEARCH lines
	status   string
}

func (ic *imapConn) tag() string {
	ic.seq++
	return "T" + strconv.Itoa(ic.seq)
}

// note updates the state from an untagged line.
func (ic *imapConn) note(line string, r *result) {
	r.untagged++
	f := strings.Fields(line)
	if len(f) >= 3 {
		switch strings.ToUpper(f[2]) {
		case "EXISTS":
			if n, err := strconv.Atoi(f[1]); err == nil {
				ic.exists = n
			}
		case "EXPUNGE":
			ic.exists--
		case "FETCH":
			r.fetches++
		}
	}
	if len(f) >= 2 && strings.EqualFold(f[1], "SEARCH") {
		r.searched += len(f) - 2
	}
}

// wait reads until the tagged response of tag and fails unless it is OK.
func (ic *imapConn) wait(tag string, r *result) error {
	for {
		line, lit, err := ic.readResp()
		if err != nil {
			return err
		}
		r.bytes += lit
		if strings.HasPrefix(line, tag+" ") {
			r.status = line[len(tag)+1:]
			if !strings.HasPrefix(r.status, "OK") {
				return fmt.Errorf("%s", line)
			}
			return nil
		}
		if strings.HasPrefix(line, "* ") {
			ic.note(line, r)
		}
	}
}

// cmd runs one command.
func (ic *imapConn) cmd(format string, args ...any) (result, error) {
	var r result
	tag := ic.tag()
	ic.w.WriteString(tag + " ")
	fmt.Fprintf(ic.w, format, args...)
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return r, err
	}
	err := ic.wait(tag, &r)
	if err != nil {
		err = fmt.Errorf("%s: %w", strings.Fields(format)[0], err)
	}
	return r, err
}

// continuation reads until a "+" line.
func (ic *imapConn) continuation(r *result) error {
	for {
		line, lit, err := ic.readResp()
		if err != nil {
			return err
		}
		r.bytes += lit
		if strings.HasPrefix(line, "+") {
			return nil
		}
		if strings.HasPrefix(line, "* ") {
			ic.note(line, r)
			continue
		}
		return fmt.Errorf("want continuation, got %q", line)
	}
}

func (ic *imapConn) login(user, pass string) error {
	_, err := ic.cmd("LOGIN %s %s", quote(user), quote(pass))
	return err
}

// appendMsg appends msg to mailbox with a synchronizing literal.
func (ic *imapConn) appendMsg(mailbox string, msg []byte) error {
	var r result
	tag := ic.tag()
	fmt.Fprintf(ic.w, "%s APPEND %s {%d}\r\n", tag, quote(mailbox), len(msg))
	if err := ic.w.Flush(); err != nil {
		return err
	}
	if err := ic.continuation(&r); err != nil {
		return fmt.Errorf("APPEND: %w", err)
	}
	ic.w.Write(msg)
	ic.w.WriteString("\r\n")
	if err := ic.w.Flush(); err != nil {
		return err
	}
	if err := ic.wait(tag, &r); err != nil {
		return fmt.Errorf("APPEND: %w", err)
	}
	return nil
}

// idleRoundTrip enters IDLE and leaves it at once.
func (ic *imapConn) idleRoundTrip() error {
	var r result
	tag := ic.tag()
	ic.w.WriteString(tag + " IDLE\r\n")
	if err := ic.w.Flush(); err != nil {
		return err
	}
	if err := ic.continuation(&r); err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	ic.w.WriteString("DONE\r\n")
	if err := ic.w.Flush(); err != nil {
		return err
	}
	if err := ic.wait(tag, &r); err != nil {
		return fmt.Errorf("IDLE: %w", err)
	}
	return nil
}

// status returns the MESSAGES count of a mailbox.
func (ic *imapConn) messages(mailbox string) (int, error) {
	tag := ic.tag()
	fmt.Fprintf(ic.w, "%s STATUS %s (MESSAGES)\r\n", tag, quote(mailbox))
	if err := ic.w.Flush(); err != nil {
		return 0, err
	}
	n := -1
	for {
		line, _, err := ic.readResp()
		if err != nil {
			return 0, err
		}
		if strings.HasPrefix(line, tag+" ") {
			if !strings.HasPrefix(line[len(tag)+1:], "OK") {
				return 0, fmt.Errorf("STATUS: %s", line)
			}
			if n < 0 {
				return 0, fmt.Errorf("STATUS: no MESSAGES in the answer")
			}
			return n, nil
		}
		if i := strings.Index(strings.ToUpper(line), "MESSAGES "); strings.HasPrefix(line, "* STATUS") && i >= 0 {
			rest := line[i+len("MESSAGES "):]
			rest = strings.TrimRight(strings.Fields(rest)[0], ")")
			n, err = strconv.Atoi(rest)
			if err != nil {
				return 0, fmt.Errorf("STATUS: %q", line)
			}
		}
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// pop3Conn is a minimal POP3 client.
type pop3Conn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func dialPOP3(addr, user, pass string) (*pop3Conn, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	p := &pop3Conn{c: c, r: bufio.NewReaderSize(c, 64<<10), w: bufio.NewWriter(c)}
	if _, err := p.status(); err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	for _, cmd := range []string{"USER " + user, "PASS " + pass} {
		if _, err := p.cmd(cmd); err != nil {
			c.Close()
			return nil, err
		}
	}
	return p, nil
}

func (p *pop3Conn) status() (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "+OK") {
		return "", fmt.Errorf("%s", strings.TrimSpace(line))
	}
	return strings.TrimSpace(line), nil
}

func (p *pop3Conn) cmd(c string) (string, error) {
	p.w.WriteString(c + "\r\n")
	if err := p.w.Flush(); err != nil {
		return "", err
	}
	s, err := p.status()
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Fields(c)[0], err)
	}
	return s, nil
}

// retr fetches message n and returns its size in bytes as received.
func (p *pop3Conn) retr(n int) (int, error) {
	if _, err := p.cmd("RETR " + strconv.Itoa(n)); err != nil {
		return 0, err
	}
	size, atStart := 0, true
	for {
		line, err := p.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			size += len(line)
			atStart = false
			continue
		}
		if err != nil {
			return 0, err
		}
		if atStart && (string(line) == ".\r\n" || string(line) == ".\n") {
			return size, nil
		}
		size += len(line)
		atStart = true
	}
}

func (p *pop3Conn) Close() error {
	p.cmd("QUIT")
	return p.c.Close()
}
