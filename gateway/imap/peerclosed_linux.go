package imapgw

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// tcpEstablished is TCP_ESTABLISHED of linux/tcp_states.h.
const tcpEstablished = 1

// peerClosed reports whether the TCP connection of sock has left the
// established state: the client sent FIN (CLOSE_WAIT) or RST (CLOSE).
// Unlike a read, it sees the FIN behind pipelined bytes or a TLS
// close_notify still unread.
func peerClosed(sock syscall.RawConn) bool {
	closed := false
	_ = sock.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		closed = err == nil && info.State != tcpEstablished
	})
	return closed
}
