//go:build !linux

package servers

import "syscall"

// sysProcAttr: without Pdeathsig, servers are only stopped by t.Cleanup.
func sysProcAttr() *syscall.SysProcAttr { return nil }
