//go:build !linux

package imapgw

import "syscall"

// peerClosed reports false: the state of a TCP connection is read on Linux
// only, elsewhere a command runs to its end after its client has gone.
func peerClosed(syscall.RawConn) bool { return false }
