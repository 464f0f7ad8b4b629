package engine

import (
	"io"
	"net"
	"time"
)

// Unauthenticate completes UNAUTHENTICATE (RFC 8437 section 3) for the
// handler, which has reset its own state of the user (the selected
// mailbox, with no expunge sent, and whatever else it keeps): it writes
// the tagged OK and returns the connection to the not authenticated
// state with every state of the connection but TLS reset. The handler
// returns what it returns.
//
// Reset with it (RFC 8437 section 4.1): the extensions enabled by ENABLE
// or implicitly (UTF8=ACCEPT, IMAP4rev2, CONDSTORE, QRESYNC), so the
// writer no longer sends UTF-8; and an active COMPRESS layer, which each
// side ends after the CRLF of its last compressed line, the OK's for the
// server, the command's for the client (endCompress). What ID told is
// kept: RFC 8437 leaves it to the implementation, and it is not the
// user's.
func (c *Conn) Unauthenticate(tag string) error {
	c.w.Status(tag, "OK", "", "UNAUTHENTICATE completed")
	c.state = NotAuthenticated
	c.user = ""
	clear(c.enabled)
	c.w.UTF8 = false
	if d, ok := c.nc.(*deflateConn); ok && !c.endCompress(d) {
		c.state = Logout // the client is gone, or broke the protocol
	}
	return errAnswered
}

// endCompress ends both directions of DEFLATE after the OK of
// UNAUTHENTICATE (RFC 8437 section 4.1) and remakes the connection
// uncompressed, as COMPRESS remade it compressed. The server's stream ends
// with a final block after the OK. The client's must end right after the
// CRLF of its command: it is read to its final block, and what the client
// sent after that block is plain IMAP, read before the network. Compressed
// data after the command, or a stream that does not end in time or does
// not inflate, ends the session with a plain BYE. It reports whether the
// connection is plain again.
func (c *Conn) endCompress(d *deflateConn) bool {
	if c.w.Flush() != nil {
		return false
	}
	pipelined := c.r.Buffered() > 0 // compressed, after the command
	d.mu.Lock()
	err := d.flushLocked()
	if err == nil {
		_, err = d.Conn.Write(finalBlock)
	}
	d.mu.Unlock()
	if err != nil {
		return false
	}
	if pipelined || !readToEnd(d, c.srv.cfg.Timeouts.PreLogin) {
		c.setConn(d.Conn)
		c.w.Status("*", "BYE", "", "Compressed data after UNAUTHENTICATE")
		c.w.Flush()
		return false
	}
	rest, _ := d.src.Peek(d.src.Buffered())
	c.setConn(&prefixConn{Conn: d.Conn, rest: append([]byte(nil), rest...)})
	return true
}

// readToEnd reads the client's DEFLATE stream to its final block, with
// the deadline of a client before login; false if it holds data first,
// does not inflate or does not end.
func readToEnd(d *deflateConn, wait time.Duration) bool {
	d.Conn.SetReadDeadline(time.Now().Add(wait))
	var b [64]byte
	for {
		n, err := d.zr.Read(b[:])
		if n > 0 {
			return false
		}
		if err != nil {
			return err == io.EOF
		}
	}
}

// prefixConn reads rest before the connection: what a client sent
// uncompressed after the end of its DEFLATE stream, which the inflater's
// buffer had read already.
type prefixConn struct {
	net.Conn
	rest []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.rest) > 0 {
		n := copy(b, p.rest)
		p.rest = p.rest[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
