package servers

import "syscall"

// sysProcAttr makes the kernel kill the server when the test binary dies
// (a panic or a go test timeout), so that no server outlives its test.
// Pdeathsig follows the thread that started the child; Go does not end
// threads of goroutines that never called LockOSThread, so that is the
// process in practice.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
