package abuse

import (
	"context"
	"net"
	"time"
)

// refusalTimeout bounds the writing of a refusal to a connection over the
// limit (a TLS listener's first write is the handshake).
const refusalTimeout = 10 * time.Second

// Listener wraps ln so that a connection from an IP over
// ConnPerIPMinute is answered with refusal (the protocol's greeting-time
// "go away": SMTP 421 4.7.0, IMAP BYE, POP3 -ERR) and closed instead of
// being handed out. Without the limit it returns ln.
//
// Wrap after TLS for implicit-TLS ports, so the refusal is sent inside
// TLS; and after the PROXY protocol listener, so the IP is the client's.
func (l *Limits) Listener(ln net.Listener, refusal string) net.Listener {
	if l == nil || l.cfg.ConnPerIPMinute <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, lim: l, refusal: refusal}
}

type limitListener struct {
	net.Listener
	lim     *Limits
	refusal string
}

// Accept counts each connection (one store call: connections are accepted
// at the pace of the counter store) and refuses those over the limit.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.lim.Connect(context.Background(), ClientIP(c.RemoteAddr())) {
			return c, nil
		}
		go refuse(c, l.refusal)
	}
}

func refuse(c net.Conn, refusal string) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(refusalTimeout))
	_, _ = c.Write([]byte(refusal))
}

// ClientIP returns the IP of a remote address, without port.
func ClientIP(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap().String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
